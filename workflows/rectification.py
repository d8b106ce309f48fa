"""Rectification orders, 责令改正 (Art. 46).

Art. 46: a 公共管理和服务机构 that fails (一)–(八) is ordered to correct it (责令改正) by 本级人民政府 (the
county government) or 上级主管部门 (县大数据发展管理局, the competent authority of Art. 4). The center
(县大数据管理中心) supervises (Art. 4) and sees the failings first, so it proposes; it does not order.
- the center proposes: the department, the failings with their evidence, what to correct, a period
  in working days, and the authority it proposes to (the service checked all of it);
- the authority orders (it may set the period) or declines with its reasons: then the case closes;
- the department corrects within the ordered period (local: the measures set none), under the ladder,
  and reports what it did;
- the center checks the report and records its finding (local rule);
- the authority accepts (the case closes) or, on the center's check only, orders again with its
  reasons and a new period: the department corrects again (another round).
Every step's deadline is a local default, cited to Art. 46; the parties hear of each step.
"""

from __future__ import annotations

import re

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.rectification import open_rectification_case, update_rectification_case
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.rectification import (
        FINDINGS,
        MAX_DAYS,
        MIN_DAYS,
        OUTCOMES,
        RectificationInput,
        RectificationResult,
        RectificationState,
        RectificationUpdate,
        failing_zh,
    )

from workflows.case import CaseWorkflow, due_zh, run_activity

ORDER, CORRECT = "rectification.order", "rectification.correct"
CHECK, ACCEPT = "rectification.check", "rectification.accept"
ARTICLE = "第四十六条"
ACTIONS = ("order", "decline_order", "report_rectified", "check_rectified", "accept_rectified", "reorder")
# Short names staff may type (pdw decide CASE accept), as the pdw rectification commands are named.
ALIASES = {"decline": "decline_order", "report": "report_rectified", "check": "check_rectified",
           "accept": "accept_rectified"}
AUTHORITY, DEPARTMENT, CENTER = "authority", "department", "center"
# Who takes each action, and the status the case must be in.
ACTION_BY = {"order": AUTHORITY, "decline_order": AUTHORITY, "report_rectified": DEPARTMENT,
             "check_rectified": CENTER, "accept_rectified": AUTHORITY, "reorder": AUTHORITY}
ACTION_STATUS = {"order": "proposed", "decline_order": "proposed", "report_rectified": "correcting",
                 "check_rectified": "checking", "accept_rectified": "accepting", "reorder": "accepting"}
STEP_OF = {"order": ORDER, "decline_order": ORDER, "report_rectified": CORRECT, "check_rectified": CHECK,
           "accept_rectified": ACCEPT, "reorder": ACCEPT}


