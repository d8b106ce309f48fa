"""The catalog's life (Art. 10, 11, 39): a department registers a new entry, the center reviews and
publishes it; approved changes of items, share modes and provider reach what requests are checked
against and where they go; running cases stay with their department unless the center transfers
them. Through the API in-process (httpx's ASGI transport), the real worker, the time-skipping
Temporal server and PostgreSQL; ``pdw`` through typer's CliRunner against a served API."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from temporalio.testing import WorkflowEnvironment

from activities.store import session
from models.audit import AuditEvent
from models.cases import DeadlineMiss, Decision
from models.catalog import CatalogElements, CatalogVersion, DataResource
from models.catalog_register import CatalogRegistrationCase
from models.correction import CorrectionReport
from models.notices import Notice
from models.share import Grant, ShareRequest
from service import auth
from service.context import Services
from settings import get_settings
from tests.helpers import STARTED
from tests.test_commands import apdw, api_url, dev, home, one_error_line  # noqa: F401 - fixtures

CENTER, CENTER_HEAD = "dsj.zhouwei", "dsj.linxiaohong"
GAJ, JYJ, WJJ = "gaj.zhangfang", "jyj.panxiaoyu", "wjj.maqiang"
CENTER_THIRD = "dsj.chenjianguo"
PEOPLE = [CENTER, CENTER_HEAD, CENTER_THIRD, GAJ, JYJ, WJJ, "gaj.lijun"]


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {p: str(auth.issue_token(None, p, days=30, label="test", by="tests")["token"]) for p in PEOPLE}


@pytest.fixture
async def api(env: WorkflowEnvironment, worker: str) -> AsyncIterator[httpx.AsyncClient]:
    from hook import create_app

    app = create_app(Services(get_settings().model_copy(update={"task_queue": worker}), client=env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test",
                                 timeout=60) as client:
        yield client


class Staff:
    """Requests as one registered person (a personal token)."""

    def __init__(self, api: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.api, self.tokens = api, tokens

    def _h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(path, json=body, headers=self._h(who))

    async def get(self, who: str, path: str) -> httpx.Response:
        return await self.api.get(path, headers=self._h(who))

    async def start(self, who: str, process: str, body: dict[str, Any]) -> str:
        r = await self.post(who, f"/v1/cases/{process}", body)
        assert r.status_code == 201, r.text
        STARTED.append(r.json()["case_id"])
        return str(r.json()["case_id"])

    async def decide(self, who: str, case_id: str, action: str, **body: Any) -> httpx.Response:
        return await self.post(who, f"/v1/cases/{case_id}/decisions", {"action": action, **body})

    async def transfer(self, who: str, case_id: str, to: str, reason: str = "提供单位已变更") -> httpx.Response:
        return await self.post(who, f"/v1/cases/{case_id}/transfer", {"to": to, "reason": reason})

    async def awaiting(self, case_id: str, codes: list[str], timeout: float = 20) -> dict[str, Any]:
        """The case's state once it awaits exactly ``codes`` (a step is awaited just after its status is set)."""
        end = asyncio.get_running_loop().time() + timeout
        while sorted((state := await self.state(case_id))["awaiting"]) != sorted(codes):
            assert asyncio.get_running_loop().time() < end, f"{case_id} awaits {state['awaiting']}, expected {codes}"
            await asyncio.sleep(0.1)
        return state

    async def state(self, case_id: str, status: str | None = None, timeout: float = 20) -> dict[str, Any]:
        """The case's state (as the center reads it), once it has ``status``."""
        end = asyncio.get_running_loop().time() + timeout
        while True:
            r = await self.get(CENTER, f"/v1/cases/{case_id}")
            assert r.status_code == 200, r.text
            state: dict[str, Any] = r.json()["state"]
            if status is None or state["status"] == status:
                return state
            assert asyncio.get_running_loop().time() < end, f"{case_id} stayed {state['status']}, expected {status}"
            await asyncio.sleep(0.1)


