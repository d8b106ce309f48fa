"""Providing uncollected data (Art. 20) and grants that expire and are renewed (Art. 22), with the
real activities against PostgreSQL and the time-skipping Temporal server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from activities.calendar import SHANGHAI, load_calendar
from activities.grants import expiry_key, write_expiry_notices
from activities.share import record_provision, revoke_grant, write_grant
from activities.store import resolve_actor, session
from models.calendar import Deadline
from models.cases import DeadlineMiss
from models.catalog import DataResource
from models.notices import Notice
from models.share import GrantRequest, Provision, ShareRequest
from models.types import utcnow
from service import auth, records
from service.context import Services
from settings import HookKey, get_settings
from tests.helpers import (
    STARTED,
    decision,
    decisions_of,
    fresh_resource,
    grant_of,
    notices_of,
    start_share,
    update_events,
    wait_status,
)

# The pdw command against the API over HTTP, as tests/test_commands.py runs it.
from tests.test_commands import apdw, api_url, dev, home, one_error_line  # noqa: F401

REFUSE = {"reasons": "尚无归集条件", "basis": "《浙江省公共数据条例》第二十条"}


def _collected(rid: str) -> bool:
    with session() as s:
        resource = s.get(DataResource, rid)
        assert resource is not None
        return resource.collected


async def _rejected(handle: WorkflowHandle, d: object, message: str) -> None:
    """The decision is refused before anything is written: nothing in the history, no decision."""
    before = update_events(await handle.fetch_history())
    decided = len((await handle.query("state"))["decisions"])
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", d)
    assert message in str(err.value.cause)
    assert update_events(await handle.fetch_history()) == before
    assert len((await handle.query("state"))["decisions"]) == decided


async def _agreed(env, worker) -> tuple[WorkflowHandle, str]:
    rid = fresh_resource("zjj")
    handle = await start_share(env, worker, resource=rid, items=["企业名称"], by="scjgj.jinlei")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"source": "share.source_reply"}
    await handle.execute_update("decide", decision("approve", "zjj.qianjun"))
    return handle, rid


# ---- Art. 20: agreeing to provide data not yet collected -------------------------------------------


async def test_art20_agreeing_to_uncollected_data_starts_the_provision_step_then_collects_and_grants(
    env, worker
) -> None:
    handle, rid = await _agreed(env, worker)
    state = await wait_status(handle, "providing")
    # No grant on agreement: the source owes the data under the ladder, with a local deadline.
    assert grant_of(handle.id) is None and not _collected(rid)
    assert state["awaiting"] == ["zjj"] and state["status_zh"] == "数源部门已同意，待提供未归集的数据"
    deadline = Deadline.model_validate(state["deadlines"]["share.provision"])
    assert (deadline.article, deadline.statutory, deadline.working_days) == ("第二十条", False, 10)
    agreed = [n for n in notices_of(handle.id) if n.step == "share.agreed"]
    day = deadline.due_date
    assert [n.person_id for n in agreed] == ["scjgj.jinlei"]
    assert "同意提供" in agreed[0].body and f"{day.year}年{day.month}月{day.day}日24时" in agreed[0].body
    todo = [n for n in notices_of(handle.id) if n.step == "share.provision" and n.level == 0]
    assert [n.person_id for n in todo] == ["zjj.qianjun"]  # the source's 待办

    await handle.execute_update("decide", decision("provide", "zjj.qianjun", data={"note": "已接入共享系统接口"}))
    result = await handle.result()
    assert result["status"] == "granted" and _collected(rid)
    grant = grant_of(handle.id)
    assert grant is not None and grant.id == result["grant_id"] and grant.resource_id == rid
    state = await handle.query("state")
    assert state["provided_note"] == "已接入共享系统接口" and state["collected"]
    assert "提供情况：已接入共享系统接口（第二十条）" in state["facts"]
    assert any("已归集至共享系统" in t["text"] for t in state["timeline"])
    assert [d.action for d in decisions_of(handle.id)] == ["approve", "provide"]
    assert decisions_of(handle.id)[-1].step == "share.provision"
    with session() as s:
        row = s.get(ShareRequest, handle.id)
        assert row is not None and row.provided_at is not None and row.outcome == "granted"
    granted = [n for n in notices_of(handle.id) if n.step == "share.granted"]
    assert [n.person_id for n in granted] == ["scjgj.jinlei"]


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("scjgj.jinlei", "无权记录提供：未归集的数据由数源部门县住房和城乡建设局提供（第二十条）"),  # the requester
        ("gaj.zhangfang", "无权记录提供"),  # another department
        ("dsj.zhouwei", "无权记录提供"),  # the center, not the source here
    ],
)
async def test_art20_only_the_source_records_providing(env, worker, person, message) -> None:
    handle, rid = await _agreed(env, worker)
    await wait_status(handle, "providing")
    await _rejected(handle, decision("provide", person), message)
    assert not _collected(rid) and grant_of(handle.id) is None


async def test_art20_no_providing_before_agreement_and_no_second_approval_or_provision(env, worker) -> None:
    rid = fresh_resource("zjj")
    handle = await start_share(env, worker, resource=rid, items=["企业名称"], by="scjgj.jinlei")
    await wait_status(handle, "under_review")
    await _rejected(handle, decision("provide", "zjj.qianjun"), "同意提供未归集的数据后，才能记录提供（第二十条）")
    await handle.execute_update("decide", decision("approve", "zjj.qianjun"))
    await wait_status(handle, "providing")
    await _rejected(handle, decision("approve", "zjj.qianjun"), "现在不能审批")
    await _rejected(handle, decision("refuse", "zjj.qianjun", **REFUSE), "现在不能审批")
    await handle.execute_update("decide", decision("provide", "zjj.qianjun", reasons="已归集"))
    assert (await handle.result())["status"] == "granted"
    assert [d.action for d in decisions_of(handle.id)] == ["approve", "provide"]


async def test_art20_a_missed_provision_deadline_climbs_the_ladder(env, worker) -> None:
    handle, rid = await _agreed(env, worker)
    state = await wait_status(handle, "providing")
    deadline = Deadline.model_validate(state["deadlines"]["share.provision"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    rungs = sorted((n.level, n.person_id) for n in notices_of(handle.id) if n.step == "share.provision")
    assert rungs == [(0, "zjj.qianjun"), (1, "zjj.qianjun"), (2, "zjj.lumei"), (3, "dsj.chenjianguo"),
                     (3, "zjj.pengcheng")]
    state = await handle.query("state")
    assert state["escalation"] == 3 and state["status"] == "providing"
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.step, m.dept_code, m.statutory) for m in misses] == [("share.provision", "zjj", False)]
    await handle.execute_update("decide", decision("provide", "zjj.qianjun"))
    assert (await handle.result())["status"] == "granted" and _collected(rid)


async def test_art20_a_dispute_decided_share_for_uncollected_data_goes_through_provision(env, worker) -> None:
    """Art. 20 ¶2: the county decides to share data not yet collected: the source still provides it
    under the provision step before any grant."""
    rid = fresh_resource("zjj")
    handle = await start_share(env, worker, resource=rid, items=["企业名称"], by="scjgj.jinlei")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("refuse", "zjj.qianjun", **REFUSE))
    await wait_status(handle, "refused")
    await handle.execute_update("decide", decision("dispute", "scjgj.jinlei", reasons="企业开办审批为法定职责"))
    await wait_status(handle, "in_dispute")
    dispute = env.client.get_workflow_handle(f"dispute-{handle.id}")
    await wait_status(dispute, "coordinating")
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="双方未能一致"))
    await wait_status(dispute, "county_decision")
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="予以共享",
                                                    data={"outcome": "share"}))
    state = await wait_status(handle, "providing")
    assert state["awaiting"] == ["zjj"] and grant_of(handle.id) is None
    await _rejected(handle, decision("provide", "scjgj.jinlei"), "无权记录提供")
    await handle.execute_update("decide", decision("provide", "zjj.qianjun"))
    assert (await handle.result())["status"] == "granted" and _collected(rid)


async def test_art20_collected_data_is_granted_at_once_without_a_provision_step(env, worker) -> None:
    rid = fresh_resource("zjj", collected=True)
    handle = await start_share(env, worker, resource=rid, items=["企业名称"], by="scjgj.jinlei")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    assert (await handle.result())["status"] == "granted"
    assert "share.provision" not in (await handle.query("state"))["deadlines"]


def test_art20_marking_provided_data_collected_is_idempotent() -> None:
    """A retried activity (or a second case over the same resource) changes nothing twice."""
    rid, case_id = fresh_resource("zjj"), f"share-prov-{uuid.uuid4().hex[:8]}"
    with session() as s:
        s.add(ShareRequest(case_id=case_id, resource_id=rid, requester_code="scjgj", source_code="zjj",
                           items=["企业名称"], purpose="核验", scope="窗口", mode="query", months=6,
                           share_attribute="unconditional", collected=False, status="providing"))
    at = utcnow()
    for _ in range(2):
        record_provision(Provision(case_id=case_id, resource_id=rid, provided_at=at, person_id="zjj.qianjun"))
    assert _collected(rid)
    with session() as s:
        row = s.get(ShareRequest, case_id)
        assert row is not None and row.provided_at == at


# ---- Art. 22: grants expire; the grantee hears before, once ------------------------------------------


def _grant(resource: str, *, until: datetime, grantee: str = "jyj", source: str = "zjj", items: list[str] | None = None,
           revoked: bool = False) -> int:
    case_id = f"share-grant-{uuid.uuid4().hex[:8]}"
    gid = write_grant(GrantRequest(
        case_id=case_id, grantee_code=grantee, resource_id=resource, source_code=source, items=items or ["企业名称"],
        purpose="校车安全管理", scope="本局安全科", mode="query", desensitised=False,
        valid_from=until - timedelta(days=180), valid_until=until))
    if revoked:
        revoke_grant(gid, resolve_actor("dsj.zhouwei"), "将共享数据对外提供")
    return gid


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), SHANGHAI)


def _expiry_notices(gid: int) -> list[Notice]:
    with session() as s:
        return list(s.exec(select(Notice).where(Notice.step == expiry_key(gid))).all())


def test_art22_the_grantee_hears_n_working_days_before_expiry_once_with_how_to_renew() -> None:
    cal = load_calendar()
    today = date(2027, 3, 1)
    assert cal.is_working_day(today)
    at = datetime.combine(today, time(9), SHANGHAI)
    n = get_settings().grant_expiry_notice_working_days
    rid = fresh_resource("zjj", collected=True)
    due = _grant(rid, until=_noon(cal.nth_working_day_after(today, n)))  # n working days left: told
    later = _grant(rid, until=_noon(cal.nth_working_day_after(today, n + 1)))  # n + 1: not yet
    revoked = _grant(rid, until=_noon(cal.nth_working_day_after(today, 2)), revoked=True)
    expired = _grant(rid, until=at - timedelta(days=1))
    write_expiry_notices(at)
    told = _expiry_notices(due)
    assert [(n.dept_code, n.person_id, n.role) for n in told] == [("jyj", "jyj.panxiaoyu", "daily_admin")]
    assert f"pdw grant renew {due}" in told[0].body and "第二十二条" in told[0].body
    # The expiry itself is a local rule (Art. 22 is about use only for the department's duties).
    assert "到期后不得继续使用该共享数据（本地规定" in told[0].body
    assert "将于" in told[0].subject and f"还有 {n} 个工作日" in told[0].body
    assert _expiry_notices(later) == [] and _expiry_notices(revoked) == [] and _expiry_notices(expired) == []
    # Once per grant: the next run (or a retry) writes nothing for it again.
    _, again = write_expiry_notices(at)
    assert expiry_key(due) not in [key for _, key in again]
    assert len(_expiry_notices(due)) == 1
    # The next working day, the other grant's turn comes.
    write_expiry_notices(at + timedelta(days=(cal.nth_working_day_after(today, 1) - today).days))
    assert len(_expiry_notices(later)) == 1 and len(_expiry_notices(due)) == 1


def test_art22_no_expiry_notice_is_sent_on_a_day_off() -> None:
    cal = load_calendar()
    day = date(2027, 3, 6)
    assert not cal.is_working_day(day)  # a Saturday
    rid = fresh_resource("zjj", collected=True)
    gid = _grant(rid, until=_noon(cal.nth_working_day_after(day, 1)))
    assert write_expiry_notices(datetime.combine(day, time(9), SHANGHAI)) == (0, [])
    assert _expiry_notices(gid) == []


async def test_art22_the_daily_grant_expiry_workflow_tells_the_grantee(env, worker) -> None:
    now = await env.get_current_time()
    cal = load_calendar()
    today = now.astimezone(SHANGHAI).date()
    gid = _grant(fresh_resource("zjj", collected=True), until=_noon(cal.nth_working_day_after(today, 3)))
    await env.client.execute_workflow("GrantExpiry", id=f"grant-expiry-test-{uuid.uuid4().hex[:6]}", task_queue=worker)
    assert len(_expiry_notices(gid)) == (1 if cal.is_working_day(today) else 0)


def test_art22_grants_read_with_their_status() -> None:
    from service.auth import Principal

    rid = fresh_resource("zjj", collected=True)
    active = _grant(rid, until=utcnow() + timedelta(days=30))
    expired = _grant(rid, until=utcnow() - timedelta(days=1))
    revoked = _grant(rid, until=utcnow() + timedelta(days=30), revoked=True)
    center = Principal(actor=resolve_actor("dsj.zhouwei"))
    shown = {g["id"]: g["status_zh"] for g in records.grants(center, None, rid, True)}
    assert shown == {active: "有效", expired: "已过期", revoked: "已撤销"}
    assert [g["id"] for g in records.grants(center, None, rid, False)] == [active]  # by default only in force


# ---- Art. 22: renewal, a new share request prefilled from the grant ---------------------------------


@pytest.fixture
async def api(env, worker) -> AsyncIterator[httpx.AsyncClient]:
    from hook import create_app

    app = create_app(Services(get_settings().model_copy(update={"task_queue": worker}), client=env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test", timeout=60) as c:
        yield c


TOKENS: dict[str, str] = {}


def _as(person: str) -> dict[str, str]:
    if person not in TOKENS:
        TOKENS[person] = str(auth.issue_token(None, person, days=30, label="test", by="tests")["token"])
    return {"Authorization": f"Bearer {TOKENS[person]}"}


def _share_requests() -> int:
    with session() as s:
        return len(s.exec(select(ShareRequest.case_id)).all())


async def _renewed(api: httpx.AsyncClient, gid: int, body: dict, person: str = "jyj.panxiaoyu",
                   **headers: str) -> httpx.Response:
    answer = await api.post(f"/v1/grants/{gid}/renew", json=body, headers={**_as(person), **headers})
    if answer.status_code in (200, 201):
        STARTED.append(answer.json()["case_id"])
    return answer


async def test_art22_the_grantee_renews_a_grant_as_a_new_request_prefilled_from_it(env, api) -> None:
    rid = fresh_resource("zjj", collected=True)
    gid = _grant(rid, until=utcnow() + timedelta(days=20), items=["企业名称", "资质类别"])
    answer = await _renewed(api, gid, {"months": 6})
    assert answer.status_code == 201, answer.text
    case_id = answer.json()["case_id"]
    assert case_id.startswith("share-") and answer.json()["renews_grant_id"] == gid
    state = await wait_status(env.client.get_workflow_handle(case_id), "under_review")
    assert (state["resource_id"], state["items"], state["purpose"], state["scope"], state["mode"], state["months"]) == (
        rid, ["企业名称", "资质类别"], "校车安全管理", "本局安全科", "query", 6)
    assert state["renews_grant_id"] == gid and state["requester_code"] == "jyj"
    assert any(f"续用共享授权 {gid}" in f and "第二十二条" in f for f in state["facts"])
    assert f"续期共享授权 {gid}" in state["timeline"][0]["text"]
    with session() as s:
        row = s.get(ShareRequest, case_id)
        assert row is not None and row.renews_grant_id == gid


async def test_art22_an_expired_grant_may_be_renewed_with_another_purpose(env, api) -> None:
    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() - timedelta(days=3))
    answer = await _renewed(api, gid, {"purpose": "校车驾驶员资质核验"})
    assert answer.status_code == 201, answer.text
    state = await wait_status(env.client.get_workflow_handle(answer.json()["case_id"]), "under_review")
    assert state["purpose"] == "校车驾驶员资质核验" and state["renews_grant_id"] == gid
    assert 5 <= state["months"] <= 6  # the months the grant ran: it has no request of its own here


@pytest.mark.parametrize("person", ["gaj.zhangfang", "zjj.qianjun", "dsj.zhouwei"])
async def test_art22_art13_only_the_grantee_department_may_renew(api, person) -> None:
    """Another department, the source and the center all get 403: the grant serves the grantee's
    own duties (Art. 22) and the using department states its need (Art. 13)."""
    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() + timedelta(days=20))
    before = _share_requests()
    answer = await _renewed(api, gid, {}, person=person)
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert "无权续期" in detail and "第二十二条" in detail and "第十三条" in detail and "县教育局" in detail
    assert _share_requests() == before


async def test_art22_a_key_of_another_department_cannot_renew_in_the_grantee_s_name(env, worker) -> None:
    """A system's key vouches only for its own department's people: a key bound to 县公安局 naming
    县教育局's clerk is refused, and no request is started."""
    from hook import create_app
    from tests.test_api import signed

    keys = {"erp": HookKey(secret="erp-secret-for-tests", departments=["gaj"])}
    settings = get_settings().model_copy(update={"task_queue": worker, "hook_keys": keys})
    app = create_app(Services(settings, client=env.client))
    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() + timedelta(days=20))
    before = _share_requests()
    path = f"/v1/grants/{gid}/renew"
    headers, data = signed("POST", path, {"as": "jyj.panxiaoyu"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test", timeout=60) as c:
        answer = await c.post(path, content=data, headers=headers)
    assert answer.status_code == 403 and "erp" in answer.json()["detail"], answer.text
    assert _share_requests() == before


async def test_art22_art20_a_grant_is_not_renewed_twice_while_its_renewal_is_running(env, api) -> None:
    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() + timedelta(days=20))
    first = await _renewed(api, gid, {"months": 6}, **{"Idempotency-Key": f"renew-{gid}"})
    assert first.status_code == 201, first.text
    running = first.json()["case_id"]

    def renewals() -> list[str]:
        with session() as s:
            return list(s.exec(select(ShareRequest.case_id).where(ShareRequest.renews_grant_id == gid)).all())

    second = await _renewed(api, gid, {"months": 3})
    assert second.status_code == 409, second.text
    detail = second.json()["detail"]
    assert f"共享授权 {gid} 的续期申请（案件 {running}）正在办理" in detail and renewals() == [running]
    # A retry of the first under its Idempotency-Key is that case again, not a second renewal.
    again = await _renewed(api, gid, {"months": 6}, **{"Idempotency-Key": f"renew-{gid}"})
    assert again.status_code == 200 and again.json()["case_id"] == running and renewals() == [running]


async def test_art22_a_renewal_that_could_not_start_leaves_the_grant_renewable(env, api) -> None:
    """Temporal unreachable: the renewal's record is released, not left blocking every later renewal."""
    from models.requests import GrantRenewRequest
    from service.errors import Kind, ServiceError
    from service.grants import renew
    from tests.pg import free_port

    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() + timedelta(days=20))
    down = Services(get_settings().model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}))
    with pytest.raises(ServiceError) as refused:
        await renew(down, resolve_actor("jyj.panxiaoyu"), gid, GrantRenewRequest(months=6))
    assert refused.value.kind == Kind.unavailable and "Temporal" in refused.value.message
    with session() as s:
        assert not s.exec(select(ShareRequest.case_id).where(ShareRequest.renews_grant_id == gid)).all()
    again = await _renewed(api, gid, {"months": 6})
    assert again.status_code == 201, again.text


