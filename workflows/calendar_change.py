"""A change of the working-day calendar reaches every running case (PROCESSES.md, Time).

The center's override of one day or its loading of an official year changes which days count;
deadlines already computed must follow. This workflow pages through visibility and tells each
running case, which counts its own deadlines again. Being a workflow, the fan-out survives a crash
of the worker: it resumes at the page it had reached; a case told twice moves nothing twice.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.calendar_change import CasePage, tell_running_cases
    from models.calendar import CalendarChange

from workflows.deadline import run_activity

PAGES_PER_RUN = 50  # then continue as new, so the history stays small however many cases run


class CalendarFanOut(BaseModel):
    change: CalendarChange
    page_token: str | None = None
    told: int = 0


@workflow.defn(name="CalendarChange")
class CalendarChangeWorkflow:
    @workflow.run
    async def run(self, inp: CalendarFanOut) -> int:
        """How many running cases were told."""
        token, told = inp.page_token, inp.told
        for _ in range(PAGES_PER_RUN):
            page = await run_activity(
                tell_running_cases, CasePage(change=inp.change, page_token=token),
            )
            told += page.told
            token = page.next_token
            if token is None:
                return told
        workflow.continue_as_new(CalendarFanOut(change=inp.change, page_token=token, told=told))