@pytest.fixture
def staff(api: httpx.AsyncClient, tokens: dict[str, str]) -> Staff:
    return Staff(api, tokens)


def registration(**over: Any) -> dict[str, Any]:
    """A complete new entry (Art. 10), shareable, so with its 保密审查 record (Art. 39)."""
    return {"name": "养犬登记信息", "content": "犬主姓名、犬只编号、登记日期", "encoding_format": "JSON",
            "share_attribute": "unconditional", "open_attribute": "unopened", "update_frequency": "monthly",
            "items": "犬主姓名、犬只编号、登记日期", "share_modes": ["verification", "query"],
            "secrecy_reviewer": "李军", "secrecy_reviewed_on": "2026-01-05", "secrecy_conclusion": "no_state_secret",
            **over}


def entry(owner: str, share: str = "restricted") -> str:
    """A catalog entry of this test's own (the demo entries are shared by the whole suite)."""
    rid = f"RES-T{uuid.uuid4().hex[:8].upper()}"
    items = ["甲项", "乙项", "丙项"]
    el = CatalogElements(name=f"测试数据 {rid}", content="、".join(items), encoding_format="JSON", provider_code=owner,
                         share_attribute=share, open_attribute="unopened", update_frequency="monthly",
                         share_reason="涉及个人信息" if share == "restricted" else None,
                         share_basis="《个人信息保护法》" if share == "restricted" else None, items=items,
                         share_modes=["verification", "query"], secrecy_reviewer="张三",
                         secrecy_reviewed_on=date(2026, 1, 5), secrecy_conclusion="no_state_secret")
    assert el.problems() == []
    with session() as s:
        s.add(DataResource(id=rid, owner_code=owner, items=items, share_modes=["verification", "query"]))
        s.flush()
        s.add(CatalogVersion(**el.model_dump(), resource_id=rid, version=1, is_current=True))
    return rid


def move_owner(rid: str, to: str) -> None:
    """The 提供单位 changed (as an approved catalog update leaves it: test_art10_provider_change…)."""
    with session() as s:
        s.get(DataResource, rid).owner_code = to  # type: ignore[union-attr]
        version = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == rid, CatalogVersion.is_current)).one()
        version.provider_code = to
        s.add(version)


def share_body(rid: str, item: str = "甲项") -> dict[str, Any]:
    return {"resource_id": rid, "items": [item], "purpose": "校园安全管理", "scope": "县教育局安全科", "mode": "query",
            "months": 6}


def registrations() -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(CatalogRegistrationCase)).one())


async def eventually(check: Any, timeout: float = 10) -> None:
    """A notice is written just after the status it follows: wait for it."""
    end = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < end, "not within the time allowed"
        await asyncio.sleep(0.1)


def notices(case_id: str) -> list[Notice]:
    with session() as s:
        return list(s.exec(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)).all())  # type: ignore[arg-type]


# ---- Art. 10–11: registering a new entry ---------------------------------------------------------------


