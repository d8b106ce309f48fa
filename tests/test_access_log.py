"""The access log (Art. 25, 46 (六)), verdicts against the grants (Art. 22), misuse cases (Art. 22), refresh
events (Art. 19) and retention (网络安全法 第二十一条): the API in-process with signed requests, the store
directly where a test only needs records."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import col, func, select
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from activities.access import _verdicts, revoke_for_misuse
from activities.share import revoke_grant, write_grant
from activities.store import resolve_actor, session
from models.access import AccessBatch, AccessRead, DataRefresh, MisuseCase, ReadIn, ReadsBatch, Revocation
from models.audit import AuditEvent
from models.catalog import DataResource
from models.notices import Notice
from models.open_data import OpenApplication
from models.share import Grant, GrantRequest
from models.types import utcnow
from service import auth
from service.auth import signature
from service.context import Services
from settings import HookKey, Settings, get_settings
from tests.helpers import STARTED, wait_status

PLATFORM, PLATFORM_SECRET = "platform", "platform-secret-for-tests"
KEYS = {PLATFORM: HookKey(secret=PLATFORM_SECRET, departments=["dsj"], actions=["access-log"]),
        "erp": HookKey(secret="erp-secret", departments=["jyj"], actions=["access-log"]),  # a department's system
        "oa": HookKey(secret="oa-secret", departments=["dsj"], actions=["share"]),  # the center's, not for this
        "bare": HookKey(secret="bare-secret", departments=["dsj"])}  # no actions listed: opt-in refuses it


async def _client(env: WorkflowEnvironment, queue: str) -> AsyncIterator[httpx.AsyncClient]:
    from hook import create_app

    settings = get_settings().model_copy(update={"task_queue": queue, "hook_keys": KEYS})
    app = create_app(Services(settings, client=env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test", timeout=60) as c:
        yield c


@pytest.fixture
async def api(env: WorkflowEnvironment, worker: str) -> AsyncIterator[httpx.AsyncClient]:
    """With a worker: for the tests whose batches open misuse cases."""
    async for c in _client(env, worker):
        yield c


@pytest.fixture
async def plain(env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    """Without a worker (none is started up for it): for batches that open no case."""
    async for c in _client(env, "pdw-access-no-worker"):
        yield c


SENT = [0]


def signed(path: str, body: dict[str, Any], key: str = PLATFORM) -> tuple[dict[str, str], bytes]:
    """A fresh signature each time (a second post of the same batch within the second is no replay)."""
    data = json.dumps(body, ensure_ascii=False).encode()
    SENT[0] = min(int(time.time()), SENT[0] - 1) if SENT[0] else int(time.time())
    ts = str(SENT[0])
    return {"X-Pdw-Key": key, "X-Pdw-Timestamp": ts, "Content-Type": "application/json",
            "X-Pdw-Signature": signature(KEYS[key].secret, "POST", path, ts, data)}, data


async def post(api: httpx.AsyncClient, kind: str, body: dict[str, Any], key: str = PLATFORM) -> httpx.Response:
    headers, data = signed(f"/v1/access/{kind}", body, key)
    answer = await api.post(f"/v1/access/{kind}", content=data, headers=headers)
    if answer.status_code in (200, 201):  # the misuse cases it opened end with the test (conftest's worker)
        STARTED.extend(c for c in answer.json().get("misuse_cases", []) if c not in STARTED)
    return answer


TOKENS: dict[str, str] = {}


def bearer(person: str) -> dict[str, str]:
    if person not in TOKENS:
        TOKENS[person] = str(auth.issue_token(None, person, days=30, label="test", by="tests")["token"])
    return {"Authorization": f"Bearer {TOKENS[person]}"}


def fake_id(kind: str) -> str:
    """A case id in the real shape (reports show them; tests/test_texts.py takes such ids out), in a year
    whose counters no case uses."""
    return f"{kind}-1999-{uuid.uuid4().int % 10**6:06d}"


def grant(grantee: str, resource: str, source: str, items: list[str], *, days_left: int = 90) -> int:
    now = utcnow()
    return write_grant(GrantRequest(
        case_id=fake_id("share"), grantee_code=grantee, resource_id=resource, source_code=source,
        items=items, purpose="履行职责核验", scope="本部门", mode="query", desensitised=False,
        valid_from=now - timedelta(days=30), valid_until=now + timedelta(days=days_left)))


def read(dept: str | None, resource: str, items: list[str], *, ago: int = 60, **kw: Any) -> dict[str, Any]:
    return {"read_at": (utcnow() - timedelta(minutes=ago)).isoformat(), "reader_dept": dept, "resource_id": resource,
            "items": items, **kw}


def batch(*reads: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": f"b-{uuid.uuid4().hex[:12]}", "reads": list(reads)}


def count(model: Any, *where: Any) -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def misuse_of(dept: str, resource: str) -> list[MisuseCase]:
    with session() as s:
        return list(s.exec(select(MisuseCase).where(MisuseCase.grantee_code == dept,
                                                    MisuseCase.resource_id == resource)).all())


# ---- Art. 25: a batch is recorded once ------------------------------------------------------------------


async def test_art25_batch_recorded_once(plain: httpx.AsyncClient) -> None:
    gid = grant("jyj", "RES-SCJGJ-001", "scjgj", ["名称", "住所"])
    body = batch(read("jyj", "RES-SCJGJ-001", ["名称"], grant_id=gid), read("jyj", "RES-SCJGJ-001", ["住所"]))
    first = await post(plain, "reads", body)
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False and first.json()["verdicts"] == {"granted": 2}
    again = await post(plain, "reads", body)
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["verdicts"] == {"granted": 2}
    assert count(AccessRead, AccessRead.batch_id == body["batch_id"]) == 2
    with session() as s:  # the read without a grant id is matched to the grant that covers it
        assert set(s.exec(select(AccessRead.grant_id).where(AccessRead.batch_id == body["batch_id"])).all()) == {gid}
    assert count(AuditEvent, AuditEvent.case_id == "access-log", col(AuditEvent.key).contains(body["batch_id"])) == 1
    other = await post(plain, "reads", {**body, "reads": body["reads"][:1]})
    assert other.status_code == 409 and "batch_id" in other.json()["detail"] and "第二十五条" in other.json()["detail"]
    # Art. 19: refresh events by the same path, once too.
    refreshes = {"batch_id": f"r-{uuid.uuid4().hex[:12]}",
                 "refreshes": [{"resource_id": "RES-SCJGJ-001", "refreshed_at": utcnow().isoformat()}]}
    assert (await post(plain, "refreshes", refreshes)).status_code == 201
    assert (await post(plain, "refreshes", refreshes)).json()["duplicate"] is True
    assert count(DataRefresh, DataRefresh.batch_id == refreshes["batch_id"]) == 1


BAD_READS = [
    ({"resource_id": "RES-NONE-999"}, "reads.1.resource_id"),
    ({"reader_dept": "nobody"}, "reads.1.reader_dept"),
    ({"items": [" "]}, "reads.1.items"),
    ({"read_at": (utcnow() + timedelta(days=1)).isoformat()}, "reads.1.read_at"),
    ({"items": ["名\x00称"]}, "reads.1.items.0"),
    ({"read_at": "2026-11-01T10:00:00"}, "reads.1.read_at"),  # no time zone
    ({"grant_id": "x"}, "reads.1.grant_id"),
    ({"items": ["名称", "股东名单"]}, "reads.1.items"),  # not an item of the catalog entry
    ({"read_at": "0001-01-01T00:00:00+14:00"}, "reads.1.read_at"),  # no instant in UTC
    ({"read_at": (utcnow() - timedelta(days=400)).isoformat()}, "reads.1.read_at"),  # past the retention period
    ({"reader_dept": None}, "reads.1.reader_dept"),  # no department and no application
]


async def test_art25_one_bad_read_refuses_the_whole_batch_naming_it(plain: httpx.AsyncClient) -> None:
    for bad, field in BAD_READS:
        body = batch(read("jyj", "RES-SCJGJ-001", ["名称"]), {**read("jyj", "RES-SCJGJ-001", ["名称"]), **bad})
        answer = await post(plain, "reads", body)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
        assert count(AccessBatch, AccessBatch.batch_id == body["batch_id"]) == 0
        assert count(AccessRead, AccessRead.batch_id == body["batch_id"]) == 0
    one = read("jyj", "RES-SCJGJ-001", ["名称"])
    answer = await post(plain, "reads", {"batch_id": "too-big", "reads": [one] * 2001})  # BATCH_MAX fits 1 MiB
    assert answer.status_code == 400 and "2000" in answer.json()["detail"], answer.text
    unknown = await post(plain, "reads", batch(read("jyj", "RES-SCJGJ-001", ["名称", "股东名单"])))
    assert "股东名单" in unknown.json()["detail"] and "目录" in unknown.json()["detail"]


@pytest.mark.parametrize("kind", ["reads", "refreshes"])
async def test_art25_art19_only_the_centers_platform_posts(plain: httpx.AsyncClient, kind: str) -> None:
    """Reads (Art. 25) and data-refresh events (Art. 19) alike: not a person, not a department's
    system, not a center key made for other work, not an unsigned caller. Nothing is recorded."""
    body = (batch(read("jyj", "RES-SCJGJ-001", ["名称"])) if kind == "reads" else
            {"batch_id": f"r-{uuid.uuid4().hex[:12]}",
             "refreshes": [{"resource_id": "RES-SCJGJ-001", "refreshed_at": utcnow().isoformat()}]})
    person = await plain.post(f"/v1/access/{kind}", json=body, headers=bearer("dsj.zhouwei"))
    assert person.status_code == 403 and "个人令牌" in person.json()["detail"]
    department = await post(plain, kind, body, key="erp")
    assert department.status_code == 403 and "县大数据管理中心" in department.json()["detail"]
    not_allowed = await post(plain, kind, body, key="oa")
    assert not_allowed.status_code == 403
    no_actions = await post(plain, kind, body, key="bare")  # opt-in: a key must list access-log
    assert no_actions.status_code == 403 and "actions" in no_actions.json()["detail"] and "access-log" in no_actions.json()["detail"]
    nobody = await plain.post(f"/v1/access/{kind}", json=body)
    assert nobody.status_code == 403
    assert count(AccessBatch, AccessBatch.batch_id == body["batch_id"]) == 0
    assert count(DataRefresh, DataRefresh.batch_id == body["batch_id"]) == 0


# ---- Art. 22: verdicts --------------------------------------------------------------------------------


def test_art22_verdicts_outside_items_outside_period_revoked_granted() -> None:
    gid = grant("mzj", "RES-RSJ-001", "rsj", ["姓名", "参保状态"])
    old = grant("mzj", "RES-RSJ-001", "rsj", ["姓名"], days_left=-10)  # ran out ten days ago
    gone = grant("zjj", "RES-RSJ-001", "rsj", ["姓名"])
    revoke_grant(gone, resolve_actor("dsj.zhouwei"), "将共享数据对外提供")
    now, app = utcnow(), fake_id("open")
    with session() as s:
        s.add(OpenApplication(case_id=app, resource_id="RES-MZJ-001", id_type="resident",
                              applicant_label="孙*", scope="研究", purpose="统计", access_way="download",
                              status="approved", outcome="approved"))
    reads = [ReadIn.model_validate(r) for r in (
        read("mzj", "RES-RSJ-001", ["姓名"], grant_id=gid),
        read("mzj", "RES-RSJ-001", ["参保险种"], grant_id=gid),
        read("mzj", "RES-RSJ-001", ["姓名"], grant_id=old),
        read("zjj", "RES-RSJ-001", ["姓名"], grant_id=gone, ago=0),  # read after the revocation
        read("zjj", "RES-RSJ-001", ["姓名"], grant_id=gone, ago=120),  # before it: within the grant then
        {**read("zjj", "RES-RSJ-001", ["姓名"], grant_id=gone), "read_at": (now - timedelta(days=400)).isoformat()},
        read("jyj", "RES-RSJ-001", ["姓名"], grant_id=gid),  # another department's grant: not stored
        read("mzj", "RES-RSJ-001", ["参保状态"]),  # matched to the grant that covers it
        read("wjj", "RES-RSJ-001", ["姓名"]),
        read(None, "RES-MZJ-001", ["户主姓名"], application_case_id=app),  # an applicant (Art. 28)
        read(None, "RES-RSJ-001", ["姓名"], application_case_id=app),  # not that resource
        read("gaj", "RES-MZJ-001", ["户主姓名"], application_case_id=app),  # a department: its grants
        read("rsj", "RES-RSJ-001", ["姓名"], grant_id=gone, application_case_id="x"),  # the source: its own data
    )]
    with session() as s:
        resources = {r.id: r for r in s.exec(select(DataResource)).all()}
        got = _verdicts(s, reads, resources)
    assert [v for v, _ in got] == ["granted", "outside_items", "outside_period", "no_grant", "granted",
                                   "outside_period", "no_grant", "granted", "no_grant", "open_application",
                                   "no_application", "no_grant", "granted"]
    assert got[7] == ("granted", gid) and got[0] == ("granted", gid)
    assert got[6] == ("no_grant", None) and got[12] == ("granted", None)  # Art. 25: G's filter shows G's reads only


async def test_art28_applicants_restricted_open_reads_recorded_without_a_department(plain: httpx.AsyncClient) -> None:
    case = fake_id("open")
    with session() as s:
        s.add(OpenApplication(case_id=case, resource_id="RES-MZJ-001", id_type="resident", applicant_label="赵*",
                              scope="研究", purpose="统计", access_way="download", status="approved", outcome="approved"))
    body = batch(read(None, "RES-MZJ-001", ["户主姓名"], application_case_id=case),
                 read(None, "RES-WJJ-002", ["新生儿姓名"], application_case_id=case))  # not the approved resource
    answer = await post(plain, "reads", body)
    assert answer.status_code == 201, answer.text
    # Art. 22 is about departments: the read without an approved application is counted, no misuse case opens.
    assert answer.json()["verdicts"] == {"open_application": 1, "no_application": 1}
    assert answer.json()["misuse_cases"] == [] and "无已获同意的受限开放申请" in answer.json()["verdicts_zh"]
    with session() as s:
        rows = s.exec(select(AccessRead).where(AccessRead.batch_id == body["batch_id"])).all()
    assert {(r.reader_dept, r.reader_person) for r in rows} == {(None, "赵*")}
    listed = await plain.get("/v1/access/reads", params={"resource": "RES-MZJ-001"}, headers=bearer("dsj.zhouwei"))
    mine = [r for r in listed.json()["reads"] if r["batch_id"] == body["batch_id"]]
    assert mine and mine[0]["reader_dept_name"] == "受限开放申请人 赵*"
    # An application that does not exist refuses the batch; a department's read keeps no application
    # (it reads under grants: the source's own read here), so no figure is traced to an unrelated case.
    unknown = await post(plain, "reads", batch(read(None, "RES-MZJ-001", ["户主姓名"], application_case_id="open-1999-999999")))
    assert unknown.status_code == 400 and "reads.0.application_case_id" in unknown.text and "不存在" in unknown.text
    own = batch(read("mzj", "RES-MZJ-001", ["户主姓名"], application_case_id=case))
    assert (await post(plain, "reads", own)).json()["verdicts"] == {"granted": 1}
    with session() as s:
        assert s.exec(select(AccessRead.application_case_id).where(AccessRead.batch_id == own["batch_id"])).all() == [None]
    deep = await plain.get("/v1/access/reads", params={"resource": "RES-MZJ-001", "offset": 100_001},
                           headers=bearer("dsj.zhouwei"))
    assert deep.status_code == 400 and "offset" in deep.text  # Art. 25 queries stay index scans


# ---- Art. 22: misuse cases -----------------------------------------------------------------------------


async def misuse_case(env: WorkflowEnvironment, dept: str, resource: str) -> tuple[str, Any]:
    cases = [m for m in misuse_of(dept, resource) if m.closed_at is None]
    assert len(cases) == 1, cases
    STARTED.append(cases[0].case_id)
    handle = env.client.get_workflow_handle(cases[0].case_id)
    return cases[0].case_id, handle


async def test_art22_read_without_grant_opens_one_misuse_case(api: httpx.AsyncClient, env: WorkflowEnvironment) -> None:
    first, second = (batch(read("wjj", "RES-ZJJ-001", ["企业名称"])) for _ in range(2))
    answers = await asyncio.gather(post(api, "reads", first), post(api, "reads", second))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    case_id, handle = await misuse_case(env, "wjj", "RES-ZJJ-001")
    assert {a.json()["misuse_cases"][0] for a in answers} == {case_id}
    state = await wait_status(handle, "under_review")
    for _ in range(50):  # the second batch's signal may come a moment later
        state = await handle.query("state")
        if state["reads"] == 2:
            break
        await asyncio.sleep(0.1)
    assert state["reads"] == 2 and state["awaiting"] == ["dsj"] and len(state["batches"]) == 2
    notes = [e["text"] for e in state["timeline"]]
    opened = next(i for i, t in enumerate(notes) if "立案核查" in t)
    assert all(i > opened for i, t in enumerate(notes) if t.startswith("批次")), notes  # the case's note first
    assert misuse_of("wjj", "RES-ZJJ-001")[0].reads == 2
    assert count(AccessRead, AccessRead.misuse_case_id == case_id) == 2
    # The grantee and the source read the case; a department that is neither does not.
    shown = await api.get(f"/v1/cases/{case_id}", headers=bearer("wjj.maqiang"))
    assert shown.status_code == 200 and "县卫生健康局" in shown.json()["summary"], shown.json()["summary"]
    assert "建筑施工企业资质信息" in shown.json()["summary"]  # names, not codes
    assert (await api.get(f"/v1/cases/{case_id}", headers=bearer("zjj.qianjun"))).status_code == 200
    assert (await api.get(f"/v1/cases/{case_id}", headers=bearer("gaj.zhangfang"))).status_code == 403
    # Closed (here cancelled by the center's leader), the next bad read opens a new case.
    url = f"/v1/cases/{case_id}/decisions"
    assert (await api.post(url, json={"action": "cancel", "reasons": "误立"}, headers=bearer("wjj.maqiang"))).status_code == 403
    cancelled = await api.post(url, json={"action": "cancel", "reasons": "平台接口误报"}, headers=bearer("dsj.chenjianguo"))
    assert cancelled.status_code == 200, cancelled.text
    await wait_status(handle, "cancelled")
    assert misuse_of("wjj", "RES-ZJJ-001")[0].closed_at is not None
    later = await post(api, "reads", batch(read("wjj", "RES-ZJJ-001", ["企业名称"])))
    new_case, _ = await misuse_case(env, "wjj", "RES-ZJJ-001")
    assert later.json()["misuse_cases"] == [new_case] and new_case != case_id


async def test_art22_confirm_revokes_the_grant_and_only_the_center_decides(
    api: httpx.AsyncClient, env: WorkflowEnvironment
) -> None:
    # In force at the test server's time, which earlier tests have skipped ahead of the wall clock.
    ahead = (await env.get_current_time() - utcnow()).days
    gid = grant("zrzyj", "RES-WJJ-001", "wjj", ["机构名称"], days_left=ahead + 90)
    answer = await post(api, "reads", batch(read("zrzyj", "RES-WJJ-001", ["诊疗科目"], grant_id=gid)))
    assert answer.json()["verdicts"] == {"outside_items": 1}, answer.text
    case_id, handle = await misuse_case(env, "zrzyj", "RES-WJJ-001")
    await wait_status(handle, "under_review")
    url = f"/v1/cases/{case_id}/decisions"
    grantee = await api.post(url, json={"action": "dismiss", "reasons": "平台误报"}, headers=bearer("zrzyj.shenhua"))
    assert grantee.status_code == 403 and "第二十二条" in grantee.json()["detail"]
    source = await api.post(url, json={"action": "confirm", "reasons": "越权"}, headers=bearer("wjj.maqiang"))
    assert source.status_code == 403
    # Art. 4, 22: confirming revokes grants, as `pdw grant revoke` does: not the center's daily administrator.
    daily = await api.post(url, json={"action": "confirm", "reasons": "越权"}, headers=bearer("dsj.zhouwei"))
    assert daily.status_code == 403 and "分管领导" in daily.json()["detail"], daily.text
    bare = await api.post(url, json={"action": "confirm"}, headers=bearer("dsj.linxiaohong"))
    assert bare.status_code == 400 and "理由" in bare.json()["detail"]
    done = await api.post(url, json={"action": "confirm", "reasons": "读取授权以外的诊疗科目"},
                          headers=bearer("dsj.linxiaohong"))
    assert done.status_code == 200, done.text
    state = await wait_status(handle, "confirmed")
    assert state["revoked_grants"] == [gid]
    with session() as s:
        g = s.get(Grant, gid)
        assert g is not None and g.revoked_at is not None and g.revoked_by == "dsj.linxiaohong" and case_id in (g.revoke_reason or "")
        row = s.get(MisuseCase, case_id)
        assert row is not None and row.outcome == "confirmed" and row.closed_at is not None
    shown = (await api.get(f"/v1/cases/{case_id}", headers=bearer("wjj.maqiang"))).json()
    told = {n["dept_code"] for n in shown["notices"] if n["step"] == "misuse.confirmed"}
    assert told == {"zrzyj", "wjj"}, shown["notices"]
    assert (await handle.result())["status"] == "confirmed"


def test_art22_no_cancel_once_the_center_has_found() -> None:
    from workflows.misuse import MisuseReviewWorkflow

    wf = MisuseReviewWorkflow.__new__(MisuseReviewWorkflow)
    wf.finding = None
    assert wf.end_blocked_zh() is None
    wf.finding = object()  # type: ignore[assignment]
    assert "核查结论" in (wf.end_blocked_zh() or "")


def test_art22_a_decided_case_is_not_joined() -> None:
    from activities.access import _misuse_case_for

    decided = fake_id("misuse")
    with session() as s:
        resource = s.get(DataResource, "RES-GAJ-002")
        assert resource is not None
        s.add(MisuseCase(case_id=decided, grantee_code="ybj", resource_id=resource.id, source_code="gaj",
                         status="decided", reads=1))
        s.flush()
        case_id, new, total = _misuse_case_for(s, "ybj", resource, 2, utcnow())
        again = _misuse_case_for(s, "ybj", resource, 1, utcnow())
        s.rollback()  # records only: nothing stays
    assert new and case_id != decided and total == 2 and again == (case_id, False, 3)


async def test_art22_a_case_closed_meanwhile_is_not_posted_again(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activities.access import Recorded, Touched
    from models.access import MisuseInput
    from service import access

    case_id = fake_id("misuse")
    with session() as s:
        s.add(MisuseCase(case_id=case_id, grantee_code="ybj", resource_id="RES-GAJ-002", source_code="gaj",
                         status="cancelled", outcome="cancelled", closed_at=utcnow(), reads=1))
    touched = Touched(MisuseInput(case_id=case_id, grantee_code="ybj", resource_id="RES-GAJ-002", source_code="gaj"),
                      False, 1, 2, {"no_grant": 1})
    monkeypatch.setattr(access, "record_reads", lambda *_: Recorded({"verdicts": {"no_grant": 1}}, "dsj", [touched]))
    services = Services(get_settings(), client=env.client)
    answer = await access.post_reads(services, PLATFORM, ReadsBatch.model_validate(batch(read("ybj", "RES-GAJ-002", ["号牌号码"]))))
    assert answer["closed_cases"] == [case_id] and "已办结" in answer["message"] and "请稍后" not in answer["message"]


# ---- Art. 25: who may read the log ----------------------------------------------------------------------


async def test_art25_who_may_list_the_reads(plain: httpx.AsyncClient) -> None:
    gid = grant("gaj", "RES-JYJ-001", "jyj", ["学校名称"])
    await post(plain, "reads", batch(read("gaj", "RES-JYJ-001", ["学校名称"], grant_id=gid, reader_person="gaj.lijun")))

    async def listed(person: str, **query: Any) -> httpx.Response:
        return await plain.get("/v1/access/reads", params=query, headers=bearer(person))

    source = await listed("jyj.panxiaoyu", resource="RES-JYJ-001")
    assert source.status_code == 200 and source.json()["reads"][0]["reader_dept_name"] == "县公安局"
    assert source.json()["reads"][0]["verdict_zh"] == "在授权范围内"
    assert (await listed("jyj.panxiaoyu", grant=gid)).status_code == 200
    assert (await listed("gaj.zhangfang", dept="gaj")).status_code == 200
    assert (await listed("dsj.zhouwei", dept="gaj")).status_code == 200
    for person, query in (("scjgj.jinlei", {"resource": "RES-JYJ-001"}), ("scjgj.jinlei", {"dept": "gaj"}),
                          ("scjgj.jinlei", {"grant": gid}), ("gaj.zhangfang", {"resource": "RES-JYJ-001"})):
        refused = await listed(person, **query)
        assert refused.status_code == 403 and "第二十五条" in refused.json()["detail"], (person, query)
    two = await listed("dsj.zhouwei", dept="gaj", resource="RES-JYJ-001")
    assert two.status_code == 400


def test_art25_pdw_access_list_takes_exactly_one_filter() -> None:
    import starter_cli

    result = CliRunner().invoke(starter_cli.app, ["access", "list", "--dept", "gaj", "--resource", "RES-JYJ-001"],
                                env={"PDW_API_URL": "http://127.0.0.1:9", "PDW_TOKEN": "x" * 20})
    assert result.exit_code == 1 and "之一" in result.stderr


# ---- retention (网络安全法 第二十一条) ---------------------------------------------------------------------


def test_art25_retention_below_six_months_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="网络安全法"):
        Settings(access_log_retention_days=182)
    assert Settings(access_log_retention_days=183).access_log_retention_days == 183
    monkeypatch.setenv("PDW_ACCESS_LOG_RETENTION_DAYS", "90")
    get_settings.cache_clear()
    try:  # at start: one Chinese line naming the variable and the law, not a traceback
        with pytest.raises(SystemExit, match="^错误：PDW_ACCESS_LOG_RETENTION_DAYS.*不能少于 183 天.*第二十一条"):
            get_settings()
    finally:
        monkeypatch.delenv("PDW_ACCESS_LOG_RETENTION_DAYS")
        get_settings.cache_clear()


async def test_art25_art41_retention_keeps_open_cases_reads_unpublished_years_and_each_latest_refresh(
    env: WorkflowEnvironment, worker: str
) -> None:
    from activities.access import purge_access_log
    from activities.calendar import SHANGHAI
    from models.evaluation import EvaluationReport

    now = await env.get_current_time()  # the workflow's today: earlier tests skipped the server's clock ahead
    old = utcnow() - timedelta(days=400)  # past retention; the tests' own reads are all of this year
    year = old.astimezone(SHANGHAI).year
    tag, case_id = uuid.uuid4().hex[:8], fake_id("misuse")
    with session() as s:
        prior = s.get(EvaluationReport, year)  # restored at the end, if another test made one
        was = prior.status if prior is not None else None
        if prior is not None:
            prior.status = "draft"
        s.add(MisuseCase(case_id=case_id, grantee_code="zjj", resource_id="RES-GAJ-002", source_code="gaj",
                         status="decided", reads=1))
        s.add_all([AccessRead(batch_id=tag, read_at=old, reader_dept="zjj", resource_id="RES-GAJ-002", items=["号牌号码"],
                              verdict="no_grant", misuse_case_id=case_id),
                   AccessRead(batch_id=tag, read_at=old, reader_dept="zjj", resource_id="RES-GAJ-002", items=["号牌号码"],
                              verdict="granted"),
                   AccessRead(batch_id=tag, read_at=now, reader_dept="zjj", resource_id="RES-GAJ-002",
                              items=["号牌号码"], verdict="granted"),
                   DataRefresh(batch_id=tag, resource_id="RES-GAJ-002", refreshed_at=old - timedelta(days=1)),
                   DataRefresh(batch_id=tag, resource_id="RES-GAJ-002", refreshed_at=old)])

    def left() -> list[str]:
        with session() as s:
            return sorted(s.exec(select(AccessRead.verdict).where(AccessRead.batch_id == tag)).all())

    # What the daily pdw-access-log-retention Schedule starts (PDW_ACCESS_LOG_RETENTION_DAYS, default 365).
    await env.client.execute_workflow("AccessLogRetention", id=f"access-retention-{tag}", task_queue=worker)
    assert left() == ["granted", "granted", "no_grant"]  # Art. 41: that year's report is not published yet
    try:
        with session() as s:
            report = s.get(EvaluationReport, year) or EvaluationReport(year=year)
            report.status = "published"
            s.add(report)
        done = purge_access_log(now)
        assert done.kept_for_open_cases >= 1 and done.reads >= 1
        assert left() == ["granted", "no_grant"]  # the old granted read went; the open case's read stays
    finally:
        with session() as s:
            report = s.get(EvaluationReport, year)
            if was is None:
                s.delete(report)
            else:
                report.status = was  # type: ignore[union-attr]
            row = s.get(MisuseCase, case_id)
            assert row is not None
            row.closed_at, row.status = utcnow(), "dismissed"
    with session() as s:
        refreshes = s.exec(select(DataRefresh.refreshed_at).where(DataRefresh.batch_id == tag)).all()
        latest = s.exec(select(func.max(DataRefresh.refreshed_at)).where(DataRefresh.resource_id == "RES-GAJ-002")).one()
    assert len(refreshes) == (1 if latest == old else 0)  # the latest refresh of a resource stays (Art. 19)


def test_art22_a_retried_revocation_counts_and_tells_what_the_first_attempt_revoked() -> None:
    """A crash after the first grant was revoked: the retry revokes the rest, and still names (and
    tells of) the one revoked before it — once, as the outbox is keyed."""
    first, second = grant("zjj", "RES-JYJ-001", "jyj", ["学校名称"]), grant("zjj", "RES-JYJ-001", "jyj", ["地址"])
    case_id, leader = fake_id("misuse"), resolve_actor("dsj.linxiaohong")
    revoke_grant(first, leader, f"滥用核查案件 {case_id} 认定越权使用：越权", at=utcnow())  # the first attempt's work
    r = Revocation(case_id=case_id, grantee_code="zjj", resource_id="RES-JYJ-001", actor=leader, reasons="越权", at=utcnow())
    def told() -> int:  # the outbox rows of both revocations (the log channel sends them on writing)
        return count(Notice, col(Notice.step).in_([f"share.grant_revoked.{first}", f"share.grant_revoked.{second}"]))

    revoked, _ = revoke_for_misuse(r)
    assert set(revoked) == {first, second} and told() >= 2  # the grantee and the source, for each grant
    rows = told()
    again, _ = revoke_for_misuse(r)
    assert again == revoked and told() == rows  # nothing revoked or written twice
    with session() as s:
        assert all(s.get(Grant, g).revoked_at is not None for g in (first, second))  # type: ignore[union-attr]


async def test_art25_a_batch_posted_again_after_temporal_was_down_tells_the_open_case_its_reads(
    api: httpx.AsyncClient, env: WorkflowEnvironment
) -> None:
    from hook import create_app
    from tests.pg import free_port

    first = batch(read("mzj", "RES-ZJJ-001", ["企业名称"]))
    assert (await post(api, "reads", first)).status_code == 201
    case_id, handle = await misuse_case(env, "mzj", "RES-ZJJ-001")
    await wait_status(handle, "under_review")
    # Temporal down: the reads stand, the open case cannot hear of them; the platform is told to post again.
    down = get_settings().model_copy(update={"hook_keys": KEYS, "temporal_address": f"127.0.0.1:{free_port()}"})
    second = batch(read("mzj", "RES-ZJJ-001", ["资质类别"]), read("mzj", "RES-ZJJ-001", ["等级"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Services(down))),
                                 base_url="http://pdw.test", timeout=60) as unreachable:
        answer = await post(unreachable, "reads", second)
    assert answer.status_code == 201 and answer.json()["not_started"] == [case_id], answer.text
    again = await post(api, "reads", second)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    for _ in range(50):  # the case now counts the batch's two reads, once
        state = await handle.query("state")
        if state["reads"] == 3:
            break
        await asyncio.sleep(0.1)
    assert state["reads"] == 3 and second["batch_id"] in state["batches"]
    assert (await post(api, "reads", second)).status_code == 200
    await asyncio.sleep(0.3)
    assert (await handle.query("state"))["reads"] == 3  # a third post changes nothing
