"""Dispute coordination, 争议协调 (Art. 20 ¶2, Art. 28 ¶3).

Art. 20 ¶2 (使用部门与数源部门在数据共享上意见不一致的，可以申请由县大数据管理中心协调处理，必要时
报请县政府决定):
- the center coordinates and proposes an outcome (``propose``, ``data.outcome`` share or refuse;
  ``settle`` is its former name). The proposal is an agreement (协调一致) only once BOTH departments
  have recorded ``agree``, each under its own local deadline and the ladder: silence is not consent;
- a department that does not agree (``disagree``, with reasons) ends coordination: the center then
  reports the dispute to the county government (``escalate``, its account as reasons) under a local
  deadline. The center may report at any time while it coordinates. The county's decision is final;
- LOCAL RULE (the measures are silent): while coordination runs, either department may ask that the
  dispute go to the county government (``ask_county``, with reasons); the center must then report it,
  as above. The center still files the report (报请 is the center's act), but it can no longer
  propose, and its report step climbs the ladder up to 县大数据发展管理局 if it does not;
- LOCAL RULE: a dispute over the center's own refusal goes straight to the county government: the
  center cannot coordinate a dispute over its own decision.
Art. 28 ¶3: where the center and a source cannot agree on a data resource's open attribute, the
expert committee's opinion is sought and the county government decides. Escalation of a dispute's
steps reaches the county government's leaders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.catalog import publish_catalog_changes
    from activities.dispute import close_dispute_case, open_dispute_case
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, PublishRequest, forbidden_ground_problem, open_attribute_zh
    from models.dispute import (
        OPEN_ATTRIBUTE,
        SHARE,
        SHARE_OUTCOMES,
        DisputeClosing,
        DisputeInput,
        DisputeResult,
        DisputeState,
    )
    from models.open_data import SecrecyReview, secrecy_review
    from models.steps import step_rule

from workflows.case import CaseWorkflow, due_zh, run_activity
from workflows.versions import R2026_12, has

COORDINATE, COUNTY, REPORT = "dispute.coordinate", "dispute.county_decision", "dispute.report"
AGREE_REQUESTER, AGREE_SOURCE = "dispute.requester_agreement", "dispute.source_agreement"
EXPERTS, OPEN_COUNTY = "dispute.expert_opinion", "dispute.open_county_decision"
PARTY = "party"  # agree, disagree, ask_county: one of the two departments in dispute
# Who takes each action, by department kind, and in which statuses of the case.
ACTION_KIND = {"propose": "center", "escalate": "center", "agree": PARTY, "disagree": PARTY, "ask_county": PARTY,
               "opinion": "expert_committee", "decide": "county_gov"}
ACTION_STATUS = {
    "propose": ("coordinating",),
    "escalate": ("coordinating", "agreement", "reporting"),
    "agree": ("agreement",),
    "disagree": ("agreement",),
    "ask_county": ("coordinating", "agreement"),
    "opinion": ("expert_review",),
    "decide": ("county_decision",),
}
WHO_ZH = {"center": "县大数据管理中心", "expert_committee": "专家委员会", "county_gov": "县人民政府"}
LOCAL_ASK = ("本地规则：协调期间，使用部门或数源部门均可请求将争议报请县人民政府决定，"
             "县大数据管理中心应当报请（第二十条第二款未作规定）")
LOCAL_OWN = "本地规则：争议涉及县大数据管理中心自身的拒绝决定，中心不能协调自己的决定，直接报请县人民政府决定"


@workflow.defn(name="Dispute")
class DisputeWorkflow(CaseWorkflow):
    case_type = "dispute"
    escalate_to = "county_gov"
    status_zh = {
        "opening": "登记中",
        "coordinating": "县大数据管理中心协调中",
        "agreement": "待争议双方确认协调意见",
        "reporting": "协调未成，待县大数据管理中心报请县人民政府决定",
        "expert_review": "待专家委员会提出意见",
        "county_decision": "待县人民政府决定",
        "settled": "已协调一致",
        "decided": "县人民政府已作出决定",
    }

    @workflow.init
    def __init__(self, inp: DisputeInput) -> None:
        self.open_case(
            DisputeState(
                case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"], kind=inp.kind,
                resource_id=inp.resource_id, claim=inp.claim, parent_case_id=inp.parent_case_id,
                proposed_open_attribute=inp.proposed_open_attribute, center_refused=inp.center_refused,
                proposed_forbidden_ground=inp.proposed_forbidden_ground,
            )
        )
        self.state: DisputeState
        self.inp = inp
        # Art. 20 ¶2: each department in dispute answers the proposal under its own step.
        self.answer_steps = dict(zip(inp.parties, (AGREE_REQUESTER, AGREE_SOURCE), strict=False))
        self.proposal: DecisionRecord | None = None
        self.failure: DecisionRecord | None = None  # a department's disagree or ask_county
        self.report: DecisionRecord | None = None  # the center's report to the county
        self.agreements: list[DecisionRecord] = []
        self.answering: set[str] = set()  # departments whose answer to the proposal is being recorded
        self.opinion: DecisionRecord | None = None
        self.decision: DecisionRecord | None = None
        self.outcome: str | None = None
        self.forbidden_ground: str | None = None  # Art. 29: when the county decides data forbidden
        self.secrecy: SecrecyReview | None = None  # Art. 39: the source's record the county's decision carries

    @workflow.run
    async def run(self, inp: DisputeInput) -> DisputeResult:
        self.projector.start()  # the case projection (issue 14): this workflow does not use run_case
        st = self.state
        opened = await run_activity(open_dispute_case, inp)
        st.parties = opened.parties
        self.opened = opened
        self.note(f"{inp.raised_by.label()}申请协调：{inp.claim}")
        st.facts = [f"数据资源：{inp.resource_id}", f"争议双方：{'、'.join(opened.parties[c] for c in inp.parties)}"]

        if inp.kind == SHARE and inp.center_refused:
            # Local rule: the center cannot coordinate a dispute over its own refusal.
            st.facts.append(LOCAL_OWN)
            self.note(LOCAL_OWN)
            await self._tell(opened.county_code, "dispute.to_county", "outcome", "争议涉及县大数据管理中心自身的拒绝决定，"
                             "直接报请县人民政府决定（本地规则）", f"争议理由：{inp.claim}", COUNTY)
            county_step = COUNTY
        elif inp.kind == SHARE:
            st.facts.append(LOCAL_ASK)
            agreed = await self._coordinate()
            if agreed is not None:
                return await self._finish("settled", "center", COORDINATE, agreed)
            assert self.report is not None
            asked = f"；{self.failure.actor.label()}{ACTION_ZH[self.failure.action]}：{self.failure.reasons}" \
                if self.failure is not None else ""
            await self._tell(opened.county_code, "dispute.to_county", "dispute_escalated",
                             "经县大数据管理中心协调未能达成一致，报请县人民政府决定",
                             f"中心报告：{self.report.reasons}{asked}", COUNTY)
            county_step = COUNTY
        else:
            # Art. 28 ¶3: the expert committee's opinion comes before the county's decision.
            st.facts.append(
                f"开放属性：现为{open_attribute_zh(opened.current_open_attribute, opened.current_forbidden_ground)}，"
                f"中心建议改为{open_attribute_zh(inp.proposed_open_attribute, inp.proposed_forbidden_ground)}"
            )
            await self.start_step(EXPERTS, opened.expert_code)
            self.set_status("expert_review")
            await self.await_step(EXPERTS, lambda: self.opinion is not None)
            assert self.opinion is not None
            st.expert_opinion = self.opinion.reasons
            county_step = OPEN_COUNTY

        # The county government decides; its decision is final (Art. 20 ¶2, Art. 28 ¶3).
        await self.start_step(county_step, opened.county_code)
        self.set_status("county_decision")
        await self.await_step(county_step, lambda: self.decision is not None)
        assert self.decision is not None
        return await self._finish("decided", "county_gov", county_step, self.decision)

    async def _coordinate(self) -> DecisionRecord | None:
        """Art. 20 ¶2: the center coordinates. Returns its proposal once both departments have agreed
        to it, or None once coordination failed and the center has reported to the county."""
        st, center = self.state, self.opened.center_code
        await self.start_step(COORDINATE, center)
        self.set_status("coordinating")
        await self.await_step(COORDINATE, lambda: self.proposal is not None or self._failed())
        if self.proposal is not None and not self._failed():
            proposal = self.proposal
            outcome = SHARE_OUTCOMES[st.proposed_outcome or ""]
            # Both departments answer, each under its own deadline; silence is not consent.
            self.set_status("agreement")
            # A department may answer at once, before its step is even started: it owes nothing more.
            owing = {dept: step for dept, step in self.answer_steps.items() if dept not in st.answers}
            for dept, step in owing.items():
                if has(R2026_12):  # an answer being recorded now: its department owes nothing, or
                    # (its recording failed) is told afresh; never a 待办 for a step just answered.
                    await workflow.wait_condition(self._not_answering(dept))
                if self._failed() or dept in st.answers:
                    continue
                deadline = await self.start_step(step, dept)
                await self._tell(dept, "dispute.proposal", "outcome", f"县大数据管理中心提出协调意见：{outcome}",
                                 f"理由：{proposal.reasons}。请于{due_zh(deadline)}前表示同意（agree）或不同意"
                                 "（disagree，须写明理由）；双方均同意方为协调一致，任一方不同意的，由中心报请县人民政府决定。",
                                 COORDINATE)
            await asyncio.gather(*(self.await_step(step, self._answered(dept))
                                   for dept, step in owing.items() if step in self.ladders))
            if not self._failed():
                return proposal
        if self.report is None:
            # Coordination failed, or a department asked for the county (local rule): the center reports.
            await self.start_step(REPORT, center)
            self.set_status("reporting")
            await self.await_step(REPORT, lambda: self.report is not None)
        return None

    @asynccontextmanager
    async def _answering(self, d: DecisionInput) -> AsyncIterator[None]:
        """While a department's answer to the center's proposal (Art. 20 ¶2) is checked and
        recorded: from before the actor's check (a round trip through the server), so the agreement
        loop never starts the step of a department whose answer is on its way."""
        dept = d.actor.dept_code if self._action(d) in ("agree", "disagree", "ask_county") else None
        if dept is not None:
            self.answering.add(dept)
        try:
            yield
        finally:
            self.answering.discard(dept or "")

    def _failed(self) -> bool:
        return self.failure is not None or self.report is not None

    def _not_answering(self, dept: str) -> Callable[[], bool]:
        return lambda: dept not in self.answering

    def _answered(self, dept: str) -> Callable[[], bool]:
        return lambda: dept in self.state.answers or self._failed()

    async def _finish(self, status: str, decided_by: str, step: str, record: DecisionRecord) -> DisputeResult:
        st, inp = self.state, self.inp
        if status == "settled":
            self.outcome = st.proposed_outcome
        assert self.outcome is not None
        st.outcome, st.decided_by = self.outcome, decided_by
        ground = st.forbidden_ground = self.forbidden_ground if self.outcome == "forbidden" else None
        decided = open_attribute_zh(self.outcome, ground) if self.outcome in OPEN_ATTRIBUTES else self.outcome
        if inp.kind == OPEN_ATTRIBUTE and inp.parent_case_id:
            # A listing case's dispute: that case lists it, on the source's 保密审查 (Art. 39) and the
            # center's concurrence (Art. 27).
            text = f"县人民政府决定开放属性为{decided}，由案件 {inp.parent_case_id} 办理"
        elif inp.kind == OPEN_ATTRIBUTE and self.outcome == self.opened.current_open_attribute and (
                ground == self.opened.current_forbidden_ground):
            text = f"县人民政府决定开放属性维持为{decided}，目录条目不变"
        elif inp.kind == OPEN_ATTRIBUTE:
            # Forbidden is published with its Art. 29 ground; any other attribute clears it.
            secrecy = {"secrecy_reviewer": self.secrecy.reviewer, "secrecy_conclusion": self.secrecy.conclusion,
                       "secrecy_reviewed_on": self.secrecy.reviewed_on.isoformat()} if self.secrecy else {}
            version = await run_activity(
                publish_catalog_changes,
                PublishRequest(case_id=st.case_id, resource_id=st.resource_id,
                               changes={"open_attribute": self.outcome, "forbidden_ground": ground, **secrecy},
                               approved_at=record.decided_at),
            )
            text = f"开放属性定为{decided}，目录条目 {st.resource_id} 第 {version} 版发布"
        else:
            text = f"{'协调一致' if status == 'settled' else '县人民政府决定'}：{SHARE_OUTCOMES[self.outcome]}"
        await run_activity(
            close_dispute_case,
            DisputeClosing(case_id=st.case_id, status=status, outcome=self.outcome, decided_by=decided_by,
                           reasons=record.reasons, closed_at=workflow.now()),
        )
        kind = "county_decision" if decided_by == "county_gov" else "outcome"
        for party in inp.parties:
            await self._tell(party, "dispute.outcome", kind, text, f"理由：{record.reasons}", step)
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.projector.finish()
        agreements = self.agreements if status == "settled" else []
        return DisputeResult(case_id=st.case_id, outcome=self.outcome, forbidden_ground=ground, decided_by=decided_by,
                             reasons=record.reasons, basis=record.basis, decision=record, agreements=agreements)

    async def _tell(self, dept: str, key: str, kind: str, headline: str, detail: str, step: str) -> None:
        await self.tell(dept, key, kind, headline, detail, step_rule(step).article)

    # ---- people decide ---------------------------------------------------------------------------

    @staticmethod
    def _action(d: DecisionInput) -> str:
        return "propose" if d.action == "settle" else d.action  # settle: the proposal's former name

    def _step_of(self, action: str, dept: str) -> str:
        """The step a decision is recorded under."""
        if action in ("agree", "disagree") or (action == "ask_county" and self.state.status == "agreement"):
            return self.answer_steps[dept]
        if action in ("propose", "escalate", "ask_county"):
            return REPORT if self.state.status == "reporting" else COORDINATE
        return self.waiting[0]

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self._answering(d), self.deciding(d):
            st, action, dept = self.state, self._action(d), d.actor.dept_code
            record = await self.record(d.model_copy(update={"action": action}), self._step_of(action, dept))
            if action == "propose":
                self.proposal, st.proposed_outcome = record, str(d.data.get("outcome"))
                # The departments may answer from now on, not only once their steps are under way.
                self.set_status("agreement")
            elif action == "escalate":
                self.report = record
            elif action == "agree":
                st.answers[dept] = action
                self.agreements.append(record)
            elif action in ("disagree", "ask_county"):
                if action == "disagree":
                    st.answers[dept] = action
                else:
                    st.county_asked_by = dept
                    self.note(LOCAL_ASK)
                self.failure = record
            elif action == "opinion":
                self.opinion = record
            else:
                self.outcome = str(d.data.get("outcome") or d.data.get("open_attribute"))
                self.forbidden_ground = str(d.data.get("forbidden_ground") or "") or None
                if self._secrecy_needed(self.outcome):
                    self.secrecy = secrecy_review(d.data, self._today())
                self.decision = record
            return DecisionOutcome(case_id=st.case_id, action=action, status=st.status,
                                   message=f"已记录：{record.actor.label()}{ACTION_ZH[action]}")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Only the center coordinates and reports, only the two departments in dispute answer its
        proposal, only the expert committee gives its opinion, only the county government decides;
        each with its reasons (Art. 20 ¶2, Art. 28 ¶3)."""
        st, action = self.state, self._action(d)
        self.refuse_if_busy()
        if action not in ACTION_KIND:
            raise self.unknown_action(d.action, "争议案件的操作为 propose、escalate（中心）、agree、disagree、"
                             "ask_county（争议双方）、opinion（专家委员会）、decide（县政府）")
        if st.center_refused and ACTION_KIND[action] != "county_gov":
            raise PermissionError(f"{d.actor.label()}不能{ACTION_ZH[action]}：争议涉及县大数据管理中心自身的拒绝决定，"
                                  "由县人民政府直接决定（本地规则，第二十条第二款）")
        # Once coordination has failed, only the center's report remains (Art. 20 ¶2).
        late = action in ("propose", "agree", "disagree", "ask_county") and self._failed()
        between_steps = not self.waiting and action not in ("agree", "disagree", "ask_county")
        if st.status not in ACTION_STATUS[action] or between_steps or late:
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH.get(action, action)}")
        self._check_actor(d, action)
        if not (d.reasons or "").strip() and action != "agree":
            raise ValueError(f"{ACTION_ZH[action]}须写明理由（reasons）（{self._article()}）")
        if action in ("propose", "decide"):
            if st.kind == SHARE:
                if d.data.get("outcome") not in SHARE_OUTCOMES:
                    raise ValueError("须在 data.outcome 中写明结果：share（予以共享）或 refuse（不予共享）（第二十条第二款）")
            elif d.data.get("open_attribute") not in OPEN_ATTRIBUTES:
                choices = "、".join(f"{k}（{v}）" for k, v in OPEN_ATTRIBUTES.items())
                raise ValueError(f"须在 data.open_attribute 中写明决定的开放属性：{choices}（第二十八条）")
            elif problem := forbidden_ground_problem(d.data.get("open_attribute"), d.data.get("forbidden_ground"),
                                                     "data.forbidden_ground"):
                raise ValueError(problem)
            elif self._secrecy_needed(d.data.get("open_attribute")):
                secrecy_review(d.data, self._today())  # refused here, naming the field: never stuck at publishing

    def _secrecy_needed(self, attribute: object) -> bool:
        """Art. 39: a standalone open-attribute dispute that opens an entry with no 保密审查 record on it
        publishes the source's record, which the county's decision carries (data.secrecy_reviewer,
        secrecy_reviewed_on, secrecy_conclusion). A listing case's dispute is published by that case,
        on the source's record (its open.secrecy_record step)."""
        return (self.state.kind == OPEN_ATTRIBUTE and not self.inp.parent_case_id
                and attribute in ("unconditional", "restricted") and not self.opened.has_secrecy_record)

    @staticmethod
    def _today() -> date:
        return (workflow.now() + timedelta(hours=8)).date()  # Asia/Shanghai: the 保密审查's date is not after it

    def _article(self) -> str:
        return step_rule(self.waiting[0]).article if self.waiting else step_rule(COORDINATE).article

    def _check_actor(self, d: DecisionInput, action: str) -> None:
        kind, article = ACTION_KIND[action], self._article()
        if kind != PARTY:
            if d.actor.dept_kind != kind:
                raise PermissionError(f"{d.actor.label()}无权{ACTION_ZH[action]}：此步由{WHO_ZH[kind]}作出（{article}）")
            return
        if d.actor.dept_code not in self.answer_steps:
            names = "、".join(self.dept_name(c) for c in self.answer_steps)
            raise PermissionError(f"{d.actor.label()}无权{ACTION_ZH[action]}：由争议双方（{names}）作出（第二十条第二款）")
        if d.actor.dept_code in self.state.answers:
            raise ValueError(f"{d.actor.dept_name}已{ACTION_ZH[self.state.answers[d.actor.dept_code]]}，不能再作表示")