async def test_art22_a_revoked_grant_cannot_be_renewed(api) -> None:
    gid = _grant(fresh_resource("zjj", collected=True), until=utcnow() + timedelta(days=20), revoked=True)
    before = _share_requests()
    answer = await _renewed(api, gid, {})
    assert answer.status_code == 409, answer.text
    assert "不能续期" in answer.json()["detail"] and "滥用或违规使用" in answer.json()["detail"]
    assert "第二十二条" in answer.json()["detail"] and _share_requests() == before


async def test_art20_art22_renewal_is_checked_against_the_catalog_as_it_stands_now(api) -> None:
    rid = fresh_resource("zjj", collected=True)
    gid = _grant(rid, until=utcnow() + timedelta(days=20), items=["企业名称", "资质类别"])
    with session() as s:  # an approved catalog update removed an item since the grant (Art. 11)
        resource = s.get(DataResource, rid)
        assert resource is not None
        resource.items = ["资质类别", "等级"]
        s.add(resource)
    before = _share_requests()
    answer = await _renewed(api, gid, {})
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert "“企业名称”已不在数据资源" in detail and "现行目录" in detail and "pdw share request" in detail
    assert _share_requests() == before
    # A mode no longer offered is refused by the share request's own checks (Art. 16).
    with session() as s:
        resource = s.get(DataResource, rid)
        assert resource is not None
        resource.items, resource.share_modes = ["企业名称", "资质类别"], ["verification"]
        s.add(resource)
    answer = await _renewed(api, gid, {})
    assert answer.status_code == 400 and "不提供查询方式" in answer.json()["detail"]


