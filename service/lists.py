"""Where cases stand: a department's inbox, the overdue, the stuck, from the case projection
(models/projection.py, paged and indexed); visibility only for what only the server knows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as columns
from sqlmodel import Session, col, select
from temporalio.service import RPCError

from activities.calendar import SHANGHAI
from activities.store import get_department, session
from models import search
from models.cases import LEVEL_URGED, LEVEL_WARNED
from models.departments import Department
from models.labels import zh
from models.projection import CaseParty, CaseStep, CaseView
from models.types import utcnow
from service.auth import Principal, oversees, require_dept_reader
from service.context import Services, db
from service.errors import temporal_cause_zh, unavailable

RUNNING = "ExecutionStatus = 'Running'"
PAGE = 200  # a page of a list, unless the caller asks for another size


def dept_names() -> dict[str, str]:
    with session() as s:
        return {d.code: d.name for d in s.exec(select(Department)).all()}


async def list_cases(services: Services, query: str) -> list[dict[str, Any]]:
    """Cases matching a visibility query, soonest due first, with the labels staff read."""
    client = await services.temporal()
    names = await db(dept_names)
    found: list[dict[str, Any]] = []
    try:
        async for wf in client.list_workflows(query):
            sa = wf.typed_search_attributes
            due_at = sa.get(search.DUE_AT)
            case_type = sa.get(search.CASE_TYPE) or ""
            escalation = sa.get(search.ESCALATION) or 0
            levels = search.awaited_levels(sa.get(search.AWAITING_LEVELS))
            first: str | None = sa.get(search.AWAITING)
            if not levels and first:  # a case from before per-department levels
                levels = {first: escalation}
            found.append({
                "case_id": wf.id, "case_type": case_type, "case_type_zh": zh("case_type", case_type),
                "status": sa.get(search.STATUS), "awaiting": next(iter(levels), ""),
                "awaiting_name": "、".join(names.get(code, code) for code in levels), "awaiting_levels": levels,
                "awaiting_names": {code: names.get(code, code) for code in levels},
                "due_at": due_at.isoformat() if due_at else None,
                # due_at is 24:00 of the last working day: staff read that day.
                "due_date": f"{due_at.astimezone(SHANGHAI) - timedelta(seconds=1):%Y-%m-%d}" if due_at else None,
                "escalation": escalation, "level_zh": zh("level", escalation, ""),
                "provisional": bool(sa.get(search.PROVISIONAL_DUE)),
            })
    except RPCError as err:
        raise unavailable(f"Temporal 暂时无法列出案件：{temporal_cause_zh(err)}") from err
    far = datetime.max.replace(tzinfo=UTC).isoformat()
    found.sort(key=lambda c: (c["due_at"] or far, c["case_id"]))
    return found


def for_department(case: dict[str, Any], code: str) -> dict[str, Any]:
    """A case as one awaited department sees it: its own level, not another's (a joint approval)."""
    level = case["awaiting_levels"].get(code, 0)
    return {**case, "awaiting": code, "awaiting_name": case["awaiting_names"].get(code, code),
            "escalation": level, "level_zh": zh("level", level, "")}


def _scope(principal: Principal) -> str | None:
    """Overseers see every case (None); a department the cases it is party to (its code)."""
    actor = principal.person()
    return None if oversees(actor) else actor.dept_code


async def inbox(services: Services, principal: Principal, dept: str, limit: int = PAGE,
                offset: int = 0) -> list[dict[str, Any]]:
    """The cases awaiting ``dept``, its own soonest step first (the projection, paged)."""
    await db(get_department_checked, dept)
    require_dept_reader(principal, dept)
    return await db(_inbox, dept, limit, offset)


def _inbox(dept: str, limit: int, offset: int) -> list[dict[str, Any]]:
    query = _first_steps(col(CaseStep.dept_code) == dept).limit(limit).offset(offset)
    with session() as s:
        rows = s.execute(query).all()
        cases = _cases(s, [r.case_id for r in rows])
    return [for_department(cases[r.case_id], dept) for r in rows if r.case_id in cases]


