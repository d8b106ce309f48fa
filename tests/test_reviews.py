"""Recurring reviews (issue 13): the open-scope review (Art. 28 ¶4), the restricted-open review
(Art. 30 ¶2) and the freshness check (Art. 19), opened by Schedules, one case per department and
period, answered by the department under the deadline ladder."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.review import is_stale
from activities.store import resolve_actor, session
from models.access import DataRefresh
from models.cases import DeadlineMiss
from models.catalog import CatalogUpdateCase, CatalogVersion, DataResource
from models.requests import DecisionRequest
from models.review import (
    FRESHNESS_PERIOD_DAYS,
    RESTRICTED_OPEN,
    ReviewCase,
    ReviewEntry,
    ReviewInput,
    ReviewRoundInput,
)
from service.errors import Kind, ServiceError
from tests.helpers import STARTED, decisions_of, wait_status


def _resource(owner: str, *, open_attribute: str, frequency: str = "daily") -> str:
    """A catalog entry of the test's own (Art. 10), shared unconditionally."""
    rid = f"RES-T-{uuid.uuid4().hex[:8].upper()}"
    items = ["名称", "编号"]
    with session() as s:
        s.add(DataResource(id=rid, owner_code=owner, current_version=1, items=items, share_modes=["query"]))
        s.flush()
        s.add(CatalogVersion(resource_id=rid, version=1, is_current=True, name="测试评估数据", content="名称、编号",
                             encoding_format="JSON", provider_code=owner, share_attribute="unconditional",
                             open_attribute=open_attribute, update_frequency=frequency, items=items,
                             share_modes=["query"], secrecy_reviewer="测试", secrecy_reviewed_on=datetime(2026, 1, 5).date(),
                             secrecy_conclusion="no_state_secret"))
    return rid


def _refreshed(rid: str, *at: datetime, arrived: datetime | None = None) -> None:
    """Refresh events as the sharing platform posts them (the access log, Art. 19), each arriving
    when it happened unless ``arrived`` says otherwise."""
    with session() as s:
        for moment in at:
            s.add(DataRefresh(resource_id=rid, refreshed_at=moment, recorded_at=arrived or moment,
                              batch_id=f"test-{uuid.uuid4().hex[:8]}"))


def _services(env: WorkflowEnvironment, queue: str) -> Any:
    from service.context import Services
    from settings import get_settings

    return Services(get_settings().model_copy(update={"task_queue": queue}), client=env.client)


async def _decide(services: Any, person: str, case_id: str, action: str, **data: Any) -> dict[str, Any]:
    from service.cases import decide

    return await decide(services, resolve_actor(person), case_id, DecisionRequest(action=action, data=data))


