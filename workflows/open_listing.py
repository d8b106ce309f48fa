"""Open-listing review and objections, 开放申请复核 (Art. 32, with Art. 27, 28 ¶3 and 39).

Data the public often asks for but that is not in the open catalog goes to its source for review
(Art. 32): list it, or say why not. A listing carries the source department's own 保密审查 (Art. 39)
and the center's concurrence, since the center keeps the open catalog 会同 the source (Art. 27);
only then is the open attribute published.

Anyone who objects to a refusal may ask the center to review it, and every objection is answered
within 3 working days of its own receipt (Art. 32). The center's answer upholds the source's or
suggests a listing: the center may only propose a different open attribute (Art. 28 ¶3). The source
answers the proposal under a local deadline; silence is not consent (the ladder runs, nothing is
published). Accepting it is a listing as above; rejecting it goes to the expert committee and the
county government, whose decision this case adopts (Art. 28 ¶3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import compute_deadline
    from activities.catalog import publish_catalog_changes
    from activities.open_data import open_listing_review, save_listing_objection, update_open_case
    from models.calendar import Deadline, DeadlineRequest
    from models.cases import ACTION_ZH, DecisionInput, DecisionOutcome, DecisionRecord
    from models.catalog import OPEN_ATTRIBUTES, PublishRequest, open_attribute_zh
    from models.dispute import OPEN_ATTRIBUTE, DisputeInput, DisputeResult
    from models.open_data import (
        SECRECY_CONCLUSIONS,
        ListingReviewInput,
        ListingReviewState,
        ObjectionRecord,
        ObjectionView,
        OpenCaseUpdate,
        OpenResult,
        Proposal,
        secrecy_review,
    )
    from models.processes import DISPUTE_WORKFLOW
    from models.steps import step_rule

from workflows.applicants import tell_listing_answer, tell_objector, tell_public
from workflows.case import due_zh, run_activity
from workflows.deadline import DeadlineLadder
from workflows.transfer import SourceHeldCase, SourceRole
from workflows.versions import LISTING_NOTICES, has

REVIEW, WINDOW, OBJECTION = "open.listing_review", "open.objection_window", "open.objection_review"
PROPOSAL, CONCUR, SECRECY = "open.proposal_answer", "open.listing_confirm", "open.secrecy_record"
LISTABLE = ("unconditional", "restricted")
SOURCE, CENTER, PUBLIC = "source", "center", "public"
# Who takes each action: the source answers (Art. 32) and answers a proposal (Art. 28 ¶3); the
# center reviews objections (Art. 32) and concurs in a listing (Art. 27); the public objects.
ACTOR = {"list": SOURCE, "decline": SOURCE, "accept": SOURCE, "reject": SOURCE, "concur": CENTER,
         "uphold": CENTER, "suggest": CENTER, "object": PUBLIC}
STEP_OF = {"list": REVIEW, "decline": REVIEW, "accept": PROPOSAL, "reject": PROPOSAL, "concur": CONCUR}
ANSWERED = {"uphold": "upheld", "suggest": "suggested", "accept": "accepted", "reject": "rejected"}
CHINA = timedelta(hours=8)  # Asia/Shanghai keeps no daylight saving: "today" for a 保密审查's date
# Issue 12 added commands (applicants' notices, the window's end on record, a county "forbidden" published):
# a case begun before them replays without them (workflows/versions.py, LISTING_NOTICES).


@workflow.defn(name="OpenListingReview")
class OpenListingReviewWorkflow(SourceHeldCase):
    case_type = "open_listing"
    status_zh = {
        "opening": "登记中", "source_review": "待数源部门审核是否列入开放目录",
        "concurring": "待县大数据管理中心会同确认列入开放目录",
        "answered": "数源部门已答复不列入，可申请复核",
        "objection_review": "待县大数据管理中心复核",
        "proposal": "待数源部门答复县大数据管理中心的修改建议",
        "in_dispute": "开放属性争议待专家委员会意见和县人民政府决定",
        "secrecy_record": "县人民政府决定列入开放目录，待数源部门报送保密审查记录",
        "listed": "已列入开放目录", "declined": "不列入开放目录",
    }

    @workflow.init
    def __init__(self, inp: ListingReviewInput) -> None:
        self.open_case(
            ListingReviewState(case_id=inp.case_id, status="opening", status_zh=self.status_zh["opening"],
                               resource_id=inp.resource_id, request_count=inp.request_count)
        )
        self.state: ListingReviewState
        self.opened: Any = None
        self.phase = "opening"
        self.answer: DecisionRecord | None = None
        self.proposal_answer: DecisionRecord | None = None
        self.concurrence: DecisionRecord | None = None
        self.refs: dict[int, str] = {}  # objection number -> the public route's reference
        self.objection_by_key: dict[str, ObjectionView] = {}  # deadline key -> its objection
        self.reviews: list[asyncio.Task[None]] = []
        self.window_task: asyncio.Task[None] | None = None
        self.window_closed = False
        self.final: str | None = None  # the case's outcome, once it has one
        self._listed_as = ""
        self.county_listed_as: str | None = None  # the county's decision (Art. 28 ¶3), once it has one
        self.secrecy_record: DecisionRecord | None = None

    @workflow.run
    async def run(self, inp: ListingReviewInput) -> OpenResult:
        return await self.run_case(self._process(inp)) or OpenResult(case_id=self.state.case_id,
                                                                     outcome=self.state.status)

    async def record_end(self, status: str) -> None:
        """Cancelled (local rule): the objections' ladders stop; an objection still unanswered is
        answered by the cancellation."""
        self.final = f"案件{'已撤回' if status == 'withdrawn' else '已撤销'}"
        for task in [*self.reviews, *([self.window_task] if self.window_task else [])]:
            task.cancel()
        for obj in self._pending():
            obj.answer, obj.answer_reasons, obj.answered_at = "resolved", self.final, workflow.now()
            await self._save(obj)
        await self._update({"status": status, "closed_at": workflow.now().isoformat()})
        if has(LISTING_NOTICES):
            await tell_public(self.state.case_id, "listing.outcome", self.final, "", "第三十二条", who="all")

    def source_role(self) -> SourceRole | None:  # workflows/transfer.py: the answer, a proposal's, 保密审查
        steps = (REVIEW, PROPOSAL, SECRECY)
        return SourceRole(self.state.resource_id, self.opened.source_code, steps) if self.opened else None

    def move_source(self, code: str, name: str) -> None:
        self.opened.source_code, self.opened.source_name = code, name

    def end_blocked_zh(self) -> str | None:
        if self.phase == "in_dispute":
            return "开放属性争议已征求专家委员会意见并报县人民政府决定（第二十八条第三款）"
        return None

    async def _process(self, inp: ListingReviewInput) -> OpenResult:
        st = self.state
        opened = await run_activity(open_listing_review, inp)
        self.opened = opened
        st.parties = {opened.source_code: opened.source_name, opened.center_code: opened.center_name}
        st.facts = [f"数据资源：{inp.resource_id} {opened.resource_name}"
                    f"（开放属性：{open_attribute_zh(opened.open_attribute, opened.forbidden_ground)}）",
                    f"公众申请 {inp.request_count} 人（同一证件号码只计一人，含因数据未开放而不予开放的申请）"]
        self.note(f"公众申请达 {inp.request_count} 人，转数源部门审核（第三十二条）")

        # Art. 32: the source reviews: list it, or say why not.
        await self.start_step(REVIEW, opened.source_code)
        self._enter("source_review")
        await self.await_step(REVIEW, lambda: self.answer is not None)
        assert self.answer is not None
        if self.answer.action == "list":
            st.answer = "listed"
            await self._update({"answer": "listed"})
            return await self._close(*await self._list(self._listed_as, "数源部门审核后列入开放目录"))
        st.answer, st.answer_reasons = "declined", self.answer.reasons
        await self._update({"status": "answered", "answer": "declined", "answer_reasons": self.answer.reasons})
        self._enter("answered")
        return await self._close(*await self._objections())

    # ---- Art. 32: objections, each reviewed within its own 3 working days ----------------------

    async def _objections(self) -> tuple[str, str]:
        """Objections come until the window ends (the measures set no period: a local one, shown
        among the case's deadlines). The answer stands unless the center suggests a listing (Art. 28 ¶3)."""
        st = self.state
        window = await self.open_window(WINDOW)  # the requesters hear the answer and by when to object
        if has(LISTING_NOTICES):
            await self._update({"objection_ends_at": window.due_at.isoformat()})
            await tell_listing_answer(st.case_id, st.answer_reasons or "")
        self.window_task = asyncio.create_task(self._run_window())
        await workflow.wait_condition(lambda: st.proposal is not None or (self.window_closed and not self._pending()))
        if st.proposal is not None:
            return await self._proposal(st.proposal)
        upheld = "、".join(str(o.seq) for o in st.objections)
        review = f"；县大数据管理中心复核维持（第 {upheld} 件复核申请）" if upheld else "；期间内无人申请复核"
        return "declined", f"数源部门说明理由不列入开放目录：{st.answer_reasons}{review}；{self._stays()}"

    def _stays(self) -> str:
        """A declined listing changes nothing in the catalog: unopened data stays unopened, it is not
        thereby classed forbidden (only an Art. 29 ground does that: a catalog update, or the county)."""
        return f"目录条目开放属性不变（{open_attribute_zh(self.opened.open_attribute, self.opened.forbidden_ground)}）"

    async def _run_window(self) -> None:
        window = self.state.deadlines[WINDOW]
        while self.final is None and (left := window.due_at - workflow.now()) > timedelta(0):
            try:  # a calendar change may move the window's end meanwhile
                await workflow.wait_condition(self._ended_or_moved(window), timeout=left)
            except TimeoutError:
                pass
            window = self.state.deadlines[WINDOW]
        self.window_closed = True
        self._enter(self.phase)

    def _ended_or_moved(self, window: Deadline) -> Callable[[], bool]:
        return lambda: self.final is not None or self.state.deadlines[WINDOW] is not window

    def _pending(self) -> list[ObjectionView]:
        return [o for o in self.state.objections if o.answer is None]

    async def _object(self, d: DecisionInput) -> str:
        """Every objector may object; each objection is the center's to answer within 3 working days
        of its receipt, under its own ladder (Art. 32)."""
        st = self.state
        if self.window_closed or self.final is not None:  # the period ran out while the actor was verified
            raise ApplicationError("复核申请期间已届满或本案已有结果，不能再提出复核申请（第三十二条）", type="TooLate")
        obj = ObjectionView(seq=len(st.objections) + 1, objector_label=d.actor.name,
                            objection=(d.reasons or "").strip(), received_at=workflow.now())
        st.objections.append(obj)
        self.refs[obj.seq] = str(d.data.get("ref") or obj.seq)
        await self.record(d, WINDOW)
        # Its own deadline, key and ladder: the first is the step itself, a later one "…#n" as
        # notices and missed-deadline records know a step awaited afresh.
        deadline = await run_activity(
            compute_deadline, DeadlineRequest(step=OBJECTION, event_at=obj.received_at))
        deadline = deadline.model_copy(update={"attempt": obj.seq - 1})
        key, obj.due_at = deadline.key, deadline.due_at
        st.deadlines[key] = deadline
        self.objection_by_key[key] = obj
        self.ladders[key] = DeadlineLadder(
            case_id=st.case_id, case_type=self.case_type, step_zh=f"{step_rule(OBJECTION).zh}（第 {obj.seq} 件复核申请）",
            dept_code=self.opened.center_code, deadline=deadline, escalate_to=self.escalate_to,
            on_level=lambda _level: self.refresh(),
        )
        await self._save(obj)
        await self.ladders[key].announce()
        self.reviews.append(asyncio.create_task(self._review(obj, key)))
        self._enter(self.phase)
        return f"已受理第 {obj.seq} 件复核申请，县大数据管理中心应于{due_zh(deadline)}前反馈复核结果（第三十二条）"

    async def _review(self, obj: ObjectionView, key: str) -> None:
        await self.await_step(key, lambda: obj.answer is not None or self.final is not None)
        if obj.answer is None:  # the case reached its outcome first: that outcome answers the objector
            obj.answer, obj.answer_reasons, obj.answered_at = "resolved", self.final, workflow.now()
            await self._save(obj)
        self._enter(self.phase)

    async def _answer_objection(self, d: DecisionInput) -> str:
        """Art. 32, 28 ¶3: the center upholds the source's answer or suggests a listing, never lists."""
        st, obj = self.state, self._objection_for(d)
        if obj is None:  # the case's outcome answered it while the actor was verified
            raise ApplicationError(f"复核申请（data.objection）“{d.data.get('objection', '')}”已有答复", type="TooLate")
        # Everything the run waits on changes before the first await, so it never sees a half answer.
        obj.answer, obj.answer_reasons, obj.answered_at = ANSWERED[d.action], d.reasons, workflow.now()
        if d.action == "suggest":
            obj.proposed_open_attribute = str(d.data["open_attribute"])
            if st.proposal is None:
                st.proposal = Proposal(open_attribute=obj.proposed_open_attribute, reasons=d.reasons or "",
                                       objections=[obj.seq])
            else:  # the same proposal already stands before the source (or the county)
                st.proposal.objections.append(obj.seq)
        await self.record(d, OBJECTION)
        self.note(f"以上为对第 {obj.seq} 件复核申请（{obj.objector_label}）的复核结果（第三十二条）")
        await self._save(obj)  # Art. 32 反馈复核结果: the objector hears the center's answer
        if has(LISTING_NOTICES):
            await tell_objector(st.case_id, obj.seq, d.action, d.reasons or "", self.refs[obj.seq])
        self._enter(self.phase)
        if d.action == "uphold":
            return f"已记录第 {obj.seq} 件复核申请的复核结果：维持数源部门答复"
        return (f"已记录第 {obj.seq} 件复核申请的复核结果：建议数源部门列入开放目录"
                f"（{OPEN_ATTRIBUTES[obj.proposed_open_attribute or '']}），待数源部门答复（第二十八条第三款）")

    def _objection_for(self, d: DecisionInput) -> ObjectionView | None:
        pending, wanted = self._pending(), d.data.get("objection")
        return next((o for o in pending if wanted is None or str(o.seq) == str(wanted)), None)

    async def _save(self, obj: ObjectionView) -> None:
        record = ObjectionRecord(case_id=self.state.case_id, ref=self.refs[obj.seq], **obj.model_dump())
        await run_activity(save_listing_objection, record)

    # ---- Art. 28 ¶3: the source answers the center's proposal ---------------------------------

    async def _proposal(self, p: Proposal) -> tuple[str, str]:
        src = self.opened.source_code
        what = OPEN_ATTRIBUTES[p.open_attribute]
        await self._update({"status": "proposal", "proposed_open_attribute": p.open_attribute})
        await self.tell(src, "open.proposal", "outcome", f"县大数据管理中心建议列入开放目录（{what}）",
                        f"理由：{p.reasons}。请答复是否采纳：采纳的，附本部门保密审查记录（第三十九条）；不采纳的，"
                        "写明理由，经征求专家委员会意见后报县人民政府决定。未答复的不视为同意。", "第二十八条第三款")
        await self.start_step(PROPOSAL, src)
        self._enter("proposal")
        await self.await_step(PROPOSAL, lambda: self.proposal_answer is not None)
        assert self.proposal_answer is not None
        if self.proposal_answer.action == "accept":
            await self._update({"proposal_answer": "accepted"})
            return await self._list(p.open_attribute, "数源部门采纳县大数据管理中心的建议，列入开放目录")
        return await self._dispute(p, self.proposal_answer)

    async def _dispute(self, p: Proposal, rejection: DecisionRecord) -> tuple[str, str]:
        """The expert committee's opinion, then the county government's decision (a child case)."""
        st = self.state
        dispute_id = st.dispute_case_id = f"dispute-{st.case_id}"
        what = OPEN_ATTRIBUTES[p.open_attribute]
        await self._update({"status": "in_dispute", "proposal_answer": "rejected", "dispute_case_id": dispute_id})
        self._enter("in_dispute")
        self.note(f"开放属性争议案件 {dispute_id} 已开始：征求专家委员会意见后报县人民政府决定（第二十八条第三款）")
        result: DisputeResult = await workflow.execute_child_workflow(
            DISPUTE_WORKFLOW,
            DisputeInput(case_id=dispute_id, kind=OPEN_ATTRIBUTE, resource_id=st.resource_id, raised_by=rejection.actor,
                         parties=[self.opened.center_code, self.opened.source_code],
                         claim=f"县大数据管理中心建议列为{what}（{p.reasons}），数源部门不采纳：{rejection.reasons}",
                         parent_case_id=st.case_id, proposed_open_attribute=p.open_attribute),
            id=dispute_id,
            result_type=DisputeResult,
            static_summary=f"开放属性争议 {st.resource_id}（{st.case_id}：中心建议{what}，数源部门不采纳）",
        )
        if result.decision is not None:  # the county's decision stands among this case's decisions
            await self.adopt(result.decision)
        decided = open_attribute_zh(result.outcome, result.forbidden_ground)
        if result.outcome == "forbidden" and has(LISTING_NOTICES):  # classed forbidden on an Art. 29 ground
            version = await run_activity(
                publish_catalog_changes,
                PublishRequest(case_id=st.case_id, resource_id=st.resource_id,
                               changes={"open_attribute": "forbidden", "forbidden_ground": result.forbidden_ground},
                               approved_at=result.decision.decided_at if result.decision else workflow.now()),
            )
            return "declined", (f"县人民政府决定不列入开放目录，列为{decided}，目录条目 {st.resource_id} 第 {version} 版发布"
                                "（第二十八条第三款）")
        if result.outcome not in LISTABLE:
            return "declined", f"县人民政府决定不列入开放目录（{decided}）（第二十八条第三款）；{self._stays()}"
        # The county decides the attribute; the listing still rests on the source's own 保密审查
        # (Art. 39) and the center's concurrence (Art. 27), as every listing does.
        self.county_listed_as = result.outcome
        await self.tell(self.opened.source_code, "open.county_listing", "outcome",
                        f"县人民政府决定列入开放目录（{decided}）",
                        "请报送本部门保密审查记录后列入（pdw decide 案件编号 list，附保密审查记录）（第三十九条）。",
                        "第二十八条第三款")
        await self.start_step(SECRECY, self.opened.source_code)
        self._enter("secrecy_record")
        await self.await_step(SECRECY, lambda: self.secrecy_record is not None)
        return await self._list(result.outcome, "县人民政府决定列入开放目录")

    # ---- Art. 39, 27: a listing ------------------------------------------------------------------

    async def _list(self, attribute: str, how: str) -> tuple[str, str]:
        """The source's own 保密审查 is on record (Art. 39); the center concurs (Art. 27); then the
        open attribute is published through a new catalog version."""
        st = self.state
        review = st.secrecy_review
        assert review is not None
        st.listed_as = attribute
        secrecy = {"secrecy_reviewer": review.reviewer, "secrecy_reviewed_on": review.reviewed_on.isoformat(),
                   "secrecy_conclusion": review.conclusion}  # published with the attribute (Art. 39)
        await self._update({"status": "concurring", "listed_as": attribute, **secrecy})
        await self.start_step(CONCUR, self.opened.center_code)
        self._enter("concurring")
        await self.await_step(CONCUR, lambda: self.concurrence is not None)
        assert self.concurrence is not None
        concur = self.concurrence
        st.concurred_by = concur.actor.label()
        await self._update({"concurred_by": concur.actor.person_id, "concurred_at": concur.decided_at.isoformat()})
        version = await run_activity(
            publish_catalog_changes,
            PublishRequest(case_id=st.case_id, resource_id=st.resource_id,
                           changes={"open_attribute": attribute, **secrecy}, approved_at=concur.decided_at),
        )
        return "listed", (f"{how}（{OPEN_ATTRIBUTES[attribute]}），经本部门保密审查、县大数据管理中心会同确认，"
                          f"目录条目 {st.resource_id} 第 {version} 版发布")

    # ---- the case's end and its records ------------------------------------------------------------

    async def _close(self, status: str, text: str) -> OpenResult:
        st = self.state
        self.final = text
        # An objection being received as the outcome came is answered by it too (Art. 32).
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.reviews, *([self.window_task] if self.window_task else []))
        await self._update({"status": status, "closed_at": workflow.now().isoformat()})
        if has(LISTING_NOTICES):
            await tell_public(st.case_id, "listing.outcome", self.status_zh[status], text, "第三十二条", who="all")
        for dept in (self.opened.source_code, self.opened.center_code):
            await self.tell(dept, "open.listing_outcome", "outcome", self.status_zh[status], text, "第三十二条")
        self.close(status, text)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OpenResult(case_id=st.case_id, outcome=status)

    def deadline_moved(self, step: str, deadline: Deadline) -> None:
        if step in self.objection_by_key:  # each objection shows its own due date
            self.objection_by_key[step].due_at = deadline.due_at

    def _enter(self, phase: str) -> None:
        """The case's status is its phase, or the center's review while an objection awaits it."""
        self.phase = phase
        status = "objection_review" if phase == "answered" and self._pending() else phase
        if self.final is None and status != self.state.status:
            self.set_status(status)

    async def _update(self, fields: dict[str, str | int | None]) -> None:
        await run_activity(update_open_case, OpenCaseUpdate(case_id=self.state.case_id, table="listing_review",
                                                            fields=fields))

    @staticmethod
    def _today() -> date:
        return (workflow.now() + CHINA).date()

    # ---- people decide ---------------------------------------------------------------------------

    @workflow.update
    async def decide(self, d: DecisionInput) -> DecisionOutcome:
        async with self.deciding(d):
            st = self.state
            if d.action == "object":
                message = await self._object(d)
            elif d.action in ("uphold", "suggest"):
                message = await self._answer_objection(d)
            else:
                if d.action in ("list", "accept"):  # Art. 39: the 保密审查 the listing rests on
                    st.secrecy_review = secrecy_review(d.data, self._today())
                    self._listed_as = str(d.data["open_attribute"]) if d.action == "list" else ""
                if d.action in ("accept", "reject") and st.proposal is not None:
                    st.proposal.answer = ANSWERED[d.action]
                record = await self.record(d, self._step_of(d.action))
                if st.secrecy_review is not None and d.action in ("list", "accept"):
                    r = st.secrecy_review
                    self.note(f"本部门保密审查：{r.reviewer}，{r.reviewed_on}，{SECRECY_CONCLUSIONS[r.conclusion]}（第三十九条）")
                if d.action == "list" and SECRECY in self.waiting:
                    self.secrecy_record = record
                elif d.action in ("list", "decline"):
                    self.answer = record
                elif d.action == "concur":
                    self.concurrence = record
                else:
                    self.proposal_answer = record
                message = f"已记录：{ACTION_ZH[d.action]}"
            return DecisionOutcome(case_id=st.case_id, action=d.action, status=st.status, message=message)

    @decide.validator
    def check_decision(self, d: DecisionInput) -> None:
        """Art. 32: the source answers, with reasons if it will not list; the public objects; the
        center answers each objection, upholding or suggesting (Art. 28 ¶3), never listing; the
        source accepts or rejects a suggestion; a listing has its 保密审查 (Art. 39) and the
        center's concurrence (Art. 27)."""
        st = self.state
        self.refuse_if_busy()
        if d.action == "overturn":
            raise PermissionError("县大数据管理中心复核不能直接列入开放目录：只能维持（uphold）或向数源部门提出修改建议"
                                  "（suggest，data.open_attribute），由数源部门答复（第二十八条第三款、第三十二条）")
        if d.action not in ACTOR:
            raise self.unknown_action(d.action, "应为 list、decline、accept、reject（数源部门）、object（申请人）、"
                             "uphold、suggest、concur（县大数据管理中心）（第三十二条）")
        if not self._may(d.action):
            raise ValueError(f"案件当前为“{st.status_zh}”，现在不能{ACTION_ZH.get(d.action, d.action)}")
        self._check_actor(d)
        if d.action in ("decline", "reject", "object", "uphold", "suggest") and not (d.reasons or "").strip():
            article = "第二十八条第三款" if d.action == "reject" else "第三十二条"
            raise ValueError(f"{ACTION_ZH[d.action]}须写明理由（reasons）（{article}）")
        if d.action == "list" and SECRECY in self.waiting and d.data.get("open_attribute") != self.county_listed_as:
            raise ValueError(f"县人民政府已决定列为{OPEN_ATTRIBUTES[self.county_listed_as or '']}：data.open_attribute 须为"
                             f" {self.county_listed_as}（第二十八条第三款）")
        if d.action in ("list", "suggest") and d.data.get("open_attribute") not in LISTABLE:
            raise ValueError("须在 data.open_attribute 中写明列入开放目录的类别：unconditional 或 restricted（第二十八条、第三十二条）")
        if d.action in ("list", "accept"):
            secrecy_review(d.data, self._today())  # Art. 39: refused without the record, naming the field
        if d.action in ("uphold", "suggest"):
            self._check_objection(d)
        ref = d.data.get("ref", "")
        if d.action == "object" and not (isinstance(ref, str) and len(ref) <= 32):
            raise ValueError("复核申请编号（data.ref）无效（第三十二条）")

    def _step_of(self, action: str) -> str:
        return SECRECY if action == "list" and SECRECY in self.waiting else STEP_OF[action]

    def _may(self, action: str) -> bool:
        """Whether the case now waits for ``action``."""
        st = self.state
        if action == "list" and SECRECY in self.waiting:  # after the county's decision
            return self.secrecy_record is None
        if action in ("list", "decline"):
            return REVIEW in self.waiting and self.answer is None
        if action in ("accept", "reject"):
            return PROPOSAL in self.waiting and self.proposal_answer is None
        if action == "concur":
            return CONCUR in self.waiting and self.concurrence is None
        if action == "object":  # after a refusal, until the window ends or the case has its outcome
            return st.answer == "declined" and not self.window_closed and self.final is None
        return bool(self._pending()) and self.final is None

    def _check_actor(self, d: DecisionInput) -> None:
        who, actor = ACTOR[d.action], d.actor
        if who == SOURCE and actor.dept_code != self.opened.source_code:
            article = "第三十二条" if d.action in ("list", "decline") else "第二十八条第三款"
            raise PermissionError(f"{actor.label()}无权{ACTION_ZH[d.action]}：由数源部门{self.opened.source_name}答复（{article}）")
        if who == CENTER and actor.dept_kind != "center":
            what, article = ("会同确认", "第二十七条") if d.action == "concur" else ("复核", "第三十二条")
            raise PermissionError(f"{actor.label()}无权{what}：由县大数据管理中心{what}（{article}）")
        if who == PUBLIC and actor.dept_kind != "public":
            raise PermissionError("复核申请由对答复有异议的公民、法人或其他组织提出（pdw open object）（第三十二条）")

    def _check_objection(self, d: DecisionInput) -> None:
        """Which objection the center answers; one suggestion stands before the source at a time."""
        st, pending = self.state, self._pending()
        wanted: Any = d.data.get("objection")
        numbers = "、".join(str(o.seq) for o in pending)
        if wanted is None and len(pending) > 1:
            raise ValueError(f"有 {len(pending)} 件复核申请待答复（第 {numbers} 件）：须写明答复第几件：data.objection，命令行用 --set objection=N（第三十二条）")
        if wanted is not None and str(wanted) not in [str(o.seq) for o in pending]:
            raise ValueError(f"data.objection“{wanted}”不是待答复的复核申请：待答复的为第 {numbers} 件（第三十二条）")
        proposal = st.proposal
        if d.action == "suggest" and proposal is not None and d.data["open_attribute"] != proposal.open_attribute:
            raise ValueError(f"已向数源部门建议列为{OPEN_ATTRIBUTES[proposal.open_attribute]}，本案只有一项建议："
                             "须建议同一类别（data.open_attribute）或维持（uphold）（第二十八条第三款）")
