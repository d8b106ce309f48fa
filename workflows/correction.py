"""Data correction and review, 数据纠错校核 (Art. 23).

A using department that doubts or finds an error in shared data reports it through the center to
the source. The source verifies within 5 working days of receipt; only with its head's consent may
it take longer, by at most 15 working days. The outcome, a correction (what changed, when) or a
reasoned confirmation that the data is right, goes back through the center to the reporter.
While the check runs, a matter for a citizen or organisation that has given valid proof goes ahead
(Art. 23 ¶2): the case says so, for the staff to cite.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.calendar import SHANGHAI
    from activities.correction import open_correction_case, update_correction_case
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.correction import (
        MAX_EXTENSION_WORKING_DAYS,
        OUTCOMES,
        PROCEED_NOTICE,
        CorrectionInput,
        CorrectionResult,
        CorrectionState,
        CorrectionUpdate,
    )

from workflows.case import HEADS, run_activity
from workflows.transfer import SourceHeldCase, SourceRole

FORWARD, VERIFY = "correction.forward", "correction.verify"
ACTIONS = ("forward", "extend", "correct", "confirm")


@workflow.defn(name="DataCorrection")
class DataCorrectionWorkflow(SourceHeldCase):
    case_type = "correction"
    status_zh = {
        "opening": "登记中",
        "awaiting_forward": "待大数据管理中心转交数源部门",
        "verifying": "数源部门校核中",
        "corrected": "已更正",
        "confirmed": "经校核数据无误",
    }

    @workflow.init
    def __init__(self, inp: CorrectionInput) -> None:
        self.open_case(
            CorrectionState(
                case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                resource_id=inp.resource_id, reporter_code=inp.reported_by.dept_code, items=inp.items,
                found=inp.found, expected=inp.expected, evidence=inp.evidence, proof_provided=inp.proof_provided,
                must_proceed=PROCEED_NOTICE if inp.proof_provided else None,
            ),
            starter_dept=inp.reported_by.dept_code,
        )
        self.state: CorrectionState
        self.forwarded: DecisionRecord | None = None
        self.outcome: DecisionRecord | None = None
        self._data: dict[str, object] = {}

    @workflow.run
    async def run(self, inp: CorrectionInput) -> CorrectionResult:
        done = await self.run_case(self._process(inp))
        return done or CorrectionResult(case_id=self.state.case_id, outcome=self.state.status)

    async def record_end(self, status: str) -> None:
        await self._record(status, closed_at=workflow.now())

    async def _process(self, inp: CorrectionInput) -> CorrectionResult:
        st = self.state
        opened = await run_activity(open_correction_case, inp)
        st.source_code = opened.source_code
        st.parties = {inp.reported_by.dept_code: inp.reported_by.dept_name, opened.source_code: opened.source_name,
                      opened.center_code: opened.center_name}
        st.facts = [
            f"反馈部门：{inp.reported_by.dept_name}；数源部门：{opened.source_name}",
            f"数据资源：{inp.resource_id} {opened.resource_name}；数据项：{'、'.join(inp.items)}",
            f"发现的问题：{inp.found}；应为：{inp.expected}；证明材料：{inp.evidence or '无'}",
            *([st.must_proceed] if st.must_proceed else []),
        ]
        self.note(f"{inp.reported_by.label()}反馈数据疑义")

        # Art. 23: the report goes through the center to the source.
        await self.start_step(FORWARD, opened.center_code)
        self.set_status("awaiting_forward")
        await self.await_step(FORWARD, lambda: self.forwarded is not None)
        assert self.forwarded is not None

        # Art. 23: the source verifies within 5 working days of receipt.
        st.received_at = self.forwarded.decided_at
        await self.start_step(VERIFY, st.source_code, event_at=st.received_at)
        await self._record("verifying", received_at=st.received_at)
        self.set_status("verifying")
        await self.await_step(VERIFY, lambda: self.outcome is not None)
        assert self.outcome is not None

        # The outcome goes back through the center to the reporter.
        done = self.outcome
        status = "corrected" if done.action == "correct" else "confirmed"
        st.outcome = status
        if status == "corrected":
            st.outcome_text = str(self._data.get("changes"))
            st.corrected_at = done.decided_at
            text = f"已更正：{st.outcome_text}（更正时间 {done.decided_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）"
        else:
            st.outcome_text = done.reasons
            text = f"经校核数据无误：{done.reasons}"
        await self._record(status, outcome=status, outcome_text=st.outcome_text, corrected_at=st.corrected_at,
                           closed_at=workflow.now())
        for dept in (opened.center_code, inp.reported_by.dept_code):
            await self.tell(dept, "correction.outcome", "correction_outcome", OUTCOMES[status], text, "第二十三条")
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CorrectionResult(case_id=st.case_id, outcome=status)

    def source_role(self) -> SourceRole | None:
        """The source verifies (workflows/transfer.py)."""
        return SourceRole(self.state.resource_id, self.state.source_code, (VERIFY,)) if self.state.source_code else None

    def move_source(self, code: str, name: str) -> None:
        self.state.source_code = code

    async def _record(self, status: str, **fields: object) -> None:
        await run_activity(
            update_correction_case, CorrectionUpdate(case_id=self.state.case_id, status=status, **fields),
        )

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st = self.state
            record = await self.record(d, FORWARD if d.action == "forward" else VERIFY)
            if d.action == "forward":
                self.forwarded = record
                message = "已转交数源部门，校核期限自收到之日起计算（第二十三条）"
            elif d.action == "extend":
                st.extension_days += int(d.data["working_days"])
                deadline = await self.extend_step(VERIFY, st.extension_days)
                await self._record("verifying", extension_days=st.extension_days)
                message = f"校核期限延长至 {deadline.due_date}（共延长 {st.extension_days} 个工作日）"
            else:
                self._data = d.data
                self.outcome = record
                message = "已记录校核结果，将经大数据管理中心反馈"
            return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status, message=message)

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Art. 23: the center forwards; the source verifies; only its head extends, by at most 15 WD."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTIONS:
            raise self.unknown_action(d.action, "纠错案件的操作为 forward（中心转交）、extend（延期）、correct（更正）、confirm（确认无误）")
        if d.action == "forward":
            if st.status != "awaiting_forward" or self.forwarded is not None:
                raise ValueError(f"案件当前为“{st.status_zh}”，现在不能转交")
            if d.actor.dept_kind != "center":
                raise PermissionError(f"{d.actor.label()}无权转交：纠错反馈经县大数据管理中心转交数源部门（第二十三条）")
            return
        if st.status != "verifying" or self.outcome is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH.get(d.action, d.action)}")
        if d.actor.dept_code != st.source_code:
            raise PermissionError(f"{d.actor.label()}无权校核：由数源部门{self.dept_name(st.source_code)}校核（第二十三条）")
        if d.action == "extend":
            # Art. 23: "经数源部门负责人同意" — its 主要负责人 or 分管领导 (the record keeps which).
            if not HEADS & set(d.actor.roles):
                raise PermissionError(
                    f"延长校核期限须经数源部门负责人同意：{d.actor.label()}不是该部门备案的主要负责人或分管领导（第二十三条）"
                )
            # Art. 23: the period may be extended while it runs, not revived once it has ended.
            if workflow.now() > st.deadlines[VERIFY].due_at:
                raise ValueError(f"校核期限已于 {st.deadlines[VERIFY].due_date} 届满，不能再延长：延长须在期限内提出（第二十三条）")
            try:
                days = int(d.data.get("working_days", 0))
            except (TypeError, ValueError):
                days = 0
            if days < 1:
                raise ValueError("须在 data.working_days 中写明延长的工作日数（第二十三条）")
            if st.extension_days + days > MAX_EXTENSION_WORKING_DAYS:
                raise ValueError(
                    f"延长期限最长不得超过 {MAX_EXTENSION_WORKING_DAYS} 个工作日：已延长 {st.extension_days} 个，"
                    f"至多还可延长 {MAX_EXTENSION_WORKING_DAYS - st.extension_days} 个（第二十三条）"
                )
            if not (d.reasons or "").strip():
                raise ValueError("延长校核期限须写明理由（reasons）（第二十三条）")
        elif d.action == "correct":
            if not str(d.data.get("changes", "")).strip():
                raise ValueError("更正须在 data.changes 中写明更正了什么（第二十三条）")
        elif not (d.reasons or "").strip():
            raise ValueError("确认数据无误须说明理由（reasons）（第二十三条）")

