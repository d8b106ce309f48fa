"""The deadline ladder, once for every step of every process.

While a step is awaited: a warning (预警) before its deadline, urging (催办) at it, escalation
(督办) after it, each sent once. A missed deadline is recorded against the department for the
yearly evaluation (Art. 41, Art. 46), and the step goes on being awaited: missing a deadline does
not end a case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.cases import record_deadline_miss
    from activities.failures import BAD_DATA as BAD_DATA_TYPE
    from activities.notices import send_ladder_notice
    from models import search
    from models.calendar import Deadline
    from models.cases import LEVEL_ESCALATED, LEVEL_NONE, LEVEL_URGED, LEVEL_WARNED, MissRecord
    from models.notices import LadderNotice

from workflows.versions import LOCAL_ACTIVITIES, R2026_12, has


class ActivityOptions(TypedDict):
    """The keyword options every ``execute_activity(..., **ACTIVITY)`` passes, typed for the SDK."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


R = TypeVar("R")
A = TypeVar("A")
# Store activities are quick; a database that is down is retried, bad input is not (non_retryable).
# Attempts are bounded (about 5 minutes of them): ``run_activity`` then marks the case stuck.
STUCK_AFTER_ATTEMPTS = 10
ACTIVITY: ActivityOptions = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=STUCK_AFTER_ATTEMPTS),
}
# Issue 14: what goes through ``run_activity`` is the store's quick, idempotent work (keyed rows,
# bounded attempts), so it runs as a local activity, in the worker beside the workflow: no round
# trip through the server per step. Backoffs longer than the threshold wait on a durable timer, not
# in the worker. A case started before keeps regular activities (workflows/versions.py).
# In an update handler: an update is durable only once the workflow task that accepts it is
# committed, and a local activity runs before that commit. So the first thing every handler runs,
# the actor's check (CaseWorkflow.deciding, which writes nothing), is a regular activity: its
# scheduling commits the acceptance, and what the handler writes after it is local again.
# Regular still: revoking grants and telling the public (rare, and their effects reach outside
# the county's departments). A case begun before this release kept the notices regular too, and
# everything an update handler ran.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=2)
REGULAR = frozenset({"tell_applicants", "revoke_misused_grants"})
REGULAR_BEFORE = REGULAR | {"send_ladder_notice", "send_case_notice"}  # a case begun before this release
ACCEPTS_UPDATE = "verify_actor"
# The activity interceptor's type for data the store or the database refuses.
BAD_DATA = BAD_DATA_TYPE
STUCK_RETRY_FIRST, STUCK_RETRY_MAX = timedelta(minutes=30), timedelta(hours=6)
STUCK_MARK = "【卡住】"


