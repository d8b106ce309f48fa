"""Moving a running case to a resource's new providing unit (local rule, with Art. 10–11).

When an approved catalog update changes an entry's 提供单位 (Art. 10), new cases go to the new owner
(they read ``DataResource.owner_code`` when they start); a case already running stays with the
department that holds it, unless the center transfers it. A transfer moves the case's source role
(数源部门: the share source's pending step, the correction's verification, the catalog update's
submission, the open-listing source's answer) to the resource's current owner, and is recorded: a
decision of the center with its reasons, a timeline note, an audit event, the case's own record.

The step the new department owes restarts with a **fresh period**, counted from the day after the
transfer, rather than with the time the former holder had left. The measures count a source's time
from its receipt of the file (Art. 20's 7 working days, Art. 23's 5 "自收到之日起", Art. 11's 5), and
a missed deadline is recorded against whoever held the file when it ran out (Art. 41, 46): the new
department receives the file on transfer, so its period starts then, and it is never answerable
for days, or a miss, that were the former holder's. Those stay recorded against the former holder.
Only the center transfers, so no department can buy itself time this way.
"""

from __future__ import annotations

from typing import NamedTuple

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import compute_deadline
    from activities.transfer import check_transfer, record_transfer
    from models.calendar import DeadlineRequest
    from models.cases import DecisionInput, DecisionOutcome
    from models.processes import TRANSFER_UPDATE
    from models.steps import step_rule
    from models.transfer import TransferCheck, TransferRecord

from workflows.case import CaseWorkflow, due_zh, run_activity

TRANSFER_STEP = "case.transfer"
RULE = "本地规定"


class SourceRole(NamedTuple):
    """Where a process names the data's source: its resource, the department acting as source now,
    and the steps that department owes in the process."""

    resource_id: str
    code: str
    steps: tuple[str, ...]


class SourceHeldCase(CaseWorkflow):
    """A case in which the data's source department owes steps; the center may transfer them."""

    def source_role(self) -> SourceRole | None:
        """The source role as it stands, or None while the case has none (not yet opened…)."""
        raise NotImplementedError

    def move_source(self, code: str, name: str) -> None:
        """Name ``code`` as the source in the process's own fields."""
        raise NotImplementedError

    def _owed(self, role: SourceRole) -> list[str]:
        """The source's steps awaited now, from the department holding the role."""
        return [s for s in role.steps if s in self.waiting and self.ladders[s].dept_code == role.code]

    @workflow.update(name=TRANSFER_UPDATE)
    async def transfer(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st, to = self.state, str(d.data["to"]).strip()
            role = self.source_role()
            assert role is not None
            try:  # only the store knows the resource's current owner
                name = await run_activity(check_transfer, TransferCheck(resource_id=role.resource_id, to=to))
            except ActivityError as err:
                raise ApplicationError(getattr(err.cause, "message", str(err)), type="BadInput") from err
            role = self.source_role()  # the case may have moved on while the store was asked
            steps = self._owed(role) if role is not None and not self.closed and self.ending is None else []
            if role is None or not steps:
                raise ApplicationError(f"案件当前为“{st.status_zh}”，已没有等待数源部门办理的环节，不能移交（{RULE}）",
                                       type="BadInput")
            record = await self.record(d, TRANSFER_STEP)
            old_name = self.dept_name(role.code)
            st.parties[to] = name
            self.move_source(to, name)
            fresh = {}
            for step in steps:  # a fresh period from the transfer (module docstring)
                ladder = self.ladders[step]
                deadline = await run_activity(compute_deadline, DeadlineRequest(step=step, event_at=record.decided_at))
                deadline = deadline.model_copy(update={"attempt": ladder.deadline.attempt + 1})
                st.deadlines[step], fresh[step] = deadline, deadline
                await ladder.hand_over(to, deadline)
            what = "；".join(f"{step_rule(s).zh}，期限 {due_zh(fresh[s])}" for s in steps)
            st.facts.append(f"数源部门由{old_name}移交{name}（{RULE}）")
            self.note(f"县大数据管理中心将本案由{old_name}移交数据资源现在的提供单位{name}办理，重新起算期限：{what}")
            await run_activity(record_transfer, TransferRecord(
                case_id=st.case_id, case_type=self.case_type, seq=record.seq, from_code=role.code, to_code=to,
                person_id=d.actor.person_id, reasons=record.reasons or "", at=record.decided_at, steps=steps,
                fresh_due={s: fresh[s].due_at for s in steps}))
            self.refresh()
            await self.tell(role.code, f"{self.case_type}.transferred#{record.seq}", "outcome", "案件已移交新的提供单位",
                            f"数据资源 {role.resource_id} 的提供单位已变更，县大数据管理中心将本案移交{name}办理，"
                            f"本部门无须再办理。理由：{record.reasons}", RULE)
            return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status,
                                   message=f"已移交{name}办理，期限重新起算：{what}")

    @transfer.validator
    def check_transfer_allowed(self, d: DecisionInput) -> None:
        """Only the center, only to another department, only while the source owes a step."""
        st = self.state
        self.refuse_if_busy()
        if d.actor.dept_kind != "center":
            raise PermissionError(f"{d.actor.label()}无权移交：进行中的案件只能由县大数据管理中心移交数据资源的新提供单位（{RULE}）")
        if self.closed or self.ending is not None:
            raise ValueError(f"案件已{st.status_zh}，不能移交")
        to = str(d.data.get("to") or "").strip()
        if not to:
            raise ValueError(f"须写明移交给的部门（to，部门代码）：数据资源现在的提供单位（{RULE}）")
        if not (d.reasons or "").strip():
            raise ValueError(f"移交须写明理由（reason）（{RULE}）")
        role = self.source_role()
        if role is None:
            raise ValueError(f"案件当前为“{st.status_zh}”，没有数源部门办理的环节，不能移交（{RULE}）")
        if to == role.code:
            raise ValueError(f"本案已由{self.dept_name(to)}作为数源部门办理，无须移交")
        if not self._owed(role):
            raise ValueError(f"案件当前为“{st.status_zh}”，没有等待数源部门{self.dept_name(role.code)}办理的环节，"
                             f"不能移交（{RULE}）")
