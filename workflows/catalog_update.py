"""Catalog update, 目录更新 (Art. 10–12).

Art. 10: a catalog entry describes a data resource's basic elements. Art. 11 ¶2: when an element
changes, the owning department updates the entry within 5 working days. Art. 11 ¶1: the center
supervises and reviews (监督审核): it approves the update, which becomes the entry's new current
version, or returns it with reasons; the department then revises it.

Whoever holds the file holds the clock. The days the file is with the center count against the
center's review, not the department's 5 working days: after a return the department has what
remains of them. Where less remains than the local minimum (``PDW_RETURNED_MIN_WORKING_DAYS``), it
gets the minimum, and that period is a local one: a miss of it is recorded as local, not statutory.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import count_working_days
    from activities.catalog import (
        check_catalog_elements,
        open_catalog_update_case,
        publish_catalog_changes,
        update_catalog_case,
    )
    from models.calendar import Deadline, WorkingDaysRequest
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import (
        CaseStatusUpdate,
        CatalogElements,
        CatalogUpdateInput,
        CatalogUpdateResult,
        CatalogUpdateState,
        PublishRequest,
    )
    from models.steps import step_rule

from workflows.case import due_zh, run_activity
from workflows.transfer import SourceHeldCase, SourceRole

SUBMIT, REVIEW = "catalog_update.submit", "catalog_update.review"
ACTIONS = ("submit", "approve", "return")


@workflow.defn(name="CatalogUpdate")
class CatalogUpdateWorkflow(SourceHeldCase):
    case_type = "catalog_update"
    status_zh = {
        "opening": "登记中",
        "awaiting_submission": "待数源部门提交目录更新",
        "under_review": "待大数据管理中心审核",
        "approved": "已审核通过，新版本已发布",
    }

    @workflow.init
    def __init__(self, inp: CatalogUpdateInput) -> None:
        self.open_case(
            CatalogUpdateState(
                case_id=inp.case_id,
                resource_id=inp.resource_id,
                status="opening",
                status_zh=self.status_zh["opening"],
                change_note=inp.change_note,
                changed_elements=inp.changed_elements,
                changed_at=inp.changed_at,
            ),
            starter_dept=inp.started_by.dept_code,
        )
        self.state: CatalogUpdateState
        self.center_code = ""
        self.revision: CatalogElements | None = None
        self.review: DecisionRecord | None = None
        self.submitted_at: datetime | None = None

    @workflow.run
    async def run(self, inp: CatalogUpdateInput) -> CatalogUpdateResult:
        done = await self.run_case(self._process(inp))
        return done or CatalogUpdateResult(case_id=self.state.case_id, status=self.state.status, approved_version=None)

    async def record_end(self, status: str) -> None:
        await self._record_status(status, closed=True)

    async def _process(self, inp: CatalogUpdateInput) -> CatalogUpdateResult:
        st = self.state
        opened = await run_activity(open_catalog_update_case, inp)
        st.owner_code, st.owner_name, st.current = opened.owner_code, opened.owner_name, opened.current
        self.center_code = opened.center_code
        st.parties = {opened.owner_code: opened.owner_name, opened.center_code: opened.center_name}
        self.note(f"{inp.started_by.label()}登记目录更新：{inp.change_note}")

        # Art. 11 ¶2: within 5 working days of the change, counted from the day after it; a
        # returned revision stays under that same deadline.
        due = await self.start_step(SUBMIT, st.owner_code, event_at=inp.changed_at)
        while True:
            self.set_status("awaiting_submission")
            await self._record_status("awaiting_submission", due=due)
            await self.await_step(SUBMIT, lambda: self.revision is not None)
            assert self.submitted_at is not None
            st.used_working_days += await run_activity(
                # from when this holder's period began (a return, or a transfer, restarts it)
                count_working_days, WorkingDaysRequest(start=st.deadlines[SUBMIT].event_at, end=self.submitted_at),
            )

            # Art. 11 ¶1: the center reviews; the measures set no time (local default).
            await self.start_step(REVIEW, self.center_code)
            self.set_status("under_review")
            await self._record_status("under_review")
            await self.await_step(REVIEW, lambda: self.review is not None)
            review = self.review
            assert review is not None
            if review.action == "approve":
                break
            self.revision = self.review = self.submitted_at = None
            st.rounds += 1
            due = await self._back_with_the_department(review)
            await self.tell(st.owner_code, f"catalog_update.returned#{st.rounds}", "returned", "已退回修改",
                            f"理由：{review.reasons}。请在{due_zh(due)}前修改后重新提交（第十一条）。", "第十一条")

        assert self.revision is not None
        current = st.current.model_dump() if st.current else {}
        changes = {k: v for k, v in self.revision.model_dump().items() if current.get(k) != v}
        version = await run_activity(
            publish_catalog_changes,
            PublishRequest(case_id=st.case_id, resource_id=st.resource_id, changes=changes,
                           approved_at=review.decided_at),
        )
        st.approved_version = version
        self.close("approved", f"目录条目 {st.resource_id} 第 {version} 版发布为现行版本（第十一条）")
        await self._record_status("approved", closed=True, version=version)
        await self.tell(st.owner_code, "catalog_update.approved", "approved", "目录更新已审核通过",
                        f"目录条目 {st.resource_id} 第 {version} 版发布为现行版本。", "第十一条")
        if changes.get("provider_code"):  # Art. 10: the new 提供单位 owns the entry, and new cases go to it
            await self.tell(str(changes["provider_code"]), "catalog_update.provider", "approved", "目录条目的提供单位变更为本部门",
                            f"目录条目 {st.resource_id} 自第 {version} 版起由本部门提供：此后的共享申请、数据纠错和目录更新"
                            "由本部门办理；进行中的案件由县大数据管理中心决定是否移交（第十条、第十一条）。", "第十一条")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CatalogUpdateResult(case_id=st.case_id, status=st.status, approved_version=version)

    async def _back_with_the_department(self, review: DecisionRecord) -> Deadline:
        """Art. 11 ¶2: after a return the department has the working days of its 5 it has not used;
        the local minimum gives it more where fewer remain, and those are a local period."""
        st = self.state
        remaining = step_rule(SUBMIT).working_days - st.used_working_days
        due = await self.start_step(SUBMIT, st.owner_code, event_at=review.decided_at, remaining=remaining)
        used = f"已用 {st.used_working_days} 个工作日，法定期限剩余 {max(remaining, 0)} 个"
        local = "" if due.statutory else f"；不足本地最低期限，按 {due.working_days} 个工作日的本地期限计（本地规定）"
        self.note(f"退回后由{st.owner_name}修改：{used}{local}，期限 {due_zh(due)}")
        return due

    def source_role(self) -> SourceRole | None:
        """The owner submits the update (workflows/transfer.py)."""
        return SourceRole(self.state.resource_id, self.state.owner_code, (SUBMIT,)) if self.state.owner_code else None

    def move_source(self, code: str, name: str) -> None:
        """The new owner has its own 5 working days (workflows/transfer.py): none of them used yet."""
        self.state.owner_code, self.state.owner_name, self.state.used_working_days = code, name, 0

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            if d.action == "submit":
                elements, _ = self._revised(d.data)
                assert elements is not None
                try:
                    await run_activity(check_catalog_elements, elements)
                except ActivityError as err:  # bad input only the store can see: refuse the update
                    raise ApplicationError(getattr(err.cause, "message", str(err)), type="BadInput") from err
                submitted = await self.record(d, SUBMIT)
                self.submitted_at = submitted.decided_at
                self.revision = self.state.revision = elements
                message = "目录更新已提交，等待大数据管理中心审核"
            else:
                self.review = await self.record(d, REVIEW)
                message = "已审核通过，新版本即将发布" if d.action == "approve" else "已退回数源部门修改"
            return DecisionOutcome(
                case_id=self.state.case_id, action=d.action, status=self.state.status, message=message
            )

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Rejects, before anything is written, what the measures do not allow (Art. 10, 11, 15)."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTIONS:
            raise self.unknown_action(d.action, "目录更新案件的操作为 submit（提交）、approve（通过）、return（退回）")
        if d.action == "submit":
            if st.status != "awaiting_submission" or self.revision is not None:
                raise ValueError(f"案件当前为“{st.status_zh}”，修订已提交或现在不能提交目录更新")
            if d.actor.dept_code != st.owner_code:
                raise PermissionError(
                    f"{d.actor.label()}无权提交：目录更新须由数源部门{st.owner_name}的备案人员提交（第十一条）"
                )
            elements, problems = self._revised(d.data)
            if problems:
                raise ValueError("；".join(problems))
            if elements == st.current:
                raise ValueError("提交的目录条目与现行版本相同：请在 data 中写明变化后的要素（要素名=新值）（第十一条）")
            return
        if st.status != "under_review" or self.review is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，已有审核决定或现在不能审核")
        if d.actor.dept_kind != "center":
            raise PermissionError(f"{d.actor.label()}无权审核：目录更新由县大数据管理中心审核（第十一条）")
        if d.action == "return" and not (d.reasons or "").strip():
            raise ValueError("退回修改须写明理由（reasons）（第十一条）")


    # ---- helpers -------------------------------------------------------------------------------------

    def _revised(self, changes: dict[str, object]) -> tuple[CatalogElements | None, list[str]]:
        """The entry as submitted: the current version with the submitted elements changed."""
        current = self.state.current.model_dump() if self.state.current else {}
        return CatalogElements.parse({**current, **changes})

    async def _record_status(
        self, status: str, *, due: Deadline | None = None, closed: bool = False, version: int | None = None
    ) -> None:
        await run_activity(
            update_catalog_case,
            CaseStatusUpdate(
                case_id=self.state.case_id,
                status=status,
                due_at=due.due_at if due else None,
                closed_at=workflow.now() if closed else None,
                approved_version=version,
            ),
        )