def _first_steps(*where: Any, min_level: int = 0) -> Any:
    """Each case's soonest step per department (of the steps at ``min_level`` or above, and
    ``where``), soonest first; a department owing two steps of a case is listed once. Numbered by a
    window over the department's steps, not NOT EXISTS: PostgreSQL turns that into an anti-join, and
    without fresh statistics (autovacuum off or behind, tables that grew fast) planned it as a nested
    loop over whole tables: the center's inbox took 1.1 s at 10,000 cases. This costs one sort of the
    matching steps (ix_case_step_inbox finds a department's), about 5 ms at 10,000 with or without."""
    ranked = (columns(col(CaseStep.case_id), col(CaseStep.dept_code), col(CaseStep.due_at),
                     func.row_number().over(partition_by=(col(CaseStep.case_id), col(CaseStep.dept_code)),
                                            order_by=(col(CaseStep.due_at), col(CaseStep.step))).label("n"))
              .where(*where, col(CaseStep.level) >= min_level).subquery())
    return (columns(ranked.c.case_id, ranked.c.dept_code).where(ranked.c.n == 1)
            .order_by(ranked.c.due_at, ranked.c.case_id, ranked.c.dept_code))


def get_department_checked(code: str) -> None:
    with session() as s:
        get_department(s, code)


async def overdue(services: Services, principal: Principal, limit: int = PAGE,
                  offset: int = 0) -> list[dict[str, Any]]:
    """Each awaited department whose own step is warned or later, with its case (Art. 41, 46),
    soonest due first (the projection, paged)."""
    return await db(_overdue, _scope(principal), limit, offset)


