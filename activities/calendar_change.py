"""Telling running cases that the working-day calendar changed, a page of them at a time."""

from __future__ import annotations

import base64

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from models.calendar import CalendarChange
from models.processes import CALENDAR_SIGNAL, PROCESSES

PAGE_SIZE = 200
# Every running case of every process: a case decides for itself which of its deadlines can move.
RUNNING_CASES = (
    "ExecutionStatus = 'Running' AND PdwCaseType IN ("
    + ", ".join(f"'{p.case_type}'" for p in PROCESSES)
    + ")"
)


class CasePage(BaseModel):
    change: CalendarChange
    page_token: str | None = None  # base64 of visibility's next-page token; None for the first page


class CasePageResult(BaseModel):
    told: int
    next_token: str | None


@activity.defn
async def tell_running_cases(req: CasePage) -> CasePageResult:
    """Signal one page of running cases; telling a case twice is harmless (it keys the change)."""
    client = activity.client()
    token = base64.b64decode(req.page_token) if req.page_token else None
    listing = client.list_workflows(RUNNING_CASES, page_size=PAGE_SIZE, next_page_token=token)
    try:
        await listing.fetch_next_page()
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:  # a server without visibility: retrying won't help
            raise ApplicationError("此 Temporal 服务不能列出在办案件，无法通知其重算期限", non_retryable=True) from err
        raise
    told = 0
    for execution in listing.current_page or []:
        try:
            await client.get_workflow_handle(execution.id).signal(CALENDAR_SIGNAL, req.change)
            told += 1
        except RPCError:  # it closed since the page was read: no deadline left to move
            continue
    nxt = listing.next_page_token
    return CasePageResult(told=told, next_token=base64.b64encode(nxt).decode() if nxt else None)
