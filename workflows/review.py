"""A periodic review case, 定期评估审查 (Art. 19, Art. 28 ¶4, Art. 30 ¶2), opened by a round
(workflows/review_round.py) for one source department.

Art. 28 ¶4: the 数源部门 periodically assesses its public data outside the open scope; what can now
be opened is brought into it. Art. 30 ¶2: the open subject periodically assesses its restricted-open
data and turns what qualifies into unconditional-open data. For each entry listed the department
answers ``keep`` (with its reason) or ``open`` (the new open attribute and its Art. 39 保密审查
record); an ``open`` conclusion changes the catalog only through a catalog-update case (Art. 11: the
department submits, the center reviews), which this case starts.

Art. 19 (and 46 (二)(三)): sources keep shared data current at the declared 更新频度. A stale entry's
source answers ``refreshed`` (accepted once a refresh event newer than the case has arrived for
every entry listed) or ``explain`` (a reason per entry).

The measures set no time for the answer: a local default under the deadline ladder; a missed answer
is recorded against the department like any other step.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow
from temporalio.common import (
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.calendar import SHANGHAI
    from activities.review import (
        missing_refreshes,
        new_catalog_case_id,
        open_review_case,
        reserve_catalog_update,
        update_review_case,
    )
    from models import search
    from models.cases import DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, SECRECY_CONCLUSIONS, UPDATE_FREQUENCIES, CatalogUpdateInput
    from models.review import (
        ANSWER_STEPS,
        CONCLUSIONS,
        FRESHNESS,
        OPEN_TO,
        OUTCOMES,
        REVIEW_ARTICLES,
        REVIEW_KINDS,
        RefreshCheck,
        ReviewEntry,
        ReviewInput,
        ReviewRecordUpdate,
        ReviewResult,
        ReviewState,
    )

from workflows.case import CaseWorkflow, run_activity

OPEN_ACTIONS, FRESHNESS_ACTIONS = ("answer",), ("refreshed", "explain")
SECRECY_FIELDS = ("secrecy_reviewer", "secrecy_reviewed_on", "secrecy_conclusion")
ENTRY_FIELDS = ("reason", "open_attribute", *SECRECY_FIELDS)


def per_entry(data: dict[str, object], listed: list[str]) -> dict[str, dict[str, object]]:
    """A decision's data is flat (the API takes scalars): ``RES-X`` = keep|open, ``RES-X.reason``,
    ``RES-X.open_attribute``, ``RES-X.secrecy_reviewer``… — each entry's conclusion as one dict."""
    return {rid: {"conclusion": data.get(rid), **{f: data.get(f"{rid}.{f}") for f in ENTRY_FIELDS}} for rid in listed}


