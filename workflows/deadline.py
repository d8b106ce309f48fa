"""The deadline ladder, once for every step of every process.

While a step is awaited: a warning (预警) before its deadline, urging (催办) at it, escalation
(督办) after it, each sent once. A missed deadline is recorded against the department for the
yearly evaluation (Art. 41, Art. 46), and the step goes on being awaited: missing a deadline does
not end a case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypedDict

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.cases import record_deadline_miss
    from activities.notices import send_ladder_notice
    from models.calendar import Deadline
    from models.cases import LEVEL_ESCALATED, LEVEL_NONE, LEVEL_URGED, LEVEL_WARNED, MissRecord
    from models.notices import LadderNotice

class ActivityOptions(TypedDict):
    """The keyword options every ``execute_activity(..., **ACTIVITY)`` passes, typed for the SDK."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Store activities are quick; a database that is down is retried, bad input is not (non_retryable).
ACTIVITY: ActivityOptions = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1)),
}


class DeadlineLadder:
    """One step's ladder. ``wait`` may be called again (a returned revision goes back to the same
    step): the deadline and the rungs already reached are kept, so nothing is sent twice."""

    def __init__(
        self,
        *,
        case_id: str,
        case_type: str,
        step_zh: str,
        dept_code: str,
        deadline: Deadline,
        escalate_to: str,
        on_level: Callable[[int], None],
    ) -> None:
        self.case_id, self.case_type, self.step_zh = case_id, case_type, step_zh
        self.dept_code, self.deadline, self.on_level = dept_code, deadline, on_level
        self.escalate_to = escalate_to
        self.level = LEVEL_NONE
        self.moves = 0

    def move(self, deadline: Deadline) -> None:
        """A new deadline for the step (an extension): the rungs still ahead are timed from it; a
        rung already reached is never lowered (nor sent again)."""
        self.deadline = deadline
        self.moves += 1
        self.on_level(self.level)

    def _rungs(self) -> list[tuple[int, datetime]]:
        d = self.deadline
        return [(LEVEL_WARNED, d.warn_at), (LEVEL_URGED, d.due_at), (LEVEL_ESCALATED, d.escalate_at)]

    def _highest_passed(self) -> int:
        now = workflow.now()
        return max([level for level, at in self._rungs() if at <= now] + [self.level])

    async def wait(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()``, climbing the ladder as its rungs come due. A step entered when
        rungs are already past climbs straight to the highest one: only that one is sent."""
        while not done():
            passed = self._highest_passed()
            if passed > self.level:
                await self._climb(passed)
                continue
            upcoming = [at for level, at in self._rungs() if level > self.level]
            if not upcoming:
                await workflow.wait_condition(self._done_or_moved(done))
                continue
            try:
                await workflow.wait_condition(self._done_or_moved(done), timeout=upcoming[0] - workflow.now())
            except TimeoutError:
                continue

    def _done_or_moved(self, done: Callable[[], bool]) -> Callable[[], bool]:
        moves = self.moves
        return lambda: done() or self.moves != moves

    async def _climb(self, level: int) -> None:
        deadline = self.deadline  # an extension may move it while the records below are written
        self.level = level
        self.on_level(level)
        if level >= LEVEL_URGED:
            await workflow.execute_activity(
                record_deadline_miss,
                MissRecord(
                    case_id=self.case_id,
                    step=deadline.key,
                    dept_code=self.dept_code,
                    due_at=deadline.due_at,
                    statutory=deadline.statutory,
                    article=deadline.article,
                ),
                **ACTIVITY,
            )
        await self._notify(level, deadline)

    async def announce(self) -> None:
        """待办: the department that now owes the step hears of it at once (PROCESSES.md, Time)."""
        await self._notify(LEVEL_NONE, self.deadline)

    async def _notify(self, level: int, deadline: Deadline) -> None:
        await workflow.execute_activity(
            send_ladder_notice,
            LadderNotice(
                case_id=self.case_id,
                case_type=self.case_type,
                step_zh=self.step_zh,
                level=level,
                dept_code=self.dept_code,
                deadline=deadline,
                at=workflow.now(),
                escalate_to=self.escalate_to,
            ),
            **ACTIVITY,
        )
