"""``pdw`` in-process (typer's CliRunner, never ``main()``) as a client of the real API: the API is
``hook.create_app`` served by uvicorn on a free port, on the suite's event loop beside the worker;
the command runs on a thread, as it would in its own process. What needs no API (usage errors, help,
credentials chosen, the API unreachable, what ``pdw`` imports) is tested without one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import threading
import unicodedata
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

import starter_cli
from tests.pg import free_port

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str | None]:
    """An environment of one's own: no token, no actor, nothing listening at the API's address."""
    return {"PDW_API_URL": f"http://127.0.0.1:{free_port()}", "PDW_HOME": str(tmp_path / "pdw-home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "PDW_TOKEN": None, "PDW_ACTOR": None, "COLUMNS": "80"}


def pdw(env: dict[str, str | None], *args: str, input: str | None = None) -> Result:
    return runner.invoke(starter_cli.app, list(args), env=env, input=input)


async def apdw(env: dict[str, str | None], *args: str, input: str | None = None) -> Result:
    """The command on a thread: the API and the worker keep running on this loop meanwhile."""
    return await asyncio.to_thread(pdw, env, *args, input=input)


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("错误："), result.stderr
    assert len(lines) <= 2 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# ---- without the API --------------------------------------------------------------------------------


def test_pdw_loads_no_heavy_module_to_start_nor_to_run_a_command() -> None:
    heavy = ("temporalio", "sqlmodel", "pydantic", "fastapi", "models", "settings", "rich")
    code = (
        "import sys, starter_cli\n"
        f"heavy = {heavy!r}\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "starter_cli.app(['calendar', 'due', '--from', '2026-09-28', '--working-days', '5'], standalone_mode=False)\n"
        "starter_cli.app(['decide', 'x', 'approve', '--set', 'a=b', '--as', 'p'], standalone_mode=False)\n"
        "print(' '.join(loaded), '|', ' '.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "PDW_API_URL": f"http://127.0.0.1:{free_port()}"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "|"
    assert len((ROOT / "starter_cli.py").read_text(encoding="utf-8").splitlines()) < 200


def test_an_unreachable_api_is_one_chinese_line_and_json_prints_nothing(home: dict[str, str | None]) -> None:
    done = pdw(home, "calendar", "due", "--from", "2026-09-28", "--working-days", "5", "--json")
    line = one_error_line(done)
    assert line == f"错误：无法连接 pdw 接口 {home['PDW_API_URL']}：请先运行 make dev（或 pdw hook），或设置 PDW_API_URL"
    assert done.stdout == ""


def test_as_is_for_development_only(home: dict[str, str | None]) -> None:
    line = one_error_line(pdw(home, "show", "share-2026-000001", "--as", "dsj.zhouwei"))
    assert line == "错误：--as 只用于开发环境（make dev 为示例人员生成开发令牌）：请用 pdw login 登录或设置 PDW_TOKEN"
    Path(str(home["PDW_HOME"])).mkdir(parents=True)
    (Path(str(home["PDW_HOME"])) / "dev-tokens.json").write_text('{"jyj.panxiaoyu": "pdw_x"}', encoding="utf-8")
    assert "开发令牌中没有人员“dsj.zhouwei”" in one_error_line(pdw({**home, "PDW_ACTOR": "dsj.zhouwei"}, "overdue"))


def test_without_a_credential_pdw_says_to_log_in(home: dict[str, str | None]) -> None:
    assert "pdw login" in one_error_line(pdw(home, "inbox", "--dept", "jyj"))


@pytest.mark.parametrize(("args", "message"), [
    (["inbox"], "错误：缺少选项 --dept（部门代码）"),
    (["show"], "错误：缺少参数 case_id（案件编号）"),
    (["shw", "x"], "错误：没有命令“shw”；是否想用 show？"),
    (["calendar", "due", "--from", "2026-09-28", "--working-days", "abc"], "错误：--working-days 的值无效：“abc”不是整数"),
    (["grant", "revoke", "three"], "错误：授权编号“three”无效：须为 pdw grant list 中的数字"),
    (["show", ""], "错误：案件编号（CASE）不能为空"),
    (["open", "apply", "--input", "/nonexistent/a.json"], "错误：--input：找不到文件 /nonexistent/a.json"),
    (["inbox", "--dep", "jyj"], "错误：没有选项 --dep；是否想用 --dept？"),
    (["decide", "x", "approve", "--as"], "错误：选项 --as 需要一个值"),
    (["show", "a", "b"], "错误：多余的参数：b"),
    (["decide", "x", "submit", "--set", "content"], "错误：--set“content”格式错误，应为 KEY=VALUE"),
    (["calendar", "override", "2026-12-01", "--note", "x"], "错误：须且只能指定 --workday 或 --holiday 之一"),
    (["dispute", "open", "--reason", "x"], "错误：须且只能指定 --case（共享争议）或 --resource（开放属性争议）之一"),
    (["inbox", "--dept", "jyj", "--limit", "0"], "错误：--limit 的值无效：0 不能小于 1"),
    (["notices", "list", "--limit", "1001"], "错误：--limit 的值无效：1001 不能大于 1000"),
    (["stuck", "--offset", "-1"], "错误：--offset 的值无效：-1 不能小于 0"),
])
def test_usage_errors_are_one_chinese_line_naming_the_option(
    home: dict[str, str | None], args: list[str], message: str
) -> None:
    done = pdw(home, *args)
    assert one_error_line(done) == message
    assert "Usage" not in done.stderr and "╭" not in done.stderr


def test_a_bad_api_url_is_one_chinese_line_naming_the_setting(home: dict[str, str | None]) -> None:
    line = one_error_line(pdw({**home, "PDW_API_URL": "not-a-url"}, "show", "catalog-2026-000001"))
    assert line == "错误：PDW_API_URL 无效：“not-a-url”须以 http:// 或 https:// 开头（如 http://127.0.0.1:8000）"


def test_bad_input_json_is_one_line(home: dict[str, str | None], tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("[1, 2]", encoding="utf-8")
    assert one_error_line(pdw(home, "share", "request", "--input", str(tmp_path / "bad.json"))) == "错误：--input 须为 JSON 对象"
    assert "--input：标准输入不是有效的 JSON（第 1 行第 2 列附近" in one_error_line(pdw(home, "correction", "report", "--input", "-", input="{oops"))


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_every_help_fits_80_columns_uncut(home: dict[str, str | None]) -> None:
    paths: list[tuple[list[str], bool]] = [([], False)]

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append(([*path, name], not hasattr(sub, "commands")))
            walk(sub, [*path, name])

    walk(get_command(starter_cli.app), [])
    assert len(paths) > 40
    for path, leaf in paths:
        done = pdw(home, *path, "--help")
        assert done.exit_code == 0, path
        assert "例：" in done.stdout or not leaf, path  # every command shows an example
        for line in done.stdout.splitlines():
            cut = "…" in line or ("..." in line and "[参数]..." not in line)
            assert cells(line) <= 80 and not cut, (path, line)
        # click's own words in Chinese too: 用法、选项、命令, nothing left in English.
        assert done.stdout.startswith("用法：pdw") and "\n选项：\n" in done.stdout, path
        assert not re.search(r"Usage|Options|Arguments|Commands|Show this|required|default:", done.stdout), path
    assert pdw(home).exit_code == 0 and "catalog-update" in pdw(home).stdout  # no arguments: the help
    assert "\n命令：\n" in pdw(home).stdout


def test_a_non_json_answer_is_one_line_with_the_status(home: dict[str, str | None]) -> None:
    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>Bad Gateway</html>")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        line = one_error_line(pdw({**home, "PDW_API_URL": url}, "calendar", "due", "--from", "2026-09-28",
                                  "--working-days", "5"))
        assert line == f"错误：pdw 接口 {url} 返回 HTTP 502（应答不是 JSON）"
    finally:
        server.shutdown()


def test_setup_shows_the_admin_token_once_and_json_is_only_json(
    home: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the printing: devstack.setup_command itself needs a dev server's schedules (test_e2e)."""
    calls: list[dict[str, Any]] = []

    class Devstack:
        @staticmethod
        def setup_command(**kw: Any) -> dict[str, Any]:
            calls.append(kw)
            return {"migrated": True, "search_attributes_added": ["PdwStatus"], "digest_schedule": True,
                    "seed": {"departments": 12, "entries": 12}, "admin_token": "pdw_secret_once"}

    monkeypatch.setitem(sys.modules, "devstack", Devstack)
    text = pdw(home, "setup", "--seed", "--admin", "dsj.zhouwei")
    assert text.exit_code == 0 and calls == [{"seed": True, "admin": "dsj.zhouwei", "dev_tokens": False}]
    assert "搜索属性新注册 1 个" in text.stdout and "只显示这一次" in text.stdout
    assert text.stdout.count("pdw_secret_once") == 1
    as_json = pdw(home, "setup", "--json", "--dev-tokens")
    assert json.loads(as_json.stdout)["admin_token"] == "pdw_secret_once" and calls[-1]["dev_tokens"] is True