async def test_art22_renewal_is_idempotent_and_a_key_names_one_grant(api) -> None:
    rid = fresh_resource("zjj", collected=True)
    first, second = (_grant(rid, until=utcnow() + timedelta(days=20)) for _ in range(2))
    key = f"renew-{uuid.uuid4().hex[:8]}"
    one = await _renewed(api, first, {}, **{"Idempotency-Key": key})
    again = await _renewed(api, first, {}, **{"Idempotency-Key": key})
    assert (one.status_code, again.status_code) == (201, 200)
    assert again.json()["case_id"] == one.json()["case_id"]
    other = await _renewed(api, second, {}, **{"Idempotency-Key": key})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


async def test_art22_renewing_an_unknown_grant_is_404(api) -> None:
    answer = await _renewed(api, 999999, {})
    assert answer.status_code == 404 and "共享授权“999999”不存在" in answer.json()["detail"]


async def test_art22_pdw_grant_list_shows_status_and_pdw_grant_renew_starts_a_case(dev) -> None:  # noqa: F811
    rid = fresh_resource("zjj", collected=True)
    expired = _grant(rid, until=utcnow() - timedelta(days=2))
    revoked = _grant(rid, until=utcnow() + timedelta(days=9), revoked=True)
    listed = await apdw(dev, "grant", "list", "--resource", rid, "--all", "--as", "jyj.panxiaoyu")
    assert listed.exit_code == 0, listed.stderr
    # One block a grant, headed "授权 N（状态）" (commands/share.py).
    lines = {int(block.split()[1].split("（")[0]): block for block in listed.stdout.split("\n\n")
             if block.startswith("授权 ")}
    assert "已过期" in lines[expired] and "已撤销" in lines[revoked]
    in_force = await apdw(dev, "grant", "list", "--resource", rid, "--as", "jyj.panxiaoyu")
    assert in_force.stdout.strip() == "（无有效的共享授权）"
    renewed = await apdw(dev, "grant", "renew", str(expired), "--months", "3", "--as", "jyj.panxiaoyu")
    assert renewed.exit_code == 0, renewed.stderr
    case_id = renewed.stdout.splitlines()[0]
    STARTED.append(case_id)
    assert case_id.startswith("share-") and f"已申请续期共享授权 {expired}" in renewed.stdout
    assert "第二十二条" in one_error_line(await apdw(dev, "grant", "renew", str(revoked), "--as", "jyj.panxiaoyu"))
    assert "无权续期" in one_error_line(await apdw(dev, "grant", "renew", str(expired), "--as", "gaj.zhangfang"))
