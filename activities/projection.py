"""Writing the case projection (models/projection.py), and the reads the daily digest makes of it.

Each case's workflow sends a snapshot after it changes (workflows/projector.py); the row is written
only when the snapshot is newer than the one stored, so a retried or late write never rolls a case
back (workflows/projector.py says when it is a local activity and when a regular one). A case that
ends outside pdw (terminated in the Temporal UI, say) writes nothing more: the digest closes its row
(``close_rows_ended_outside``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import structlog
from sqlalchemy import String, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus

from activities.store import session
from models.processes import PROCESSES
from models.projection import CaseParty, CaseSnapshot, CaseStep, CaseView

log = structlog.get_logger("pdw.projection")
# Executions that end without the case writing its end: a supervisor terminated it in the Temporal
# UI or CLI, or a timeout set there ran out. Visibility's names, and what the case's row says then.
ENDED_OUTSIDE = {
    WorkflowExecutionStatus.TERMINATED: ("Terminated", "已在 Temporal 中被终止（未经 pdw 办结）"),
    WorkflowExecutionStatus.TIMED_OUT: ("TimedOut", "已在 Temporal 中超时终止（未经 pdw 办结）"),
    WorkflowExecutionStatus.CANCELED: ("Canceled", "已在 Temporal 中被取消（未经 pdw 办结）"),
}
ENDED_LOOK_BACK = timedelta(days=7)  # the digest runs daily; a week covers days it did not
# A locked table or a slow database fails the write quickly: the workflow retries it a few times,
# then goes on (the next snapshot carries everything anyway).
LOCK_TIMEOUT = "2s"


@lru_cache(maxsize=4)
def _statements(dialect: str) -> tuple[Any, Any, Any, Any, Any]:
    """The write's statements, built once per dialect and executed with parameters: building an
    ``INSERT … ON CONFLICT`` with its ``excluded`` columns for every write cost more of the worker's
    CPU than the database's round trips (bench/README.md, issue 14)."""
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CaseView.__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns]
    stmt = upsert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})
    newer = stmt.on_conflict_do_update(
        index_elements=["case_id"],
        set_={c: stmt.excluded[c] for c in columns if c != "case_id"},
        where=table.c.version < stmt.excluded.version,
    ).returning(table.c.case_id)
    case_id = bindparam("case_id", type_=String)
    return (newer, delete(CaseStep).where(col(CaseStep.case_id) == case_id), insert(CaseStep),
            delete(CaseParty).where(col(CaseParty.case_id) == case_id), insert(CaseParty))


def write_snapshot(s: Session, snap: CaseSnapshot) -> bool:
    """Upsert the case's row and replace its step and party rows; False (nothing written) when the
    stored row is as new or newer."""
    conn = s.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    upsert, delete_steps, insert_steps, delete_parties, insert_parties = _statements(dialect)
    if conn.execute(upsert, snap.model_dump(exclude={"steps", "parties_written"})).first() is None:
        return False
    key = {"case_id": snap.case_id}
    conn.execute(delete_steps, key)
    if snap.steps:
        conn.execute(insert_steps, [{"case_id": snap.case_id, **step.model_dump()} for step in snap.steps])
    if snap.parties_written:  # one round trip less for most writes: a case's parties seldom change
        return True
    conn.execute(delete_parties, key)
    if snap.departments:
        conn.execute(insert_parties, [{"case_id": snap.case_id, "dept_code": d} for d in snap.departments])
    return True


@activity.defn
def project_case(snap: CaseSnapshot) -> bool:
    """One transaction: the case's row, its awaited steps, its parties."""
    with session() as s:
        return write_snapshot(s, snap)


def close_ended_outside(case_id: str, status: WorkflowExecutionStatus, closed_at: datetime) -> bool:
    """Close the row of a case whose execution ended outside pdw: off the inbox and the overdue
    list, its state saying how it ended. False when there is no open row (not a case, or closed)."""
    with session() as s:
        view = s.get(CaseView, case_id)
        if view is None or view.closed_at is not None:
            return False
        status_zh = ENDED_OUTSIDE[status][1]
        view.state = {**view.state, "status": "terminated", "status_zh": status_zh, "awaiting": [], "escalation": 0}
        view.status, view.status_zh, view.awaiting, view.escalation = "terminated", status_zh, [], 0
        view.due_at, view.closed_at, view.version = None, closed_at, view.version + 1
        s.add(view)
        s.execute(delete(CaseStep).where(col(CaseStep.case_id) == case_id))
    return True


async def close_rows_ended_outside(client: Client, now: datetime) -> int:
    """Close the rows of the cases that ended outside pdw in the last week; returns how many. A case
    reset since (a new run under way) is left alone: its new run writes its rows."""
    since = (now - ENDED_LOOK_BACK).isoformat()
    query = "(" + " OR ".join(f"ExecutionStatus = '{name}'" for name, _ in ENDED_OUTSIDE.values()) + ")"
    query += " AND (" + " OR ".join(f"WorkflowType = '{p.workflow}'" for p in PROCESSES) + ")"
    closed, seen = 0, set()
    async for execution in client.list_workflows(f"{query} AND CloseTime > '{since}'"):
        if execution.id in seen:
            continue
        seen.add(execution.id)
        latest = await client.get_workflow_handle(execution.id).describe()
        if latest.status not in ENDED_OUTSIDE or latest.close_time is None:
            continue
        if await asyncio.to_thread(close_ended_outside, execution.id, latest.status, latest.close_time):
            log.info("projection_closed_ended_outside", case_id=execution.id, status=latest.status.name)
            closed += 1
    return closed


def digest_lists(min_level: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The digest's overdue steps (each awaited department with its own rung ≥ ``min_level``, not
    another's in a joint approval) and its stuck cases, from the projection."""
    level = func.max(CaseStep.level).label("level")
    with session() as s:
        rows = s.execute(
            select(col(CaseStep.case_id), col(CaseStep.dept_code), level, col(CaseView.case_type), col(CaseView.due_at))
            .join(CaseView, col(CaseView.case_id) == col(CaseStep.case_id))
            .where(col(CaseStep.level) >= min_level, col(CaseView.closed_at).is_(None))
            .group_by(col(CaseStep.case_id), col(CaseStep.dept_code), col(CaseView.case_type), col(CaseView.due_at))
        ).all()
        stuck = s.execute(select(col(CaseView.case_id), col(CaseView.case_type)).where(
            col(CaseView.stuck).is_(True), col(CaseView.closed_at).is_(None))).all()
    overdue = [{"case_id": r.case_id, "dept": r.dept_code, "case_type": r.case_type, "level": r.level, "due": r.due_at}
               for r in rows]
    return overdue, [{"case_id": r.case_id, "case_type": r.case_type} for r in stuck]
