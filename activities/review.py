"""Store work of the recurring reviews (Art. 19, 28 ¶4, 30 ¶2): which departments a round owes a
case, the case's record, whether data was refreshed (the access log's ``data_refresh`` events), and
the catalog-update case an ``open`` conclusion starts (Art. 11)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar import SHANGHAI
from activities.catalog import register_catalog_update
from activities.store import (
    StoreError,
    allocate_case_id,
    center,
    get_department,
    insert_ignore,
    next_case_id,
    session,
    update_case_record,
)
from models.access import DataRefresh
from models.catalog import CatalogUpdateInput, CatalogVersion, DataResource
from models.review import (
    FRESHNESS,
    FRESHNESS_PERIOD_DAYS,
    REVIEWED_ATTRIBUTES,
    RefreshCheck,
    ReviewCase,
    ReviewEntry,
    ReviewInput,
    ReviewOpened,
    ReviewPlan,
    ReviewRecordUpdate,
    ReviewRoundInput,
    review_period,
)
from models.types import UTCDateTime, utcnow
from settings import get_settings

log = structlog.get_logger("pdw.activities")
PREFIX = "review"  # case numbers review-2026-000001 (models/processes.py)
OPENING = "opening"
SHAREABLE = ("unconditional", "restricted")  # Art. 19 speaks of 共享数据


def refresh_span(s: Session, resource_ids: list[str]) -> dict[str, tuple[datetime, datetime]]:
    """Each resource's first refresh event's arrival (the grace period counts from when the platform
    began reporting, whatever dates its first batch carries) and its latest refresh."""
    if not resource_ids:
        return {}
    # The access log's refresh events (Art. 19), as the sharing platform posts them (api: access batches).
    rows = s.exec(select(DataRefresh.resource_id, func.min(DataRefresh.recorded_at), func.max(DataRefresh.refreshed_at))
                  .where(col(DataRefresh.resource_id).in_(resource_ids)).group_by(col(DataRefresh.resource_id))).all()
    # MIN/MAX lose the column's type on SQLite: read back as the column reads (aware UTC).
    utc = UTCDateTime()
    return {rid: (utc.process_result_value(first, None), utc.process_result_value(last, None))  # type: ignore[misc]
            for rid, first, last in rows}


def is_stale(frequency: str, span: tuple[datetime, datetime] | None, at: datetime, grace_days: int) -> bool:
    """Art. 19: the last refresh is older than the 更新频度 allows, counted only once the grace period
    from the arrival of the FIRST refresh event has passed: no events, or events only lately begun
    to arrive, are not stale."""
    days = FRESHNESS_PERIOD_DAYS.get(frequency)
    if days is None or span is None:  # 不定期, or nothing known yet
        return False
    first, last = span
    # A day's slack: a daily refresh that comes at a different hour each day is not late.
    return at - first >= timedelta(days=grace_days) and at - last > timedelta(days=days + 1)


def entries_due(s: Session, kind: str, at: datetime) -> dict[str, list[ReviewEntry]]:
    """The entries each source department owes a review of, by department code."""
    rows = s.exec(select(CatalogVersion, DataResource.owner_code).join(
        DataResource, col(DataResource.id) == col(CatalogVersion.resource_id)).where(
        CatalogVersion.is_current).order_by(CatalogVersion.resource_id)).all()
    due: dict[str, list[ReviewEntry]] = defaultdict(list)
    if kind == FRESHNESS:
        shared = [(v, owner) for v, owner in rows if v.share_attribute in SHAREABLE]
        spans = refresh_span(s, [v.resource_id for v, _ in shared])
        grace = get_settings().freshness_grace_days
        for v, owner in shared:
            span = spans.get(v.resource_id)
            if is_stale(v.update_frequency, span, at, grace):
                assert span is not None
                due[owner].append(ReviewEntry(resource_id=v.resource_id, name=v.name, open_attribute=v.open_attribute,
                                              update_frequency=v.update_frequency, last_refreshed_at=span[1]))
        return due
    for v, owner in rows:
        if v.open_attribute in REVIEWED_ATTRIBUTES[kind]:
            due[owner].append(ReviewEntry(resource_id=v.resource_id, name=v.name, open_attribute=v.open_attribute,
                                          update_frequency=v.update_frequency))
    return due


@activity.defn
def plan_review_round(inp: ReviewRoundInput) -> ReviewPlan:
    """Record one case per department owing a review this period (unique per kind, department and
    period) and return those not yet started: a repeated or retried round returns only what an
    earlier run recorded but did not start. Freshness (Art. 19): none for a department whose
    earlier freshness case is still open; its stale entries wait for that case to close."""
    assert inp.at is not None
    period = inp.period or review_period(inp.kind, inp.at.astimezone(SHANGHAI).date())
    with session() as s:
        due = entries_due(s, inp.kind, inp.at)
        busy: set[str] = set()
        if inp.kind == FRESHNESS:
            busy = set(s.exec(select(ReviewCase.dept_code).where(
                ReviewCase.kind == FRESHNESS, col(ReviewCase.closed_at).is_(None), ReviewCase.period != period)).all())
        recorded = {r.dept_code: r for r in s.exec(select(ReviewCase).where(
            ReviewCase.kind == inp.kind, ReviewCase.period == period)).all()}
        for dept, entries in due.items():
            if dept in recorded or dept in busy:
                continue
            case_id = allocate_case_id(s, PREFIX, inp.at.astimezone(SHANGHAI).year)
            insert_ignore(s, ReviewCase, {
                "case_id": case_id, "kind": inp.kind, "dept_code": dept, "period": period,
                "resource_ids": [e.resource_id for e in entries], "status": OPENING, "opened_at": inp.at}, ["case_id"])
        s.flush()
        planned = s.exec(select(ReviewCase).where(ReviewCase.kind == inp.kind, ReviewCase.period == period,
                                                  ReviewCase.status == OPENING).order_by(ReviewCase.case_id)).all()
        out = []
        for row in planned:
            by_id = {e.resource_id: e for e in due.get(row.dept_code, [])}
            out.append(ReviewInput(case_id=row.case_id, kind=row.kind, dept_code=row.dept_code,
                                   dept_name=get_department(s, row.dept_code).name, period=row.period,
                                   # the entries recorded (an entry changed since keeps its id)
                                   entries=[by_id.get(r) or ReviewEntry(resource_id=r, name=r, open_attribute="",
                                                                        update_frequency="") for r in row.resource_ids]))
    log.info("review_round_planned", kind=inp.kind, period=period, cases=[r.case_id for r in out])
    return ReviewPlan(period=period, cases=out)


@activity.defn
def open_review_case(inp: ReviewInput) -> ReviewOpened:
    """The case has started: its record awaits the department's answer; its parties' names."""
    try:
        with session() as s:
            row = s.get(ReviewCase, inp.case_id)
            if row is None:  # started by hand, not by a round: recorded now
                insert_ignore(s, ReviewCase, {
                    "case_id": inp.case_id, "kind": inp.kind, "dept_code": inp.dept_code, "period": inp.period,
                    "resource_ids": [e.resource_id for e in inp.entries], "status": "awaiting_answer",
                    "opened_at": inp.opened_at or utcnow()}, ["case_id"])
                row = s.get(ReviewCase, inp.case_id)
                assert row is not None
            elif row.status == OPENING:
                row.status = "awaiting_answer"
                s.add(row)
            dept, the_center = get_department(s, inp.dept_code), center(s)
            return ReviewOpened(dept_name=dept.name, center_code=the_center.code, center_name=the_center.name,
                                opened_at=row.opened_at)
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def update_review_case(u: ReviewRecordUpdate) -> None:
    update_case_record(ReviewCase, u.case_id, u.model_dump(exclude={"case_id"}))


@activity.defn
def missing_refreshes(check: RefreshCheck) -> list[str]:
    """Art. 19: the resources with no refresh event after ``since``."""
    with session() as s:
        spans = refresh_span(s, check.resource_ids)
    return [r for r in check.resource_ids if r not in spans or spans[r][1] <= check.since]


@activity.defn
def new_catalog_case_id(year: int) -> str:
    """A catalog-update case number, taken as the service takes one (service/starts.py new_case_id)."""
    return next_case_id("catalog", year)


@activity.defn
def reserve_catalog_update(inp: CatalogUpdateInput) -> str | None:
    """Art. 11: record the catalog-update case an ``open`` conclusion starts, the way the API's start
    does (register_catalog_update: one open update per entry); returns the entry's other open
    update instead, if there is one. Keyed by the case id: a retry records nothing twice."""
    with session() as s:
        owner = s.exec(select(DataResource.owner_code).where(DataResource.id == inp.resource_id)).one()
    return register_catalog_update(inp, owner)