async def test_art10_art11_department_registers_entry_center_approves_it_is_listed_and_requestable(
        staff: Staff, env: WorkflowEnvironment) -> None:
    case_id = await staff.start(GAJ, "catalog-register", registration())
    assert case_id.startswith("catreg-")
    state = await staff.state(case_id, "under_review")
    rid = state["resource_id"]
    assert rid.startswith("RES-GAJ-") and rid not in ("RES-GAJ-001", "RES-GAJ-002")  # generated, unique
    assert state["awaiting"] == ["dsj"] and state["deadlines"]["catalog_register.review"]["article"] == "第十一条"
    assert not state["deadlines"]["catalog_register.review"]["statutory"]  # a local default
    listed = (await staff.get(JYJ, "/v1/catalog")).json()
    assert rid not in [r["resource_id"] for r in listed]  # nothing is published before the review

    approved = await staff.decide(CENTER, case_id, "approve")
    assert approved.status_code == 200, approved.text
    state = await staff.state(case_id, "published")
    assert state["approved_version"] == 1
    listed = {r["resource_id"]: r for r in (await staff.get(JYJ, "/v1/catalog")).json()}
    assert listed[rid]["provider_code"] == "gaj" and listed[rid]["case_id"] == case_id
    with session() as s:
        resource = s.get(DataResource, rid)
        assert resource is not None and resource.owner_code == "gaj" and resource.items == ["犬主姓名", "犬只编号", "登记日期"]
        assert resource.share_modes == ["verification", "query"]
        assert s.get(CatalogRegistrationCase, case_id).approved_version == 1  # type: ignore[union-attr]
    # The department hears of the outcome; the entry can now be requested.
    await eventually(lambda: any(n.step == "catalog_register.published" and n.dept_code == "gaj"
                                 for n in notices(case_id)))
    share = await staff.post(JYJ, "/v1/cases/share", share_body(rid, "犬只编号"))
    assert share.status_code == 201 and share.json()["source"] == "gaj", share.text
    STARTED.append(share.json()["case_id"])


async def test_art11_returned_entry_is_revised_by_its_department_and_resubmitted(staff: Staff) -> None:
    case_id = await staff.start(GAJ, "catalog-register", registration(name="犬只免疫信息"))
    await staff.state(case_id, "under_review")
    no_reason = await staff.decide(CENTER, case_id, "return")
    assert no_reason.status_code == 400 and "理由" in no_reason.json()["detail"] and "第十一条" in no_reason.json()["detail"]
    assert (await staff.decide(CENTER, case_id, "return", reasons="数据项应含免疫日期")).status_code == 200
    state = await staff.state(case_id, "returned")
    assert state["awaiting"] == ["gaj"] and "catalog_register.revise" in state["deadlines"]
    assert any(n.step == "catalog_register.returned#1" and n.dept_code == "gaj" for n in notices(case_id))

    # Only the providing unit revises; the revision must still satisfy Art. 10 and Art. 39.
    other = await staff.decide(JYJ, case_id, "submit", data={"items": "犬主姓名、免疫日期"})
    assert other.status_code == 403 and "第十一条" in other.json()["detail"]
    broken = await staff.decide(GAJ, case_id, "submit", data={"secrecy_reviewer": ""})
    assert broken.status_code == 400 and "第三十九条" in broken.json()["detail"]
    moved = await staff.decide(GAJ, case_id, "submit", data={"provider_code": "wjj"})
    assert moved.status_code == 400 and "provider_code" in moved.json()["detail"]
    revised = await staff.decide(GAJ, case_id, "submit", data={"items": "犬主姓名、犬只编号、免疫日期"})
    assert revised.status_code == 200, revised.text
    state = await staff.state(case_id, "under_review")
    assert state["elements"]["items"] == ["犬主姓名", "犬只编号", "免疫日期"] and state["rounds"] == 1
    assert (await staff.decide(CENTER, case_id, "approve")).status_code == 200
    state = await staff.state(case_id, "published")
    with session() as s:
        assert s.get(DataResource, state["resource_id"]).items == ["犬主姓名", "犬只编号", "免疫日期"]  # type: ignore[union-attr]


