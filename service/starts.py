"""Starting each process: everything is checked against the records first (nothing is written on
bad input), then the case starts with its summary and the search attributes supervisors look for
(DESIGN.md §6). A start may name its case id (an idempotent start chose it before)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.calendar import SHANGHAI, start_of_day
from activities.catalog import abandon_catalog_update, current_version, get_resource, register_catalog_update
from activities.correction import check_correction_report
from activities.open_data import (
    begin_listing_review,
    check_open_application,
    count_refused_application,
    record_open_request,
    register_open_application,
    undo_listing_review,
)
from activities.receipts import mint_receipt
from activities.share import check_share_request
from activities.store import get_department, insert_ignore, next_case_id, session
from models import search
from models.catalog import (
    ELEMENT_ZH,
    OPEN_ATTRIBUTES,
    CatalogUpdateInput,
    forbidden_ground_problem,
    open_attribute_zh,
)
from models.correction import PROCEED_NOTICE, CorrectionInput
from models.departments import Actor
from models.dispute import OPEN_ATTRIBUTE, DisputeInput
from models.open_data import ListingReviewInput, OpenApplyInput
from models.processes import BY_ROUTE, Process
from models.requests import (
    CatalogUpdateRequest,
    CorrectionRequest,
    OpenApplicationRequest,
    OpenAttributeDisputeRequest,
    OpenRequestRequest,
    ShareStartRequest,
    field_label,
)
from models.share import Grant, ShareRequest, ShareRequestInput
from models.types import utcnow
from service.context import Services, db
from service.errors import ServiceError, bad_input, conflict, forbidden, temporal_cause_zh, unavailable


def new_case_id(process: Process) -> str:
    return next_case_id(process.prefix, datetime.now(SHANGHAI).year)


async def chosen_id(process: Process, given: str | None) -> str:
    """The id an idempotent start chose before, or a new one."""
    if given:
        return given
    return await db(new_case_id, process)


async def is_running(services: Services, case_id: str) -> bool:
    from temporalio.client import WorkflowExecutionStatus

    try:
        desc = await (await services.temporal()).get_workflow_handle(case_id).describe()
    except RPCError:
        return False
    return desc.status == WorkflowExecutionStatus.RUNNING


async def exists(services: Services, case_id: str) -> bool:
    try:
        await (await services.temporal()).get_workflow_handle(case_id).describe()
    except RPCError:
        return False
    return True


async def never_started(services: Services, case_id: str) -> bool:
    """After a failed start: Temporal does not know the case, or cannot be reached to ask (a start
    that failed for that reason started nothing). A start that timed out but went through is found."""
    try:
        await (await services.temporal()).get_workflow_handle(case_id).describe()
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND or err.status == RPCStatusCode.UNAVAILABLE
    except ServiceError:  # Temporal not reachable
        return True
    return False


async def start_case(
    services: Services, process: Process, inp: Any, *, case_id: str, awaiting: str, departments: set[str],
    summary: str, details: str, listed_as: str | None = None,
) -> None:
    """Start a case; one started before with the same id (a retried start) counts as started."""
    client = await services.temporal()
    try:
        await client.start_workflow(
            process.workflow,
            inp,
            id=case_id,
            task_queue=services.task_queue,
            search_attributes=search.opening(process.case_type, listed_as or summary, departments, awaiting),
            static_summary=summary,
            static_details=details,
        )
    except WorkflowAlreadyStartedError:
        return
    except RPCError as err:
        if err.status == RPCStatusCode.INVALID_ARGUMENT:  # an unregistered search attribute, mostly
            raise unavailable(f"Temporal 未能开始案件 {case_id}：{err.message}（是否已运行 pdw setup 注册搜索属性？）") from err
        raise unavailable(f"Temporal 未能开始案件 {case_id}：{temporal_cause_zh(err)}") from err


def parse_moment(value: str, field: str) -> datetime:
    """A date (the start of that day in Asia/Shanghai) or an ISO datetime."""
    try:
        moment = start_of_day(date.fromisoformat(value)) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as err:
        raise bad_input(f"{field_label(field)}“{value}”格式错误，应为 YYYY-MM-DD 或 ISO 时间", field) from err
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


# ---- Art. 10–12: catalog update ----------------------------------------------------------------------


async def start_catalog_update(
    services: Services, actor: Actor, req: CatalogUpdateRequest, given_id: str | None = None
) -> dict[str, Any]:
    process = BY_ROUTE["catalog-update"]
    if not req.change_note.strip():
        raise bad_input("变化说明（change_note）不能为空：须说明哪项要素发生了什么变化（第十一条）", "change_note")
    changeable = [*ELEMENT_ZH, "items", "share_modes"]  # the data items and modes change by an update too
    bad = [e for e in req.changed_elements if e not in changeable]
    if bad:
        raise bad_input(f"变化的要素（changed_elements）“{bad[0]}”不是目录基本要素，应为：{'、'.join(changeable)}（第十条）",
                        "changed_elements")
    changed = parse_moment(req.changed_at, "changed_at") if req.changed_at else utcnow()
    if changed > utcnow():
        raise bad_input("变化时间（changed_at）不能晚于现在：期限从要素实际变化的次日起算（第十一条）", "changed_at")

    def check() -> tuple[Any, Any]:
        with session() as s:
            resource = get_resource(s, req.resource_id)
            return resource, get_department(s, resource.owner_code)

    resource, owner = await db(check)
    if actor.dept_code != owner.code and actor.dept_kind != "center":
        raise forbidden(f"{actor.label()}无权登记：目录更新由数源部门{owner.name}或县大数据管理中心登记（第十一条）")
    case_id = await chosen_id(process, given_id)
    inp = CatalogUpdateInput(case_id=case_id, resource_id=resource.id, changed_at=changed,
                             change_note=req.change_note.strip(), changed_elements=list(req.changed_elements),
                             started_by=actor)
    # Art. 11: one open update per entry, recorded before the case starts so that two starts at
    # once cannot both pass; a recorded case whose workflow is not running no longer blocks.
    while running := await db(register_catalog_update, inp, owner.code):
        if await is_running(services, running) or not await db(abandon_catalog_update, running):
            raise conflict(f"数据资源 {resource.id} 已有进行中的目录更新案件 {running}：请在该案件中提交更新（第十一条）")
    await start_case(
        services, process, inp, case_id=case_id, awaiting=owner.code, departments={owner.code, actor.dept_code},
        summary=f"目录更新 {resource.id}（{owner.name}）",
        details=f"{actor.label()}登记：{inp.change_note}。依据第十一条，数源部门须在要素变化后 5 个工作日内更新目录。",
    )
    return {"case_id": case_id, "resource_id": resource.id, "owner": owner.code}


# ---- Art. 13–22: share request --------------------------------------------------------------------


async def start_share_request(
    services: Services, actor: Actor, req: ShareStartRequest, given_id: str | None = None,
    renews_grant_id: int | None = None,
) -> dict[str, Any]:
    """``renews_grant_id``: the grant this request renews (Art. 22, service/grants.py)."""
    process = BY_ROUTE["share"]
    items = [i.strip() for i in req.items if i.strip()]

    def check() -> tuple[Any, Any, Any]:
        with session() as s:
            return check_share_request(s, resource_id=req.resource_id, items=items, purpose=req.purpose,
                                       scope=req.scope, mode=req.mode, months=req.months, requester=actor)

    resource, entry, source = await db(check)
    case_id = await chosen_id(process, given_id)
    inp = ShareRequestInput(case_id=case_id, resource_id=resource.id, items=items, purpose=req.purpose.strip(),
                            scope=req.scope.strip(), mode=req.mode, months=req.months, requested_by=actor,
                            renews_grant_id=renews_grant_id)
    if renews_grant_id is not None:  # one renewal of a grant at a time, recorded before the case starts
        await db(reserve_renewal, inp, source.code, entry.share_attribute, resource.collected)
    try:
        await start_case(
            services, process, inp, case_id=case_id, awaiting=source.code, departments={actor.dept_code, source.code},
            summary=f"共享申请 {resource.id} {entry.name}（{actor.dept_name} → {source.name}）",
            details=f"用途：{inp.purpose}；范围：{inp.scope}；数据项：{'、'.join(items)}（第二十条）"
            + (f"；续期共享授权 {renews_grant_id}（第二十二条）" if renews_grant_id is not None else ""),
        )
    except Exception:
        if renews_grant_id is not None and await never_started(services, case_id):
            await db(release_renewal, case_id)  # else the grant could never be renewed again
        raise
    return {"case_id": case_id, "resource_id": resource.id, "source": source.code,
            **({"renews_grant_id": renews_grant_id} if renews_grant_id is not None else {})}


def running_renewal(s: Any, grant_id: int, case_id: str | None = None) -> str | None:
    """The open share case renewing ``grant_id`` (other than ``case_id``), if any."""
    return s.exec(select(ShareRequest.case_id).where(
        ShareRequest.renews_grant_id == grant_id, col(ShareRequest.closed_at).is_(None),
        ShareRequest.case_id != (case_id or ""))).first()


def renewal_running(grant_id: int, running: str) -> Exception:
    return conflict(f"共享授权 {grant_id} 的续期申请（案件 {running}）正在办理，不能同时再申请续期：请等待其结果，"
                    "或撤回该案件后重新申请（本地规定；续期按第二十条重新审批）")


def reserve_renewal(inp: ShareRequestInput, source_code: str, share_attribute: str, collected: bool) -> None:
    """Art. 22 renewal: the request's row is written before its case starts (the case's first activity
    finds it there), in the transaction that locks the grant and looks for another open renewal, so
    two renewals started at once cannot both pass."""
    assert inp.renews_grant_id is not None
    with session() as s:
        s.exec(select(Grant).where(Grant.id == inp.renews_grant_id).with_for_update()).one()
        if (running := running_renewal(s, inp.renews_grant_id, inp.case_id)) is not None:
            raise renewal_running(inp.renews_grant_id, running)
        insert_ignore(s, ShareRequest, {
            "case_id": inp.case_id, "resource_id": inp.resource_id, "requester_code": inp.requested_by.dept_code,
            "source_code": source_code, "items": inp.items, "purpose": inp.purpose, "scope": inp.scope,
            "mode": inp.mode, "months": inp.months, "share_attribute": share_attribute, "collected": collected,
            "status": "under_review", "renews_grant_id": inp.renews_grant_id}, ["case_id"])


def release_renewal(case_id: str) -> None:
    """The renewal's case could not start: its reservation goes (unless the case did start after all)."""
    with session() as s:
        row = s.get(ShareRequest, case_id)
        if row is not None and row.closed_at is None and row.status == "under_review":
            s.delete(row)


