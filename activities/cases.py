"""Records every process writes: decisions, missed deadlines (Art. 46), audit events; and the check
that whoever decides is who the records say (Art. 43)."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import StoreError, insert_ignore, resolve_actor, session
from models.cases import DeadlineMiss, Decision, DecisionInput, DecisionRecord, MissRecord
from models.departments import ROLE_ZH

log = structlog.get_logger("pdw.activities")
PUBLIC = "public"  # the person id and department kind of a member of the public (Art. 32)


def forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, type="Forbidden", non_retryable=True)


@activity.defn
def verify_actor(d: DecisionInput) -> None:
    """Art. 43: only a person registered with the center decides, for the department and in the
    roles the records give them now, whatever the payload claims. A member of the public only
    objects to a source's answer (Art. 32)."""
    a = d.actor
    if a.person_id == PUBLIC and a.dept_kind == PUBLIC:
        if d.action != "object":
            raise forbidden(f"公众只能对数源部门的答复提出复核申请（第三十二条），“{d.action}”须由已备案人员办理（第四十三条）")
        return
    try:
        held = resolve_actor(a.person_id)
    except StoreError:
        raise forbidden(
            f"操作人“{a.person_id}”未登记或目前不担任任何部门的备案角色，不能办理案件（第四十三条）"
        ) from None
    if (a.dept_code, a.dept_kind, a.dept_name) != (held.dept_code, held.dept_kind, held.dept_name):
        raise forbidden(
            f"操作人“{a.person_id}”备案在{held.dept_name}（{held.dept_code}），不能以“{a.dept_code}”的名义办理案件（第四十三条）"
        )
    if a.name != held.name:  # the name is what the decision record and the timeline show
        raise forbidden(f"操作人“{a.person_id}”备案姓名为{held.name}，不能以“{a.name}”的名义办理案件（第四十三条）")
    if sorted(a.roles) != sorted(held.roles):  # the decision records the roles it was taken in
        zh = {str(role): name for role, name in ROLE_ZH.items()}
        claimed = "、".join(zh.get(r, r) for r in a.roles) or "（无）"
        held_zh = "、".join(zh.get(r, r) for r in held.roles)
        raise forbidden(f"操作人{held.label()}目前担任{held_zh}，而决定中写的是{claimed}：须按备案角色办理（第四十三条）")


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

