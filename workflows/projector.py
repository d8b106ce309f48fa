"""Keeping the case projection current from inside a case (issue 14; models/projection.py).

The case marks itself dirty when it changes (``CaseWorkflow.refresh``, ``close``, ``note``); one
coroutine per case snapshots it and writes the snapshot through an activity, coalescing the
changes made meanwhile. A failing write never blocks nor fails the case: a few quick attempts,
then a warning, and the next snapshot carries everything anyway. Cases started before this code
(neither ``case-projection`` nor a later release's marker in their history, workflows/versions.py)
do not project: their replay stays the same."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.projection import project_case
    from models.projection import CaseSnapshot, StepSnapshot

from workflows.versions import PROJECTION, R2026_12, R2026_12_3, has

WRITE_TIMEOUT = timedelta(seconds=5)
WRITE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3)
# The closing snapshot has no successor to carry it: tried for about three minutes, still bounded.
CLOSING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                            maximum_attempts=10)
# After a failed write, the case writes itself again on a durable timer even if nothing changes
# (this release): a row is never left behind for the days a case may wait on a deadline.
REWRITE_FIRST, REWRITE_MAX = timedelta(minutes=1), timedelta(hours=1)
VERSION_STEP = 1000  # versions per history length: a workflow task makes far fewer writes


class Projector:
    """``start`` once at the top of the workflow's run; ``mark`` on every change; ``finish`` before
    the run returns. Under this release a write is a local activity in the workflow task that made
    the change, so an update's answer normally leaves after the row is written (``_settled`` says
    when not); a case begun before writes with a regular activity. The API's decide waits up to 3 s
    for the row either way (service/cases.py, ``caught_up``)."""

    def __init__(self, case: Any) -> None:
        self.case = case  # a CaseWorkflow (not imported: workflows/case.py imports this module)
        self.on = False
        self.dirty = False
        self.version = 0
        self.written = 0
        self.closed_at: Any = None
        self.ended = False
        self.parties_written: list[str] | None = None  # the departments the last successful write stored
        # This release (workflows/versions.py): writes are local activities, one per workflow task
        # (a write waits while any of the case's local activities is under way, workflows/deadline.py,
        # so opening a case, its deadline and its 待办 make one write), and a failed one is tried again.
        self.local = False
        self.local_steps = 0
        # pdw-2026.12.3: a write first lets what the change woke run (``_settled``).
        self.settle = False

    def start(self) -> None:
        if self.on or not has(PROJECTION):
            return
        self.on, self.dirty = True, True
        self.local = has(R2026_12)
        self.settle = self.local and has(R2026_12_3)
        asyncio.ensure_future(self._run())

    def mark(self) -> None:
        self.dirty = True

    async def finish(self) -> None:
        """The workflow is about to complete: its row says closed even where the process ended
        without ``close`` (no step is awaited any more), and is written before it completes."""
        if self.on and not self.case.closed:
            self.ended = True
            self.mark()
        await self.flush()

    async def flush(self) -> None:
        """Wait until the case as it stands now is written (or its write has failed): not for the
        changes made meanwhile, which the case may go on making for a while."""
        if not self.on:
            return
        target = self.version + 1 if self.dirty else self.version
        await workflow.wait_condition(lambda: self.written >= target)

    async def _run(self) -> None:
        rewrite: timedelta | None = None  # set after a failed write: when to write again unasked
        while True:
            try:
                await workflow.wait_condition(self._due, timeout=rewrite)
            except TimeoutError:
                self.dirty = True
                continue
            if self.settle and not await self._settled():
                continue
            self.dirty = False
            self.version = self._next_version()
            try:
                snap = self.snapshot(self.version)
            except Exception as err:  # noqa: BLE001 - a defect here must not hold the case (finish, flush)
                workflow.logger.error("projection_snapshot_failed", extra={"error": repr(err)[:200]})
                self.written = self.version
                continue
            try:
                await self._write(snap)
                self.parties_written, rewrite = snap.departments, None
            except FailureError as err:  # ActivityError, or a timeout or cancellation
                workflow.logger.warning("projection_write_failed", extra={
                    "case_id": snap.case_id, "version": snap.version, "error": str(err.cause or err)[:200]})
                if self.local:
                    rewrite = min(rewrite * 2, REWRITE_MAX) if rewrite else REWRITE_FIRST
            self.written = self.version

    def _next_version(self) -> int:
        """One more than the last; under this release at least the history's length times 1,000, so
        that a workflow task lost after its local write (kill -9) and run again, with a longer
        history, writes a newer version than the lost one, not the same number with other content."""
        if not self.local:
            return self.version + 1
        return max(self.version + 1, workflow.info().get_current_history_length() * VERSION_STEP)

    def _due(self) -> bool:
        return self.dirty and not (self.local and self.local_steps)

    async def _settled(self) -> bool:
        """pdw-2026.12.3: let whatever the change woke run first (one more pass of the workflow's
        conditions: the handler's or the process's next steps). False when that started a local
        activity: its end brings the case back here, and one write carries both changes. So an
        unconditional approval (the decision, then the grant and the closing, in one task) is
        written once, at the closing, not also in between: each write is a local activity, several
        milliseconds of the worker's CPU (bench/README.md). The update's answer goes with the
        task's completion, after the write, unless the activity that followed is retried long
        enough for the task to complete meanwhile (a backoff over 2 s, a task heartbeat): then the
        decision reaches the row when that activity ends, as everything else it changed does."""
        await workflow.wait_condition(lambda: True)
        return self._due()

    async def _write(self, snap: CaseSnapshot) -> None:
        retry = CLOSING_RETRY if snap.closed_at else WRITE_RETRY
        if self.local:
            # A local activity writes before the workflow task that took the snapshot is committed.
            # A task lost (kill -9) runs again from the committed history, with a newer version
            # (``_next_version``), so its write replaces the lost one's. What a lost task could have
            # shown that never happened is an update's effect before the update was durable: none
            # is made before its handler's first (regular) activity (workflows/deadline.py,
            # ACCEPTS_UPDATE), so none is in a snapshot before then.
            await workflow.execute_local_activity(project_case, snap, start_to_close_timeout=WRITE_TIMEOUT,
                                                  retry_policy=retry)
        else:  # a case begun before: a regular activity, scheduled by a committed task
            await workflow.execute_activity(project_case, snap, start_to_close_timeout=WRITE_TIMEOUT,
                                            retry_policy=retry)

    def snapshot(self, version: int) -> CaseSnapshot:
        case, st = self.case, self.case.state
        closed = bool(case.closed) or self.ended
        if closed and self.closed_at is None:
            self.closed_at = workflow.now()
        ladders = [] if closed else [(step, case.ladders[step]) for step in dict.fromkeys(case.waiting)]
        ladders.sort(key=lambda pair: pair[1].deadline.due_at)
        steps = [StepSnapshot(step=step, dept_code=ladder.dept_code, step_zh=ladder.step_zh,
                              article=ladder.deadline.article, due_at=ladder.deadline.due_at, level=ladder.level,
                              provisional=ladder.deadline.provisional) for step, ladder in ladders]
        return CaseSnapshot(
            case_id=st.case_id, case_type=case.case_type, status=st.status, status_zh=st.status_zh,
            departments=sorted(st.parties), awaiting=list(st.awaiting), escalation=st.escalation,
            due_at=steps[0].due_at if steps else None, provisional=any(s.provisional for s in steps),
            stuck=getattr(case, "stuck_activities", 0) > 0, details=workflow.get_current_details(),
            state=st.model_dump(mode="json"), opened_at=workflow.info().start_time,
            last_event_at=max((e.at for e in st.timeline), default=None), closed_at=self.closed_at,
            version=version, steps=steps, parties_written=sorted(st.parties) == self.parties_written,
        )