async def test_art10_art39_entry_missing_an_element_or_the_secrecy_record_is_refused_and_nothing_written(
        staff: Staff) -> None:
    before = registrations()
    for body, field, article in (
        (registration(encoding_format=""), "encoding_format", "第十条"),
        (registration(items=""), "items", "第十条"),
        (registration(secrecy_reviewer=None), "secrecy_reviewer", "第三十九条"),
        (registration(secrecy_reviewed_on=None), "secrecy_reviewed_on", "第三十九条"),
        (registration(secrecy_conclusion="state_secret"), "国家秘密", "第三十九条"),
        (registration(secrecy_reviewed_on="2026-13-01"), "secrecy_reviewed_on", "第三十九条"),
        (registration(share_attribute="restricted"), "share_reason", "第十五条"),
        (registration(open_attribute="forbidden"), "forbidden_ground", "第二十九条"),
        (registration(share_modes="fax"), "share_modes", "第十六条"),
        (registration(provider_code="nosuch"), "nosuch", "部门代码"),
    ):
        r = await staff.post(GAJ, "/v1/cases/catalog-register", body)
        assert r.status_code in (400, 404), (field, r.text)
        assert field in r.json()["detail"] and article in r.json()["detail"], (field, r.json()["detail"])
    named = await staff.post(GAJ, "/v1/cases/catalog-register", registration(secrecy_conclusion=None))
    assert named.status_code == 400 and named.json()["field"] == "secrecy_conclusion"  # the field, for systems
    assert registrations() == before
    # Data neither shared nor opened needs no 保密审查 record (Art. 39 covers what is shared or opened).
    closed = registration(share_attribute="non_shared", share_basis="《居民身份证法》", share_modes=[],
                          open_attribute="forbidden", forbidden_ground="secret_or_privacy",
                          secrecy_reviewer=None, secrecy_reviewed_on=None, secrecy_conclusion=None)
    assert (await staff.start(GAJ, "catalog-register", closed)).startswith("catreg-")


async def test_art11_art39_nobody_registers_another_departments_entry_not_even_the_center(staff: Staff) -> None:
    """Art. 11: each department's designated person compiles its own data; Art. 39: the 保密审查 is
    the department's own. Neither another department nor the center registers gaj's entry."""
    before = registrations()
    for who in (JYJ, CENTER):
        r = await staff.post(who, "/v1/cases/catalog-register", registration(provider_code="gaj"))
        assert r.status_code == 403, r.text
        detail = r.json()["detail"]
        assert "provider_code" in detail and "第十一条" in detail and "第三十九条" in detail
    assert registrations() == before


async def test_art11_the_person_who_compiled_or_resubmitted_an_entry_does_not_approve_it(staff: Staff) -> None:
    """The center registers an entry it provides itself; another center person approves it."""
    case_id = await staff.start(CENTER, "catalog-register", registration(provider_code="dsj", name="数据目录访问日志"))
    state = await staff.state(case_id, "under_review")
    assert state["owner_code"] == "dsj"
    own = await staff.decide(CENTER, case_id, "approve")
    assert own.status_code == 403 and "本人编制或提交" in own.json()["detail"] and "第十一条" in own.json()["detail"]
    # Returned and resubmitted by another center person: that person does not approve it either.
    assert (await staff.decide(CENTER_HEAD, case_id, "return", reasons="数据项应含访问时间")).status_code == 200
    await staff.state(case_id, "returned")
    assert (await staff.decide(CENTER_HEAD, case_id, "submit",
                               data={"items": "犬主姓名、犬只编号、访问时间"})).status_code == 200
    await staff.state(case_id, "under_review")
    for who in (CENTER, CENTER_HEAD):
        r = await staff.decide(who, case_id, "approve")
        assert r.status_code == 403 and "本人编制或提交" in r.json()["detail"], r.text
    with session() as s:
        assert "approve" not in [d.action for d in s.exec(select(Decision).where(Decision.case_id == case_id)).all()]
    assert (await staff.decide(CENTER_THIRD, case_id, "approve")).status_code == 200
    await staff.state(case_id, "published")


async def test_art11_only_the_center_approves_a_registration(staff: Staff) -> None:
    case_id = await staff.start(GAJ, "catalog-register", registration(name="犬只收容信息"))
    await staff.state(case_id, "under_review")
    for who in (GAJ, JYJ):
        r = await staff.decide(who, case_id, "approve")
        assert r.status_code == 403 and "县大数据管理中心审核" in r.json()["detail"] and "第十一条" in r.json()["detail"]
    assert (await staff.state(case_id))["status"] == "under_review"
    with session() as s:
        assert not s.exec(select(Decision).where(Decision.case_id == case_id)).all()


