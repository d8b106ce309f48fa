"""Where cases stand, from Temporal visibility: a department's inbox, the overdue, the stuck."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from temporalio.service import RPCError

from activities.calendar import SHANGHAI
from activities.store import get_department, session
from models import search
from models.departments import Department
from models.labels import zh
from models.processes import STATE_QUERY
from models.types import utcnow
from service.auth import Principal, oversees, require_dept_reader
from service.context import Services, db
from service.errors import unavailable

RUNNING = "ExecutionStatus = 'Running'"


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
        raise unavailable(f"Temporal 暂时无法列出案件：{err.message}") from err
    far = datetime.max.replace(tzinfo=UTC).isoformat()
    found.sort(key=lambda c: (c["due_at"] or far, c["case_id"]))
    return found


def for_department(case: dict[str, Any], code: str) -> dict[str, Any]:
    """A case as one awaited department sees it: its own level, not another's (a joint approval)."""
    level = case["awaiting_levels"].get(code, 0)
    return {**case, "awaiting": code, "awaiting_name": case["awaiting_names"].get(code, code),
            "escalation": level, "level_zh": zh("level", level, "")}


def _scope(principal: Principal) -> str:
    """Overseers see every case; a department the cases it is party to."""
    actor = principal.person()
    return "" if oversees(actor) else f" AND PdwDepartments = '{actor.dept_code}'"


async def inbox(services: Services, principal: Principal, dept: str) -> list[dict[str, Any]]:
    await db(get_department_checked, dept)
    require_dept_reader(principal, dept)
    return [for_department(c, dept) for c in await list_cases(services, f"PdwAwaitingAll = '{dept}' AND {RUNNING}")]


def get_department_checked(code: str) -> None:
    with session() as s:
        get_department(s, code)


async def overdue(services: Services, principal: Principal) -> list[dict[str, Any]]:
    """Each awaited department whose own step is warned or later, with its case (Art. 41, 46)."""
    cases = await list_cases(services, f"PdwEscalation >= 1 AND {RUNNING}{_scope(principal)}")
    return [for_department(c, code) for c in cases for code, level in c["awaiting_levels"].items() if level >= 1]


async def stuck(services: Services, principal: Principal, idle_days: int) -> list[dict[str, Any]]:
    """A step that keeps failing (``PdwStuck``: bad data, or an activity failing past its bounded
    attempts), workflow tasks failing (TemporalReportedProblems), or no progress for ``idle_days``."""
    scope = _scope(principal)
    client = await services.temporal()
    gate = asyncio.Semaphore(8)
    marked = await list_cases(services, f"PdwStuck = true AND {RUNNING}{scope}")

    async def why_stuck(c: dict[str, Any]) -> dict[str, Any]:
        async with gate:  # the reason is in the case's state; the list names only the case
            try:
                state = await client.get_workflow_handle(c["case_id"]).query(
                    STATE_QUERY, rpc_timeout=timedelta(seconds=10))
            except Exception:  # noqa: BLE001 - still listed, with the generic reason
                state = {}
        return {**c, "why": state.get("stuck_zh") or "某一步骤反复失败（PdwStuck），原因见 pdw show 的时间线"}

    failing = list(await asyncio.gather(*(why_stuck(c) for c in marked)))
    seen = {c["case_id"] for c in failing}
    for c in await list_cases(services, f"TemporalReportedProblems IS NOT NULL AND {RUNNING}{scope}"):
        if c["case_id"] not in seen:
            failing.append({**c, "why": "工作流任务反复失败，请查看 Temporal 界面中的错误"})
    seen = {c["case_id"] for c in failing}

    async def idle_for(c: dict[str, Any]) -> dict[str, Any] | None:
        async with gate:
            try:
                state = await client.get_workflow_handle(c["case_id"]).query(
                    STATE_QUERY, rpc_timeout=timedelta(seconds=10))
            except Exception:  # noqa: BLE001 - a case that cannot answer is stuck too
                return {**c, "why": "查询无应答"}
        last = max((datetime.fromisoformat(e["at"]) for e in state.get("timeline", [])), default=None)
        if last and utcnow() - last > timedelta(days=idle_days):
            return {**c, "why": f"{(utcnow() - last).days} 天没有进展"}
        return None

    running = [c for c in await list_cases(services, f"{RUNNING} AND PdwCaseType IS NOT NULL{scope}")
               if c["case_id"] not in seen]
    idle = [c for c in await asyncio.gather(*(idle_for(c) for c in running)) if c]
    return failing + idle