def _stuck_failure(err: ActivityError) -> str | None:
    """Why the activity is stuck, in Chinese, or None for a refusal the workflow handles itself
    (BadInput, Forbidden…: non-retryable by design, raised to the caller)."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type != BAD_DATA:
        return None
    if isinstance(cause, ApplicationError) and cause.type == BAD_DATA:
        return cause.message
    message = getattr(cause, "message", "") or type(cause).__name__
    return f"已连续失败 {STUCK_AFTER_ATTEMPTS} 次（{message[:200]}）"


def _flag_stuck(delta: int, text: str) -> None:
    """Count the workflow's stuck activities, keep ``PdwStuck`` true while any is, and tell the case
    (its timeline and current details) when it has one (``CaseWorkflow.activity_stuck``)."""
    inst = workflow.instance()
    count = max(0, getattr(inst, "stuck_activities", 0) + delta)
    inst.stuck_activities = count
    workflow.upsert_search_attributes([search.STUCK.value_set(count > 0)])
    hook = getattr(inst, "activity_stuck", None)
    if callable(hook):
        hook(text, count > 0)


@overload
async def run_activity(activity: Callable[[A], Awaitable[R]], arg: A) -> R: ...
@overload
async def run_activity(activity: Callable[[A], R], arg: A) -> R: ...
async def run_activity(activity: Callable[[A], Any], arg: A) -> Any:
    """``workflow.execute_activity(activity, arg, **ACTIVITY)``, but never silently stuck: an
    activity refused for bad data, or still failing after ``STUCK_AFTER_ATTEMPTS``, marks the case
    (``PdwStuck``, the timeline, in Chinese) and is tried again later (30 minutes, doubling to 6
    hours): the case is neither lost nor hidden, and goes on by itself once the data or the
    database is mended. A refusal the workflow handles (non-retryable BadInput…) is raised as before."""
    name = getattr(activity, "__name__", str(activity))
    wait, stuck = STUCK_RETRY_FIRST, False
    while True:
        try:
            result = await _execute(activity, arg, name)
        except ActivityError as err:
            why = _stuck_failure(err)
            if why is None:
                if stuck:
                    _flag_stuck(-1, f"{name} 不再重试：{getattr(err.cause, 'message', '')}")
                raise
            if not stuck:  # noted once, not at every retry: a long-stuck case's history stays small
                stuck = True
                _flag_stuck(+1, f"{STUCK_MARK}{name} 失败：{why}；{_minutes(wait)}后自动重试，须人工核查")
            try:
                await workflow.sleep(wait)
            except asyncio.CancelledError:  # the case ended meanwhile (withdrawn, cancelled)
                _flag_stuck(-1, f"{name} 不再重试")
                raise
            wait = min(wait * 2, STUCK_RETRY_MAX)
            continue
        if stuck:
            _flag_stuck(-1, f"{name} 已恢复，案件继续办理")
        return result


async def _execute(activity: Callable[[A], Any], arg: A, name: str) -> Any:
    if _regular(name):
        return await workflow.execute_activity(activity, arg, **ACTIVITY)
    projector = getattr(workflow.instance(), "projector", None)  # a case's (workflows/projector.py)
    if projector is not None:
        projector.local_steps += 1
    try:
        return await workflow.execute_local_activity(activity, arg, **ACTIVITY,
                                                     local_retry_threshold=LOCAL_RETRY_THRESHOLD)
    except ApplicationError as err:
        # A local activity's own failure comes unwrapped (only its timeouts and cancellation come
        # as ActivityError): wrapped as a regular activity's, every caller handles both alike.
        raise ActivityError(err.message, scheduled_event_id=0, started_event_id=0, identity="", activity_type=name,
                            activity_id="", retry_state=None) from err
    finally:
        if projector is not None:
            projector.local_steps -= 1


def _regular(name: str) -> bool:
    if not has(LOCAL_ACTIVITIES):
        return True
    in_update = workflow.current_update_info() is not None
    if not has(R2026_12):
        return name in REGULAR_BEFORE or in_update
    return name in REGULAR or (in_update and name == ACCEPTS_UPDATE)


def _minutes(wait: timedelta) -> str:
    minutes = int(wait.total_seconds() // 60)
    return f"{minutes // 60} 小时" if minutes % 60 == 0 else f"{minutes} 分钟"


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
        # An extension may move the deadline, a transfer the holder, while the records below are written.
        deadline, dept = self.deadline, self.dept_code
        self.level = level
        self.on_level(level)
        if level >= LEVEL_URGED:
            await run_activity(
                record_deadline_miss,
                MissRecord(
                    case_id=self.case_id,
                    step=deadline.key,
                    dept_code=dept,
                    due_at=deadline.due_at,
                    statutory=deadline.statutory,
                    article=deadline.article,
                ),
            )
        await self._notify(level, deadline, dept)

    async def announce(self) -> None:
        """待办: the department that now owes the step hears of it at once (PROCESSES.md, Time)."""
        await self._notify(LEVEL_NONE, self.deadline, self.dept_code)

    async def hand_over(self, dept_code: str, deadline: Deadline) -> None:
        """Another department owes the step from now (a transfer, workflows/transfer.py): its own
        deadline, climbed from no rung; the rungs the former holder reached, and its missed deadline,
        stay recorded against it. The new holder hears of the step at once (待办)."""
        self.dept_code, self.deadline, self.level = dept_code, deadline, LEVEL_NONE
        self.moves += 1  # wakes ``wait``, which climbs the new deadline's rungs
        self.on_level(self.level)
        await self.announce()

    async def _notify(self, level: int, deadline: Deadline, dept: str) -> None:
        await run_activity(
            send_ladder_notice,
            LadderNotice(
                case_id=self.case_id,
                case_type=self.case_type,
                step_zh=self.step_zh,
                level=level,
                dept_code=dept,
                deadline=deadline,
                at=workflow.now(),
                escalate_to=self.escalate_to,
            ),
        )