async def test_art10_a_taken_or_reserved_resource_id_is_refused(staff: Staff) -> None:
    taken = await staff.post(GAJ, "/v1/cases/catalog-register", registration(resource_id="RES-GAJ-001"))
    assert taken.status_code == 409 and "RES-GAJ-001" in taken.json()["detail"]
    rid = f"RES-GAJ-T{uuid.uuid4().hex[:6].upper()}"
    first = await staff.start(GAJ, "catalog-register", registration(resource_id=rid, name="犬只走失信息"))
    again = await staff.post(GAJ, "/v1/cases/catalog-register", registration(resource_id=rid))
    assert again.status_code == 409 and first in again.json()["detail"]  # reserved while the first is open
    # Withdrawn, the id is free again (the record is closed).
    assert (await staff.post(GAJ, f"/v1/cases/{first}/decisions",
                             {"action": "withdraw", "reasons": "误登记"})).status_code == 200
    await staff.state(first, "withdrawn")
    assert (await staff.start(GAJ, "catalog-register", registration(resource_id=rid))).startswith("catreg-")


# ---- Art. 10–11: approved changes reach what requests are checked against -------------------------------


async def update_entry(staff: Staff, rid: str, owner: str, changes: dict[str, Any]) -> str:
    case_id = await staff.start(owner, "catalog-update", {"resource_id": rid, "change_note": "要素变化"})
    await staff.state(case_id, "awaiting_submission")
    submitted = await staff.decide(owner, case_id, "submit", data=changes)
    assert submitted.status_code == 200, submitted.text
    await staff.state(case_id, "under_review")
    assert (await staff.decide(CENTER, case_id, "approve")).status_code == 200
    await staff.state(case_id, "approved")
    return case_id


async def test_art11_an_approved_update_removing_an_item_refuses_a_share_request_for_it(staff: Staff) -> None:
    rid = entry("gaj")
    await update_entry(staff, rid, GAJ, {"items": "甲项、乙项", "share_modes": "verification"})
    with session() as s:
        resource = s.get(DataResource, rid)
        assert resource is not None and resource.items == ["甲项", "乙项"] and resource.share_modes == ["verification"]
    refused = await staff.post(JYJ, "/v1/cases/share", share_body(rid, "丙项"))
    assert refused.status_code == 400 and "数据项（items）" in refused.json()["detail"] and "丙项" in refused.json()["detail"]
    mode = await staff.post(JYJ, "/v1/cases/share", share_body(rid, "甲项"))  # query is no longer offered
    assert mode.status_code == 400 and "mode" in mode.json()["detail"] and "第十六条" in mode.json()["detail"]


async def test_art10_after_a_provider_change_new_cases_go_to_the_new_department(staff: Staff) -> None:
    rid = entry("gaj")
    running = await staff.start(JYJ, "share", share_body(rid))  # started before: stays with 县公安局
    await staff.awaiting(running, ["dsj", "gaj"])
    update = await update_entry(staff, rid, GAJ, {"provider_code": "wjj"})
    with session() as s:
        assert s.get(DataResource, rid).owner_code == "wjj"  # type: ignore[union-attr]
    # The new provider hears that the entry is now its own.
    await eventually(lambda: any(n.step == "catalog_update.provider" and n.dept_code == "wjj" for n in notices(update)))
    new = await staff.post(JYJ, "/v1/cases/share", share_body(rid, "乙项"))
    assert new.status_code == 201 and new.json()["source"] == "wjj", new.text
    STARTED.append(new.json()["case_id"])
    correction = await staff.post(JYJ, "/v1/cases/correction", {"resource_id": rid, "items": ["甲项"],
                                                                "found": "甲项为空", "expected": "甲项应有值"})
    assert correction.status_code == 201 and correction.json()["source"] == "wjj"
    STARTED.append(correction.json()["case_id"])
    old_owner = await staff.post(GAJ, "/v1/cases/catalog-update", {"resource_id": rid, "change_note": "x"})
    assert old_owner.status_code == 403
    # The running case was not moved: it still waits for 县公安局.
    assert "gaj" in (await staff.state(running))["awaiting"]


