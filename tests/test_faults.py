"""Every ``pdw`` command with its dependencies down, the way staff would meet it: Temporal stopped,
then PostgreSQL stopped (a throwaway cluster of the test's own), then the API itself. Each answer is
one Chinese line and an exit code, never a traceback; the API keeps serving its documentation."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import venv_binary
from tests.pg import Cluster, free_port, throwaway_cluster
from tests.test_e2e import BIN, Stack, _wait

CASE = "CASE"  # replaced by the case the test opened
COMMANDS: list[list[str]] = [
    ["show", CASE],
    ["show", CASE, "--decision", "d-0123456789abcdef"],
    ["decide", CASE, "approve", "--as", "dsj.zhouwei"],
    ["inbox", "--dept", "dsj"],
    ["overdue"],
    ["stuck"],
    ["stuck", "--limit", "1", "--offset", "1"],
    ["share", "request", "--resource", "RES-SCJGJ-001", "--item", "名称", "--purpose", "核验", "--scope", "窗口",
     "--mode", "query", "--as", "gaj.zhangfang"],
    ["dept", "list"],
    ["catalog", "show", "RES-JYJ-001"],
    ["grant", "list"],
    ["notices", "list"],
    ["notices", "list", "--offset", "1"],
    ["notices", "digest", "--force"],  # issue 14: it also closes the rows of cases ended outside pdw
    ["token", "list"],
    ["calendar", "due", "--from", "2026-09-28", "--working-days", "5"],
    ["calendar", "override", "2031-05-06", "--holiday", "--note", "台风", "--as", "dsj.linxiaohong"],
    ["audit", "verify", "--as", "dsj.linxiaohong"],
    # Issue 12's commands: each one line too, whatever is down.
    ["catalog", "register", "--name", "养犬登记信息", "--content", "犬主姓名、犬只编号", "--items", "犬主姓名、犬只编号",
     "--encoding-format", "JSON", "--share-attribute", "unconditional", "--open-attribute", "unopened",
     "--update-frequency", "monthly", "--share-modes", "query", "--secrecy-reviewer", "李军",
     "--secrecy-reviewed-on", "2026-11-20", "--secrecy-conclusion", "no_state_secret", "--as", "gaj.zhangfang"],
    ["case", "transfer", CASE, "--to", "wjj", "--reason", "提供单位已变更", "--as", "dsj.zhouwei"],
    ["grant", "renew", "1", "--as", "jyj.panxiaoyu"],
    ["open", "apply", "--resource", "RES-MZJ-001", "--name", "张三", "--id-number", "330324199001011233",
     "--contact", "13905770000", "--scope", "学术研究", "--purpose", "研究救助政策"],
    ["open", "request", "--resource", "RES-JYJ-002", "--name", "赵六", "--id-number", "330324199001010011",
     "--contact", "13800000001"],
    ["open", "status", "GK-2026-000001", "--token", "rt_unknown"],
    ["applicants", "purge", "--as", "dsj.zhouwei"],
    # Issue 13's commands.
    ["report", "evaluation", "--year", "2026", "--format", "json", "--out", os.devnull, "--as", "dsj.zhouwei"],
    ["report", "draft", "--year", "2025", "--as", "dsj.zhouwei"],
    ["report", "list", "--as", "dsj.zhouwei"],
    ["report", "publish", "--year", "2025", "--advice-file", os.devnull, "--basic-file", os.devnull,
     "--as", "dsj.linxiaohong"],
    ["access", "list", "--resource", "RES-SCJGJ-001", "--as", "scjgj.jinlei"],
    ["rectification", "propose", "--dept", "gaj", "--failing", "一", "--evidence", "目录逾期未更新",
     "--correct", "更新目录", "--days", "5", "--as", "dsj.zhouwei"],
]
# The inbox and the overdue list read the case projection (issue 14): the records answer them.
NEEDS_TEMPORAL = {"show", "decide", "stuck", "share", "rectification"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        with throwaway_cluster() as own:
            yield own
    except RuntimeError as err:  # no PostgreSQL programs here: say so, as the suite does elsewhere
        pytest.fail(str(err))


def one_line_refusal(done: subprocess.CompletedProcess[str]) -> bool:
    lines = done.stderr.strip().splitlines()
    return done.returncode == 1 and len(lines) == 1 and lines[0].startswith("错误：") and "Traceback" not in done.stderr


def test_every_command_answers_one_chinese_line_whatever_is_down(cluster: Cluster, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("faults")
    port, ui_port, api_port = free_port(), free_port(), free_port()
    server = subprocess.Popen(
        [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--ui-port",
         str(ui_port), "--db-filename", str(home / "temporal.db"), "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "PDW_DATABASE_URL": cluster.url, "PDW_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
           "PDW_TASK_QUEUE": f"pdw-faults-{uuid.uuid4().hex[:6]}", "PDW_HOME": str(home),
           "PDW_HOOK_PORT": str(api_port), "PDW_API_URL": f"http://127.0.0.1:{api_port}", "PDW_ACTOR": "dsj.zhouwei"}
    env.pop("PDW_TOKEN", None)
    stack = Stack(env, f"127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}")
    api = worker = None
    try:
        _wait(lambda: stack.pdw("setup", "--seed", "--dev-tokens", ok=False).returncode == 0, "pdw setup")
        worker = subprocess.Popen([str(BIN / "pdw-worker")], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        api = subprocess.Popen([str(BIN / "pdw"), "hook"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        docs = f"http://127.0.0.1:{api_port}/openapi.json"
        _wait(lambda: urllib.request.urlopen(docs, timeout=2).status == 200, "the API")
        case_id = json.loads(stack.pdw("share", "request", "--resource", "RES-SCJGJ-001", "--item", "名称",
                                       "--purpose", "核验", "--scope", "窗口", "--mode", "query", "--as",
                                       "gaj.zhangfang", "--json").stdout)["case_id"]
        commands = [[case_id if a == CASE else a for a in c] for c in COMMANDS]
        _wait(lambda: case_id in stack.pdw("inbox", "--dept", "dsj", ok=False).stdout, "the case in the inbox")

        server.kill()  # Temporal down: what needs it says so in one line; the records still answer
        server.wait(timeout=20)
        for command in commands:
            done = stack.pdw(*command, ok=False)
            if command[0] in NEEDS_TEMPORAL:
                assert one_line_refusal(done) and "Temporal" in done.stderr, (command, done.stderr)
                assert "error" not in done.stderr.lower(), (command, done.stderr)  # in Chinese, not the transport's
            else:
                assert done.returncode == 0 or one_line_refusal(done), (command, done.stderr)
            if command[0] == "inbox":  # from the projection, with Temporal down
                assert done.returncode == 0 and case_id in done.stdout, (done.stdout, done.stderr)
            if command[:2] == ["calendar", "override"]:  # the day is saved; running cases not yet told
                assert done.returncode == 0 and "再执行一次" in done.stdout, done.stdout

        cluster.stop()  # the database down too: every command, one line; the docs still served
        for command in commands:
            done = stack.pdw(*command, ok=False)
            assert one_line_refusal(done), (command, done.stdout, done.stderr)
        assert "数据库暂时无法连接" in stack.pdw("dept", "list", ok=False).stderr
        with urllib.request.urlopen(docs, timeout=5) as answer:
            assert answer.status == 200

        api.terminate()  # the API down: one line saying how to start it
        api.wait(timeout=20)
        for command in commands:
            done = stack.pdw(*command, ok=False)
            assert one_line_refusal(done) and "无法连接 pdw 接口" in done.stderr, (command, done.stderr)
        assert api.stderr is not None and "Traceback" not in api.stderr.read()
    finally:
        for process in (api, worker, server):
            if process and process.poll() is None:
                process.kill()
