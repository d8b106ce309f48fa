"""Restricted-open review, 受限开放审核 (Art. 28–31).

Open attributes (Art. 28): forbidden data (Art. 29) is refused at once citing the entry's ground;
data not yet in the open catalog (未开放, outside the open scope, Art. 28 ¶4) is refused as such, never
called forbidden, and the application counts toward the listing review of Art. 32 (service/starts.py);
unconditional data needs no review, the applicant obtains it from the open system. For restricted data the
applicant states scope and purpose; the center reviews and reports it, with its opinion, to the city
bureau ("经县大数据管理中心报市大数据发展管理局审核同意"): only the city approves or refuses. The
center may return an incomplete application for the applicant to supplement and apply again. If the
city approves, access is given through the provincial and city platform by the subject's
authorisation or in a sandbox (Art. 28 ¶2), in the way of Art. 31 the applicant asked for.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.open_data import open_open_application, update_open_case
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, forbidden_ground_zh
    from models.open_data import (
        ACCESS_MODES,
        OpenApplyInput,
        OpenCaseUpdate,
        OpenResult,
        OpenReviewState,
        access_way_zh,
    )

from workflows.applicants import tell_public
from workflows.case import ENDED_ZH, CaseWorkflow, run_activity

CENTER_REVIEW, CITY_REVIEW = "open.center_review", "open.city_review"
WHO = {"center_review": ("center", "县大数据管理中心"), "city_review": ("city_bureau", "市大数据发展管理局")}
# Art. 28 ¶2: the center reports (with its opinion) or returns for supplement; the city decides.
ACTIONS = {"center_review": ("report", "return"), "city_review": ("approve", "refuse")}
ACTIONS_ZH = {"center_review": "report（报市大数据发展管理局审核，reasons 写中心意见）、return（退回补正）",
              "city_review": "approve（同意）、refuse（不同意）"}


@workflow.defn(name="RestrictedOpenReview")
class RestrictedOpenReviewWorkflow(CaseWorkflow):
    case_type = "open_review"
    status_zh = {
        "opening": "登记中",
        "center_review": "待县大数据管理中心审核",
        "city_review": "待市大数据发展管理局审核",
        "approved": "已同意开放",
        "refused": "不予开放",
        "returned": "申请材料不全，已退回补正",
        "no_review": "无条件开放，无需审核",
    }

    @workflow.init
    def __init__(self, inp: OpenApplyInput) -> None:
        self.open_case(
            OpenReviewState(
                case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                resource_id=inp.resource_id, applicant_label=inp.applicant_label, scope=inp.scope,
                purpose=inp.purpose, access_way=inp.access_way, access_way_note=inp.access_way_note,
            )
        )
        self.state: OpenReviewState
        self.review: DecisionRecord | None = None
        self._access_mode: object = None

    @workflow.run
    async def run(self, inp: OpenApplyInput) -> OpenResult:
        return await self.run_case(self._process(inp)) or OpenResult(case_id=self.state.case_id,
                                                                     outcome=self.state.status)

    async def record_end(self, status: str) -> None:
        await run_activity(
            update_open_case,
            OpenCaseUpdate(case_id=self.state.case_id, table="open_application",
                           fields={"status": status, "outcome": status, "closed_at": workflow.now().isoformat()}),
        )
        await tell_public(self.state.case_id, "open.outcome", f"案件{ENDED_ZH.get(status, status)}", "", "第二十八条")

    def end_blocked_zh(self) -> str | None:
        if self.state.status == "city_review":
            return "本申请已报市大数据发展管理局审核（第二十八条第二款）"
        return None

    async def _process(self, inp: OpenApplyInput) -> OpenResult:
        st = self.state
        opened = await run_activity(open_open_application, inp)
        self.opened = opened
        st.open_attribute = opened.open_attribute
        st.parties = {opened.source_code: opened.source_name, opened.center_code: opened.center_name,
                      opened.city_code: opened.city_name}
        st.facts = [
            f"申请人：{inp.applicant_label}",
            f"数据资源：{inp.resource_id} {opened.resource_name}（开放属性：{OPEN_ATTRIBUTES.get(opened.open_attribute, opened.open_attribute)}）",
            f"使用范围：{inp.scope}；使用用途：{inp.purpose}；获取方式：{access_way_zh(inp.access_way, inp.access_way_note)}（第三十一条）",
        ]
        self.note(f"{inp.applicant_label}申请开放数据")

        if st.open_attribute == "forbidden":
            return await self._finish("refused", f"禁止开放类数据不予开放（{forbidden_ground_zh(opened.forbidden_ground)}）")
        if st.open_attribute == "unopened":  # not forbidden: no Art. 29 ground was found for it
            return await self._finish("refused", "该数据尚未列入开放目录（未开放，开放范围外），不能按受限开放申请"
                                      "（第二十八条）；本申请已作为列入开放目录的申请登记，申请人数达到规定数量的，"
                                      "由数源部门审核是否列入开放目录（第三十二条）")
        if st.open_attribute == "unconditional":
            return await self._finish("no_review", "无条件开放类数据无需审核，可直接从开放系统获取（第二十八条第二款）")

        # Art. 28 ¶2: the center reviews and reports to the city bureau with its opinion, or returns
        # an incomplete application for supplement; it does not decide.
        await self.start_step(CENTER_REVIEW, opened.center_code)
        self.set_status("center_review")
        await self.await_step(CENTER_REVIEW, lambda: self.review is not None)
        assert self.review is not None
        if self.review.action == "return":
            return await self._finish("returned", f"县大数据管理中心退回补正：{self.review.reasons}。补正后可重新申请（第二十八条第二款）")
        st.center_opinion = self.review.reasons

        # Art. 28 ¶2: the city bureau reviews and approves or refuses.
        await self.start_step(CITY_REVIEW, opened.city_code)
        self.set_status("city_review")
        self.review = None
        await self.await_step(CITY_REVIEW, lambda: self.review is not None)
        assert self.review is not None
        if self.review.action == "refuse":
            return await self._finish("refused", f"市大数据发展管理局不予同意：{self.review.reasons}")
        mode = str(self._access_mode)
        st.access_mode = mode
        return await self._finish(
            "approved",
            f"市大数据发展管理局同意，通过省市公共数据平台开放域以{ACCESS_MODES[mode]}方式获取，"
            f"获取方式为{access_way_zh(st.access_way, st.access_way_note)}（第二十八条第二款、第三十一条）",
        )

    async def _finish(self, status: str, text: str) -> OpenResult:
        st = self.state
        st.outcome = status
        await run_activity(
            update_open_case,
            OpenCaseUpdate(case_id=st.case_id, table="open_application",
                           fields={"status": status, "outcome": status, "access_mode": st.access_mode,
                                   "reasons": text, "closed_at": workflow.now().isoformat()}),
        )
        if status == "approved":  # the source provides the data through the platform
            await self.tell(self.opened.source_code, "open.approved", "city_decision", "已获同意", text,
                            "第二十八条")
        # The applicant hears the outcome with its reasons (refused, approved with the way of
        # access, returned, no review needed), by the receipt's contact (Art. 28 ¶2, 29, 31).
        await tell_public(st.case_id, "open.outcome", self.status_zh[status], text, "第二十八条至第三十一条")
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OpenResult(case_id=st.case_id, outcome=status)

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            step = CENTER_REVIEW if self.state.status == "center_review" else CITY_REVIEW
            if d.action == "approve" and step == CITY_REVIEW:
                self._access_mode = d.data["access_mode"]
            self.review = await self.record(d, step)
            return DecisionOutcome(case_id=self.state.case_id, action=d.action, status=self.state.status,
                                   message="已记录审核意见")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """The center reviews, then the city bureau decides (Art. 28 ¶2); a refusal states its reasons."""
        st = self.state
        self.refuse_if_busy()
        if st.status not in WHO or self.review is not None or not self.waiting:
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能审核")
        kind, who = WHO[st.status]
        if d.actor.dept_kind != kind:
            raise PermissionError(f"{d.actor.label()}无权审核：此步由{who}审核（第二十八条第二款）")
        if d.action not in ACTIONS[st.status]:
            raise self.unknown_action(d.action, f"{who}此步的操作为 {ACTIONS_ZH[st.status]}（第二十八条第二款）")
        if d.action in ("refuse", "return") and not (d.reasons or "").strip():
            raise ValueError(f"{'不予同意' if d.action == 'refuse' else '退回补正'}须写明理由（reasons）（第二十八条）")
        if d.action == "approve" and st.status == "city_review" and d.data.get("access_mode") not in ACCESS_MODES:
            choices = "、".join(f"{k}（{v}）" for k, v in ACCESS_MODES.items())
            raise ValueError(f"同意开放须在 data.access_mode 中写明获取方式：{choices}（第二十八条第二款）")

