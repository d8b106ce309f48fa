"""Headless Chromium for the tests that look at pages as people do (the Temporal UI in test_e2e.py,
the evaluation report in test_report_browser.py): driven through the DevTools protocol on a pipe,
with no extra package; screenshots are kept under tests/artifacts."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


def wait(check, what: str, timeout: float = 30) -> Any:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001 - still starting
            if time.monotonic() > end:
                raise
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def require_browser() -> None:
    """Skip without chromium; with PDW_REQUIRE_BROWSER set, fail instead (and fail without a CJK font)."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("PDW_REQUIRE_BROWSER"):
            pytest.fail("PDW_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)")
        pytest.skip("没有浏览器：安装 Debian 的 chromium（apt-get install chromium fonts-noto-cjk）后此测试才会运行")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    if not fonts.strip() and os.environ.get("PDW_REQUIRE_BROWSER"):
        pytest.fail("PDW_REQUIRE_BROWSER is set but no CJK font is installed (apt-get install fonts-noto-cjk)")


class Browser:
    """Headless Chromium driven through the DevTools protocol on a pipe (its fds 3 and 4): enough to
    set the UI's localStorage, open pages, read them and take screenshots, with no extra package."""

    def __init__(self, profile: Path) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        def at_3_and_4() -> None:  # the child's fds 3 and 4, as --remote-debugging-pipe expects
            reads, writes = os.dup(to_browser), os.dup(from_browser)
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "--window-size=1600,900", "--lang=zh-CN",
             "about:blank"],
            preexec_fn=at_3_and_4, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "TZ": "UTC"},  # the UI's time-zone setting, not the machine's, shows +8
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._seq, self._session = b"", 0, ""
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self._session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._seq += 1
        message: dict[str, Any] = {"id": self._seq, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 1 << 16)
                assert chunk, "chromium closed its DevTools pipe"
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._seq:
                assert "error" not in answer, (method, answer["error"])
                return dict(answer.get("result", {}))

    def js(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def open(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        wait(lambda: self.js("document.readyState") == "complete", url)

    def text(self) -> str:
        """The page's text, with that of its frames (the UI renders summaries in same-origin iframes)."""
        return str(self.js("[document.body.innerText, ...[...document.querySelectorAll('iframe')].map("
                           "f => (f.contentDocument && f.contentDocument.body || {}).innerText || '')].join('\\n')"))

    def text_when(self, found: str, what: str) -> str:
        """The page's text once ``found`` is in it (the UI renders after its API answers)."""
        try:
            return str(wait(lambda: found in (text := self.text()) and text, what))
        except AssertionError as err:  # say what the page showed instead
            raise AssertionError(f"{err}: {self.text()!r}") from None

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=20)
        os.close(self._out)
        os.close(self._in)