@workflow.defn(name="PeriodicReview")
class PeriodicReviewWorkflow(CaseWorkflow):
    case_type = "review"
    status_zh = {
        "opening": "登记中",
        "awaiting_answer": "待数源部门答复定期评估审查",
        "answered": "数源部门已答复，审查办结",
    }

    @workflow.init
    def __init__(self, inp: ReviewInput) -> None:
        # Opened by a Schedule, not a department: only the center may cancel it (CaseWorkflow.check_end).
        self.open_case(ReviewState(case_id=inp.case_id, kind=inp.kind, kind_zh=REVIEW_KINDS.get(inp.kind, inp.kind),
                                   dept_code=inp.dept_code, period=inp.period, entries=inp.entries,
                                   status="opening", status_zh=self.status_zh["opening"]))
        self.state: ReviewState
        self.answer: DecisionRecord | None = None

    @workflow.run
    async def run(self, inp: ReviewInput) -> ReviewResult:
        done = await self.run_case(self._process(inp))
        return done or ReviewResult(case_id=self.state.case_id, status=self.state.status)

    def end_blocked_zh(self) -> str | None:
        if self.answer is not None:
            return "数源部门已答复，本案正在办结（可能已启动目录更新案件），不能撤销（本地规定）"
        return None

    async def record_end(self, status: str) -> None:
        await run_activity(update_review_case, ReviewRecordUpdate(
            case_id=self.state.case_id, status=status, closed_at=workflow.now()))

    async def _process(self, inp: ReviewInput) -> ReviewResult:
        st = self.state
        article = REVIEW_ARTICLES[inp.kind]
        opened = await run_activity(open_review_case, inp.model_copy(update={"opened_at": workflow.now()}))
        st.opened_at = opened.opened_at
        st.parties = {inp.dept_code: opened.dept_name, opened.center_code: opened.center_name}
        st.facts = [f"{st.kind_zh}（{article}），周期 {inp.period}"] + [self._entry_fact(e) for e in inp.entries]
        self.note(f"{st.kind_zh}：请{opened.dept_name}逐项答复（{article}）")

        step = ANSWER_STEPS[inp.kind]
        await self.start_step(step, inp.dept_code)
        self.set_status("awaiting_answer")
        await self.await_step(step, lambda: self.answer is not None)
        answer = self.answer
        assert answer is not None

        if inp.kind == FRESHNESS:
            st.outcome = "refreshed" if answer.action == "refreshed" else "explained"
        else:
            opening = [rid for rid, c in st.conclusions.items() if c.get("conclusion") == "open"]
            for rid in opening:
                await self._start_catalog_update(rid, answer)
            st.outcome = "opening" if opening else "kept"
        text = f"{st.kind_zh}已答复：{OUTCOMES[st.outcome]}（{article}）"
        self.close("answered", text)
        await run_activity(update_review_case, ReviewRecordUpdate(
            case_id=st.case_id, status="answered", outcome=st.outcome, closed_at=workflow.now()))
        started = "；".join(f"{rid} 目录更新案件 {cid}" for rid, cid in st.catalog_updates.items())
        await self.tell(opened.center_code, f"review.{st.outcome}", "outcome", text,
                        f"{opened.dept_name}：{OUTCOMES[st.outcome]}" + (f"。{started}" if started else ""), article)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ReviewResult(case_id=st.case_id, status=st.status, outcome=st.outcome)

    async def _start_catalog_update(self, resource_id: str, answer: DecisionRecord) -> None:
        """Art. 11 (via Art. 28 ¶4 / 30 ¶2): the catalog changes only through an update the center
        reviews. The case is recorded the way the API records one (one open update per entry) and
        started as this case's child, left running when this case closes."""
        st = self.state
        c = st.conclusions[resource_id]
        to = OPEN_ATTRIBUTES[c["open_attribute"]]
        note = (f"定期评估审查 {st.case_id}（{REVIEW_ARTICLES[st.kind]}）结论：开放属性改为{to}；保密审查：{c['secrecy_reviewer']}，"
                f"{c['secrecy_reviewed_on']}，{SECRECY_CONCLUSIONS[c['secrecy_conclusion']]}（第三十九条）。请提交更新"
                f"（open_attribute={c['open_attribute']} 及保密审查要素）")
        case_id = await run_activity(new_catalog_case_id, workflow.now().astimezone(SHANGHAI).year)
        inp = CatalogUpdateInput(case_id=case_id, resource_id=resource_id, changed_at=answer.decided_at,
                                 change_note=note, changed_elements=["open_attribute", *SECRECY_FIELDS],
                                 started_by=answer.actor)
        other = await run_activity(reserve_catalog_update, inp)
        if other is not None:  # Art. 11: one open update per entry; the conclusion goes into that one
            st.catalog_updates[resource_id] = other
            st.facts.append(f"{resource_id}：已有进行中的目录更新案件 {other}，请在该案件中按结论提交更新（第十一条）")
            self.note(f"{resource_id} 已有进行中的目录更新案件 {other}，未另行启动（第十一条）")
            return
        summary = f"目录更新 {resource_id}（{st.parties[st.dept_code]}，{st.case_id}）"
        try:
            await workflow.start_child_workflow(
                "CatalogUpdate", inp, id=case_id, static_summary=summary, static_details=note,
                parent_close_policy=ParentClosePolicy.ABANDON, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search.opening("catalog_update", summary, st.parties, st.dept_code))
        except WorkflowAlreadyStartedError:  # the id was taken for this case alone: it is this one
            pass
        st.catalog_updates[resource_id] = case_id
        st.facts.append(f"{resource_id}：已启动目录更新案件 {case_id}，由县大数据管理中心审核（第十一条）")
        self.note(f"{resource_id} 结论为纳入开放范围：已启动目录更新案件 {case_id}（第十一条）")

    def _entry_fact(self, e: ReviewEntry) -> str:
        if self.state.kind == FRESHNESS:
            last = e.last_refreshed_at.astimezone(SHANGHAI).date().isoformat() if e.last_refreshed_at else "无"
            return (f"{e.resource_id} {e.name}：更新频度{UPDATE_FREQUENCIES.get(e.update_frequency, e.update_frequency)}，"
                    f"最近一次更新 {last}（第十九条）")
        return f"{e.resource_id} {e.name}：开放属性为{OPEN_ATTRIBUTES.get(e.open_attribute, e.open_attribute)}"

    def _conclusion_zh(self, rid: str, c: dict[str, object]) -> str:
        if c.get("conclusion") == "open":
            return f"{rid} 纳入开放，开放属性改为{OPEN_ATTRIBUTES.get(str(c.get('open_attribute')), '')}"
        if c.get("conclusion") == "keep":
            return f"{rid} 维持现有开放属性：{c.get('reason')}"
        return f"{rid}：{c['reason']}" if c.get("reason") else ""  # freshness: the reason given, if any

    # ---- the department answers --------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        st = self.state
        async with self.deciding(d):
            if d.action == "refreshed":  # Art. 19: the refresh events must have arrived since the case opened
                assert st.opened_at is not None
                missing = await run_activity(missing_refreshes, RefreshCheck(
                    resource_ids=[e.resource_id for e in st.entries], since=st.opened_at))
                if missing:
                    raise ApplicationError(
                        f"数据资源 {'、'.join(missing)} 自本案开启以来尚无更新记录：须数据更新后再报告已更新（refreshed），"
                        "或改为说明原因（explain）（第十九条）", type="BadInput")
            st.conclusions = per_entry(d.data, [e.resource_id for e in st.entries])
            # The per-entry answer goes into the decision's reasons: the records keep it, not only the history.
            entries = "；".join(filter(None, (self._conclusion_zh(rid, c) for rid, c in st.conclusions.items())))
            reasons = "；".join(part for part in ((d.reasons or "").strip(), entries) if part)
            self.answer = await self.record(d.model_copy(update={"reasons": reasons or None}), ANSWER_STEPS[st.kind])
        return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status,
                               message=f"已答复{st.kind_zh}（{REVIEW_ARTICLES[st.kind]}）")

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Rejects, before anything is written, what Art. 19, 28 ¶4, 30 ¶2 and 39 do not allow."""
        st = self.state
        self.refuse_if_busy()
        allowed = FRESHNESS_ACTIONS if st.kind == FRESHNESS else OPEN_ACTIONS
        if d.action not in allowed:
            names = ("refreshed（已更新）、explain（说明原因）" if st.kind == FRESHNESS else "answer（逐项答复）")
            raise self.unknown_action(d.action, f"{st.kind_zh}案件的操作为 {names}")
        if st.status != "awaiting_answer" or self.answer is not None:
            raise ValueError(f"案件当前为“{st.status_zh}”，已答复或现在不能答复（{REVIEW_ARTICLES[st.kind]}：每次审查答复一次）")
        if d.actor.dept_code != st.dept_code:
            raise PermissionError(f"{d.actor.label()}无权答复：{st.kind_zh}由数源部门{st.parties.get(st.dept_code, st.dept_code)}"
                                  f"答复（{REVIEW_ARTICLES[st.kind]}）")
        listed = [e.resource_id for e in st.entries]
        stray = sorted({key.split(".", 1)[0] for key in d.data} - set(listed))
        if stray:
            raise ValueError(f"data 中的 {'、'.join(stray)} 不在本次审查的目录条目中：只能答复所列条目（{REVIEW_ARTICLES[st.kind]}）")
        given = per_entry(d.data, listed)
        if st.kind == FRESHNESS:
            lacking = [rid for rid in listed if not str(given[rid].get("reason") or "").strip()]
            if d.action == "explain" and lacking:
                raise ValueError(f"说明原因须逐项写明：data 缺少 {'、'.join(f'{r}.reason' for r in lacking)}"
                                 "（未按更新频度更新的原因）（第十九条）")
            return
        problems = []
        for rid in listed:
            c = given[rid]
            if c.get("conclusion") not in CONCLUSIONS:
                problems.append(f"{rid} 的结论（data 中的 {rid}）应为 keep（{CONCLUSIONS['keep']}）"
                                f"或 open（{CONCLUSIONS['open']}）（{REVIEW_ARTICLES[st.kind]}）")
            elif c["conclusion"] == "keep" and not str(c.get("reason") or "").strip():
                problems.append(f"{rid} 维持现有开放属性须写明理由（{rid}.reason）（{REVIEW_ARTICLES[st.kind]}）")
            elif c["conclusion"] == "open":
                problems += self._open_problems(rid, c)
        if problems:
            raise ValueError("；".join(problems))

    def _open_problems(self, rid: str, c: dict[str, object]) -> list[str]:
        st = self.state
        to = OPEN_TO[st.kind]
        found = []
        if c.get("open_attribute") not in to:
            choices = "、".join(f"{k}（{OPEN_ATTRIBUTES[k]}）" for k in to)
            found.append(f"{rid} 纳入开放的新开放属性（{rid}.open_attribute）应为 {choices}（{REVIEW_ARTICLES[st.kind]}）")
        if not str(c.get("secrecy_reviewer") or "").strip():
            found.append(f"{rid} 开放前须经本部门保密审查：{rid}.secrecy_reviewer（保密审查人）不能为空（第三十九条）")
        try:
            date.fromisoformat(str(c.get("secrecy_reviewed_on") or ""))
        except ValueError:
            found.append(f"{rid} 开放前须经本部门保密审查：{rid}.secrecy_reviewed_on（保密审查日期）应为 YYYY-MM-DD（第三十九条）")
        if c.get("secrecy_conclusion") not in SECRECY_CONCLUSIONS:
            choices = "、".join(f"{k}（{v}）" for k, v in SECRECY_CONCLUSIONS.items())
            found.append(f"{rid} 开放前须经本部门保密审查：{rid}.secrecy_conclusion（保密审查结论）应为 {choices}；"
                         "涉及国家秘密的数据不得开放（第三十九条）")
        return found