# ---- Art. 23: correction ----------------------------------------------------------------------------


async def start_correction(
    services: Services, actor: Actor, req: CorrectionRequest, given_id: str | None = None
) -> dict[str, Any]:
    process = BY_ROUTE["correction"]
    items = [i.strip() for i in req.items if i.strip()]

    def check() -> tuple[Any, Any]:
        with session() as s:
            return check_correction_report(s, resource_id=req.resource_id, items=items, found=req.found,
                                           expected=req.expected, reporter=actor)

    resource, source = await db(check)
    case_id = await chosen_id(process, given_id)
    inp = CorrectionInput(case_id=case_id, resource_id=resource.id, items=items, found=req.found.strip(),
                          expected=req.expected.strip(), evidence=req.evidence.strip(),
                          proof_provided=req.proof_provided, reported_by=actor)
    await start_case(
        services, process, inp, case_id=case_id, awaiting="", departments={actor.dept_code, source.code},
        summary=f"数据纠错 {resource.id}（{actor.dept_name} → {source.name}）",
        details=f"数据项：{'、'.join(items)}；问题：{inp.found}" + (f"。{PROCEED_NOTICE}" if inp.proof_provided else ""),
    )
    return {"case_id": case_id, "resource_id": resource.id, "source": source.code}


# ---- Art. 28 ¶3: open-attribute dispute -----------------------------------------------------------------