# ---- running cases: the center transfers them (local rule), recorded -------------------------------------


async def test_center_transfers_a_running_share_case_to_the_new_provider_with_a_fresh_period(
        staff: Staff, env: WorkflowEnvironment) -> None:
    rid = entry("gaj")
    case_id = await staff.start(JYJ, "share", share_body(rid))
    state = await staff.awaiting(case_id, ["dsj", "gaj"])
    old_due = state["deadlines"]["share.source_review"]["due_at"]

    # Who must not: a department (even the source), and the center naming a department that is not
    # the resource's current owner. Nothing is recorded.
    r = await staff.transfer(GAJ, case_id, "wjj")
    assert r.status_code == 403 and "县大数据管理中心" in r.json()["detail"]
    r = await staff.transfer(CENTER, case_id, "wjj")
    assert r.status_code == 400 and "现在的提供单位是县公安局" in r.json()["detail"]
    r = await staff.transfer(CENTER, case_id, "gaj")
    assert r.status_code == 400 and "无须移交" in r.json()["detail"]
    assert (await staff.post(CENTER, f"/v1/cases/{case_id}/transfer", {"to": "wjj", "reason": " "})).status_code == 400

    await env.sleep(timedelta(days=3))
    move_owner(rid, "wjj")
    moved = await staff.transfer(CENTER, case_id, "wjj", "数据资源提供单位已变更为县卫生健康局")
    assert moved.status_code == 200 and moved.json()["confirmed"], moved.text
    # pdw show reads the case projection, written by the case just after it answers: poll briefly.
    for _ in range(100):
        state = await staff.state(case_id)
        if any("移交" in t["text"] for t in state["timeline"]):
            break
        await asyncio.sleep(0.05)
    assert sorted(state["awaiting"]) == ["dsj", "wjj"] and state["parties"]["wjj"] == "县卫生健康局"
    fresh = state["deadlines"]["share.source_review"]
    assert fresh["attempt"] == 1 and fresh["due_at"] > old_due  # a fresh period from the transfer
    assert any("移交" in t["text"] and "县卫生健康局" in t["text"] for t in state["timeline"])
    with session() as s:
        decision = s.exec(select(Decision).where(Decision.case_id == case_id, Decision.action == "transfer")).one()
        assert decision.person_id == CENTER and decision.reasons == "数据资源提供单位已变更为县卫生健康局"
        audit = s.exec(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                AuditEvent.event == "case_transferred")).one()
        assert audit.detail["from"] == "gaj" and audit.detail["to"] == "wjj"
        assert s.get(ShareRequest, case_id).source_code == "wjj"  # type: ignore[union-attr]
    await eventually(lambda: any(n.step.startswith("share.transferred#") and n.dept_code == "gaj"
                                 for n in notices(case_id)))
    assert any(n.step == "share.source_review#2" and n.level == 0 and n.dept_code == "wjj"  # 待办
               for n in notices(case_id))

    # The former source no longer decides; the new one does, and the grant names it.
    old = await staff.decide(GAJ, case_id, "approve")
    assert old.status_code == 403
    assert (await staff.decide(WJJ, case_id, "approve")).status_code == 200
    assert (await staff.decide(CENTER, case_id, "approve")).status_code == 200
    await staff.state(case_id, "granted")
    with session() as s:
        assert s.exec(select(Grant).where(Grant.case_id == case_id)).one().source_code == "wjj"
    closed = await staff.transfer(CENTER, case_id, "wjj")
    assert closed.status_code == 409 and "办结" in closed.json()["detail"]


