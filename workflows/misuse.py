"""Misuse review, 数据滥用核查 (Art. 22, 25).

Art. 25: the center records every read of shared data (the sharing platform and the open system
report them). Art. 22: shared data serves only the grantee's duties, within its grant; misuse, once
found, ends the sharing at once (一经发现将立即取消数据共享). A department's read outside any grant (no
grant, other items, outside its period) opens this case, one per using department and resource while it
is under review: later bad reads join it; once decided, they open a new one. (A citizen's or company's
restricted-open read without an approved application, Art. 28, 46 (六), is recorded but opens none.)

The center reviews (local default period, the measures set none) and either confirms the misuse (its
leaders only, Art. 4: it revokes grants) —
the department's grants on the resource are revoked and the department and the source are told — or
dismisses it with its reasons (a platform error, a read the grant did cover). Reasons both ways.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.access import close_misuse_case, open_misuse_case, revoke_misused_grants
    from models.access import (
        READS_SIGNAL,
        VERDICT_ZH,
        MisuseClosing,
        MisuseInput,
        MisuseResult,
        MisuseState,
        ReadsAdded,
        Revocation,
    )
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord

from workflows.case import HEADS, CaseWorkflow, run_activity

REVIEW = "misuse.review"
ACTIONS = ("confirm", "dismiss")
# What the record says: "confirm" alone would read as a correction's 确认数据无误.
RECORDED = {"confirm": "confirm_misuse", "dismiss": "dismiss"}


@workflow.defn(name="MisuseReview")
class MisuseReviewWorkflow(CaseWorkflow):
    case_type = "misuse"
    status_zh = {
        "opening": "登记中",
        "under_review": "待县大数据管理中心核查越权使用共享数据",
        "confirmed": "已认定越权使用",
        "dismissed": "经核查不属越权使用",
    }

    @workflow.init
    def __init__(self, inp: MisuseInput) -> None:
        # Started by the access-log ingest, not by a person: only the center may end it (cancel).
        self.open_case(MisuseState(case_id=inp.case_id, grantee_code=inp.grantee_code, resource_id=inp.resource_id,
                                   source_code=inp.source_code, status="opening",
                                   status_zh=self.status_zh["opening"]), starter_dept=None)
        self.state: MisuseState
        self.finding: DecisionRecord | None = None
        # A batch's signal may come before the case's first note: its notes wait, so the timeline reads in order.
        self.pending: list[str] | None = []

    @workflow.run
    async def run(self, inp: MisuseInput) -> MisuseResult:
        done = await self.run_case(self._process(inp))
        return done or MisuseResult(case_id=self.state.case_id, status=self.state.status)

    def end_blocked_zh(self) -> str | None:
        if self.finding is not None:
            return "县大数据管理中心已作出核查结论（第二十二条）"
        return None

    async def record_end(self, status: str) -> None:
        await run_activity(close_misuse_case, MisuseClosing(case_id=self.state.case_id, status=status,
                                                            outcome=status, closed_at=workflow.now()))

    async def _process(self, inp: MisuseInput) -> MisuseResult:
        st = self.state
        opened = await run_activity(open_misuse_case, inp)
        st.reads = max(st.reads, opened.reads)
        st.parties = {opened.center_code: opened.center_name, inp.grantee_code: opened.grantee_name,
                      inp.source_code: opened.source_name}
        st.facts = [f"数据资源：{inp.resource_id} {opened.resource_name}（数源部门：{opened.source_name}）",
                    f"使用部门：{opened.grantee_name}"]
        self.note(f"{opened.grantee_name}读取 {inp.resource_id} 无授权或超出授权范围，立案核查（第二十二条、第二十五条）")
        for text in self.pending or []:
            self.note(text)
        self.pending = None
        # Art. 22: the center reviews; the measures set no time (local default).
        await self.start_step(REVIEW, opened.center_code)
        self.set_status("under_review")
        await self.await_step(REVIEW, lambda: self.finding is not None)
        finding = self.finding
        assert finding is not None
        # The row says it is decided before any grant goes: later bad reads open a new case, not this one.
        await run_activity(close_misuse_case, MisuseClosing(case_id=st.case_id, status="decided"))
        if finding.action == "confirm_misuse":
            # Art. 22: 一经发现将立即取消数据共享.
            st.revoked_grants = await run_activity(revoke_misused_grants, Revocation(
                case_id=st.case_id, grantee_code=st.grantee_code, resource_id=st.resource_id, actor=finding.actor,
                reasons=finding.reasons or "", at=finding.decided_at))
            revoked = (f"撤销其共享授权 {'、'.join(str(g) for g in st.revoked_grants)}" if st.revoked_grants
                       else "该部门在此数据资源上没有有效的共享授权，无需撤销")
            text = (f"认定{opened.grantee_name}越权使用 {st.resource_id}（共 {st.reads} 条读取记录），"
                    f"{revoked}（第二十二条）：{finding.reasons}")
            status = "confirmed"
        else:
            text = f"经核查不属越权使用（共 {st.reads} 条读取记录）：{finding.reasons}（第二十二条）"
            status = "dismissed"
        st.outcome = status
        await run_activity(close_misuse_case, MisuseClosing(case_id=st.case_id, status=status, outcome=status,
                                                            closed_at=workflow.now()))
        for dept in (st.grantee_code, st.source_code):
            await self.tell(dept, f"misuse.{status}", "outcome", self.status_zh[status], text, "第二十二条")
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return MisuseResult(case_id=st.case_id, status=status, revoked_grants=st.revoked_grants)

    # ---- the access log reports more bad reads ---------------------------------------------------------

    @workflow.signal(name=READS_SIGNAL)
    def reads_added(self, added: ReadsAdded) -> None:
        """A batch added bad reads to the case (the records already count them); told once per batch."""
        st = self.state
        if added.batch_id in st.batches:
            return
        st.batches.append(added.batch_id)
        st.reads = max(st.reads, added.total)
        for verdict, n in added.verdicts.items():
            st.verdicts[verdict] = st.verdicts.get(verdict, 0) + n
        what = "、".join(f"{VERDICT_ZH.get(v, v)} {n} 条" for v, n in sorted(added.verdicts.items()))
        text = f"批次 {added.batch_id} 报送越权读取记录 {added.count} 条（{what}），累计 {st.reads} 条（第二十五条）"
        if self.pending is not None:
            self.pending.append(text)
        else:
            self.note(text)

    # ---- the center decides ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            self.finding = await self.record(d.model_copy(update={"action": RECORDED[d.action]}), REVIEW)
            message = ("已认定越权使用：其在此数据资源上的有效共享授权即将撤销，并通知使用部门和数源部门（第二十二条）"
                       if d.action == "confirm" else "已认定不属越权使用，本案办结（第二十二条）")
            return DecisionOutcome(case_id=self.state.case_id, action=d.action, status=self.state.status,
                                   message=message)

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Rejects, before anything is written, what Art. 22 does not allow: only the center finds."""
        st = self.state
        self.refuse_if_busy()
        if d.action not in ACTIONS:
            raise self.unknown_action(d.action, "滥用核查案件的操作为 confirm（认定越权使用，撤销授权）、"
                             "dismiss（认定不属越权使用）")
        if st.status != "under_review" or self.finding is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，已有核查结论或现在不能作出（第二十二条）")
        if d.actor.dept_kind != "center":
            raise PermissionError(f"{d.actor.label()}无权作出核查结论：越权使用共享数据由县大数据管理中心核查认定（第二十二条）")
        if d.action == "confirm" and not HEADS & set(d.actor.roles):
            # Art. 4, 22: confirming revokes grants, as `pdw grant revoke` does: the center's leaders only.
            raise PermissionError(f"{d.actor.label()}无权认定越权使用（认定即撤销其共享授权）：须由县大数据管理中心的"
                                  "主要负责人、分管领导办理（第四条、第二十二条）")
        if not (d.reasons or "").strip():
            raise ValueError("核查结论须写明理由（reasons）：认定越权使用的情形，或不属越权使用的原因（第二十二条）")
