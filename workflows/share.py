"""Share approval, 共享申请审批 (Art. 13–22).

A using department applies for a catalog resource's data items, stating purpose, scope and mode
(Art. 13, 16, 20). Who approves follows the resource's share attribute and collection state:
- collected and unconditional: the center approves (Art. 20);
- restricted: the center and the source approve jointly, in either order (Art. 20);
- non-shared: only if the source agrees to provide it desensitised, with the legal basis (Art. 15, 17);
- not yet collected: the source replies within 7 working days (Art. 20); agreeing means providing
  the data: a provision step for the source under the ladder (a local deadline), after which the
  resource is marked collected and only then is the grant written (Art. 20);
- batch mode: the center's and the source's review, whatever the class (Art. 21).
A refusal carries reasons and a basis (Art. 20). Either department may then ask the center to
coordinate (Art. 20 ¶2); the case waits for that dispute (workflows/dispute.py) and carries out its
outcome: an agreement both departments recorded, or the county government's decision, each of which
stands among this case's decisions too. Local rule: a dispute over the center's own refusal goes
straight to the county government. An approval writes a grant, usable only for the grantee's duties
(Art. 22).

When the center itself owns the resource (it is the 数源部门 too), it acts in both capacities with
one decision: the source's step is the one awaited (its rules are the stricter: the 7-day reply,
desensitised-only provision), and the center's decision on it counts as the center's approval as
well. Otherwise no center person could ever act as the source, and the request could never be decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from activities.calendar import SHANGHAI
    from activities.share import (
        close_share_case,
        grant_and_close,
        open_share_case,
        record_provision,
        write_grant,
    )
    from models import search
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import SHARE_ATTRIBUTES
    from models.departments import Actor
    from models.dispute import SHARE, DisputeInput, DisputeResult
    from models.processes import DISPUTE_WORKFLOW
    from models.share import (
        GRANT_ID_SLOT,
        SHARE_MODES,
        GrantRequest,
        Provision,
        ShareClosing,
        ShareGranted,
        ShareRequestInput,
        ShareResult,
        ShareState,
        add_months,
    )
    from models.steps import step_rule

from workflows.case import due_zh, run_activity
from workflows.transfer import SourceHeldCase, SourceRole
from workflows.versions import R2026_12_2, R2026_12_3, has

CENTER, SOURCE = "center", "source"
CENTER_REVIEW, SOURCE_REVIEW, SOURCE_REPLY = "share.center_review", "share.source_review", "share.source_reply"
NONSHARED_REVIEW, BATCH_CENTER, BATCH_SOURCE = "share.nonshared_review", "share.batch_center_review", "share.batch_source_review"
DISPUTE_WINDOW, PROVISION = "share.dispute_window", "share.provision"
ACTIONS = ("approve", "approve_desensitised", "refuse", "dispute", "provide")
LOCAL_CENTER_REFUSAL = "本地规则：拒绝由县大数据管理中心作出，中心不能协调对自己决定的争议，争议直接报请县人民政府决定"


def approval_steps(share_attribute: str, collected: bool, mode: str, center_is_source: bool = False) -> dict[str, str]:
    """Who must approve, each under which step (Art. 15, 17, 20, 21). A center that owns the
    resource decides once, under the source's step, in both capacities (module docstring)."""
    steps = _approval_steps(share_attribute, collected, mode)
    if center_is_source and SOURCE in steps:
        return {SOURCE: steps[SOURCE]}
    return steps


def _approval_steps(share_attribute: str, collected: bool, mode: str) -> dict[str, str]:
    if not collected:
        # Art. 20: data not yet collected — the source replies within 7 working days;
        # Art. 21: in batch mode the center reviews too.
        return {SOURCE: SOURCE_REPLY, **({CENTER: BATCH_CENTER} if mode == "batch" else {})}
    if mode == "batch":
        return {CENTER: BATCH_CENTER, SOURCE: NONSHARED_REVIEW if share_attribute == "non_shared" else BATCH_SOURCE}
    if share_attribute == "unconditional":
        return {CENTER: CENTER_REVIEW}
    if share_attribute == "restricted":
        return {CENTER: CENTER_REVIEW, SOURCE: SOURCE_REVIEW}
    return {SOURCE: NONSHARED_REVIEW}


