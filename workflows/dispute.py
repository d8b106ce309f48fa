"""Dispute coordination, 争议协调 (Art. 20 ¶2, Art. 28 ¶3).

Art. 20 ¶2: when a using and a source department disagree on sharing, the center coordinates;
where it cannot settle the matter, it reports to the county government, whose decision is final.
Art. 28 ¶3: where the center and a source cannot agree on a data resource's open attribute, the
expert committee's opinion is sought and the county government decides. Escalation of a dispute's
steps reaches the county government's leaders.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.catalog import publish_catalog_changes
    from activities.dispute import close_dispute_case, open_dispute_case
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, PublishRequest
    from models.dispute import (
        OPEN_ATTRIBUTE,
        SHARE,
        SHARE_OUTCOMES,
        DisputeClosing,
        DisputeInput,
        DisputeResult,
        DisputeState,
    )
    from models.steps import step_rule

from workflows.case import ACTIVITY, CaseWorkflow

COORDINATE, COUNTY = "dispute.coordinate", "dispute.county_decision"
EXPERTS, OPEN_COUNTY = "dispute.expert_opinion", "dispute.open_county_decision"
# Who takes each action, by department kind.
ACTION_KIND = {"settle": "center", "escalate": "center", "opinion": "expert_committee", "decide": "county_gov"}
ACTION_STATUS = {"settle": "coordinating", "escalate": "coordinating", "opinion": "expert_review",
                 "decide": "county_decision"}


@workflow.defn(name="Dispute")
class DisputeWorkflow(CaseWorkflow):
    case_type = "dispute"
    escalate_to = "county_gov"
    status_zh = {
        "opening": "登记中",
        "coordinating": "县大数据管理中心协调中",
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
                proposed_open_attribute=inp.proposed_open_attribute,
            )
        )
        self.state: DisputeState
        self.coordination: DecisionRecord | None = None
        self.opinion: DecisionRecord | None = None
        self.decision: DecisionRecord | None = None
        self.outcome: str | None = None

    @workflow.run
    async def run(self, inp: DisputeInput) -> DisputeResult:
        st = self.state
        opened = await workflow.execute_activity(open_dispute_case, inp, **ACTIVITY)
        st.parties = opened.parties
        self.inp, self.opened = inp, opened
        self.note(f"{inp.raised_by.label()}申请协调：{inp.claim}")
        st.facts = [f"数据资源：{inp.resource_id}", f"争议双方：{'、'.join(opened.parties[c] for c in inp.parties)}"]

        if inp.kind == SHARE:
            # Art. 20 ¶2: the center coordinates first.
            await self.start_step(COORDINATE, opened.center_code)
            self.set_status("coordinating")
            await self.await_step(COORDINATE, lambda: self.coordination is not None)
            assert self.coordination is not None
            if self.coordination.action == "settle":
                return await self._finish("settled", "center", COORDINATE, self.coordination)
            await self._tell(opened.county_code, "dispute.to_county", "经县大数据管理中心协调未能达成一致，报请县人民政府决定",
                             f"协调意见：{self.coordination.reasons}", COUNTY)
            county_step = COUNTY
        else:
            # Art. 28 ¶3: the expert committee's opinion comes before the county's decision.
            st.facts.append(
                f"开放属性：现为{OPEN_ATTRIBUTES.get(opened.current_open_attribute)}，"
                f"中心建议改为{OPEN_ATTRIBUTES.get(inp.proposed_open_attribute or '')}"
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

    async def _finish(self, status: str, decided_by: str, step: str, record: DecisionRecord) -> DisputeResult:
        st, inp = self.state, self.inp
        assert self.outcome is not None
        st.outcome, st.decided_by = self.outcome, decided_by
        if inp.kind == OPEN_ATTRIBUTE:
            version = await workflow.execute_activity(
                publish_catalog_changes,
                PublishRequest(case_id=st.case_id, resource_id=st.resource_id, changes={"open_attribute": self.outcome},
                           approved_at=record.decided_at),
                **ACTIVITY,
            )
            text = f"开放属性定为{OPEN_ATTRIBUTES[self.outcome]}，目录条目 {st.resource_id} 第 {version} 版发布"
        else:
            text = f"{'协调一致' if status == 'settled' else '县人民政府决定'}：{SHARE_OUTCOMES[self.outcome]}"
        await workflow.execute_activity(
            close_dispute_case,
            DisputeClosing(case_id=st.case_id, status=status, outcome=self.outcome, decided_by=decided_by,
                           reasons=record.reasons, closed_at=workflow.now()),
            **ACTIVITY,
        )
        for party in inp.parties:
            await self._tell(party, "dispute.outcome", text, f"理由：{record.reasons}", step)
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DisputeResult(case_id=st.case_id, outcome=self.outcome, decided_by=decided_by,
                             reasons=record.reasons, basis=record.basis, decision=record)

    async def _tell(self, dept: str, key: str, headline: str, detail: str, step: str) -> None:
        kind = "dispute_escalated" if key == "dispute.to_county" else (
            "county_decision" if self.state.decided_by == "county_gov" else "outcome")
        await self.tell(dept, key, kind, headline, detail, step_rule(step).article)

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            step = self.waiting[0]
            record = await self.record(d, step)
            if d.action in ("settle", "decide"):
                self.outcome = str(d.data.get("outcome") or d.data.get("open_attribute"))
            if d.action in ("settle", "escalate"):
                self.coordination = record
            elif d.action == "opinion":
                self.opinion = record
            else:
                self.decision = record
            return DecisionOutcome(case_id=self.state.case_id, action=d.action, status=self.state.status,
                                   message=f"已记录：{record.actor.label()}{ACTION_ZH[d.action]}")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Only the center coordinates, only the expert committee gives its opinion, only the county
        government decides; each with its reasons (Art. 20 ¶2, Art. 28 ¶3)."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTION_KIND:
            raise ValueError(f"操作“{d.action}”无效：争议案件的操作为 settle、escalate（中心）、opinion（专家委员会）、decide（县政府）")
        if st.status != ACTION_STATUS[d.action] or not self.waiting:
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH.get(d.action, d.action)}")
        if d.actor.dept_kind != ACTION_KIND[d.action]:
            who = {"center": "县大数据管理中心", "expert_committee": "专家委员会", "county_gov": "县人民政府"}
            raise PermissionError(
                f"{d.actor.label()}无权{d.action}：此步由{who[ACTION_KIND[d.action]]}作出"
                f"（{step_rule(self.waiting[0]).article}）"
            )
        if not (d.reasons or "").strip():
            raise ValueError("须写明理由（reasons）")
        if d.action in ("settle", "decide"):
            if st.kind == SHARE:
                if d.data.get("outcome") not in SHARE_OUTCOMES:
                    raise ValueError("须在 data.outcome 中写明结果：share（予以共享）或 refuse（不予共享）")
            elif d.data.get("open_attribute") not in OPEN_ATTRIBUTES:
                choices = "、".join(f"{k}（{v}）" for k, v in OPEN_ATTRIBUTES.items())
                raise ValueError(f"须在 data.open_attribute 中写明决定的开放属性：{choices}（第二十八条）")