def test_a_saved_token_is_readable_by_its_owner_only(home: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    from commands._client import save_token, token_path

    monkeypatch.setenv("XDG_CONFIG_HOME", str(home["XDG_CONFIG_HOME"]))
    path = token_path()
    path.parent.mkdir(parents=True)
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    assert save_token("pdw_new\n") == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text(encoding="utf-8") == "pdw_new\n"


# ---- against the API ---------------------------------------------------------------------------------


@pytest.fixture
async def api_url(env: Any, worker: str) -> AsyncIterator[str]:
    """hook.create_app over HTTP on a free port, on this loop, beside the worker. The worker's and
    the API's logs go to the real stderr: CliRunner's captured streams hold only what pdw prints."""
    import structlog
    import uvicorn

    from hook import create_app
    from service.context import Services
    from settings import get_settings

    before = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.__stderr__))
    app = create_app(Services(get_settings().model_copy(update={"task_queue": worker}), client=env.client))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        structlog.configure(**before)


@pytest.fixture
def dev(home: dict[str, str | None], api_url: str) -> dict[str, str | None]:
    """What ``pdw dev`` leaves: a dev token for every registered person in $PDW_HOME/dev-tokens.json."""
    from service.auth import dev_tokens

    dev_tokens(Path(str(home["PDW_HOME"])))
    return {**home, "PDW_API_URL": api_url}


