"""Open-listing review and objection, 开放申请复核 (Art. 32).

Data the public often asks for but that is not in the open catalog goes to its source for review:
list it (its open attribute changes through a new catalog version) or say why not. An applicant who
objects to that answer may ask the center to review it; the center answers within 3 working days.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.catalog import publish_catalog_changes
    from activities.open_data import open_listing_review, update_open_case
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, PublishRequest
    from models.open_data import ListingReviewInput, ListingReviewState, OpenCaseUpdate, OpenResult

from workflows.case import ACTIVITY, CaseWorkflow

REVIEW, WINDOW, OBJECTION = "open.listing_review", "open.objection_window", "open.objection_review"
LISTABLE = ("unconditional", "restricted")


@workflow.defn(name="OpenListingReview")
class OpenListingReviewWorkflow(CaseWorkflow):
    case_type = "open_listing"
    status_zh = {
        "opening": "登记中",
        "source_review": "待数源部门审核是否列入开放目录",
        "answered": "数源部门已答复，可申请复核",
        "objection_review": "待县大数据管理中心复核",
        "listed": "已列入开放目录",
        "declined": "不列入开放目录",
    }

    @workflow.init
    def __init__(self, inp: ListingReviewInput) -> None:
        self.open_case(
            ListingReviewState(case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                               resource_id=inp.resource_id, request_count=inp.request_count)
        )
        self.state: ListingReviewState
        self.answer: DecisionRecord | None = None
        self.objection: DecisionRecord | None = None
        self.review: DecisionRecord | None = None
        self._listed_as = ""

    @workflow.run
    async def run(self, inp: ListingReviewInput) -> OpenResult:
        st = self.state
        opened = await workflow.execute_activity(open_listing_review, inp, **ACTIVITY)
        self.opened = opened
        st.parties = {opened.source_code: opened.source_name, opened.center_code: opened.center_name}
        st.facts = [f"数据资源：{inp.resource_id} {opened.resource_name}（未列入开放目录）",
                    f"公众申请 {inp.request_count} 次"]
        self.note(f"公众申请达 {inp.request_count} 次，转数源部门审核（第三十二条）")

        # Art. 32: the source reviews: list it, or say why not.
        await self.start_step(REVIEW, opened.source_code)
        self.set_status("source_review")
        await self.await_step(REVIEW, lambda: self.answer is not None)
        assert self.answer is not None
        if self.answer.action == "list":
            return await self._list(self.answer, "数源部门审核后列入开放目录")
        st.answer, st.answer_reasons = "declined", self.answer.reasons
        await self._update({"status": "answered", "answer": "declined", "answer_reasons": self.answer.reasons})

        # An applicant may object; the center reviews within 3 working days (Art. 32).
        self.set_status("answered")
        if not await self.await_window(WINDOW):
            return await self._close("declined", f"数源部门说明理由不列入开放目录：{self.answer.reasons}")
        await workflow.wait_condition(lambda: self.objection is not None)
        await self.start_step(OBJECTION, opened.center_code)
        self.set_status("objection_review")
        await self.await_step(OBJECTION, lambda: self.review is not None)
        assert self.review is not None
        st.review_outcome = "overturned" if self.review.action == "overturn" else "upheld"
        await self._update({"review_outcome": st.review_outcome, "review_reasons": self.review.reasons})
        if self.review.action == "overturn":
            return await self._list(self.review, "县大数据管理中心复核后列入开放目录")
        return await self._close("declined", f"复核维持数源部门答复：{self.review.reasons}")

    async def _list(self, record: DecisionRecord, how: str) -> OpenResult:
        st = self.state
        version = await workflow.execute_activity(
            publish_catalog_changes,
            PublishRequest(case_id=st.case_id, resource_id=st.resource_id, changes={"open_attribute": self._listed_as},
                           approved_at=record.decided_at),
            **ACTIVITY,
        )
        st.answer = st.answer or "listed"
        return await self._close(
            "listed", f"{how}（{OPEN_ATTRIBUTES[self._listed_as]}），目录条目 {st.resource_id} 第 {version} 版发布"
        )

    async def _close(self, status: str, text: str) -> OpenResult:
        st = self.state
        await self._update({"status": status, "closed_at": workflow.now().isoformat()})
        for dept in (self.opened.source_code, self.opened.center_code):
            await self.tell(dept, "open.listing_outcome", "outcome", self.status_zh[status], text, "第三十二条")
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OpenResult(case_id=st.case_id, outcome=status)

    async def _update(self, fields: dict[str, str | int | None]) -> None:
        await workflow.execute_activity(
            update_open_case, OpenCaseUpdate(case_id=self.state.case_id, table="listing_review", fields=fields),
            **ACTIVITY,
        )

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st = self.state
            if d.action in ("list", "overturn"):
                self._listed_as = str(d.data["open_attribute"])
            if d.action in ("list", "decline"):
                self.answer = await self.record(d, REVIEW)
            elif d.action == "object":
                self.claim_window()
                st.objection, st.objector_label = d.reasons, d.actor.name
                self.objection = await self.record(d, WINDOW)
            else:
                self.review = await self.record(d, OBJECTION)
            return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status, message="已记录")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Art. 32: the source answers, with reasons if it will not list; the public may object; the
        center reviews the objection."""
        st = self.state
        self.refuse_if_busy()
        expected = {"list": "source_review", "decline": "source_review", "object": "answered",
                    "uphold": "objection_review", "overturn": "objection_review"}
        if d.action not in expected:
            raise ValueError(f"操作“{d.action}”无效：应为 list、decline（数源部门）、object（申请人）、uphold、overturn（中心）")
        if st.status != expected[d.action] or (d.action != "object" and not self.waiting):
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH.get(d.action, d.action)}")
        if d.action in ("list", "decline") and d.actor.dept_code != self.opened.source_code:
            raise PermissionError(f"{d.actor.label()}无权答复：由数源部门{self.opened.source_name}审核（第三十二条）")
        if d.action in ("uphold", "overturn") and d.actor.dept_kind != "center":
            raise PermissionError(f"{d.actor.label()}无权复核：由县大数据管理中心复核（第三十二条）")
        if d.action == "object" and (d.actor.dept_kind != "public" or not self.window_is_open()):
            raise ValueError("复核申请由对答复有异议的公民、法人或其他组织提出（pdw open object），每案一次（第三十二条）")
        if d.action in ("list", "overturn") and d.data.get("open_attribute") not in LISTABLE:
            raise ValueError("须在 data.open_attribute 中写明列入开放目录的类别：unconditional 或 restricted（第二十八条、第三十二条）")
        if d.action in ("decline", "object", "uphold", "overturn") and not (d.reasons or "").strip():
            raise ValueError("须写明理由（reasons）（第三十二条）")

