"""The case projection (issue 14): each case's rows follow it, a late snapshot never rolls it back,
a closed case stays readable after Temporal forgets it, the parties' scope holds, and a failing
write never stops the case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlmodel import col, select

from activities.projection import digest_lists, write_snapshot
from activities.store import engine, session
from models.projection import CaseParty, CaseSnapshot, CaseStep, CaseView, StepSnapshot
from service.lists import _inbox, _overdue
from tests.helpers import decision, start_share, wait_status
from tests.test_api import api, bearer, tokens  # noqa: F401 - api, tokens: the fixtures

JOINT = {"resource": "RES-GAJ-002", "items": ["号牌号码"], "by": "jyj.panxiaoyu"}  # the center and the source


def rows(case_id: str) -> tuple[CaseView | None, list[CaseStep]]:
    with session() as s:
        view = s.get(CaseView, case_id)
        steps = list(s.exec(select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.due_at))).all())
    return view, steps


async def until(case_id: str, check: Callable[[CaseView, list[CaseStep]], bool], what: str,
                timeout: float = 20) -> tuple[CaseView, list[CaseStep]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        view, steps = await asyncio.to_thread(rows, case_id)
        if view is not None and check(view, steps):
            return view, steps
        if loop.time() > end:
            raise AssertionError(f"projection never showed {what}: {view and view.status} {[s.step for s in steps]}")
        await asyncio.sleep(0.1)


async def test_a_cases_rows_follow_it_from_start_to_close(env, worker) -> None:
    handle = await start_share(env, worker, **JOINT)
    await wait_status(handle, "under_review")
    view, steps = await until(handle.id, lambda v, s: len(s) == 2, "both approvals awaited")
    assert view.case_type == "share" and view.closed_at is None and view.state["status"] == "under_review"
    assert {s.dept_code for s in steps} == {"dsj", "gaj"} and view.departments == sorted(view.state["parties"])
    assert view.due_at == steps[0].due_at and view.last_event_at is not None and "等待" in view.details
    assert [c["case_id"] for c in _inbox("gaj", 1000, 0)].count(handle.id) == 1

    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    view, steps = await until(handle.id, lambda v, s: [x.dept_code for x in s] == ["gaj"], "the center's step done")
    assert len(view.state["decisions"]) == 1 and handle.id not in [c["case_id"] for c in _inbox("dsj", 1000, 0)]

    # Art. 41, 46: the source's step warned, then urged: its row climbs, the lists and the digest follow.
    due = steps[0].due_at
    await env.sleep(due - await env.get_current_time() + timedelta(hours=1))
    view, steps = await until(handle.id, lambda v, s: s[0].level >= 2, "the step urged")
    overdue = [c for c in _overdue(None, 1000, 0) if c["case_id"] == handle.id]
    assert [(c["awaiting"], c["escalation"], c["status"]) for c in overdue] == [("gaj", steps[0].level, "overdue")]
    assert handle.id not in [c["case_id"] for c in _overdue("zjj", 1000, 0)]  # not a party
    assert handle.id in [c["case_id"] for c in _overdue("jyj", 1000, 0)]  # the requester is
    assert (handle.id, "gaj") in {(c["case_id"], c["dept"]) for c in digest_lists(2)[0]}

    await handle.execute_update("decide", decision("approve", "gaj.lijun"))
    assert (await handle.result())["status"] == "granted"
    view, steps = await until(handle.id, lambda v, s: v.closed_at is not None, "the case closed")
    assert steps == [] and view.status == "granted" and view.awaiting == [] and view.state["status"] == "granted"


def snapshot(case_id: str, version: int, **kw: Any) -> CaseSnapshot:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "case_id": case_id, "case_type": "share", "status": "under_review", "status_zh": "审核中",
        "departments": ["dsj", "gaj"], "awaiting": ["gaj"], "opened_at": now - timedelta(days=3),
        "last_event_at": now - timedelta(days=2), "version": version,
        "state": {"case_id": case_id, "case_type": "share", "status": "under_review", "status_zh": "审核中",
                  "parties": {"dsj": "县大数据管理中心", "gaj": "县公安局"}, "timeline": [], "deadlines": {}},
        "steps": [StepSnapshot(step="share.source_review", dept_code="gaj", step_zh="数源部门审核",
                               article="第二十条", due_at=now + timedelta(days=version))],
    }
    return CaseSnapshot(**{**fields, **kw})


@pytest.fixture
def made_up() -> Iterator[list[str]]:
    """Cases written straight into the projection (no workflow), removed afterwards."""
    ids: list[str] = []
    yield ids
    with session() as s:
        for table in (CaseStep, CaseParty, CaseView):
            s.execute(delete(table).where(col(table.case_id).in_(ids)))  # type: ignore[attr-defined]


def write(snap: CaseSnapshot) -> bool:
    with session() as s:
        return write_snapshot(s, snap)


def test_an_older_snapshot_never_overwrites_a_newer_one(made_up) -> None:
    made_up.append(case_id := "share-1999-000001")
    assert write(snapshot(case_id, 2, status="approving"))
    assert not write(snapshot(case_id, 1, status="under_review"))  # late, or a retry of an earlier write
    assert not write(snapshot(case_id, 2, status="other"))  # the same version again changes nothing
    view, steps = rows(case_id)
    assert view is not None and (view.version, view.status) == (2, "approving")
    assert [s.due_at.date() for s in steps] == [(datetime.now(UTC) + timedelta(days=2)).date()]
    assert write(snapshot(case_id, 3, steps=[], closed_at=datetime.now(UTC)))
    assert rows(case_id)[1] == []


async def test_inbox_and_overdue_are_paged_soonest_first_and_scoped(api, tokens, made_up) -> None:  # noqa: F811
    made_up += [f"share-1999-00010{i}" for i in range(3)]
    for i, case_id in enumerate(made_up):  # due in 3, 2, 1 days: the last is the soonest
        due = datetime(1999, 1, 4 - i, tzinfo=UTC)
        write(snapshot(case_id, 1, due_at=due, escalation=1, steps=[StepSnapshot(
            step="share.source_review", dept_code="gaj", step_zh="数源部门审核", article="第二十条", level=1,
            due_at=due)]))
    mine = {"headers": bearer(tokens["gaj.zhangfang"])}
    first = (await api.get("/v1/inbox", params={"dept": "gaj", "limit": 2}, **mine)).json()
    rest = (await api.get("/v1/inbox", params={"dept": "gaj", "limit": 2, "offset": 2}, **mine)).json()
    assert [c["case_id"] for c in first] == made_up[:0:-1] and rest[0]["case_id"] == made_up[0]
    assert set(first[0]) >= {"case_id", "case_type_zh", "awaiting_name", "awaiting_levels", "due_date", "level_zh"}
    assert (first[0]["awaiting"], first[0]["escalation"], first[0]["due_date"]) == ("gaj", 1, "1999-01-02")
    # Art. 43: another department's person sees neither its inbox nor cases it is no party to.
    other = {"headers": bearer(tokens["jyj.panxiaoyu"])}
    assert (await api.get("/v1/inbox", params={"dept": "gaj"}, **other)).status_code == 403
    assert not {c["case_id"] for c in (await api.get("/v1/overdue", **other)).json()} & set(made_up)
    assert {c["case_id"] for c in (await api.get("/v1/overdue", params={"limit": 1000}, **mine)).json()} >= set(made_up)
    assert (await api.get("/v1/inbox", params={"dept": "gaj", "limit": 0}, **mine)).status_code == 400


async def test_a_closed_case_temporal_no_longer_has_is_shown_from_the_projection(api, tokens, made_up) -> None:  # noqa: F811
    """Art. 41: the yearly evaluation reads a whole year, longer than Temporal keeps a closed case."""
    made_up.append(case_id := "share-1999-000200")
    write(snapshot(case_id, 7, status="granted", status_zh="已同意共享", steps=[], awaiting=[],
                   closed_at=datetime(1999, 2, 1, tzinfo=UTC),
                   state={**snapshot(case_id, 1).state, "status": "granted", "status_zh": "已同意共享"}))
    shown = await api.get(f"/v1/cases/{case_id}", headers=bearer(tokens["gaj.zhangfang"]))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["workflow_status"], body["state"]["status"], body["summary"]) == ("CLOSED", "granted", None)
    refused = await api.get(f"/v1/cases/{case_id}", headers=bearer(tokens["jyj.panxiaoyu"]))
    assert refused.status_code == 403 and "无权" in refused.json()["detail"]
    gone = await api.get("/v1/cases/share-1999-000299", headers=bearer(tokens["dsj.zhouwei"]))
    assert gone.status_code == 404


async def test_a_failing_projection_write_does_not_stop_the_case(env, worker) -> None:
    handle = await start_share(env, worker, **JOINT)
    await wait_status(handle, "under_review")
    await until(handle.id, lambda v, s: len(s) == 2, "both approvals awaited")
    with engine().connect() as locker:  # the table locked: every write times out
        locker.execute(text("LOCK TABLE case_view IN ACCESS EXCLUSIVE MODE"))
        await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
        state = await wait_status(handle, "under_review")
        assert state["awaiting"] == ["gaj"]
        locker.rollback()
    await handle.execute_update("decide", decision("approve", "gaj.lijun"))
    assert (await handle.result())["status"] == "granted"
    view, steps = await until(handle.id, lambda v, s: v.closed_at is not None, "the case closed")
    assert steps == [] and len(view.state["decisions"]) == 2


async def test_a_failed_write_is_written_again_on_a_timer_though_the_case_does_not_change(env, worker) -> None:
    handle = await start_share(env, worker, **JOINT)
    await wait_status(handle, "under_review")
    await until(handle.id, lambda v, s: len(s) == 2, "both approvals awaited")
    with engine().begin() as c:  # the table gone for a moment: the decision's write fails its attempts
        c.execute(text("ALTER TABLE case_view RENAME TO case_view_away"))
    try:
        await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    finally:
        with engine().begin() as c:
            c.execute(text("ALTER TABLE case_view_away RENAME TO case_view"))
    view, steps = rows(handle.id)
    assert view is not None and view.state["decisions"] == [] and len(steps) == 2  # left behind
    await env.sleep(timedelta(minutes=2))  # the source's step still awaited: nothing changes but time
    view, steps = await until(handle.id, lambda v, s: [x.dept_code for x in s] == ["gaj"], "the decision written again")
    assert [d["action"] for d in view.state["decisions"]] == ["approve"]


async def test_show_reads_the_projection_not_the_workflow(api, tokens, env, worker) -> None:  # noqa: F811
    handle = await start_share(env, worker, **JOINT)
    await wait_status(handle, "under_review")
    await until(handle.id, lambda v, s: len(s) == 2, "both approvals awaited")
    with session() as s:  # a mark only the projection carries: show must have read it
        view = s.get(CaseView, handle.id)
        assert view is not None
        view.state = {**view.state, "facts": ["来自投影"]}
        s.add(view)
    body = (await api.get(f"/v1/cases/{handle.id}", headers=bearer(tokens["jyj.panxiaoyu"]))).json()
    assert body["state"]["facts"] == ["来自投影"] and body["workflow_status"] == "RUNNING"
    decided = await api.post(f"/v1/cases/{handle.id}/decisions", json={"action": "approve"},
                             headers=bearer(tokens["dsj.zhouwei"]))
    assert decided.status_code == 200, decided.text
    # The API's decide answers once the case has written it: pdw show right after it reads it.
    body = (await api.get(f"/v1/cases/{handle.id}", headers=bearer(tokens["jyj.panxiaoyu"]))).json()
    assert [d["action"] for d in body["state"]["decisions"]] == ["approve"]