def track(case_id: str) -> str:
    from tests.helpers import STARTED

    STARTED.append(case_id)
    return case_id


async def test_working_days_need_no_credential_and_json_is_only_json(dev: dict[str, str | None]) -> None:
    text = await apdw(dev, "calendar", "due", "--from", "2026-09-28", "--working-days", "5")
    assert text.exit_code == 0 and text.stdout == "2026-10-10 24时止\n"
    as_json = await apdw(dev, "calendar", "due", "--from", "2026-09-28", "--working-days", "5", "--json")
    assert json.loads(as_json.stdout) == {"due": "2026-10-10", "provisional": False} and as_json.stderr == ""
    bad = await apdw(dev, "calendar", "due", "--from", "2026-13-40", "--working-days", "5")
    assert one_error_line(bad) == "错误：起算日期（from）“2026-13-40”格式错误，应为 YYYY-MM-DD"


async def test_login_checks_the_token_keeps_it_600_and_logout_forgets_it(dev: dict[str, str | None]) -> None:
    from service.auth import issue_token

    token = issue_token(None, "jyj.panxiaoyu", days=5, label="test", by="tests")["token"]
    wrong = await apdw(dev, "login", "--token", "pdw_" + "x" * 40)
    assert "个人令牌无效" in one_error_line(wrong)
    garbage = await apdw(dev, "login", input="garbage !\n")  # what a staff member can act on, not a header
    assert one_error_line(garbage).startswith("错误：个人令牌格式不对：请完整复制 pdw token issue 签发的令牌")
    saved = Path(str(dev["XDG_CONFIG_HOME"])) / "pdw" / "token"
    assert not saved.exists()
    done = await apdw(dev, "login", input=token + "\n")  # stdin is not a terminal: read, not prompted
    assert done.exit_code == 0 and done.stdout.startswith("已登录：潘晓雨（jyj.panxiaoyu，县教育局"), done.stderr
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert saved.read_text(encoding="utf-8").strip() == token
    depts = await apdw(dev, "dept", "list")  # the saved token, no --as
    assert depts.exit_code == 0 and "县教育局" in depts.stdout, depts.stderr
    refused = await apdw({**dev, "PDW_TOKEN": "pdw_" + "y" * 40}, "dept", "list")  # PDW_TOKEN before the file
    assert "个人令牌无效" in one_error_line(refused)
    assert (await apdw(dev, "logout")).exit_code == 0 and not saved.exists()
    assert "pdw login" in one_error_line(await apdw(dev, "dept", "list"))