@workflow.defn(name="ShareApproval")
class ShareApprovalWorkflow(SourceHeldCase):
    case_type = "share"
    status_zh = {
        "opening": "登记中",
        "under_review": "审批中",
        "refused": "未获同意，可申请协调",
        "in_dispute": "争议协调中",
        "providing": "数源部门已同意，待提供未归集的数据",
        "granted": "已同意共享，授权生效",
        "refused_final": "不予共享",
    }

    @workflow.init
    def __init__(self, inp: ShareRequestInput) -> None:
        self.open_case(
            ShareState(
                case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                resource_id=inp.resource_id, requester_code=inp.requested_by.dept_code, items=inp.items,
                purpose=inp.purpose, scope=inp.scope, mode=inp.mode, months=inp.months,
                renews_grant_id=inp.renews_grant_id,
            ),
            starter_dept=inp.requested_by.dept_code,
        )
        self.state: ShareState
        self.requester = inp.requested_by
        self.refusal: DecisionRecord | None = None
        self.dispute: DecisionRecord | None = None
        self.provision: DecisionRecord | None = None  # Art. 20: the source's record of providing
        self.codes: dict[str, str] = {}  # center | source -> department code, once the case has opened
        self.resource_name = ""

    @workflow.run
    async def run(self, inp: ShareRequestInput) -> ShareResult:
        return await self.run_case(self._process(inp)) or ShareResult(case_id=self.state.case_id,
                                                                      status=self.state.status)

    async def record_end(self, status: str) -> None:
        await run_activity(
            close_share_case, ShareClosing(case_id=self.state.case_id, status=status, outcome=status,
                                           reasons=self.ending.reasons if self.ending else None,
                                           closed_at=workflow.now()),
        )

    def end_blocked_zh(self) -> str | None:
        if self.state.status == "in_dispute":
            return "本案争议正在协调或已报请县人民政府决定（第二十条第二款）"
        return None

    async def _process(self, inp: ShareRequestInput) -> ShareResult:
        st = self.state
        opened = await run_activity(open_share_case, inp)
        st.source_code, st.share_attribute, st.collected = opened.source_code, opened.share_attribute, opened.collected
        st.parties = {inp.requested_by.dept_code: inp.requested_by.dept_name, opened.source_code: opened.source_name,
                      opened.center_code: opened.center_name}
        self.codes = {CENTER: opened.center_code, SOURCE: opened.source_code}
        st.approvers = approval_steps(st.share_attribute, st.collected, st.mode, self._center_is_source())
        self.resource_name = opened.resource_name
        st.facts = self._head_facts()
        if self._center_is_source():
            st.facts.append(f"{opened.center_name}既是审批单位又是数源部门：其一项决定同时作为中心审批和数源部门意见")
        if inp.renews_grant_id is not None:
            # Art. 22: a renewal is a new request, checked against the catalog as it stands now.
            st.facts.append(f"续期：本申请续用共享授权 {inp.renews_grant_id}，按现行目录重新审批（第二十二条）")
        self.note(f"{inp.requested_by.label()}提出共享申请"
                  + (f"（续期共享授权 {inp.renews_grant_id}）" if inp.renews_grant_id is not None else ""))

        # Every approver's step runs at once, each under its own deadline; a refusal ends them all.
        for party, step in st.approvers.items():
            await self.start_step(step, self.codes[party])
        self.set_status("under_review")
        await asyncio.gather(
            *(
                self.await_step(step, self._decided(party))
                for party, step in st.approvers.items()
            )
        )
        if self.refusal is None:
            return await self._provide_and_grant()

        refusal = self.refusal
        st.refusal_reasons, st.refusal_basis = refusal.reasons, refusal.basis
        st.refused_by = refusal.actor.dept_code
        # Art. 20 ¶2: either department may ask the center to coordinate. The measures set no time
        # for asking; the local window is told with the refusal, so no refusal becomes final unsaid.
        window = await self.open_window(DISPUTE_WINDOW)
        route = ("申请协调：因拒绝由县大数据管理中心作出，争议直接报请县人民政府决定（本地规则，第二十条第二款）"
                 if self._center_refused() else "申请县大数据管理中心协调（第二十条第二款）")
        await self._tell(inp.requested_by.dept_code, "share.refused", "未获同意",
                         f"理由：{refusal.reasons}；依据：{refusal.basis}。如有异议，任一方可在{due_zh(window)}前"
                         f"{route}；逾期未申请的，拒绝决定生效。", refusal.article)
        self.set_status("refused")
        if not await self.await_window(DISPUTE_WINDOW):
            return await self._refuse_final(refusal.reasons, refusal.basis, "未在协调期内申请协调，拒绝决定生效")
        await workflow.wait_condition(lambda: self.dispute is not None)
        assert self.dispute is not None
        st.dispute_case_id = f"dispute-{st.case_id}"
        self.set_status("in_dispute")
        # The dispute is between the requester and whoever refused: the source, or the center.
        other = st.refused_by if self._center_refused() else st.source_code
        if self._center_refused():
            st.facts.append(LOCAL_CENTER_REFUSAL)
            self.note(f"争议协调案件 {st.dispute_case_id} 已开始；{LOCAL_CENTER_REFUSAL}")
        else:
            self.note(f"争议协调案件 {st.dispute_case_id} 已开始")
        summary = f"共享争议 {st.case_id}（{st.parties[st.requester_code]} 与 {st.parties[other]}）"
        result: DisputeResult = await workflow.execute_child_workflow(
            DISPUTE_WORKFLOW,
            DisputeInput(
                case_id=st.dispute_case_id, kind=SHARE, resource_id=st.resource_id, raised_by=self.dispute.actor,
                parties=[st.requester_code, other], claim=self.dispute.reasons or "",
                parent_case_id=st.case_id, center_refused=self._center_refused(),
            ),
            id=st.dispute_case_id,
            result_type=DisputeResult,
            static_summary=summary,
            search_attributes=TypedSearchAttributes([SearchAttributePair(search.SUMMARY, summary)]),
        )
        who = "经县大数据管理中心协调，双方同意" if result.decided_by == "center" else "县人民政府决定"
        # Art. 20 ¶2: the outcome stands among this case's decisions: the county's decision, or the
        # center's proposal together with both departments' agreement to it.
        for decided in ([result.decision] if result.decision is not None else []) + result.agreements:
            await self.adopt(decided)
        if result.outcome == "share":
            self.note(f"{who}：予以共享")
            # Non-shared data is provided only desensitised, whoever decides to share it (Art. 15, 17).
            st.desensitised = st.desensitised or st.share_attribute == "non_shared"
            return await self._provide_and_grant()
        return await self._refuse_final(result.reasons, result.basis, f"{who}：不予共享")

    def _decided(self, party: str) -> Callable[[], bool]:
        """A party's step ends with its own decision or with anyone's refusal (Art. 20)."""
        return lambda: party in self.state.approvals or self.refusal is not None

    def _head_facts(self) -> list[str]:
        """The case's first five facts, as they stand now: a transfer changes the source, providing
        the data makes it collected (Art. 20)."""
        st = self.state
        return [
            f"申请部门：{self.dept_name(st.requester_code)}；数源部门：{self.dept_name(st.source_code)}",
            f"数据资源：{st.resource_id} {self.resource_name}（{SHARE_ATTRIBUTES.get(st.share_attribute)}，"
            f"{'已归集' if st.collected else '未归集'}）",
            f"数据项：{'、'.join(st.items)}；共享方式：{SHARE_MODES[st.mode]}；期限：{st.months} 个月",
            f"共享用途：{st.purpose}；使用范围：{st.scope}",
            "审批：" + "、".join(f"{st.parties[self.codes[p]]}（{step_rule(s).article}）" for p, s in st.approvers.items()),
        ]

    async def _provide_and_grant(self) -> ShareResult:
        """Art. 20: agreeing to share data not yet collected means providing it through the sharing
        system. The source owes that under the ladder (a local deadline); the requester hears of the
        agreement and the date; once provided, the resource is collected and the grant written."""
        st = self.state
        if not st.collected:
            deadline = await self.start_step(PROVISION, st.source_code)
            await self.tell(st.requester_code, "share.agreed", "outcome", "数源部门同意提供数据",
                            f"{self.dept_name(st.source_code)}同意提供尚未归集的数据（{'、'.join(st.items)}），"
                            f"须于{due_zh(deadline)}前通过共享系统提供；提供后共享授权生效，届时另行通知。",
                            "第二十条")
            self.set_status("providing")  # with await_step in the same task: never seen awaiting nobody
            await self.await_step(PROVISION, lambda: self.provision is not None)
            assert self.provision is not None
            await run_activity(record_provision, Provision(
                case_id=st.case_id, resource_id=st.resource_id, provided_at=self.provision.decided_at,
                person_id=self.provision.actor.person_id))
            st.collected = True
            st.facts[:5] = self._head_facts()
            self.note(f"数据资源 {st.resource_id} 已归集至共享系统（第二十条）")
        return await self._grant()

    async def _grant(self) -> ShareResult:
        st, now = self.state, workflow.now()
        until = add_months(now, st.months)
        grant = GrantRequest(
            case_id=st.case_id, grantee_code=st.requester_code, resource_id=st.resource_id,
            source_code=st.source_code, items=st.items, purpose=st.purpose, scope=st.scope, mode=st.mode,
            desensitised=st.desensitised, valid_from=now, valid_until=until,
        )
        closing = ShareClosing(case_id=st.case_id, status="granted", outcome="granted",
                               dispute_case_id=st.dispute_case_id, closed_at=now)
        desensitised = "（经脱敏、脱密处理）" if st.desensitised else ""
        terms = f"{'、'.join(st.items)}{desensitised}，{SHARE_MODES[st.mode]}方式，有效期至 {until.astimezone(SHANGHAI):%Y-%m-%d}"
        told = f"共享授权 {GRANT_ID_SLOT}：{terms}。共享数据只能用于本部门履行职责需要（第二十二条）。"
        if has(R2026_12_3):  # the grant, the closing and the requester's notice in one activity
            notice = self.case_notice(st.requester_code, "share.granted", "approved", "已同意共享", told, "第二十条")
            grant_id = await run_activity(grant_and_close, ShareGranted(grant=grant, closing=closing, notice=notice))
            st.grant_id = grant_id
        else:
            if has(R2026_12_2):  # the grant and the closing in one activity
                grant_id = await run_activity(grant_and_close, ShareGranted(grant=grant, closing=closing))
            else:
                grant_id = await run_activity(write_grant, grant)
                await run_activity(close_share_case, closing)
            st.grant_id = grant_id
            await self._tell(st.requester_code, "share.granted", "已同意共享",
                             told.replace(GRANT_ID_SLOT, str(grant_id), 1), "第二十条")
        self.close("granted", f"共享授权 {grant_id}：{terms}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ShareResult(case_id=st.case_id, status="granted", grant_id=grant_id)

    async def _refuse_final(self, reasons: str | None, basis: str | None, text: str) -> ShareResult:
        st = self.state
        await run_activity(
            close_share_case,
            ShareClosing(case_id=st.case_id, status="refused_final", outcome="refused", reasons=reasons, basis=basis,
                         dispute_case_id=st.dispute_case_id, closed_at=workflow.now()),
        )
        if st.dispute_case_id:
            await self._tell(st.requester_code, "share.refused_final", "不予共享", f"{text}。理由：{reasons}", "第二十条")
        self.close("refused_final", text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ShareResult(case_id=st.case_id, status="refused_final")

    async def _tell(self, dept: str, key: str, headline: str, detail: str, article: str) -> None:
        await self.tell(dept, key, "approved" if key == "share.granted" else "refused", headline, detail, article)

    # ---- people decide ---------------------------------------------------------------------------

    def source_role(self) -> SourceRole | None:
        """The source's steps (workflows/transfer.py); a center deciding as the source too keeps the case."""
        if not self.state.source_code or self._center_is_source():
            return None
        return SourceRole(self.state.resource_id, self.state.source_code,
                          (SOURCE_REVIEW, SOURCE_REPLY, NONSHARED_REVIEW, BATCH_SOURCE, PROVISION))

    def move_source(self, code: str, name: str) -> None:
        self.state.source_code = self.codes[SOURCE] = code
        self.state.facts[:5] = self._head_facts()

    def _center_is_source(self) -> bool:
        return self.codes.get(CENTER) == self.state.source_code

    def _center_refused(self) -> bool:
        return self.state.refused_by is not None and self.state.refused_by == self.codes.get(CENTER)

    def _party(self, actor: Actor) -> str | None:
        if actor.dept_kind == "center":
            # The center that owns the resource acts as the source too, with one decision.
            return SOURCE if self._center_is_source() and SOURCE in self.state.approvers else CENTER
        return SOURCE if actor.dept_code == self.state.source_code else None

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st = self.state
            if d.action == "dispute":
                self.claim_window()
                self.dispute = await self.record(d, DISPUTE_WINDOW)
                message = ("已申请协调：争议涉及县大数据管理中心自身的拒绝决定，直接报请县人民政府决定（本地规则，第二十条第二款）"
                           if self._center_refused() else "已申请县大数据管理中心协调（第二十条第二款）")
            elif d.action == "provide":
                self.provision = await self.record(d, PROVISION)
                note = d.data.get("note")
                st.provided_note = (str(note).strip() if note else None) or d.reasons
                if st.provided_note:
                    st.facts.append(f"提供情况：{st.provided_note}（第二十条）")
                message = "已记录提供数据：数据资源标记为已归集后，共享授权生效（第二十条）"
            else:
                party = self._party(d.actor)
                assert party is not None
                record = await self.record(d, st.approvers[party])
                st.approvals[party] = d.action
                if d.action == "refuse":
                    self.refusal = record
                    message = "已记录不同意的决定及其理由和依据"
                else:
                    st.desensitised = st.desensitised or d.action == "approve_desensitised"
                    message = "已记录同意"
            return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status, message=message)

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Rejects, before anything is written, a decision the measures do not allow (Art. 15, 17, 20)."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTIONS:
            raise self.unknown_action(d.action, "共享申请的操作为 approve、approve_desensitised、refuse、dispute、provide")
        if d.action == "provide":
            # Art. 20: only the source provides, only after agreeing, and once.
            if self._party(d.actor) != SOURCE:
                raise PermissionError(f"{d.actor.label()}无权记录提供：未归集的数据由数源部门"
                                      f"{self.dept_name(st.source_code)}提供（第二十条）")
            if st.status != "providing":
                raise ValueError(f"案件当前为“{st.status_zh}”：数源部门同意提供未归集的数据后，才能记录提供（第二十条）")
            if self.provision is not None:
                raise ValueError("已记录提供数据，不能重复记录（第二十条）")
            return
        if d.action == "dispute":
            if st.status != "refused" or not self.window_is_open():
                raise ValueError(f"案件当前为“{st.status_zh}”：只有申请未获同意后、在协调期内才能申请协调（第二十条第二款）")
            if d.actor.dept_code not in (st.requester_code, st.source_code):
                raise PermissionError(f"{d.actor.label()}无权申请协调：由使用部门或数源部门申请（第二十条第二款）")
            if not (d.reasons or "").strip():
                raise ValueError("申请协调须写明争议理由（reasons）（第二十条第二款）")
            return
        if st.status != "under_review" or self.refusal is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能审批")
        party = self._party(d.actor)
        if party is None or party not in st.approvers:
            names = "、".join(st.parties[self.codes[p]] for p in st.approvers)
            article = step_rule(next(iter(st.approvers.values()))).article
            raise PermissionError(f"{d.actor.label()}无权审批：本申请由{names}审批（{article}）")
        if party in st.approvals:
            raise ValueError(f"{st.parties[self.codes[party]]}已作出决定，不能重复审批")
        if d.action == "refuse" and not ((d.reasons or "").strip() and (d.basis or "").strip()):
            raise ValueError("不同意共享须说明理由（reasons）并提供依据（basis）（第二十条）")
        if d.action == "approve_desensitised":
            if party != SOURCE:
                raise ValueError("经脱敏、脱密后提供由数源部门决定（第十七条）")
            if not (d.basis or "").strip():
                raise ValueError("脱敏、脱密后提供须写明法律依据（basis）（第十五条、第十七条）")
        if d.action == "approve" and party == SOURCE and st.share_attribute == "non_shared":
            raise ValueError("不予共享类数据只能经脱敏、脱密后提供：请用 approve_desensitised 并写明依据（basis）（第十五条、第十七条）")

