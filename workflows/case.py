"""What every process's workflow shares: the activity options, what supervisors see (search
attributes and Chinese current details, DESIGN.md §6), awaiting a step under the deadline ladder,
and recording a decision. A workflow class inherits ``CaseWorkflow`` and reads like its article."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import compute_deadline, extend_deadline
    from activities.cases import record_decision, verify_actor
    from activities.notices import send_case_notice
    from models import search
    from models.calendar import Deadline, DeadlineRequest, ExtensionRequest
    from models.cases import (
        ACTION_ZH,
        LEVEL_URGED,
        LEVEL_ZH,
        CaseState,
        DecisionInput,
        DecisionRecord,
        TimelineEntry,
    )
    from models.notices import CaseNotice
    from models.processes import STATE_QUERY
    from models.steps import step_rule

from workflows.deadline import ACTIVITY, DeadlineLadder

__all__ = ["ACTIVITY", "CaseWorkflow", "due_zh"]
OVERDUE = "overdue"


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

    def open_case(self, state: CaseState) -> None:
        self.state = state
        self.ladders: dict[str, DeadlineLadder] = {}
        self.waiting: list[str] = []
        self.busy = False  # a decision is being recorded; validators refuse a second meanwhile
        self.window_open, self.window_claimed = True, False

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

    def dept_name(self, code: str) -> str:
        return self.state.parties.get(code, code)

    def refresh(self) -> None:
        """Search attributes and current details say what is awaited, from whom, until when."""
        st = self.state
        ladders = sorted((self.ladders[step] for step in self.waiting), key=lambda ladder: ladder.deadline.due_at)
        st.awaiting = list(dict.fromkeys(ladder.dept_code for ladder in ladders))
        st.escalation = max((ladder.level for ladder in ladders), default=0)
        levels = {code: max(ladder.level for ladder in ladders if ladder.dept_code == code) for code in st.awaiting}
        if not ladders:
            workflow.upsert_search_attributes(
                [
                    *self._identity(),
                    search.STATUS.value_set(st.status),
                    *self._unset_awaiting(),
                    search.ESCALATION.value_set(0),
                ]
            )
            workflow.set_current_details(st.status_zh)
            return
        soonest = ladders[0]
        st.article = soonest.deadline.article
        workflow.upsert_search_attributes(
            [
                *self._identity(),
                search.STATUS.value_set(OVERDUE if st.escalation >= LEVEL_URGED else st.status),
                search.AWAITING.value_set(st.awaiting[0]),  # the soonest due
                search.AWAITING_ALL.value_set(st.awaiting),
                search.AWAITING_LEVELS.value_set([f"{code}:{level}" for code, level in levels.items()]),
                search.DUE_AT.value_set(soonest.deadline.due_at),
                search.ESCALATION.value_set(st.escalation),
                search.PROVISIONAL_DUE.value_set(any(ladder.deadline.provisional for ladder in ladders)),
            ]
        )
        flag = f"【{LEVEL_ZH[st.escalation]}】" if st.escalation else ""
        what = "；".join(f"{self.dept_name(ladder.dept_code)}{ladder.step_zh}" for ladder in ladders)
        workflow.set_current_details(f"{flag}等待{what}，期限 {due_zh(soonest.deadline)}")

    def _identity(self) -> list[SearchAttributeUpdate[Any]]:
        """The case type and every department involved, whoever started the case (a child too)."""
        return [
            search.CASE_TYPE.value_set(self.case_type),
            search.DEPARTMENTS.value_set(sorted(self.state.parties)),
        ]

    def close(self, status: str, text_zh: str) -> None:
        self.state.status, self.state.status_zh = status, self.status_zh[status]
        self.state.awaiting, self.state.escalation = [], 0
        self.note(text_zh)
        workflow.upsert_search_attributes(
            [search.STATUS.value_set(status), *self._unset_awaiting(), search.ESCALATION.value_set(0)]
        )
        workflow.set_current_details(f"已办结：{text_zh}")

    @staticmethod
    def _unset_awaiting() -> list[SearchAttributeUpdate[Any]]:
        return [search.AWAITING.value_unset(), search.AWAITING_ALL.value_unset(),
                search.AWAITING_LEVELS.value_unset(), search.DUE_AT.value_unset()]

    # ---- steps under a deadline --------------------------------------------------------------------

    async def start_step(self, step: str, dept: str, *, event_at: datetime | None = None) -> Deadline:
        """``dept`` now owes ``step``: compute its deadline from ``event_at`` (default now), once, and
        tell the department (待办) what it owes, under which article, by when."""
        deadline = await workflow.execute_activity(
            compute_deadline, DeadlineRequest(step=step, event_at=event_at or workflow.now()), **ACTIVITY
        )
        if step in self.ladders:  # a step awaited again afresh (a new review round) is a new deadline
            deadline = deadline.model_copy(update={"attempt": self.ladders[step].deadline.attempt + 1})
        self.state.deadlines[step] = deadline
        self.ladders[step] = DeadlineLadder(
            case_id=self.state.case_id,
            case_type=self.case_type,
            step_zh=step_rule(step).zh,
            dept_code=dept,
            deadline=deadline,
            escalate_to=self.escalate_to,
            on_level=lambda _level: self.refresh(),
        )
        await self.ladders[step].announce()
        return deadline

    async def extend_step(self, step: str, original: Deadline, extra_working_days: int) -> Deadline:
        """Move a step's deadline ``extra_working_days`` past ``original``; the ladder starts again."""
        deadline = await workflow.execute_activity(
            extend_deadline, ExtensionRequest(original=original, extra_working_days=extra_working_days), **ACTIVITY
        )
        self.state.deadlines[step] = deadline
        self.ladders[step].move(deadline)
        return deadline

    async def await_step(self, step: str, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` under the step's deadline ladder. Awaiting a step again (a returned
        revision) keeps its deadline and the rungs it reached: the clock does not restart."""
        self.waiting.append(step)
        self.refresh()
        await self.ladders[step].wait(done)
        self.waiting.remove(step)
        self.refresh()

    # ---- periods in which a party may act ------------------------------------------------------

    async def open_window(self, step: str) -> Deadline:
        """Compute, from now, a period in which a party may act, so that it can be told its end."""
        window = await workflow.execute_activity(
            compute_deadline, DeadlineRequest(step=step, event_at=workflow.now()), **ACTIVITY
        )
        self.state.deadlines[step] = window
        return window

    async def await_window(self, step: str) -> bool:
        """Wait out a period in which a party may act but owes nothing (no ladder): True if it
        acted. Its handler calls ``claim_window`` before any ``await`` after ``deciding`` has
        verified the actor, so nothing slips in late."""
        window = self.state.deadlines.get(step) or await self.open_window(step)
        try:
            await workflow.wait_condition(lambda: self.window_claimed, timeout=window.due_at - workflow.now())
        except TimeoutError:
            self.window_open = False
            return False
        return True

    def window_is_open(self) -> bool:
        return self.window_open and not self.window_claimed

    def claim_window(self) -> None:
        # The validator saw the window open, but the period may have run out while the actor was
        # being verified: then the case has moved on and the claim comes too late.
        if not self.window_is_open():
            raise ApplicationError("提出期限已届满，本案已按期满继续办理，不能再提出", type="TooLate")
        self.window_claimed = True

    # ---- decisions -------------------------------------------------------------------------------

    async def record(self, d: DecisionInput, step: str) -> DecisionRecord:
        """Write a decision (once, keyed by case and sequence) and put it in the case's story."""
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
            article=step_rule(step).article,
        )
        self.state.decisions.append(record)
        await workflow.execute_activity(record_decision, record, **ACTIVITY)
        reasons = f"，理由：{d.reasons}" if d.reasons else ""
        basis = f"，依据：{d.basis}" if d.basis else ""
        self.note(f"{d.actor.label()}{ACTION_ZH.get(d.action, d.action)}{reasons}{basis}")
        return record

    async def adopt(self, decided: DecisionRecord) -> None:
        """A decision taken in another case that decides this one (the county's, in a dispute over
        it): it stands among this case's decisions too, once."""
        record = decided.model_copy(update={"case_id": self.state.case_id, "seq": len(self.state.decisions) + 1})
        self.state.decisions.append(record)
        await workflow.execute_activity(record_decision, record, **ACTIVITY)
        reasons = f"，理由：{decided.reasons}" if decided.reasons else ""
        self.note(f"{decided.actor.label()}在案件 {decided.case_id} 中{ACTION_ZH.get(decided.action, decided.action)}{reasons}")

    async def tell(self, dept: str, key: str, kind: str, headline: str, detail: str, article: str) -> None:
        """A department hears of a decision (templates/decision/<kind>), once per case and key."""
        await workflow.execute_activity(
            send_case_notice,
            CaseNotice(case_id=self.state.case_id, case_type=self.case_type, key=key, kind=kind, dept_code=dept,
                       headline=headline, detail=detail, article=article, at=workflow.now()),
            **ACTIVITY,
        )

    @asynccontextmanager
    async def deciding(self, d: DecisionInput) -> AsyncIterator[None]:
        """While an update handler records a decision, validators refuse a second one. First the
        actor is checked against the records (Art. 43): the payload names who acts, but a caller
        could name anyone, so an unregistered person or a role not held fails the update before
        anything is written."""
        self.busy = True
        try:
            try:
                await workflow.execute_activity(verify_actor, d, **ACTIVITY)
            except ActivityError as err:
                raise ApplicationError(getattr(err.cause, "message", str(err)), type="Forbidden") from err
            yield
        finally:
            self.busy = False

    def refuse_if_busy(self) -> None:
        if self.busy:
            raise ValueError("本案正在处理另一项决定，请稍后再试")