async def test_art41_a_miss_before_a_transfer_stays_the_former_holders_and_the_new_one_has_its_own_period(
        staff: Staff, env: WorkflowEnvironment) -> None:
    rid = entry("gaj")
    case_id = await staff.start(JYJ, "share", share_body(rid))
    state = await staff.awaiting(case_id, ["dsj", "gaj"])
    first = state["deadlines"]["share.source_review"]
    await env.sleep(timedelta(days=16))  # past the source's local period and its escalation
    await eventually(lambda: misses(case_id).get("share.source_review") == "gaj")
    move_owner(rid, "wjj")
    assert (await staff.transfer(CENTER, case_id, "wjj")).status_code == 200
    fresh = (await staff.state(case_id))["deadlines"]["share.source_review"]
    assert fresh["due_at"] > first["due_at"] and fresh["working_days"] == first["working_days"]
    await env.sleep(timedelta(days=16))
    await eventually(lambda: misses(case_id).get("share.source_review#2") == "wjj")
    assert misses(case_id)["share.source_review"] == "gaj"  # the former holder's miss is still its own


def misses(case_id: str) -> dict[str, str]:
    with session() as s:
        return {m.step: m.dept_code for m in s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == case_id)).all()}


async def test_transfer_is_refused_when_no_step_awaits_the_former_owner(staff: Staff) -> None:
    rid = entry("gaj", share="unconditional")  # only the center approves (Art. 20): nothing awaits the source
    case_id = await staff.start(JYJ, "share", share_body(rid))
    await staff.state(case_id, "under_review")
    move_owner(rid, "wjj")
    r = await staff.transfer(CENTER, case_id, "wjj")
    assert r.status_code == 400 and "没有等待数源部门" in r.json()["detail"]
    r = await staff.post(CENTER, "/v1/cases/catreg-2026-999999/transfer", {"to": "wjj", "reason": "x"})
    assert r.status_code == 400 and "不能移交" in r.json()["detail"]


async def test_art23_transfer_moves_a_correction_verification_to_the_new_provider(staff: Staff) -> None:
    rid = entry("gaj")
    case_id = await staff.start(JYJ, "correction", {"resource_id": rid, "items": ["甲项"], "found": "甲项为空",
                                                     "expected": "甲项应有值"})
    await staff.state(case_id, "awaiting_forward")
    move_owner(rid, "wjj")
    early = await staff.transfer(CENTER, case_id, "wjj")  # the source owes nothing yet
    assert early.status_code == 400 and "没有等待数源部门" in early.json()["detail"]
    assert (await staff.decide(CENTER, case_id, "forward")).status_code == 200
    await staff.awaiting(case_id, ["gaj"])  # the case stays with the department that holds it
    assert (await staff.transfer(CENTER, case_id, "wjj")).status_code == 200
    state = await staff.state(case_id)
    assert state["awaiting"] == ["wjj"] and state["deadlines"]["correction.verify"]["statutory"]
    assert (await staff.decide(GAJ, case_id, "confirm", reasons="数据无误")).status_code == 403
    assert (await staff.decide(WJJ, case_id, "confirm", reasons="经核对数据无误")).status_code == 200
    await staff.state(case_id, "confirmed")
    with session() as s:
        assert s.get(CorrectionReport, case_id).source_code == "wjj"  # type: ignore[union-attr]


async def test_art11_transfer_gives_a_catalog_update_to_the_new_owner_with_its_own_five_days(staff: Staff) -> None:
    rid = entry("gaj")
    case_id = await staff.start(GAJ, "catalog-update", {"resource_id": rid, "change_note": "更新频度调整"})
    await staff.awaiting(case_id, ["gaj"])
    move_owner(rid, "wjj")
    assert (await staff.transfer(CENTER, case_id, "wjj")).status_code == 200
    state = await staff.state(case_id)
    assert state["awaiting"] == ["wjj"] and state["owner_code"] == "wjj" and state["used_working_days"] == 0
    assert state["deadlines"]["catalog_update.submit"]["working_days"] == 5
    assert (await staff.decide(GAJ, case_id, "submit", data={"update_frequency": "weekly"})).status_code == 403
    assert (await staff.decide(WJJ, case_id, "submit", data={"update_frequency": "weekly"})).status_code == 200
    await staff.state(case_id, "under_review")
    assert (await staff.decide(CENTER, case_id, "approve")).status_code == 200
    await staff.state(case_id, "approved")


