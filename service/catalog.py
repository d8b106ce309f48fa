"""The catalog's life: registering a new entry (编目、审核、发布, Art. 10–11), and moving a running
case to a resource's new providing unit (a local rule: the center transfers it, recorded)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from activities.calendar import SHANGHAI
from activities.catalog_register import (
    TakenError,
    check_registration,
    release_registration,
    reserve_registration,
)
from activities.store import session
from models.cases import DecisionInput
from models.catalog import CatalogElements
from models.catalog_register import CatalogRegisterInput
from models.departments import Actor, Department
from models.processes import BY_ROUTE, TRANSFER_UPDATE, TRANSFERABLE, process_of_case
from models.requests import CatalogRegisterRequest, TransferRequest
from models.types import utcnow
from service.cases import execution_status, new_decision_id, opened_state, send_decision
from service.context import Services, db
from service.errors import bad_input, conflict, forbidden, not_found
from service.starts import chosen_id, start_case


def registration_elements(actor: Actor, req: CatalogRegisterRequest) -> CatalogElements:
    """The entry's elements, or every way they break Art. 10, 15, 29 and 39 (nothing is written)."""
    data = req.model_dump(exclude={"as_", "resource_id", "collected"})
    data["provider_code"] = data.get("provider_code") or actor.dept_code  # 提供单位: by default the starter's own
    if req.secrecy_reviewed_on:
        try:
            reviewed = date.fromisoformat(req.secrecy_reviewed_on)
        except ValueError as err:
            raise bad_input(f"保密审查日期（secrecy_reviewed_on）“{req.secrecy_reviewed_on[:40]}”格式错误，"
                            "应为 YYYY-MM-DD（第三十九条）", "secrecy_reviewed_on") from err
        if reviewed > utcnow().astimezone(SHANGHAI).date():
            raise bad_input("保密审查日期（secrecy_reviewed_on）不能晚于今天：保密审查须在编目之前完成（第三十九条）",
                            "secrecy_reviewed_on")
    elements, problems = CatalogElements.parse(data)
    if problems or elements is None:
        # The first field named: "编码格式（encoding_format）…" or "secrecy_conclusion（保密审查结论）…".
        named = re.search(r"（([a-z_]{3,})）|([a-z_]{3,})（", problems[0]) if problems else None
        raise bad_input("；".join(problems), (named.group(1) or named.group(2)) if named else None)
    return elements


async def start_catalog_register(
    services: Services, actor: Actor, req: CatalogRegisterRequest, given_id: str | None = None
) -> dict[str, Any]:
    """Art. 10–11: a department registers a new entry of its own data; the center reviews it. Art. 11:
    each department's designated person compiles (编目) its own data, and Art. 39's 保密审查 is the
    department's own: nobody registers another department's entry, the center included (it registers
    only the entries it provides itself, and another center person approves them)."""
    process = BY_ROUTE["catalog-register"]
    elements = registration_elements(actor, req)

    def check() -> Department:
        with session() as s:
            try:
                provider = check_registration(s, elements, None)
                if actor.dept_code != provider.code:
                    raise forbidden(f"{actor.label()}无权编目：提供单位（provider_code）须为本部门，{provider.name}的目录条目"
                                    "由其指定人员编制并经本部门保密审查（第十一条、第三十九条）")
                if req.resource_id:
                    check_registration(s, elements, req.resource_id)
                return provider
            except TakenError as err:
                raise conflict(str(err)) from err

    provider = await db(check)
    case_id = await chosen_id(process, given_id)

    def reserve() -> str:
        try:
            return reserve_registration(case_id, actor, elements, req.resource_id, req.collected)
        except TakenError as err:
            raise conflict(str(err)) from err

    resource_id = await db(reserve)
    inp = CatalogRegisterInput(case_id=case_id, resource_id=resource_id, elements=elements, collected=req.collected,
                               started_by=actor)
    try:
        await start_case(
            services, process, inp, case_id=case_id, awaiting="", departments={provider.code, actor.dept_code},
            summary=f"目录编制 {resource_id} {elements.name}（{provider.name}）",
            details=f"{actor.label()}编制新目录条目，报县大数据管理中心审核（第十条、第十一条）",
        )
    except Exception:
        await db(release_registration, case_id)
        raise
    return {"case_id": case_id, "resource_id": resource_id, "owner": provider.code}


async def transfer_case(services: Services, actor: Actor, case_id: str, req: TransferRequest) -> dict[str, Any]:
    """Local rule: the center moves a running case's source role (数源部门) to the resource's current
    owner. The case checks everything again (workflows/case.py) and records it as a decision."""
    if actor.dept_kind != "center":
        raise forbidden(f"{actor.label()}无权移交：进行中的案件只能由县大数据管理中心移交数据资源的新提供单位（本地规定）")
    process = process_of_case(case_id)
    if process is None:
        raise not_found(f"案件“{case_id}”不存在")
    if process.case_type not in TRANSFERABLE:
        raise bad_input(f"{process.zh}案件没有数源部门办理的环节，不能移交：可移交的是共享申请、数据纠错、目录更新和开放目录申请复核案件")
    if not req.reason.strip():
        raise bad_input("移交须写明理由（reason）（本地规定）", "reason")
    client = await services.temporal()
    status, _ = await execution_status(client, case_id)
    if status != "RUNNING":  # a closed case keeps the department that closed it
        raise conflict(f"案件“{case_id}”已办结，不能移交")
    handle = client.get_workflow_handle(case_id)
    await opened_state(handle, case_id)
    return await send_decision(handle, case_id, DecisionInput(
        action="transfer", actor=actor, reasons=req.reason.strip(), data={"to": req.to}),
        req.decision_id or new_decision_id(), TRANSFER_UPDATE)