async def _refused(services: Any, person: str, case_id: str, action: str, **data: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        await _decide(services, person, case_id, action, **data)
    return info.value


def _period() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


# ---- Art. 28 ¶4: the round opens one case per department, once per period ----------------------------


async def test_art28_4_round_opens_one_case_per_department_once(env: WorkflowEnvironment, worker: str) -> None:
    period = _period()
    with session() as s:
        rows = s.exec(select(CatalogVersion.open_attribute, DataResource.owner_code, DataResource.id).join(
            DataResource, col(DataResource.id) == col(CatalogVersion.resource_id)).where(CatalogVersion.is_current)).all()
    owing = {owner for attr, owner, _ in rows if attr in ("forbidden", "unopened")}
    without = {owner for _, owner, _ in rows} - owing
    assert owing  # alone, the demo county also has departments without (scjgj, mzj: open or restricted-open data)

    runs = []
    for _ in range(2):  # a repeated (or retried) round in the same period opens nothing twice
        runs.append(await env.client.execute_workflow(
            "OpenScopeReviewRound", ReviewRoundInput(period=period), id=f"round-test-{uuid.uuid4().hex[:8]}",
            task_queue=worker, result_type=dict))
        STARTED.extend(runs[-1]["opened"])
    first, second = runs
    assert second["opened"] == [] and first["period"] == period
    with session() as s:
        cases = s.exec(select(ReviewCase).where(ReviewCase.period == period)).all()
    assert sorted(c.dept_code for c in cases) == sorted(owing)  # one each; none for a department without
    assert not {c.dept_code for c in cases} & without
    assert sorted(first["opened"]) == sorted(c.case_id for c in cases)
    for c in cases:  # each department's case lists exactly its entries outside the open scope
        assert sorted(c.resource_ids) == sorted(rid for attr, owner, rid in rows
                                                if owner == c.dept_code and attr in ("forbidden", "unopened"))
    gaj = next(c for c in cases if c.dept_code == "gaj")
    assert "RES-GAJ-001" in gaj.resource_ids  # 禁止开放 (Art. 29) is reviewed too
    state = await wait_status(env.client.get_workflow_handle(gaj.case_id), "awaiting_answer")
    assert state["awaiting"] == ["gaj"] and state["deadlines"]["review.open_scope_answer"]["statutory"] is False


# ---- Art. 30 ¶2: an ``open`` conclusion starts a catalog update (Art. 11) ---------------------------------


async def test_art30_2_open_conclusion_starts_catalog_update(env: WorkflowEnvironment, worker: str) -> None:
    from service.auth import PUBLIC, Principal
    from service.cases import show

    rid = _resource("scjgj", open_attribute="restricted")
    case_id = f"review-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    handle = await env.client.start_workflow("PeriodicReview", ReviewInput(
        case_id=case_id, kind=RESTRICTED_OPEN, dept_code="scjgj", period=_period(),
        entries=[ReviewEntry(resource_id=rid, name="测试评估数据", open_attribute="restricted", update_frequency="daily")]),
        id=case_id, task_queue=worker)
    services = _services(env, worker)
    await wait_status(handle, "awaiting_answer")

    # Only the source department answers; the center may read the case, another department may not.
    refused = await _refused(services, "jyj.panxiaoyu", case_id, "answer", **{rid: "keep", f"{rid}.reason": "x"})
    assert refused.kind == Kind.forbidden and "无权答复" in refused.message
    assert (await show(services, Principal(actor=resolve_actor("dsj.zhouwei")), case_id))["case_id"] == case_id
    with pytest.raises(ServiceError) as info:
        await show(services, Principal(actor=resolve_actor("gaj.zhangfang")), case_id)
    assert info.value.kind == Kind.forbidden
    with pytest.raises(ServiceError) as info:  # the public reads no review case
        await show(services, PUBLIC, case_id)
    assert info.value.kind == Kind.unauthenticated
    # keep without reason, open to restricted (Art. 30 ¶2 turns it unconditional), open without 保密审查.
    assert "须写明理由" in (await _refused(services, "scjgj.jinlei", case_id, "answer", **{rid: "keep"})).message
    bad = await _refused(services, "scjgj.jinlei", case_id, "answer", **{rid: "open", f"{rid}.open_attribute": "restricted"})
    assert "第三十条第二款" in bad.message and "第三十九条" in bad.message
    assert "不在本次审查" in (await _refused(services, "scjgj.jinlei", case_id, "answer",
                                            **{rid: "keep", f"{rid}.reason": "x", "RES-GAJ-001": "keep"})).message

    done = await _decide(services, "scjgj.jinlei", case_id, "answer", **{
        rid: "open", f"{rid}.open_attribute": "unconditional", f"{rid}.secrecy_reviewer": "金磊",
        f"{rid}.secrecy_reviewed_on": "2026-11-20", f"{rid}.secrecy_conclusion": "no_state_secret"})
    assert done["confirmed"]
    state = await wait_status(handle, "answered")
    update_id = state["catalog_updates"][rid]
    STARTED.append(update_id)
    assert state["outcome"] == "opening" and any(update_id in f for f in state["facts"])
    update = await wait_status(env.client.get_workflow_handle(update_id), "awaiting_submission")
    assert update["resource_id"] == rid and "无条件开放" in update["change_note"]
    with session() as s:
        row = s.get(CatalogUpdateCase, update_id)
        review = s.get(ReviewCase, case_id)
    assert row is not None and row.started_by == "scjgj.jinlei" and row.owner_code == "scjgj"
    assert review is not None and review.outcome == "opening" and review.closed_at is not None
    answered = decisions_of(case_id)[-1]  # the per-entry answer is in the records, not only the history
    assert answered.action == "answer" and f"{rid} 纳入开放，开放属性改为无条件开放" in (answered.reasons or "")


# ---- Art. 19: freshness against the declared 更新频度 --------------------------------------------------


def test_art19_stale_only_past_the_grace_period_from_the_first_refresh() -> None:
    at = datetime(2026, 11, 27, tzinfo=UTC)
    day = timedelta(days=1)
    assert not is_stale("daily", None, at, 30)  # day one: no refresh event yet
    assert not is_stale("daily", (at - 5 * day, at - 3 * day), at, 30)  # events only lately begun
    assert is_stale("daily", (at - 40 * day, at - 3 * day), at, 30)
    assert not is_stale("daily", (at - 40 * day, at - day / 2), at, 30)
    assert not is_stale("irregular", (at - 400 * day, at - 300 * day), at, 30)  # 不定期: never stale
    assert is_stale("weekly", (at - 40 * day, at - 9 * day), at, 30) and not is_stale("monthly", (at - 40 * day, at - 9 * day), at, 30)
    assert not is_stale("daily", (at - 40 * day, at - day * 1.9), at, 30)  # a day's slack: refreshed at another hour
    assert set(FRESHNESS_PERIOD_DAYS) == {"realtime", "daily", "weekly", "monthly", "quarterly", "yearly"}