# ---- Art. 39 and the CLI ---------------------------------------------------------------------------------


async def test_art39_catalog_read_shows_items_modes_the_secrecy_record_and_an_art29_ground(staff: Staff) -> None:
    versions = (await staff.get(JYJ, "/v1/catalog/RES-JYJ-001")).json()
    v = versions[0]
    assert v["items"] and v["share_modes_zh"] and v["secrecy_reviewer"] and v["secrecy_reviewed_on"]
    assert v["secrecy_conclusion_zh"] == "不涉及国家秘密"
    forbidden = (await staff.get(JYJ, "/v1/catalog/RES-ZRZYJ-001")).json()[-1]
    assert forbidden["forbidden_ground"] == "law"

    from commands.catalog import render_versions

    text = render_versions(versions)
    assert "数据项：" in text and "共享方式：" in text and "保密审查（第三十九条）" in text and "不涉及国家秘密" in text


async def test_art10_art11_pdw_catalog_register_then_pdw_decide_approve_then_listed(
        dev: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811 - the fixture of tests/test_commands.py
    done = await apdw(dev, "catalog", "register", "--name", "犬只年检信息", "--content", "犬只编号、年检日期",
                      "--items", "犬只编号、年检日期", "--encoding-format", "JSON", "--share-attribute", "unconditional",
                      "--open-attribute", "unopened", "--update-frequency", "yearly", "--share-modes", "query",
                      "--secrecy-reviewer", "李军", "--secrecy-reviewed-on", "2026-01-05",
                      "--secrecy-conclusion", "no_state_secret", "--as", GAJ, "--json")
    assert done.exit_code == 0, done.stderr
    started = json.loads(done.stdout)
    STARTED.append(started["case_id"])
    refused = await apdw(dev, "decide", started["case_id"], "approve", "--as", GAJ)
    assert "第十一条" in one_error_line(refused)
    for _ in range(100):  # the case opens; then the center approves
        approved = await apdw(dev, "decide", started["case_id"], "approve", "--as", CENTER)
        if approved.exit_code == 0:
            break
        await asyncio.sleep(0.1)
    assert approved.exit_code == 0, approved.stderr
    for _ in range(100):
        shown = await apdw(dev, "catalog", "show", started["resource_id"], "--as", JYJ)
        if shown.exit_code == 0:
            break
        await asyncio.sleep(0.1)
    assert "犬只年检信息" in shown.stdout and "数据项：犬只编号、年检日期" in shown.stdout and "李军" in shown.stdout
    listed = await apdw(dev, "catalog", "list", "--as", JYJ)
    assert started["resource_id"] in listed.stdout
    transfer = await apdw(dev, "case", "transfer", started["case_id"], "--to", "wjj", "--reason", "x", "--as", GAJ)
    assert "县大数据管理中心" in one_error_line(transfer)
    missing = await apdw(dev, "catalog", "register", "--name", "缺要素", "--as", GAJ)
    assert "第十条" in one_error_line(missing)
    # --input: the API's body as JSON; options given override it. No 保密审查 record: refused (Art. 39).
    path = tmp_path / "entry.json"
    path.write_text(json.dumps({**registration(), "secrecy_reviewer": None}, ensure_ascii=False), encoding="utf-8")
    unreviewed = await apdw(dev, "catalog", "register", "--input", str(path), "--as", GAJ)
    assert "secrecy_reviewer" in one_error_line(unreviewed) and "第三十九条" in one_error_line(unreviewed)
    reviewed = await apdw(dev, "catalog", "register", "--input", str(path), "--secrecy-reviewer", "张芳",
                          "--name", "犬只领养信息", "--as", GAJ, "--json")
    assert reviewed.exit_code == 0, reviewed.stderr
    STARTED.append(json.loads(reviewed.stdout)["case_id"])
