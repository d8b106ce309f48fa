"""Notices reach the right people through real channels: an SMTP server (aiosmtpd) and a local
HTTP receiver standing in for a DingTalk-style robot, each notice delivered exactly once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from activities.channels import dingtalk_sign
from activities.notices import CASE_TYPE_ZH, _write_digest, write_case_notices, write_ladder_notices
from activities.store import assign_role, session
from models.calendar import Deadline
from models.departments import RoleAssignment
from models.notices import DECISION_KINDS, CaseNotice, LadderNotice, Notice
from settings import get_settings
from tests.helpers import notices_of, start_catalog_update, wait_status
from tests.pg import free_port

SECRET = "SEC-test-secret"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class Robot:
    """A DingTalk-style robot on a local port; ``start`` brings it up, until then the channel is down."""

    def __init__(self) -> None:
        self.port, self.calls, self.server = free_port(), [], None

    def start(self) -> None:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.calls.append((parse_qs(urlparse(self.path).query), body))
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def robot() -> Iterator[Robot]:
    r = Robot()
    yield r
    r.stop()


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Configure channels through PDW_* settings, as a deployment would."""

    def configure(names: list[str], smtp_port: int = 25, robot_port: int = 9) -> None:
        monkeypatch.setenv("PDW_NOTICE_CHANNELS", json.dumps(names))
        monkeypatch.setenv("PDW_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("PDW_SMTP_FROM", "pdw@dsj.yongjia.example")
        monkeypatch.setenv("PDW_WEBHOOK_URL", f"http://127.0.0.1:{robot_port}/robot/send?access_token=t0k")
        monkeypatch.setenv("PDW_WEBHOOK_SECRET", SECRET)
        get_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()


async def settled(case_id: str, timeout: float = 20) -> list[Notice]:
    """Wait until no notice of the case is pending delivery."""
    end = time.monotonic() + timeout
    while any(n.status == "pending" for n in notices_of(case_id)):
        assert time.monotonic() < end, "notices still pending"
        await asyncio.sleep(0.2)
    return notices_of(case_id)


async def test_ladder_notices_reach_each_level_by_email_and_a_signed_webhook(
    env, worker, mailbox, robot, channels
) -> None:
    box, smtp_port = mailbox
    robot.start()
    channels(["email", "webhook"], smtp_port, robot.port)
    handle = await start_catalog_update(env, worker, resource="RES-ZJJ-001", by="zjj.qianjun")
    state = await wait_status(handle, "awaiting_submission")
    deadline = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    rows = await settled(handle.id)
    ladder = [n for n in rows if n.level]
    assert {n.status for n in ladder} == {"sent"} and len(ladder) == 8  # 4 people × 2 channels

    to = {(m["To"], m["Subject"].split("：")[0]) for m in box.messages}
    assert to == {("qianjun@zjj.yongjia.example", "待办"), ("qianjun@zjj.yongjia.example", "预警"),
                  ("lumei@zjj.yongjia.example", "催办"), ("pengcheng@zjj.yongjia.example", "督办"),
                  ("chenjianguo@dsj.yongjia.example", "督办")}
    escalation = next(m for m in box.messages if m["To"] == "pengcheng@zjj.yongjia.example")
    text = escalation.get_content()
    due = deadline.due_date
    assert handle.id in escalation["Subject"] and "目录更新" in text and "第十一条" in text
    assert f"{due.year}年{due.month}月{due.day}日" in text and "已逾期" in text
    assert f"/namespaces/default/workflows/{handle.id}" in text

    assert len(robot.calls) == 5  # the 待办, then the ladder's four
    for query, body in robot.calls:
        timestamp = int(query["timestamp"][0])
        assert query["sign"][0] == dingtalk_sign(SECRET, timestamp)  # 加签 verified
        assert query["access_token"] == ["t0k"] and abs(timestamp / 1000 - time.time()) < 120
        assert body["msgtype"] == "markdown" and handle.id in body["markdown"]["title"]
        assert len(body["at"]["atMobiles"]) == 1 and body["at"]["atMobiles"][0].startswith("1380577")


async def test_a_channel_down_during_escalation_then_back_delivers_each_notice_once(
    env, worker, robot, channels
) -> None:
    channels(["webhook"], robot_port=robot.port)  # the robot is not up yet
    handle = await start_catalog_update(env, worker, resource="RES-ZJJ-001", by="zjj.qianjun")
    state = await wait_status(handle, "awaiting_submission")
    deadline = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    await env.sleep(deadline.warn_at - await env.get_current_time() + timedelta(minutes=5))
    await asyncio.sleep(1)
    todo, waiting = notices_of(handle.id)
    # The 待办 went out days ago, while the channel was down: after its hours of retries it failed.
    assert (todo.level, todo.status, waiting.level, waiting.status) == (0, "failed", 1, "pending")
    assert waiting.attempts >= 1 and "webhook" in (waiting.error or "")
    robot.start()
    await env.sleep(timedelta(hours=1))  # the retries' backoff
    await settled(handle.id)
    await env.sleep(deadline.due_at - await env.get_current_time() + timedelta(minutes=5))  # urging, channel up
    rows = await settled(handle.id)
    assert [(n.level, n.status) for n in rows] == [(0, "failed"), (1, "sent"), (2, "sent")]
    assert sorted(body["markdown"]["title"].split("：")[0] for _, body in robot.calls) == ["催办", "预警"]
    await env.sleep(timedelta(hours=6))
    assert len(robot.calls) == 2  # nothing delivered twice, however often retried


async def test_a_channel_that_keeps_failing_leaves_the_notice_failed_and_the_case_goes_on(
    env, worker, robot, channels
) -> None:
    channels(["webhook"], robot_port=robot.port)  # never comes up
    handle = await start_catalog_update(env, worker, resource="RES-ZJJ-001", by="zjj.qianjun")
    state = await wait_status(handle, "awaiting_submission")
    deadline = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    await env.sleep(deadline.warn_at - await env.get_current_time() + timedelta(minutes=1))
    await env.sleep(timedelta(hours=12))
    end = time.monotonic() + 20
    while len([n for n in notices_of(handle.id) if n.status == "failed"]) < 2:
        assert time.monotonic() < end
        await asyncio.sleep(0.2)
    failed = [n for n in notices_of(handle.id) if n.status == "failed"]
    assert [n.level for n in failed] == [0, 1] and {n.attempts for n in failed} == {10}
    assert (await handle.query("state"))["status"] == "awaiting_submission"  # not held up


def _rung(case_type: str, level: int, dept: str = "jyj") -> LadderNotice:
    now = datetime.now(UTC)
    deadline = Deadline(step="catalog_update.submit", article="第十一条", statutory=True, working_days=5,
                        event_at=now, due_date=now.date(), due_at=now, warn_at=now, escalate_at=now, provisional=True)
    return LadderNotice(case_id=f"render-{case_type}-{level}-{dept}", case_type=case_type, step_zh="某环节",
                        level=level, dept_code=dept, deadline=deadline, at=now,
                        escalate_to="county_gov" if case_type == "dispute" else "center")


DOUBLED = re.compile(r"([\u4e00-\u9fff]{3,})\1")  # 大数据管理中心大数据管理中心


@pytest.mark.parametrize("case_type", list(CASE_TYPE_ZH))
def test_every_template_renders_for_every_process_and_level(case_type: str) -> None:
    for level in (0, 1, 2, 3):
        assert write_ladder_notices(_rung(case_type, level)) >= 1
    for kind in DECISION_KINDS:
        assert write_case_notices(CaseNotice(
            case_id=f"render-{case_type}", case_type=case_type, key=f"k.{kind}", kind=kind, dept_code="jyj",
            headline="审核结论甲", detail="理由：示例。", article="第二十条", at=datetime.now(UTC))) == 1
    decided = [n.body for n in notices_of(f"render-{case_type}")]
    bodies = decided + [n.body for level in (0, 1, 2, 3) for n in notices_of(f"render-{case_type}-{level}-jyj")]
    assert all("{{" not in b and CASE_TYPE_ZH[case_type] in b for b in bodies)
    # The headline is the subject; no line says it twice ("未获同意（未获同意）").
    assert [line for b in decided for line in b.splitlines() if line.count("审核结论甲") > 1] == []
    assert not [m.group(0) for b in bodies if (m := DOUBLED.search(b))]
    escalated = notices_of(f"render-{case_type}-3-jyj")
    leaders = {"dispute": "xzf.huangzhiqiang"}.get(case_type, "dsj.chenjianguo")
    assert {n.person_id for n in escalated} == {"jyj.liuyang", leaders}
    assert all("暂定" in n.body for n in escalated)


def test_step_names_say_what_is_owed_not_who_owes_it() -> None:
    """Texts put the department first ("等待县公安局联合审批共享申请"): a step name that names a
    party too would double it ("等待县大数据管理中心大数据管理中心审批")."""
    from activities.seed import DEPARTMENTS
    from models.steps import STEP_RULES

    for rule in STEP_RULES.values():
        for _code, name, _kind, _people in DEPARTMENTS:
            assert not DOUBLED.search(f"等待{name}{rule.zh}"), (name, rule.zh)
        assert not rule.zh.startswith(("部门", "数源部门", "大数据管理中心", "县人民政府", "专家委员会", "市大数据")), rule


def test_a_role_nobody_holds_is_reported_to_the_center() -> None:
    with session() as s:
        held = s.exec(select(RoleAssignment).where(RoleAssignment.dept_code == "rsj",
                                                   RoleAssignment.role == "leader_in_charge",
                                                   RoleAssignment.until.is_(None))).one()  # type: ignore[union-attr]
        held.until = datetime.now(UTC)
        s.add(held)
    try:
        write_ladder_notices(_rung("share", 2, dept="rsj"))
        rows = notices_of("render-share-2-rsj")
        assert [(n.person_id, n.step) for n in rows] == [
            ("dsj.zhouwei", "catalog_update.submit:vacant:rsj:leader_in_charge")]
        assert "无人备案" in rows[0].body and "第四十三条" in rows[0].body
    finally:
        assign_role("rsj", "leader_in_charge", "rsj.zhuhong", note="恢复原备案")


def test_the_daily_digest_goes_to_each_leader_with_the_cases_that_concern_them() -> None:
    day = date(2026, 12, 1)
    due = datetime(2026, 11, 20, 16, tzinfo=UTC)
    overdue = [
        {"case_id": "catalog-2026-900001", "dept": "jyj", "case_type": "catalog_update", "level": 3, "due": due},
        {"case_id": "share-2026-900002", "dept": "gaj", "case_type": "share", "level": 2, "due": due},
    ]
    _write_digest(day, overdue)
    rows = {n.person_id: n.body for n in notices_of("digest-2026-12-01")}
    assert set(rows) == {"dsj.chenjianguo", "jyj.liuyang", "jyj.chenli", "gaj.wanghaitao", "gaj.lijun"}
    assert "catalog-2026-900001" in rows["dsj.chenjianguo"] and "share-2026-900002" in rows["dsj.chenjianguo"]
    assert "catalog-2026-900001" in rows["jyj.liuyang"] and "share-2026-900002" not in rows["jyj.liuyang"]
    assert "2026年12月1日" in rows["gaj.lijun"] and "督办" in rows["jyj.chenli"]