async def test_art19_freshness_day_one_opens_nothing_stale_past_grace_opens_a_case(
        env: WorkflowEnvironment, worker: str) -> None:
    now = await env.get_current_time()
    day = timedelta(days=1)
    lately = _resource("mzj", open_attribute="unconditional")  # refresh events began 3 days ago
    _refreshed(lately, now - 3 * day)
    never = _resource("mzj", open_attribute="unconditional")  # never refreshed: nothing known yet
    # A first batch that reports an old refresh: the grace period counts from its arrival, not its date.
    first_batch = _resource("mzj", open_attribute="unconditional")
    _refreshed(first_batch, now - 60 * day, arrived=now - day)
    stale = _resource("rsj", open_attribute="unconditional")
    _refreshed(stale, now - 40 * day, now - 3 * day)
    fresh = _resource("wjj", open_attribute="unconditional")
    _refreshed(fresh, now - 40 * day, now - day / 2)

    period = _period()
    result = await env.client.execute_workflow("FreshnessCheckRound", ReviewRoundInput(at=now, period=period),
                                               id=f"round-test-{uuid.uuid4().hex[:8]}", task_queue=worker, result_type=dict)
    STARTED.extend(result["opened"])
    with session() as s:
        cases = {c.dept_code: c for c in s.exec(select(ReviewCase).where(ReviewCase.period == period)).all()}
    listed = {rid for c in cases.values() for rid in c.resource_ids}
    assert not {lately, never, fresh, first_batch} & listed  # (the suite's other refresh events may open other cases)
    assert stale in cases["rsj"].resource_ids and cases["rsj"].kind == "freshness"
    case_id = cases["rsj"].case_id

    services = _services(env, worker)
    handle = env.client.get_workflow_handle(case_id)
    await wait_status(handle, "awaiting_answer")
    # ``refreshed`` is believed only once a refresh event newer than the case has arrived.
    # While the department's freshness case is open, the next day's round opens none for it.
    again = await env.client.execute_workflow("FreshnessCheckRound", ReviewRoundInput(at=now + day, period=_period()),
                                              id=f"round-test-{uuid.uuid4().hex[:8]}", task_queue=worker, result_type=dict)
    STARTED.extend(again["opened"])
    with session() as s:
        assert s.exec(select(ReviewCase).where(ReviewCase.period == again["period"], ReviewCase.dept_code == "rsj")).first() is None
    early = await _refused(services, "rsj.gaofeng", case_id, "refreshed")
    assert stale in early.message and "第十九条" in early.message
    assert "reason" in (await _refused(services, "rsj.gaofeng", case_id, "explain")).message

    # A missed answer is a deadline miss like any other (local default, 5 working days).
    await env.sleep(timedelta(days=12))
    for _ in range(100):
        with session() as s:
            miss = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == case_id)).first()
        if miss is not None:
            break
        await asyncio.sleep(0.1)
    assert miss is not None and miss.dept_code == "rsj" and miss.step == "review.freshness_answer" and not miss.statutory

    # Once refreshed, the answer closes the case. (On a case started directly: in the time-skipping
    # test server, a round's child completing after its round has closed stops the server's clock for
    # later tests; a real server does not do that.)
    own = f"review-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(own)
    direct = await env.client.start_workflow("PeriodicReview", ReviewInput(
        case_id=own, kind="freshness", dept_code="rsj", period=_period(),
        entries=[ReviewEntry(resource_id=stale, name="测试评估数据", open_attribute="unconditional",
                             update_frequency="daily")]), id=own, task_queue=worker)
    opened = await wait_status(direct, "awaiting_answer")
    assert opened["outcome"] is None and stale in (await _refused(services, "rsj.gaofeng", own, "refreshed")).message
    _refreshed(stale, await env.get_current_time() + timedelta(minutes=1))
    # Art. 19: the source department answers for its own data; another department and the center cannot.
    for person in ("mzj.caibin", "wjj.maqiang", "dsj.zhouwei"):
        wrong = await _refused(services, person, own, "refreshed")
        assert wrong.kind == Kind.forbidden, (person, wrong.message)
    assert (await _decide(services, "rsj.gaofeng", own, "refreshed"))["confirmed"]
    state = await wait_status(direct, "answered")
    assert state["outcome"] == "refreshed"


# ---- the Schedules ------------------------------------------------------------------------------------


def test_art19_art28_4_art30_2_the_three_review_schedules_start_their_rounds() -> None:
    from devstack import daily_schedules
    from models.processes import SUPPORT_WORKFLOWS
    from settings import Settings

    schedules = daily_schedules(Settings())
    assert schedules["pdw-open-scope-review"] == ("OpenScopeReviewRound", "0 9 10 3 *")  # Art. 28 ¶4: yearly
    assert schedules["pdw-restricted-open-review"] == ("RestrictedOpenReviewRound", "0 9 10 3,9 *")  # Art. 30 ¶2
    assert schedules["pdw-freshness-check"] == ("FreshnessCheckRound", "0 7 * * *")  # Art. 19: daily
    assert {"OpenScopeReviewRound", "RestrictedOpenReviewRound", "FreshnessCheckRound"} <= set(SUPPORT_WORKFLOWS)
    custom = daily_schedules(Settings(freshness_check_cron="0 6 * * 1-5"))
    assert custom["pdw-freshness-check"][1] == "0 6 * * 1-5"