async def start_open_attribute_dispute(
    services: Services, actor: Actor, req: OpenAttributeDisputeRequest, given_id: str | None = None
) -> dict[str, Any]:
    process = BY_ROUTE["dispute"]
    if actor.dept_kind != "center":
        raise forbidden(f"{actor.label()}无权申请：开放属性争议由县大数据管理中心提出（第二十八条第三款）")
    if req.open_attribute not in OPEN_ATTRIBUTES:
        choices = "、".join(f"{k}（{v}）" for k, v in OPEN_ATTRIBUTES.items())
        raise bad_input(f"开放属性（open_attribute）“{req.open_attribute}”无效，应为：{choices}（第二十八条）", "open_attribute")
    if problem := forbidden_ground_problem(req.open_attribute, req.forbidden_ground, "forbidden_ground"):
        raise bad_input(problem, "forbidden_ground")
    if not req.reason.strip():
        raise bad_input("理由（reason）不能为空：须写明中心的修改建议及理由（第二十八条第三款）", "reason")

    def check() -> Any:
        with session() as s:
            resource = get_resource(s, req.resource_id)
            if current_version(s, resource.id).open_attribute == req.open_attribute:
                raise bad_input(f"数据资源 {resource.id} 的开放属性已是{OPEN_ATTRIBUTES[req.open_attribute]}，无争议",
                                "open_attribute")
            return resource

    resource = await db(check)
    case_id = await chosen_id(process, given_id)
    inp = DisputeInput(case_id=case_id, kind=OPEN_ATTRIBUTE, resource_id=resource.id, raised_by=actor,
                       parties=[actor.dept_code, resource.owner_code], claim=req.reason.strip(),
                       proposed_open_attribute=req.open_attribute,
                       proposed_forbidden_ground=req.forbidden_ground if req.open_attribute == "forbidden" else None)
    await start_case(
        services, process, inp, case_id=case_id, awaiting="", departments=set(inp.parties),
        summary=f"开放属性争议 {resource.id}（建议{open_attribute_zh(req.open_attribute, inp.proposed_forbidden_ground)}）",
        details=f"{actor.label()}：{inp.claim}（第二十八条第三款）",
    )
    return {"case_id": case_id, "resource_id": resource.id}


