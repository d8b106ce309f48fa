"""The bare workflow ``bench/throughput.py`` measures pdw beside (issue 14): the business steps of an
unconditional share approval (Art. 20: request → the center approves → grant) written by hand with
plain Temporal, as no-op activities taking and returning pdw's own payload models (so the same
sizes go through the same codec), and one update for the decision. No ladder, no search-attribute
upserts, no timeline, no store: what any hand-written workflow of these steps would cost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from models.calendar import Deadline, DeadlineRequest
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.notices import CaseNotice, LadderNotice
    from models.share import GrantRequest, ShareCaseOpened, ShareClosing, ShareRequestInput, ShareResult

TASK_QUEUE = "pdw-bench-bare"
UNSANDBOXED = "BENCH_BARE_UNSANDBOXED"  # set (non-empty): the bare worker runs outside the SDK's sandbox
TIMEOUT = timedelta(seconds=30)
CENTER = ("dsj", "县大数据管理中心")
SOURCE = ("scjgj", "县市场监督管理局")


# ---- no-op activities: pdw's payloads in, pdw's payloads out -------------------------------------------


@activity.defn(name="bare_open")
async def bare_open(inp: ShareRequestInput) -> ShareCaseOpened:
    return ShareCaseOpened(source_code=SOURCE[0], source_name=SOURCE[1], center_code=CENTER[0],
                           center_name=CENTER[1], share_attribute="unconditional", collected=True,
                           resource_name="市场主体登记信息")


@activity.defn(name="bare_deadline")
async def bare_deadline(req: DeadlineRequest) -> Deadline:
    due = req.event_at + timedelta(days=7)
    return Deadline(step=req.step, article="第二十条", statutory=True, working_days=5, event_at=req.event_at,
                    due_date=due.date(), due_at=due, warn_at=due - timedelta(days=1),
                    escalate_at=due + timedelta(days=3), provisional=False)


@activity.defn(name="bare_tell_awaited")
async def bare_tell_awaited(n: LadderNotice) -> int:
    return 1


@activity.defn(name="bare_verify")
async def bare_verify(d: DecisionInput) -> None:
    return None


@activity.defn(name="bare_record")
async def bare_record(r: DecisionRecord) -> None:
    return None


@activity.defn(name="bare_grant")
async def bare_grant(g: GrantRequest) -> int:
    return 1


@activity.defn(name="bare_close")
async def bare_close(c: ShareClosing) -> None:
    return None


@activity.defn(name="bare_tell")
async def bare_tell(n: CaseNotice) -> int:
    return 1


ACTIVITIES: list[Callable[..., Any]] = [bare_open, bare_deadline, bare_tell_awaited, bare_verify, bare_record, bare_grant, bare_close, bare_tell]


@workflow.defn(name="BareShare")
class BareShareWorkflow:
    """Open the record, compute the deadline, tell the awaited department, wait for the decision
    (check and record it, in the update), grant, close, tell the requester."""

    def __init__(self) -> None:
        self.awaiting = False
        self.decision: DecisionRecord | None = None

    @workflow.run
    async def run(self, inp: ShareRequestInput) -> ShareResult:
        opened = await workflow.execute_activity(bare_open, inp, start_to_close_timeout=TIMEOUT)
        deadline = await workflow.execute_activity(
            bare_deadline, DeadlineRequest(step="share.center_review", event_at=workflow.now()), start_to_close_timeout=TIMEOUT,
        )
        await workflow.execute_activity(bare_tell_awaited, LadderNotice(
            case_id=inp.case_id, case_type="share", step_zh="共享审批", level=0, dept_code=opened.center_code,
            deadline=deadline, at=workflow.now()), start_to_close_timeout=TIMEOUT)
        self.awaiting = True
        await workflow.wait_condition(lambda: self.decision is not None)
        now = workflow.now()
        grant_id = await workflow.execute_activity(bare_grant, GrantRequest(
            case_id=inp.case_id, grantee_code=inp.requested_by.dept_code, resource_id=inp.resource_id,
            source_code=opened.source_code, items=inp.items, purpose=inp.purpose, scope=inp.scope, mode=inp.mode,
            desensitised=False, valid_from=now, valid_until=now + timedelta(days=30 * inp.months)), start_to_close_timeout=TIMEOUT)
        await workflow.execute_activity(bare_close, ShareClosing(
            case_id=inp.case_id, status="granted", outcome="granted", closed_at=now), start_to_close_timeout=TIMEOUT)
        await workflow.execute_activity(bare_tell, CaseNotice(
            case_id=inp.case_id, case_type="share", key="share.granted", kind="approved",
            dept_code=inp.requested_by.dept_code, headline="已同意共享",
            detail=f"共享授权 {grant_id}：{'、'.join(inp.items)}，{inp.mode}方式。共享数据只能用于本部门履行职责需要（第二十二条）。",
            article="第二十条", at=now), start_to_close_timeout=TIMEOUT)
        return ShareResult(case_id=inp.case_id, status="granted", grant_id=grant_id)

    @workflow.update(name="decide")
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        await workflow.execute_activity(bare_verify, d, start_to_close_timeout=TIMEOUT)
        record = DecisionRecord(case_id=workflow.info().workflow_id, seq=1, step="share.center_review",
                                action=d.action, actor=d.actor, role=",".join(d.actor.roles),
                                decided_at=workflow.now(), reasons=d.reasons, basis=d.basis, article="第二十条")
        await workflow.execute_activity(bare_record, record, start_to_close_timeout=TIMEOUT)
        self.decision = record
        return DecisionOutcome(case_id=record.case_id, action=d.action, status="under_review", message="已记录同意")

    @decide.validator
    def check(self, d: DecisionInput) -> None:
        if not self.awaiting or self.decision is not None:
            raise ValueError("案件当前不在审批中，现在不能审批")


def runner(unsandboxed: bool) -> Any:
    """The SDK's default (its sandbox), or none, as pdw's worker runs its cases (worker.py)."""
    from temporalio.worker import UnsandboxedWorkflowRunner
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

    return UnsandboxedWorkflowRunner() if unsandboxed else SandboxedWorkflowRunner()


async def run_worker() -> None:
    """The bare workflow's worker in a process of its own, as pdw's runs (``python worker.py``),
    with pdw's client and codec (PDW_* settings); until SIGTERM. bench/throughput.py starts it."""
    import asyncio
    import os
    import signal

    from temporalio.worker import Worker

    from runtime import connect
    from settings import get_settings

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    client = await connect(get_settings())
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BareShareWorkflow], activities=ACTIVITIES,
                      workflow_runner=runner(bool(os.environ.get(UNSANDBOXED)))):
        await stop.wait()

