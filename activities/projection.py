"""Writing the case projection (models/projection.py), and the reads the daily digest makes of it.

Each case's workflow sends a snapshot after it changes (workflows/projector.py); the row is written
only when the snapshot is newer than the one stored, so a retried or late write never rolls a case
back. A regular activity, not a local one (workflows/projector.py says why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col
from temporalio import activity

from activities.store import session
from models.projection import CaseParty, CaseSnapshot, CaseStep, CaseView

# A locked table or a slow database fails the write quickly: the workflow retries it a few times,
# then goes on (the next snapshot carries everything anyway).
LOCK_TIMEOUT = "2s"


def write_snapshot(s: Session, snap: CaseSnapshot) -> bool:
    """Upsert the case's row and replace its step and party rows; False (nothing written) when the
    stored row is as new or newer."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.connection().exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = snap.model_dump(exclude={"steps", "parties_written"})
    table = CaseView.__table__  # type: ignore[attr-defined]
    stmt = upsert(table).values(**values)
    newer = stmt.on_conflict_do_update(
        index_elements=["case_id"],
        set_={k: stmt.excluded[k] for k in values if k != "case_id"},
        where=table.c.version < stmt.excluded.version,
    ).returning(table.c.case_id)
    if s.connection().execute(newer).first() is None:
        return False
    conn = s.connection()
    conn.execute(delete(CaseStep).where(col(CaseStep.case_id) == snap.case_id))
    if snap.steps:
        conn.execute(insert(CaseStep), [{"case_id": snap.case_id, **step.model_dump()} for step in snap.steps])
    if snap.parties_written:  # one round trip less for most writes: a case's parties seldom change
        return True
    conn.execute(delete(CaseParty).where(col(CaseParty.case_id) == snap.case_id))
    if snap.departments:
        conn.execute(insert(CaseParty), [{"case_id": snap.case_id, "dept_code": d} for d in snap.departments])
    return True


@activity.defn
def project_case(snap: CaseSnapshot) -> bool:
    """One transaction: the case's row, its awaited steps, its parties."""
    with session() as s:
        return write_snapshot(s, snap)


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