# ---- Art. 28–32: the public ---------------------------------------------------------------------------


async def start_open_application(
    services: Services, req: OpenApplicationRequest, given_id: str | None = None
) -> dict[str, Any]:
    process = BY_ROUTE["open-application"]
    # Everything checked before the case number is taken: a refused application uses none.
    await db(lambda: check_open_application(
        resource_id=req.resource_id, name=req.name, id_type=req.id_type, id_number=req.id_number,
        contact=req.contact, scope=req.scope, purpose=req.purpose, access_way=req.access_way,
        access_way_note=req.access_way_note))
    case_id = await chosen_id(process, given_id)
    label = await db(register_open_application, case_id, resource_id=req.resource_id, name=req.name,
                     id_type=req.id_type, id_number=req.id_number, contact=req.contact, scope=req.scope,
                     purpose=req.purpose, access_way=req.access_way, access_way_note=req.access_way_note)
    # The receipt before the case starts, so that the case's first outcome finds whom to tell.
    receipt = await db(mint_receipt, "application", resource_id=req.resource_id, label=label, contact=req.contact,
                       case_id=case_id)
    inp = OpenApplyInput(case_id=case_id, resource_id=req.resource_id, applicant_label=label, scope=req.scope.strip(),
                         purpose=req.purpose.strip(), access_way=req.access_way,
                         access_way_note=(req.access_way_note or "").strip() or None)
    result = {"case_id": case_id, "resource_id": req.resource_id, "applicant": label, **receipt}
    # Art. 32: data not yet opened is refused by the case (Art. 28) and the application counts as a
    # request for its listing, with the open requests, one per person. Counted (and the threshold's
    # review begun) BEFORE the case starts: a retry under the same Idempotency-Key finds the case
    # started and repeats nothing, so counting after it could be lost; the count is keyed on the
    # application's case id, so a retry that does come here counts nothing twice.
    counted = await db(count_refused_application, case_id)
    if counted is not None:
        count, review = counted
        result["listing"] = await _count_toward_listing(services, req.resource_id, count, review)
    await start_case(services, process, inp, case_id=case_id, awaiting="", departments=set(),
                     summary=f"开放申请 {req.resource_id}（{label}）", listed_as=f"开放申请 {req.resource_id}（公众申请）",
                     details=f"使用范围：{inp.scope}；用途：{inp.purpose}（第二十八条）")
    return result


async def record_public_request(services: Services, req: OpenRequestRequest) -> dict[str, Any]:
    """Art. 32: count the request, one per person (identity number); past the threshold the source
    reviews the data's listing."""
    count, review = await db(record_open_request, req.resource_id, req.name, req.id_type, req.id_number,
                             req.contact)
    return await _count_toward_listing(services, req.resource_id, count, review)


async def _count_toward_listing(services: Services, resource_id: str, count: int, review: str | None) -> dict[str, Any]:
    """Art. 32: at the threshold of people asking (open requests and applications refused as
    unopened alike) the source's review of the listing starts, once: a review under way takes the
    request; another request that began one meanwhile wins (begin_listing_review locks the resource)."""
    process = BY_ROUTE["open-listing"]
    if review or count < services.settings.open_request_threshold:
        return {"resource_id": resource_id, "count": count, "case_id": review}
    case_id = await chosen_id(process, None)
    if not await db(begin_listing_review, resource_id, case_id, count):  # another request began it
        return {"resource_id": resource_id, "count": count, "case_id": None}
    try:
        await start_case(services, process, ListingReviewInput(case_id=case_id, resource_id=resource_id,
                                                               request_count=count),
                         case_id=case_id, awaiting="", departments=set(),
                         summary=f"开放目录申请 {resource_id}（公众申请 {count} 人）",
                         details="公众申请频次高但尚未列入开放目录，转数源部门审核（第三十二条）")
    except Exception:
        await db(undo_listing_review, case_id)
        raise
    return {"resource_id": resource_id, "count": count, "case_id": case_id}
