"""Keeping the case projection current from inside a case (issue 14; models/projection.py).

The case marks itself dirty when it changes (``CaseWorkflow.refresh``, ``close``, ``note``); one
coroutine per case snapshots it and writes the snapshot through an activity, coalescing the
changes made meanwhile. A failing write never blocks nor fails the case: a few quick attempts,
then a warning, and the next snapshot carries everything anyway. Cases started before this code
(no ``case-projection`` marker in their history) do not project: their replay stays the same."""

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

PATCH = "case-projection"
WRITE_TIMEOUT = timedelta(seconds=5)
WRITE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3)
# The closing snapshot has no successor to carry it: tried for about three minutes, still bounded.
CLOSING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                            maximum_attempts=10)


class Projector:
    """``start`` once at the top of the workflow's run; ``mark`` on every change; ``finish`` before
    the run returns. (A decision does not wait for its write: the API's decide does, service/cases.py.)"""

    def __init__(self, case: Any) -> None:
        self.case = case  # a CaseWorkflow (not imported: workflows/case.py imports this module)
        self.on = False
        self.dirty = False
        self.version = 0
        self.written = 0
        self.closed_at: Any = None
        self.ended = False
        self.parties_written: list[str] | None = None  # the departments the last successful write stored

    def start(self) -> None:
        if self.on or not workflow.patched(PATCH):
            return
        self.on, self.dirty = True, True
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
        while True:
            await workflow.wait_condition(lambda: self.dirty)
            self.dirty = False
            self.version += 1
            try:
                snap = self.snapshot(self.version)
            except Exception as err:  # noqa: BLE001 - a defect here must not hold the case (finish, flush)
                workflow.logger.error("projection_snapshot_failed", extra={"error": repr(err)[:200]})
                self.written = self.version
                continue
            try:
                # A regular activity, not a local one: a local activity writes before the workflow
                # task that took the snapshot is committed, so a task lost with the server (kill -9,
                # tests/test_fault_kills.py) left the row showing a decision the case never took,
                # until the case next changed. Scheduled by a committed task, a write is never ahead.
                await workflow.execute_activity(
                    project_case, snap, start_to_close_timeout=WRITE_TIMEOUT,
                    retry_policy=CLOSING_RETRY if snap.closed_at else WRITE_RETRY)
                self.parties_written = snap.departments
            except FailureError as err:  # ActivityError, or a timeout or cancellation
                workflow.logger.warning("projection_write_failed", extra={
                    "case_id": snap.case_id, "version": snap.version, "error": str(err.cause or err)[:200]})
            self.written = self.version

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