def _overdue(scope: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    # The department's soonest step is its most urgent: a later step of the same case is not higher.
    where = [] if scope is None else [
        col(CaseStep.case_id).in_(select(CaseParty.case_id).where(col(CaseParty.dept_code) == scope))]
    with session() as s:
        rows = s.execute(_first_steps(*where, min_level=LEVEL_WARNED).limit(limit).offset(offset)).all()
        cases = _cases(s, list(dict.fromkeys(r.case_id for r in rows)))
    return [for_department(cases[r.case_id], r.dept_code) for r in rows if r.case_id in cases]


# What a list shows of a case (not its state: rows are read as plain tuples, which is several times
# faster than as models for a page of hundreds).
LISTED = (col(CaseView.case_id), col(CaseView.case_type), col(CaseView.status), col(CaseView.awaiting),
          col(CaseView.escalation), col(CaseView.due_at), col(CaseView.provisional), col(CaseView.last_event_at))


def _cases(s: Session, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The projection's rows of ``case_ids`` with the labels staff read (the keys visibility gave)."""
    if not case_ids:
        return {}
    views = s.execute(columns(*LISTED).where(col(CaseView.case_id).in_(case_ids))).all()
    return {c["case_id"]: c for c in _labelled_all(s, views, case_ids)}


def _labelled_all(s: Session, views: Sequence[Any], case_ids: Any) -> list[dict[str, Any]]:
    """``views`` (rows of LISTED) labelled; ``case_ids``: their ids, a list or a query of them."""
    names = {d.code: d.name for d in s.exec(select(Department)).all()}
    levels: dict[str, dict[str, int]] = {}
    steps = s.execute(columns(col(CaseStep.case_id), col(CaseStep.dept_code), col(CaseStep.level))
                      .where(col(CaseStep.case_id).in_(case_ids))).all()
    for case_id, code, level in steps:
        mine = levels.setdefault(case_id, {})
        mine[code] = max(mine.get(code, 0), level)
    return [_labelled(v, levels.get(v.case_id, {}), names) for v in views]


def _labelled(v: Any, step_levels: dict[str, int], names: dict[str, str]) -> dict[str, Any]:
    # Each awaited department with its own rung, soonest due first (the order ``awaiting`` keeps).
    levels = {code: step_levels[code] for code in v.awaiting if code in step_levels}
    levels.update(step_levels)
    status = "overdue" if v.escalation >= LEVEL_URGED else v.status  # as PdwStatus says it
    return {
        "case_id": v.case_id, "case_type": v.case_type, "case_type_zh": zh("case_type", v.case_type),
        "status": status, "awaiting": next(iter(levels), ""),
        "awaiting_name": "、".join(names.get(code, code) for code in levels), "awaiting_levels": levels,
        "awaiting_names": {code: names.get(code, code) for code in levels},
        "due_at": v.due_at.isoformat() if v.due_at else None,
        # due_at is 24:00 of the last working day: staff read that day.
        "due_date": f"{v.due_at.astimezone(SHANGHAI) - timedelta(seconds=1):%Y-%m-%d}" if v.due_at else None,
        "escalation": v.escalation, "level_zh": zh("level", v.escalation, ""), "provisional": v.provisional,
    }


async def stuck(services: Services, principal: Principal, idle_days: int, limit: int = PAGE,
                offset: int = 0) -> list[dict[str, Any]]:
    """A step that keeps failing (``PdwStuck``: bad data, or an activity failing past its bounded
    attempts), workflow tasks failing (TemporalReportedProblems: only the server knows it), or no
    progress for ``idle_days``. The first and last from the projection: no per-case query. Paged:
    the failing first (few by nature, all read), then the idle, a page of them read."""
    scope = _scope(principal)
    failing = await db(_stuck_marked, scope)
    seen = {c["case_id"] for c in failing}
    visible = "" if scope is None else f" AND PdwDepartments = '{scope}'"
    for c in await list_cases(services, f"TemporalReportedProblems IS NOT NULL AND {RUNNING}{visible}"):
        if c["case_id"] not in seen:
            failing.append({**c, "why": "工作流任务反复失败，请查看 Temporal 界面中的错误"})
    page = failing[offset:offset + limit]
    if len(page) < limit:
        seen = {c["case_id"] for c in failing}
        page += await db(_idle, scope, idle_days, seen, limit - len(page), max(0, offset - len(failing)))
    return page


def _open_cases(s: Session, scope: str | None, *where: Any, limit: int | None = None,
                offset: int = 0) -> list[tuple[Any, dict[str, Any]]]:
    where = (col(CaseView.closed_at).is_(None), *where, *([] if scope is None else [col(CaseView.case_id).in_(
        select(CaseParty.case_id).where(col(CaseParty.dept_code) == scope))]))
    order = (col(CaseView.due_at).is_(None), col(CaseView.due_at), col(CaseView.case_id))
    views = s.execute(columns(*LISTED).where(*where).order_by(*order).limit(limit).offset(offset)).all()
    # The steps of the same cases: a page by its ids; all by the same filter, not by a list of
    # (maybe thousands of) ids.
    ids = [v.case_id for v in views] if limit is not None else columns(col(CaseView.case_id)).where(*where)
    return list(zip(views, _labelled_all(s, views, ids), strict=True))


def _stuck_marked(scope: str | None) -> list[dict[str, Any]]:
    with session() as s:
        found = _open_cases(s, scope, col(CaseView.stuck).is_(True))
        why: dict[str, dict[str, Any]] = {row.case_id: row.state for row in s.execute(
            select(col(CaseView.case_id), col(CaseView.state)).where(
                col(CaseView.case_id).in_([v.case_id for v, _ in found])))}
    return [{**c, "why": why.get(v.case_id, {}).get("stuck_zh") or "某一步骤反复失败（PdwStuck），原因见 pdw show 的时间线"}
            for v, c in found]


def _idle(scope: str | None, idle_days: int, besides: set[str], limit: int, offset: int) -> list[dict[str, Any]]:
    now = utcnow()
    with session() as s:
        found = _open_cases(s, scope, col(CaseView.last_event_at) < now - timedelta(days=idle_days),
                            col(CaseView.case_id).not_in(besides), limit=limit, offset=offset)
    return [{**c, "why": f"{(now - v.last_event_at).days} 天没有进展"} for v, c in found if v.last_event_at]