async def test_art20_share_through_pdw_input_options_decisions_and_the_api_s_reasons(
    dev: dict[str, str | None], tmp_path: Path
) -> None:
    request = tmp_path / "share.json"
    request.write_text(json.dumps({"resource_id": "RES-SCJGJ-001", "items": ["名称"], "purpose": "草稿",
                                   "scope": "治安大队", "mode": "query", "months": 6}), encoding="utf-8")
    started = await apdw(dev, "share", "request", "--input", str(request), "--purpose", "企业开办核验",
                         "--as", "gaj.zhangfang", "--json")
    assert started.exit_code == 0, started.stderr
    case_id = track(json.loads(started.stdout)["case_id"])
    story = json.loads((await apdw(dev, "show", case_id, "--as", "gaj.zhangfang", "--json")).stdout)
    assert story["case_id"] == case_id and "企业开办核验" in json.dumps(story, ensure_ascii=False)

    wrong = await apdw(dev, "decide", case_id, "approve", "--as", "jyj.panxiaoyu")
    assert one_error_line(wrong).startswith("错误：")
    approved = await apdw(dev, "decide", case_id, "approve", "--as", "dsj.zhouwei")
    assert approved.exit_code == 0 and approved.stdout.startswith(f"{case_id}："), approved.stderr

    shown = await apdw(dev, "show", case_id, "--as", "gaj.zhangfang")
    assert shown.exit_code == 0, shown.stderr
    assert "状态：" in shown.stdout and "时间线：" in shown.stdout
    assert "（granted）" not in shown.stdout and "（log，" not in shown.stdout  # labels, not codes
    assert "周伟（县大数据管理中心，日常管理人员）同意" in shown.stdout
    # Lists need visibility, which the time-skipping server lacks (test_e2e lists on a dev server).
    nowhere = await apdw(dev, "inbox", "--dept", "nope", "--as", "dsj.zhouwei")
    assert one_error_line(nowhere).startswith("错误：部门代码“nope”不存在")
    outsider = await apdw(dev, "show", case_id, "--as", "jyj.panxiaoyu")
    assert "无权查看" in one_error_line(outsider)
    missing = await apdw(dev, "show", "share-2099-999999", "--as", "dsj.zhouwei")
    assert one_error_line(missing) == "错误：案件“share-2099-999999”不存在"
    no_items = await apdw(dev, "share", "request", "--resource", "RES-SCJGJ-001", "--as", "gaj.zhangfang")
    assert one_error_line(no_items) == "错误：数据项（items）：缺少此项"


async def test_records_print_with_the_api_s_chinese_labels(dev: dict[str, str | None]) -> None:
    catalog = await apdw(dev, "catalog", "show", "RES-JYJ-001", "--as", "jyj.panxiaoyu")
    assert catalog.exit_code == 0 and "第 1 版" in catalog.stdout and "  数据名称：" in catalog.stdout, catalog.stderr
    # Labels, not codes (models/labels.py): the codes are for --set and the JSON.
    assert "共享属性：无条件共享\n" in catalog.stdout and "提供单位：县教育局\n" in catalog.stdout
    assert "unconditional" not in catalog.stdout and "yearly" not in catalog.stdout
    listed = await apdw(dev, "catalog", "list", "--as", "jyj.panxiaoyu")
    assert [line for line in listed.stdout.splitlines() if line.startswith("RES-JYJ-001")][0].endswith("（县教育局，无条件共享，无条件开放）")
    depts = await apdw(dev, "dept", "list", "--as", "jyj.panxiaoyu")
    assert "主要负责人：" in depts.stdout and "日常管理人员：潘晓雨(jyj.panxiaoyu)" in depts.stdout
    grants = await apdw(dev, "grant", "list", "--all", "--as", "dsj.zhouwei", "--json")
    assert isinstance(json.loads(grants.stdout), list)


async def test_tokens_are_issued_once_listed_without_the_secret_and_revoked(dev: dict[str, str | None]) -> None:
    issued = await apdw(dev, "token", "issue", "jyj.panxiaoyu", "--days", "3", "--label", "测试", "--as", "dsj.zhouwei",
                        "--json")
    assert issued.exit_code == 0, issued.stderr
    token = json.loads(issued.stdout)
    listed = await apdw(dev, "token", "list", "--as", "dsj.zhouwei")
    assert "jyj.panxiaoyu" in listed.stdout and token["token"] not in listed.stdout
    clerk = await apdw(dev, "token", "list", "--as", "jyj.panxiaoyu")
    assert "无权" in one_error_line(clerk)
    revoked = await apdw(dev, "token", "revoke", str(token["id"]), "--as", "dsj.zhouwei")
    assert revoked.stdout == f"令牌 {token['id']} 已吊销\n"
    assert "吊销" in one_error_line(await apdw({**dev, "PDW_TOKEN": token["token"]}, "dept", "list"))
    text = await apdw(dev, "token", "issue", "jyj.panxiaoyu", "--as", "dsj.zhouwei")
    assert "只显示这一次" in text.stdout and text.stdout.strip().splitlines()[-1].startswith("pdw_")


async def test_art28_the_public_applies_without_any_credential(dev: dict[str, str | None]) -> None:
    applied = await apdw(dev, "open", "apply", "--resource", "RES-MZJ-001", "--name", "张三",
                         "--id-number", "330324199001011233", "--contact", "13905770000", "--scope", "学术研究",
                         "--purpose", "研究救助政策", "--access-way", "api")
    assert applied.exit_code == 0, applied.stderr
    case_id = track(applied.stdout.splitlines()[0])
    assert case_id.startswith("open-") and "已受理开放申请" in applied.stdout
