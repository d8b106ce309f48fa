"""What every process's workflow shares: the activity options, what supervisors see (search
attributes and Chinese current details, DESIGN.md §6), awaiting a step under the deadline ladder,
and recording a decision. A workflow class inherits ``CaseWorkflow`` and reads like its article."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import compute_deadline, extend_deadline, recompute_deadlines
    from activities.cases import record_decision, verify_actor
    from activities.notices import open_step, send_case_notice
    from models import search
    from models.calendar import CalendarChange, Deadline, DeadlineRequest, ExtensionRequest, RecomputeRequest
    from models.cases import (
        ACTION_ZH,
        LEVEL_URGED,
        LEVEL_ZH,
        CaseState,
        DecisionInput,
        DecisionOutcome,
        DecisionRecord,
        TimelineEntry,
    )
    from models.departments import PersonRole
    from models.notices import CaseNotice, StepOpening
    from models.processes import CALENDAR_SIGNAL, END_UPDATE, STATE_QUERY
    from models.steps import STEP_RULES, step_rule

from workflows.attributes import Attributes
from workflows.deadline import ACTIVITY, STUCK_MARK, DeadlineLadder, run_activity
from workflows.projector import Projector
from workflows.versions import R2026_12_2, has

__all__ = ["ACTIVITY", "HEADS", "CaseWorkflow", "due_zh", "run_activity"]
OVERDUE = "overdue"
R = TypeVar("R")
# A department's 负责人 (Art. 23 and elsewhere): its 主要负责人 or its 分管领导.
HEADS = frozenset({PersonRole.first_responsible.value, PersonRole.leader_in_charge.value})
# Local rule (the measures have none): the starter withdraws while nobody else has decided; the
# center's leaders cancel a case registered in error, except while it is before the county
# government or the city bureau.
ENDED_ZH = {"withdrawn": "已撤回", "cancelled": "已撤销"}


def due_zh(deadline: Deadline) -> str:
    d = deadline.due_date
    kind = "法定" if deadline.statutory else "本地默认"
    provisional = "，暂定" if deadline.provisional else ""
    return f"{d.year}年{d.month}月{d.day}日24时（{deadline.article}，{kind}期限{provisional}）"


class CaseWorkflow:
    """Base of every process's workflow. Subclasses set ``case_type`` and ``status_zh`` and call
    ``open_case`` from their ``@workflow.init``."""

    case_type: ClassVar[str]
    status_zh: ClassVar[dict[str, str]]
    escalate_to: ClassVar[str] = "center"

    def open_case(self, state: CaseState, *, starter_dept: str | None = None) -> None:
        """``starter_dept``: the department that started the case and may withdraw it; None for a
        case the public started (only the center may end it, by cancelling)."""
        self.state = state
        self.starter_dept = starter_dept
        self.ending: DecisionRecord | None = None
        self.closed = False
        self.ladders: dict[str, DeadlineLadder] = {}
        self.waiting: list[str] = []
        self.busy = False  # a decision is being recorded; validators refuse a second meanwhile
        self.window_open, self.window_claimed = True, False
        self.attributes = Attributes()  # search-attribute upserts, one per activation (issue 14)
        self.projector = Projector(self)  # the case projection (issue 14), started by run_case

    # ---- where the case stands ------------------------------------------------------------------

    @workflow.query(name=STATE_QUERY)
    def state_query(self) -> CaseState:
        """The full case state: each process's own state model, with its own fields."""
        return self.state

    def set_status(self, status: str) -> None:
        self.state.status, self.state.status_zh = status, self.status_zh[status]
        self.refresh()

    def note(self, text: str) -> None:
        self.state.timeline.append(TimelineEntry(at=workflow.now(), text=text))
        self.projector.mark()

    def activity_stuck(self, text: str, stuck: bool) -> None:
        """``run_activity``: a step keeps failing (or has recovered). Staff read why in the timeline
        and ``pdw stuck``; supervisors find the case by ``PdwStuck`` and its current details."""
        self.note(text)
        if not stuck or text.startswith(STUCK_MARK):  # another step's recovery leaves this one's reason
            self.state.stuck_zh = text if stuck else None
        self.refresh()

    def dept_name(self, code: str) -> str:
        return self.state.parties.get(code, code)

    def refresh(self) -> None:
        """Search attributes and current details say what is awaited, from whom, until when."""
        self.projector.mark()
        st = self.state
        ladders = sorted((self.ladders[step] for step in self.waiting), key=lambda ladder: ladder.deadline.due_at)
        st.awaiting = list(dict.fromkeys(ladder.dept_code for ladder in ladders))
        st.escalation = max((ladder.level for ladder in ladders), default=0)
        levels = {code: max(ladder.level for ladder in ladders if ladder.dept_code == code) for code in st.awaiting}
        if not ladders:
            self.attributes.upsert(
                [
                    *self._identity(),
                    search.STATUS.value_set(st.status),
                    *self._unset_awaiting(),
                    search.ESCALATION.value_set(0),
                ]
            )
            workflow.set_current_details(self._stuck_flag() + st.status_zh)
            return
        soonest = ladders[0]
        st.article = soonest.deadline.article
        self.attributes.upsert(
            [
                *self._identity(),
                search.STATUS.value_set(OVERDUE if st.escalation >= LEVEL_URGED else st.status),
                search.AWAITING.value_set(st.awaiting[0]),  # the soonest due
                search.AWAITING_ALL.value_set(st.awaiting),
                search.AWAITING_LEVELS.value_set([f"{code}:{level}" for code, level in levels.items()]),
                search.AWAITING_ZH.value_set("；".join(
                    self.dept_name(code) + (f"（{LEVEL_ZH[level]}）" if level else "") for code, level in levels.items()
                )),
                search.DUE_AT.value_set(soonest.deadline.due_at),
                search.ESCALATION.value_set(st.escalation),
                search.PROVISIONAL_DUE.value_set(any(ladder.deadline.provisional for ladder in ladders)),
            ]
        )
        flag = self._stuck_flag() + (f"【{LEVEL_ZH[st.escalation]}】" if st.escalation else "")
        what = "；".join(f"{self.dept_name(ladder.dept_code)}{ladder.step_zh}" for ladder in ladders)
        workflow.set_current_details(f"{flag}等待{what}，期限 {due_zh(soonest.deadline)}")

    def _stuck_flag(self) -> str:
        return f"{self.state.stuck_zh}\n" if self.state.stuck_zh else ""

    def _identity(self) -> list[SearchAttributeUpdate[Any]]:
        """The case type and every department involved, whoever started the case (a child too)."""
        return [
            search.CASE_TYPE.value_set(self.case_type),
            search.DEPARTMENTS.value_set(sorted(self.state.parties)),
        ]

    def close(self, status: str, text_zh: str) -> None:
        self.closed = True
        self.waiting.clear()
        self.state.status, self.state.status_zh = status, {**ENDED_ZH, **self.status_zh}[status]
        self.state.awaiting, self.state.escalation = [], 0
        self.note(text_zh)
        self.attributes.upsert(
            [search.STATUS.value_set(status), *self._unset_awaiting(), search.ESCALATION.value_set(0)], now=True
        )
        workflow.set_current_details(f"已办结：{text_zh}")

    @staticmethod
    def _unset_awaiting() -> list[SearchAttributeUpdate[Any]]:
        return [search.AWAITING.value_unset(), search.AWAITING_ALL.value_unset(),
                search.AWAITING_LEVELS.value_unset(), search.AWAITING_ZH.value_unset(), search.DUE_AT.value_unset()]

    # ---- steps under a deadline --------------------------------------------------------------------

    async def start_step(
        self, step: str, dept: str, *, event_at: datetime | None = None, remaining: int | None = None,
        working_days: int | None = None, escalate_to: str | None = None,
    ) -> Deadline:
        """``dept`` now owes ``step``: compute its deadline from ``event_at`` (default now), once, and
        tell the department (待办) what it owes, under which article, by when. ``remaining``: the
        working days left of the period when the file came back (Art. 11), not the rule's;
        ``working_days``: the period a decision set (Art. 46: the order's), not the rule's;
        ``escalate_to``: whose leaders a 督办 of this step reaches besides the department's, where not
        the process's (Art. 46: the ordering authority's)."""
        request = DeadlineRequest(step=step, event_at=event_at or workflow.now(), remaining_working_days=remaining,
                                  working_days=working_days)
        # A step awaited again afresh (a new review round) is a new deadline.
        attempt = self.ladders[step].deadline.attempt + 1 if step in self.ladders else 0
        escalate_to = escalate_to or self.escalate_to
        told = has(R2026_12_2)  # one activity computes the deadline and writes the 待办
        if told:
            deadline = await run_activity(open_step, StepOpening(
                request=request, attempt=attempt, case_id=self.state.case_id, case_type=self.case_type,
                step_zh=step_rule(step).zh, dept_code=dept, at=workflow.now(), escalate_to=escalate_to))
        else:
            deadline = await run_activity(compute_deadline, request)
            deadline = deadline.model_copy(update={"attempt": attempt}) if attempt else deadline
        self.state.deadlines[step] = deadline
        self.ladders[step] = DeadlineLadder(
            case_id=self.state.case_id,
            case_type=self.case_type,
            step_zh=step_rule(step).zh,
            dept_code=dept,
            deadline=deadline,
            escalate_to=escalate_to,
            on_level=lambda _level: self.refresh(),
        )
        if not told:
            await self.ladders[step].announce()
        return deadline

    async def extend_step(self, step: str, extra_working_days: int) -> Deadline:
        """Move a step's deadline to ``extra_working_days`` past its original one (the whole
        extension); the rungs ahead are timed from it, those reached stay reached."""
        deadline = await run_activity(
            extend_deadline,
            ExtensionRequest(original=self.state.deadlines[step], extra_working_days=extra_working_days),
        )
        self.state.deadlines[step] = deadline
        self.ladders[step].move(deadline)
        return deadline

    @workflow.signal(name=CALENDAR_SIGNAL)
    async def calendar_changed(self, change: CalendarChange) -> None:
        """The working-day calendar changed (a county override, an official year loaded): every
        deadline the changed days can move is counted again and its ladder moved; a rung already
        reached stays reached. The same change told twice moves nothing twice."""
        if change.key in self.state.calendar_changes:
            return
        self.state.calendar_changes.append(change.key)
        # Only what still runs: a step awaited now, or a period (no ladder) not yet over. A step
        # already done keeps the deadline it was done under.
        now = workflow.now()
        steps = [key for key, d in self.state.deadlines.items()
                 if key in self.waiting or (key not in self.ladders and d.due_at > now)]
        if not steps:
            return
        before = [self.state.deadlines[s] for s in steps]
        counted = await run_activity(
            recompute_deadlines, RecomputeRequest(deadlines=before, first=change.first, last=change.last),
        )
        for step, old, new in zip(steps, before, counted, strict=True):
            if new == old or self.state.deadlines[step] is not old:  # unchanged, or extended meanwhile
                continue
            self.state.deadlines[step] = new
            if step in self.ladders:
                self.ladders[step].move(new)
            self.deadline_moved(step, new)
            flag = "（暂定）" if new.provisional else ""
            who = self.dept_name(self.ladders[step].dept_code) if step in self.ladders else ""
            self.note(f"工作日历变更（{change.source_zh}，{change.by}）：{who}{step_rule(new.step).zh}期限由 "
                      f"{old.due_date} 改为 {new.due_date}{flag}")
        self.refresh()

    async def await_step(self, step: str, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` under the step's deadline ladder. Awaiting a step again (a returned
        revision) keeps its deadline and the rungs it reached: the clock does not restart."""
        self.waiting.append(step)
        self.refresh()
        await self.ladders[step].wait(done)
        self.waiting.remove(step)
        self.refresh()

    def deadline_moved(self, step: str, deadline: Deadline) -> None:
        """A calendar change moved ``step``'s deadline: a process that shows it elsewhere follows."""

    # ---- periods in which a party may act ------------------------------------------------------

    async def open_window(self, step: str) -> Deadline:
        """Compute, from now, a period in which a party may act, so that it can be told its end."""
        window = await run_activity(
            compute_deadline, DeadlineRequest(step=step, event_at=workflow.now()),
        )
        self.state.deadlines[step] = window
        return window

    async def await_window(self, step: str) -> bool:
        """Wait out a period in which a party may act but owes nothing (no ladder): True if it
        acted. Its handler calls ``claim_window`` before any ``await`` after ``deciding`` has
        verified the actor, so nothing slips in late."""
        window = self.state.deadlines.get(step) or await self.open_window(step)
        while not self.window_claimed:
            left = window.due_at - workflow.now()
            if left.total_seconds() <= 0:
                self.window_open = False
                return False
            try:  # a calendar change may move the window's end meanwhile
                await workflow.wait_condition(self._claimed_or_moved(step, window), timeout=left)
            except TimeoutError:
                pass
            window = self.state.deadlines[step]
        return True

    def _claimed_or_moved(self, step: str, window: Deadline) -> Callable[[], bool]:
        return lambda: self.window_claimed or self.state.deadlines[step] is not window

    def window_is_open(self) -> bool:
        return self.window_open and not self.window_claimed

    def claim_window(self) -> None:
        # The validator saw the window open, but the period may have run out while the actor was
        # being verified: then the case has moved on and the claim comes too late.
        if not self.window_is_open():
            raise ApplicationError("提出期限已届满，本案已按期满继续办理，不能再提出", type="TooLate")
        self.window_claimed = True

    # ---- ending a case before its outcome (local rule) ----------------------------------------------

    async def run_case(self, body: Coroutine[Any, Any, R]) -> R | None:
        """Run the process until its outcome, or until it is withdrawn or cancelled: then every step
        and ladder stops where it stands, the parties are told, and None is returned. The case's
        projection is written before the workflow completes."""
        self.projector.start()
        try:
            result = await self._run_case(body)
        except FailureError:
            # A case failing (bad data at its opening) is written as ended too, and leaves no write
            # pending as it fails: the time-skipping test server's clock stops on such a write. (A
            # bug in our code fails only the workflow task, retried: that case is not ended.)
            await self.projector.finish()
            raise
        await self.projector.finish()
        return result

    async def _run_case(self, body: Coroutine[Any, Any, R]) -> R | None:
        task = asyncio.ensure_future(body)
        await workflow.wait_condition(lambda: task.done() or self.ending is not None)
        if task.done():
            return task.result()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        ending = self.ending
        assert ending is not None
        status = "withdrawn" if ending.action == "withdraw" else "cancelled"
        await self.record_end(status)
        text = f"{ENDED_ZH[status]}：{ending.actor.label()}{ACTION_ZH[ending.action]}，理由：{ending.reasons}"
        for dept in self.state.parties:
            await self.tell(dept, f"{self.case_type}.{status}", "outcome", f"案件{ENDED_ZH[status]}", text, "本地规定")
        self.close(status, f"案件{ENDED_ZH[status]}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return None

    async def record_end(self, status: str) -> None:
        """Write the case's own row as withdrawn or cancelled; each process says how."""
        raise NotImplementedError

    def end_blocked_zh(self) -> str | None:
        """Why the case cannot be cancelled now (it is before the county or the city), or None."""
        return None

    @workflow.update(name=END_UPDATE)
    async def end(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            if self.closed or self.ending is not None:
                raise ApplicationError(f"案件已{self.state.status_zh}，不能再{ACTION_ZH[d.action]}", type="BadInput")
            self.ending = await self.record(d, f"case.{d.action}")
        return DecisionOutcome(case_id=self.state.case_id, action=d.action, status=self.state.status,
                               message=f"案件{ENDED_ZH['withdrawn' if d.action == 'withdraw' else 'cancelled']}，"
                               "各方将收到通知")

    @end.validator
    def check_end(self, d: DecisionInput) -> None:
        """Local rule: who may withdraw or cancel, and when."""
        st = self.state
        self.refuse_if_busy()
        if type(self).record_end is CaseWorkflow.record_end:
            raise ValueError(f"{self.end_blocked_zh() or '本类案件随其所属案件办理'}，不能撤回或撤销（本地规定）")
        if self.closed or self.ending is not None:
            raise ValueError(f"案件已{st.status_zh}，不能再{ACTION_ZH.get(d.action, d.action)}")
        if not (d.reasons or "").strip():
            raise ValueError(f"{ACTION_ZH.get(d.action, d.action)}须写明理由（reasons）（本地规定）")
        if d.action == "withdraw":
            if self.starter_dept is None or d.actor.dept_code != self.starter_dept:
                raise PermissionError(f"{d.actor.label()}无权撤回：只有提出本案的部门可以撤回（本地规定）")
            if any(r.actor.dept_code != self.starter_dept for r in st.decisions):
                raise ValueError("已有其他部门作出决定，不能撤回：可请县大数据管理中心撤销（本地规定）")
        elif d.action == "cancel":
            if d.actor.dept_kind != "center" or not HEADS & set(d.actor.roles):
                raise PermissionError(f"{d.actor.label()}无权撤销：须由县大数据管理中心的主要负责人或分管领导撤销（本地规定）")
            blocked = self.end_blocked_zh()
            if blocked:
                raise ValueError(f"{blocked}，现在不能撤销（本地规定）")
        else:
            raise ValueError(f"操作“{d.action}”无效：结束案件的操作为 withdraw（撤回）、cancel（撤销）")

    def unknown_action(self, action: str, actions_zh: str) -> ValueError:
        """A decision's action this case does not know: its own actions, and withdraw and cancel
        where the case has them (local rule)."""
        ending = []
        if type(self).record_end is not CaseWorkflow.record_end:
            if self.starter_dept is not None:
                ending.append("withdraw（提出部门撤回）")
            if self.end_blocked_zh() is None:
                ending.append("cancel（中心负责人撤销）")
        also = f"；另可 {'、'.join(ending)}（本地规定）" if ending else ""
        return ValueError(f"操作“{action}”无效：{actions_zh}{also}")

    # ---- decisions -------------------------------------------------------------------------------

    async def record(self, d: DecisionInput, step: str) -> DecisionRecord:
        """Write a decision (once, keyed by case and sequence) and put it in the case's story.
        ``step``: a step of models/steps.py, or ``case.withdraw`` / ``case.cancel``."""
        record = DecisionRecord(
            case_id=self.state.case_id,
            seq=len(self.state.decisions) + 1,
            step=step,
            action=d.action,
            actor=d.actor,
            role=",".join(d.actor.roles),
            decided_at=workflow.now(),
            reasons=d.reasons,
            basis=d.basis,
            article=step_rule(step).article if step in STEP_RULES else "本地规定",
        )
        self.state.decisions.append(record)
        await run_activity(record_decision, record)
        reasons = f"，理由：{d.reasons}" if d.reasons else ""
        basis = f"，依据：{d.basis}" if d.basis else ""
        self.note(f"{d.actor.label()}{ACTION_ZH.get(d.action, d.action)}{reasons}{basis}")
        return record

    async def adopt(self, decided: DecisionRecord) -> None:
        """A decision taken in another case that decides this one (the county's, in a dispute over
        it): it stands among this case's decisions too, once."""
        record = decided.model_copy(update={"case_id": self.state.case_id, "seq": len(self.state.decisions) + 1})
        self.state.decisions.append(record)
        await run_activity(record_decision, record)
        reasons = f"，理由：{decided.reasons}" if decided.reasons else ""
        self.note(f"{decided.actor.label()}在案件 {decided.case_id} 中{ACTION_ZH.get(decided.action, decided.action)}{reasons}")

    async def tell(self, dept: str, key: str, kind: str, headline: str, detail: str, article: str) -> None:
        """A department hears of a decision (templates/decision/<kind>), once per case and key."""
        await run_activity(send_case_notice, self.case_notice(dept, key, kind, headline, detail, article))

    def case_notice(self, dept: str, key: str, kind: str, headline: str, detail: str, article: str) -> CaseNotice:
        """What ``tell`` sends; an activity that writes the outcome may carry it instead (share's grant)."""
        return CaseNotice(case_id=self.state.case_id, case_type=self.case_type, key=key, kind=kind, dept_code=dept,
                          headline=headline, detail=detail, article=article, at=workflow.now())

    @asynccontextmanager
    async def deciding(self, d: DecisionInput) -> AsyncIterator[None]:
        """While an update handler records a decision, validators refuse a second one. First the
        actor is checked against the records (Art. 43): the payload names who acts, but a caller
        could name anyone, so an unregistered person or a role not held fails the update before
        anything is written. That check is a regular activity: its scheduling commits the update's
        acceptance, and nothing the case shows may change before (workflows/deadline.py, ACCEPTS_UPDATE)."""
        self.busy = True
        try:
            try:
                await run_activity(verify_actor, d)
            except ActivityError as err:
                raise ApplicationError(getattr(err.cause, "message", str(err)), type="Forbidden") from err
            yield
        finally:
            self.busy = False

    def refuse_if_busy(self) -> None:
        if self.busy:
            raise ValueError("本案正在处理另一项决定，请稍后再试")
