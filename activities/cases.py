"""Records every process writes: decisions, missed deadlines (Art. 46), audit events."""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.store import insert_ignore, session
from models.cases import DeadlineMiss, Decision, DecisionRecord, MissRecord

log = structlog.get_logger("pdw.activities")


@activity.defn
def record_decision(rec: DecisionRecord) -> None:
    with session() as s:
        insert_ignore(
            s,
            Decision,
            {
                "case_id": rec.case_id,
                "seq": rec.seq,
                "step": rec.step,
                "action": rec.action,
                "person_id": rec.actor.person_id,
                "person_name": rec.actor.name,
                "dept_code": rec.actor.dept_code,
                "role": rec.role,
                "decided_at": rec.decided_at,
                "reasons": rec.reasons,
                "basis": rec.basis,
                "article": rec.article,
            },
            ["case_id", "seq"],
        )
    log.info("decision_recorded", case_id=rec.case_id, action=rec.action, person_id=rec.actor.person_id)


@activity.defn
def record_deadline_miss(miss: MissRecord) -> None:
    """Art. 46 (一)/(八): a missed deadline is recorded against the department for evaluation (Art. 41)."""
    with session() as s:
        inserted = insert_ignore(s, DeadlineMiss, miss.model_dump(), ["case_id", "step"])
    if inserted:
        log.warning("deadline_missed", case_id=miss.case_id, step=miss.step, dept=miss.dept_code)

