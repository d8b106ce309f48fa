"""Registering a new catalog entry, 目录编制、审核、发布 (Art. 10–11).

Art. 10: a department compiles the catalog entry of its data with the basic elements (name, content,
encoding format, providing unit, share and open attributes, update frequency), the data items a
request may ask for and the share modes offered; Art. 15 and 29 ask for the grounds of a restricted,
non-shared or forbidden class; Art. 39: data classed shareable or open carries the department's own
保密审查 record. The service has checked all of this before the case starts.

Art. 11 ¶1: the center supervises and reviews (审核). It approves, and the entry is published as
version 1 of a new data resource owned by its providing unit, listed in the catalog and open to share
requests; or it returns the entry with its reasons, and the department revises it and submits it
again (or withdraws the case). The measures set no time for either step: both are local defaults.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.catalog import check_catalog_elements
    from activities.catalog_register import (
        open_catalog_registration,
        publish_new_entry,
        update_catalog_registration,
    )
    from models.calendar import Deadline
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import ELEMENT_ZH, SHARE_ATTRIBUTES, CatalogElements
    from models.catalog_register import (
        CatalogRegisterInput,
        CatalogRegisterResult,
        CatalogRegisterState,
        NewEntry,
        RegistrationUpdate,
    )

from workflows.case import CaseWorkflow, due_zh, run_activity

REVIEW, REVISE = "catalog_register.review", "catalog_register.revise"
ACTIONS = ("approve", "return", "submit")


@workflow.defn(name="CatalogRegistration")
class CatalogRegistrationWorkflow(CaseWorkflow):
    case_type = "catalog_register"
    status_zh = {
        "opening": "登记中",
        "under_review": "待大数据管理中心审核新编目录条目",
        "returned": "已退回，待提供单位修改后重新提交",
        "published": "已审核通过，目录条目已发布",
    }

    @workflow.init
    def __init__(self, inp: CatalogRegisterInput) -> None:
        self.open_case(
            CatalogRegisterState(case_id=inp.case_id, resource_id=inp.resource_id, status="opening",
                                 status_zh=self.status_zh["opening"], elements=inp.elements),
            starter_dept=inp.started_by.dept_code,
        )
        self.state: CatalogRegisterState
        self.center_code = ""
        self.review: DecisionRecord | None = None
        self.resubmitted = False
        # Art. 11: whoever compiled or resubmitted the entry does not also approve it.
        self.compilers = {inp.started_by.person_id}

    @workflow.run
    async def run(self, inp: CatalogRegisterInput) -> CatalogRegisterResult:
        done = await self.run_case(self._process(inp))
        return done or CatalogRegisterResult(case_id=self.state.case_id, status=self.state.status)

    async def record_end(self, status: str) -> None:
        await self._record(status, closed=True)  # closed: the resource id is free again

    async def _process(self, inp: CatalogRegisterInput) -> CatalogRegisterResult:
        st = self.state
        opened = await run_activity(open_catalog_registration, inp)
        st.owner_code, st.owner_name, self.center_code = opened.owner_code, opened.owner_name, opened.center_code
        st.parties = {opened.owner_code: opened.owner_name, opened.center_code: opened.center_name}
        el = inp.elements
        st.facts = [f"数据资源：{inp.resource_id} {el.name}（提供单位：{opened.owner_name}）",
                    f"数据项：{'、'.join(el.items)}；共享属性：{SHARE_ATTRIBUTES.get(el.share_attribute, el.share_attribute)}"]
        self.note(f"{inp.started_by.label()}编制目录条目 {inp.resource_id}，报县大数据管理中心审核（第十条、第十一条）")

        while True:
            # Art. 11 ¶1: the center reviews the entry; the measures set no time (local default).
            await self.start_step(REVIEW, self.center_code)
            await self._record("under_review", due=st.deadlines[REVIEW])
            self.set_status("under_review")  # with the step awaited, in one go: a query sees both
            await self.await_step(REVIEW, lambda: self.review is not None)
            review = self.review
            assert review is not None
            if review.action == "approve":
                break
            # Returned with reasons: the providing unit revises it (local default period).
            self.review, self.resubmitted = None, False
            st.rounds += 1
            due = await self.start_step(REVISE, st.owner_code)
            await self._record("returned", due=due)
            await self.tell(st.owner_code, f"catalog_register.returned#{st.rounds}", "returned", "新编目录条目已退回修改",
                            f"理由：{review.reasons}。请在{due_zh(due)}前修改后重新提交"
                            f"（pdw decide {st.case_id} submit --set 要素=新值），或撤回本案（第十一条）。", "第十一条")
            self.set_status("returned")
            await self.await_step(REVISE, lambda: self.resubmitted)

        assert st.elements is not None
        version = await run_activity(publish_new_entry, NewEntry(
            case_id=st.case_id, resource_id=st.resource_id, elements=st.elements, collected=inp.collected,
            approved_at=review.decided_at))
        st.approved_version = version
        self.close("published", f"目录条目 {st.resource_id}（{st.elements.name}）第 {version} 版发布，列入目录（第十一条）")
        await self._record("published", closed=True, version=version)
        await self.tell(st.owner_code, "catalog_register.published", "approved", "新编目录条目已审核发布",
                        f"目录条目 {st.resource_id}（{st.elements.name}）已发布为第 {version} 版，"
                        "各部门可据此申请共享（pdw catalog show 查看）。", "第十一条")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CatalogRegisterResult(case_id=st.case_id, status=st.status, approved_version=version)

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            if d.action == "submit":
                elements, _ = self._revised(d.data)
                assert elements is not None
                try:  # the providing unit is still a registered department (Art. 10)
                    await run_activity(check_catalog_elements, elements)
                except ActivityError as err:
                    raise ApplicationError(getattr(err.cause, "message", str(err)), type="BadInput") from err
                await self.record(d, REVISE)
                self.state.elements, self.resubmitted = elements, True
                self.compilers.add(d.actor.person_id)
                await self._record("returned", elements=elements)
                message = "已重新提交，等待县大数据管理中心审核（第十一条）"
            else:
                self.review = await self.record(d, REVIEW)
                message = ("已审核通过，目录条目即将发布（第十一条）" if d.action == "approve"
                           else "已退回提供单位修改（第十一条）")
            return DecisionOutcome(case_id=self.state.case_id, action=d.action, status=self.state.status,
                                   message=message)

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Rejects, before anything is written, what Art. 10, 11, 15, 29 and 39 do not allow."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTIONS:
            raise self.unknown_action(d.action, "目录编制案件的操作为 approve（审核通过）、return（退回）、"
                             "submit（修改后重新提交）")
        if d.action == "submit":
            if st.status != "returned" or self.resubmitted:
                raise ValueError(f"案件当前为“{st.status_zh}”：只有被退回后才能修改重新提交")
            if d.actor.dept_code != st.owner_code:
                raise PermissionError(f"{d.actor.label()}无权提交：新编目录条目由提供单位{st.owner_name}修改提交（第十一条）")
            elements, problems = self._revised(d.data)
            if problems:
                raise ValueError("；".join(problems))
            assert elements is not None and st.elements is not None
            if elements.provider_code != st.elements.provider_code:
                raise ValueError(f"{ELEMENT_ZH['provider_code']}（provider_code）不能在修改中变更：应由新的提供单位另行编目（第十条）")
            if elements == st.elements:
                raise ValueError("提交的目录条目与退回的相同：请在 data 中写明修改后的要素（要素名=新值）（第十一条）")
            return
        if st.status != "under_review" or self.review is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，已有审核决定或现在不能审核（第十一条）")
        if d.actor.dept_kind != "center":
            raise PermissionError(f"{d.actor.label()}无权审核：新编目录条目由县大数据管理中心审核（第十一条）")
        if d.action == "approve" and d.actor.person_id in self.compilers:
            raise PermissionError(f"{d.actor.label()}不能审核通过本人编制或提交的目录条目：由县大数据管理中心的"
                                  "另一名工作人员审核（第十一条）")
        if d.action == "return" and not (d.reasons or "").strip():
            raise ValueError("退回修改须写明理由（reasons）（第十一条）")

    # ---- helpers -------------------------------------------------------------------------------------

    def _revised(self, changes: dict[str, object]) -> tuple[CatalogElements | None, list[str]]:
        """The entry as resubmitted: the returned one with the submitted elements changed."""
        current = self.state.elements.model_dump() if self.state.elements else {}
        return CatalogElements.parse({**current, **changes})

    async def _record(self, status: str, *, due: Deadline | None = None, closed: bool = False,
                      version: int | None = None, elements: CatalogElements | None = None) -> None:
        closed_at: datetime | None = workflow.now() if closed else None
        await run_activity(update_catalog_registration, RegistrationUpdate(
            case_id=self.state.case_id, status=status, due_at=due.due_at if due else None, closed_at=closed_at,
            approved_version=version, elements=elements.model_dump(mode="json") if elements else None))