@workflow.defn(name="Rectification")
class RectificationWorkflow(CaseWorkflow):
    case_type = "rectification"
    status_zh = {
        "opening": "登记中",
        "proposed": "县大数据管理中心已提出建议，待责令机关决定是否责令改正",
        "correcting": "已责令改正，待被责令部门整改并报告",
        "checking": "待县大数据管理中心核查整改情况",
        "accepting": "待责令机关验收整改",
        "accepted": "整改验收通过，已结案",
        "declined": "不予责令改正，已结案",
    }

    @workflow.init
    def __init__(self, inp: RectificationInput) -> None:
        self.open_case(
            RectificationState(case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                               dept_code=inp.dept_code, authority_code=inp.authority_code, failings=inp.failings,
                               evidence=inp.evidence, evidence_cases=inp.evidence_cases, correct=inp.correct,
                               working_days=inp.working_days),
            starter_dept=inp.proposed_by.dept_code,
        )
        self.state: RectificationState
        self.center_code = ""
        self.decided: DecisionRecord | None = None  # the authority's order or decline
        self.report: DecisionRecord | None = None
        self.check: DecisionRecord | None = None
        self.verdict: DecisionRecord | None = None  # the authority's accept or reorder
        self.verdict_reasons = ""  # why the authority ordered again, told to the department

    @workflow.run
    async def run(self, inp: RectificationInput) -> RectificationResult:
        done = await self.run_case(self._process(inp))
        return done or RectificationResult(case_id=self.state.case_id, status=self.state.status,
                                           outcome=self.state.outcome, rounds=self.state.rounds)

    async def record_end(self, status: str) -> None:
        self.state.outcome = status
        await self._record(status, outcome=status, closed=True)

    def end_blocked_zh(self) -> str | None:
        if self.decided is not None:
            return f"{self.state.authority_name}已作出决定：由责令机关验收或再次责令改正（第四十六条）"
        return None

    async def _process(self, inp: RectificationInput) -> RectificationResult:
        st = self.state
        opened = await run_activity(open_rectification_case, inp)
        self.center_code = opened.center_code
        st.dept_name, st.authority_name = opened.dept_name, opened.authority_name
        st.parties = {inp.dept_code: opened.dept_name, opened.center_code: opened.center_name,
                      inp.authority_code: opened.authority_name}
        failings = "；".join(failing_zh(code) for code in inp.failings)
        st.facts = [f"被建议责令改正的部门：{opened.dept_name}", f"情形：{failings}（第四十六条）",
                    f"事实和证据：{inp.evidence}" + (f"（案件 {'、'.join(inp.evidence_cases)}）" if inp.evidence_cases else ""),
                    f"应当改正的事项：{inp.correct}", f"责令改正机关：{opened.authority_name}"]
        self.note(f"{inp.proposed_by.label()}建议{opened.authority_name}责令{opened.dept_name}改正：{failings}（第四十六条）")

        # Art. 46: the authority orders, or declines with its reasons (local default period).
        # The authority's own steps: their 督办 goes up its own line, not to the center below it.
        due = await self.start_step(ORDER, inp.authority_code, escalate_to=opened.authority_kind)
        await self.tell(inp.authority_code, "rectification.proposed", "outcome", "县大数据管理中心建议责令改正",
                        f"{opened.dept_name}：{failings}。事实和证据：{inp.evidence}。应当改正：{inp.correct}；建议期限 "
                        f"{inp.working_days} 个工作日。请于{due_zh(due)}前决定责令改正（pdw rectification order）或不予责令改正"
                        "（pdw rectification decline，须写明理由）。", ARTICLE)
        self.set_status("proposed")
        await self.await_step(ORDER, lambda: self.decided is not None)
        decided = self.decided
        assert decided is not None
        if decided.action == "decline_order":
            return await self._finish("declined", decided, f"{opened.authority_name}不予责令改正")

        while True:
            # The department corrects within the ordered period, under the ladder, and reports.
            st.rounds += 1
            # The last verdict stays until the case awaits the next: a second reorder meanwhile is refused.
            self.report = self.check = None
            st.finding = None
            await self._record("correcting", rounds=st.rounds, working_days=st.working_days,
                               ordered=decided if st.rounds == 1 else None)
            # 督办 of a late correction reaches the ordering authority's leaders too, not only the center's.
            due = await self.start_step(CORRECT, st.dept_code, working_days=st.working_days,
                                        escalate_to=opened.authority_kind)
            again = "再次" if st.rounds > 1 else ""
            why = f"理由：{self.verdict_reasons}" if st.rounds > 1 else ""
            await self.tell(st.dept_code, f"rectification.ordered#{st.rounds}", "outcome", f"{opened.authority_name}{again}责令改正",
                            f"情形：{failings}。应当改正：{st.correct}。请于{due_zh(due)}前改正并报告整改情况"
                            f"（pdw rectification report {st.case_id} --what …）。{why}", ARTICLE)
            # The center proposed: it hears of the order, and will check the report.
            await self.tell(self.center_code, f"rectification.ordered#{st.rounds}", "outcome",
                            f"{opened.authority_name}{again}责令改正",
                            f"{opened.dept_name}应于{due_zh(due)}前改正并报告整改情况，由县大数据管理中心核查。{why}", ARTICLE)
            self.set_status("correcting")
            await self.await_step(CORRECT, lambda: self.report is not None)

            # The center checks the report (local rule), then the authority accepts or orders again.
            await self.start_step(CHECK, self.center_code)
            self.set_status("checking")
            await self._record("checking")
            await self.await_step(CHECK, lambda: self.check is not None)
            check = self.check
            assert check is not None
            st.facts.append(f"第 {st.rounds} 轮核查结论：{FINDINGS[st.finding or 'done']}；{check.reasons}")
            await self.start_step(ACCEPT, st.authority_code, escalate_to=opened.authority_kind)
            await self.tell(st.authority_code, f"rectification.checked#{st.rounds}", "outcome", "县大数据管理中心已核查整改情况",
                            f"核查结论：{FINDINGS[st.finding or 'done']}；{check.reasons}。请验收（pdw rectification accept）"
                            "或再次责令改正（pdw rectification reorder，须写明理由）。", ARTICLE)
            self.verdict = None
            self.set_status("accepting")
            await self._record("accepting")
            await self.await_step(ACCEPT, lambda: self.verdict is not None)
            verdict = self.verdict
            assert verdict is not None
            if verdict.action == "accept_rectified":
                return await self._finish("accepted", verdict, f"{opened.authority_name}验收整改，结案")
            self.verdict_reasons = verdict.reasons or ""

    async def _finish(self, status: str, record: DecisionRecord, text: str) -> RectificationResult:
        st = self.state
        st.outcome = status
        await self._record(status, outcome=status, closed=True)
        reasons = f"理由：{record.reasons}" if record.reasons else ""
        for dept in (st.dept_code, self.center_code):
            await self.tell(dept, f"rectification.{status}", "outcome", OUTCOMES[status], reasons, ARTICLE)
        self.close(status, f"{text}（第四十六条）")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return RectificationResult(case_id=st.case_id, status=status, outcome=status, rounds=st.rounds)

    async def _record(self, status: str, *, outcome: str | None = None, closed: bool = False,
                      rounds: int | None = None, working_days: int | None = None,
                      ordered: DecisionRecord | None = None) -> None:
        """The case's row (what the yearly report counts, Art. 41): ``ordered``, the authority's order."""
        await run_activity(update_rectification_case, RectificationUpdate(
            case_id=self.state.case_id, status=status, outcome=outcome, rounds=rounds, working_days=working_days,
            ordered_by=ordered.actor.dept_code if ordered else None, ordered_at=ordered.decided_at if ordered else None,
            closed_at=workflow.now() if closed else None))

    # ---- people decide ---------------------------------------------------------------------------

    @staticmethod
    def _action(d: DecisionInput) -> str:
        return ALIASES.get(d.action, d.action)

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st, action = self.state, self._action(d)
            record = await self.record(d.model_copy(update={"action": action}), STEP_OF[action])
            if action in ("order", "decline_order"):
                if action == "order" and d.data.get("working_days") not in (None, ""):
                    st.working_days = int(str(d.data["working_days"]))
                self.decided = record
            elif action == "report_rectified":
                st.reports.append(record.reasons or "")
                self.report = record
            elif action == "check_rectified":
                st.finding = str(d.data.get("finding"))
                self.check = record
            else:
                if action == "reorder" and d.data.get("working_days") not in (None, ""):
                    st.working_days = int(str(d.data["working_days"]))
                self.verdict = record
            return DecisionOutcome(case_id=st.case_id, action=action, status=st.status,
                                   message=f"已记录：{record.actor.label()}{ACTION_ZH[action]}（第四十六条）")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Art. 46: only the ordering authority orders, declines, accepts or orders again; only the
        department reports; only the center checks; each with what the step needs."""
        st, action = self.state, self._action(d)
        self.refuse_if_busy()
        if action not in ACTIONS:
            raise self.unknown_action(d.action, "责令改正案件的操作为 order（责令改正）、decline（不予责令改正）、"
                             "reorder（再次责令改正）、accept（验收）（责令机关）；report（报告整改情况，被责令部门）；"
                             "check（核查，县大数据管理中心）")
        self._check_actor(d, action)
        taken = {ORDER: self.decided, CORRECT: self.report, CHECK: self.check, ACCEPT: self.verdict}[STEP_OF[action]]
        if st.status != ACTION_STATUS[action] or self.closed or taken is not None:
            if action in ("accept_rectified", "reorder") and st.status in ("correcting", "checking"):
                raise ValueError(f"案件当前为“{st.status_zh}”：须在县大数据管理中心核查整改情况后，才能验收或再次责令改正（第四十六条）")
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH[action]}")
        text = (d.reasons or "").strip()
        if action == "report_rectified" and not text:
            raise ValueError("整改情况（reasons）不能为空：须写明已采取的整改措施（第四十六条）")
        if action in ("decline_order", "reorder", "check_rectified") and not text:
            raise ValueError(f"{ACTION_ZH[action]}须写明理由（reasons）（第四十六条）")
        if action == "accept_rectified" and st.finding == "not_done" and not text:
            raise ValueError("县大数据管理中心核查认为未整改到位：验收须写明不采纳核查结论的理由（reasons），"
                             "或再次责令改正（reorder）（第四十六条）")
        if action == "check_rectified" and d.data.get("finding") not in FINDINGS:
            choices = "、".join(f"{k}（{v}）" for k, v in FINDINGS.items())
            raise ValueError(f"核查结论（data.finding）须为：{choices}（第四十六条）")
        if action in ("order", "reorder") and d.data.get("working_days") not in (None, ""):
            days = str(d.data["working_days"])
            if not re.fullmatch(r"[0-9]{1,2}", days) or not MIN_DAYS <= int(days) <= MAX_DAYS:
                raise ValueError(f"改正期限（data.working_days）“{days[:20]}”无效：须为 {MIN_DAYS} 至 {MAX_DAYS} 个工作日"
                                 "（本地规定，第四十六条）")

    def _check_actor(self, d: DecisionInput, action: str) -> None:
        st, who = self.state, ACTION_BY[action]
        a = d.actor
        if who == AUTHORITY and a.dept_code != st.authority_code:
            if a.dept_kind == "center":
                raise PermissionError(f"{a.label()}无权{ACTION_ZH[action]}：县大数据管理中心只提出建议，由{st.authority_name}"
                                      "责令改正并验收（第四十六条）")
            raise PermissionError(f"{a.label()}无权{ACTION_ZH[action]}：本案由{st.authority_name}责令改正并验收"
                                  "（第四十六条：本级人民政府或者上级主管部门）")
        if who == DEPARTMENT and a.dept_code != st.dept_code:
            raise PermissionError(f"{a.label()}无权{ACTION_ZH[action]}：由被责令改正的{st.dept_name}报告（第四十六条）")
        if who == CENTER and a.dept_code != self.center_code:
            raise PermissionError(f"{a.label()}无权{ACTION_ZH[action]}：整改情况由县大数据管理中心核查（第四条、第四十六条）")
