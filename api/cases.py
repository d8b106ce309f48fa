"""Cases: starting each process (one route and body per process), deciding, reading, and the lists
of what is awaited, overdue or stuck."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import (
    AsParam,
    CaseId,
    Cred,
    Credential,
    DeptQuery,
    LimitQuery,
    OffsetQuery,
    RowId,
    Svc,
    audit_system_call,
    person,
)
from api.errors import PROBLEMS
from models.processes import BY_ROUTE
from models.rectification import RectificationRequest
from models.requests import (
    CatalogRegisterRequest,
    CatalogUpdateRequest,
    CorrectionRequest,
    DecisionRequest,
    GrantRenewRequest,
    OpenAttributeDisputeRequest,
    ShareStartRequest,
    TransferRequest,
)
from service import cases, catalog, grants, lists, rectification, starts
from service.auth import Principal
from service.context import Services, db
from service.idempotency import Start, idempotent_start

router = APIRouter(prefix="/v1", responses=PROBLEMS)
CaseStarted = dict[str, Any]


async def started(services: Services, request: Request, cred: Credential, principal: Principal, route: str,
                  start: Start, about: str = "") -> JSONResponse:
    """201 with the new case, or 200 with the case an earlier start under the same key opened.
    ``about``: what the path names (a grant renewed), so one key cannot name two requests."""
    digest = hashlib.sha256(about.encode() + await request.body()).hexdigest()[:16]
    # An anonymous caller's key is scoped by its body too: nobody learns another's case by its key.
    scope = cred.key_id or (f"person:{principal.actor.person_id}" if principal.actor else f"public:{digest}")
    result, new = await idempotent_start(services, scope, request.headers.get("idempotency-key"),
                                         BY_ROUTE[route], digest, start)
    if new:
        await db(audit_system_call, principal, cred, result.get("case_id") or "", f"start {route}")
    return JSONResponse(result, status_code=201 if new else 200)


@router.post("/cases/catalog-update", status_code=201, summary="登记目录更新（第十一条）")
async def start_catalog_update(body: CatalogUpdateRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "catalog-update")
    return await started(services, request, cred, who, "catalog-update",
                         lambda cid: starts.start_catalog_update(services, who.person(), body, cid))


@router.post("/cases/catalog-register", status_code=201, summary="编制新的目录条目，报县大数据管理中心审核（第十条、第十一条）")
async def start_catalog_register(body: CatalogRegisterRequest, request: Request, cred: Cred,
                                 services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "catalog-register")
    return await started(services, request, cred, who, "catalog-register",
                         lambda cid: catalog.start_catalog_register(services, who.person(), body, cid))


@router.post("/cases/share", status_code=201, summary="提出数据共享申请（第十三条、第二十条）")
async def start_share(body: ShareStartRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "share")
    return await started(services, request, cred, who, "share",
                         lambda cid: starts.start_share_request(services, who.person(), body, cid))


@router.post("/grants/{grant_id}/renew", status_code=201, summary="续期共享授权：按原授权提出新的共享申请（第二十二条）")
async def renew_grant(grant_id: RowId, body: GrantRenewRequest, request: Request, cred: Cred,
                      services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "share")
    return await started(services, request, cred, who, "share",
                         lambda cid: grants.renew(services, who.person(), grant_id, body, cid), about=f"renew:{grant_id}:")


@router.post("/cases/correction", status_code=201, summary="反馈数据疑义或错误（第二十三条）")
async def start_correction(body: CorrectionRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "correction")
    return await started(services, request, cred, who, "correction",
                         lambda cid: starts.start_correction(services, who.person(), body, cid))


@router.post("/cases/dispute", status_code=201, summary="开放属性争议（第二十八条第三款）")
async def start_dispute(body: OpenAttributeDisputeRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "dispute")
    return await started(services, request, cred, who, "dispute",
                         lambda cid: starts.start_open_attribute_dispute(services, who.person(), body, cid))


@router.post("/cases/rectification", status_code=201,
             summary="县大数据管理中心建议责令改正，报县人民政府或县大数据发展管理局决定（第四十六条）")
async def start_rectification(body: RectificationRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = await person(cred, body.as_, "rectification")
    return await started(services, request, cred, who, "rectification",
                         lambda cid: rectification.start_rectification(services, who.person(), body, cid))


@router.post("/cases/{case_id}/decisions", summary="在案件中作出决定",
             responses={202: {"description": "已提交，尚未确认（可能仍会被拒绝）：用 check 所示的命令按决定编号查看"}})
async def decide(case_id: CaseId, body: DecisionRequest, cred: Cred, services: Svc,
                 response: Response) -> dict[str, Any]:
    who = await person(cred, body.as_, "decide")
    outcome = await cases.decide(services, who.person(), case_id, body)
    return await answered(outcome, response, who, cred, case_id, f"decide {body.action}")


@router.post("/cases/{case_id}/transfer", summary="将进行中的案件移交数据资源现在的提供单位（县大数据管理中心，本地规定）",
             responses={202: {"description": "已提交，尚未确认：用 check 所示的命令按决定编号查看"}})
async def transfer(case_id: CaseId, body: TransferRequest, cred: Cred, services: Svc,
                   response: Response) -> dict[str, Any]:
    who = await person(cred, body.as_, "transfer")
    outcome = await catalog.transfer_case(services, who.person(), case_id, body)
    return await answered(outcome, response, who, cred, case_id, f"transfer {body.to}")


async def answered(outcome: dict[str, Any], response: Response, who: Principal, cred: Credential, case_id: str,
                   what: str) -> dict[str, Any]:
    """A decision's answer: 202 while submitted but not yet confirmed (not an error); a system's
    call is audited with the decision's id."""
    if not outcome.get("confirmed"):
        response.status_code = 202
    await db(audit_system_call, who, cred, case_id, f"{what} {outcome.get('decision_id', '')}")
    return outcome


DecisionIdPath = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]


@router.get("/cases/{case_id}/decisions/{decision_id}", summary="按决定编号查看决定是否已被采纳")
async def decision_status(case_id: CaseId, decision_id: DecisionIdPath, cred: Cred, services: Svc,
                          as_: AsParam = None) -> dict[str, Any]:
    return await cases.decision_status(services, await person(cred, as_, "read"), case_id, decision_id)


@router.get("/cases/{case_id}", summary="案件的全过程")
async def show(case_id: CaseId, cred: Cred, services: Svc, as_: AsParam = None) -> dict[str, Any]:
    return await cases.show(services, await person(cred, as_, "read"), case_id)


@router.get("/inbox", summary="等待某部门办理的案件，期限最近的在前")
async def inbox(dept: DeptQuery, cred: Cred, services: Svc, limit: LimitQuery = lists.PAGE, offset: OffsetQuery = 0,
                as_: AsParam = None) -> list[dict[str, Any]]:
    return await lists.inbox(services, await person(cred, as_, "read"), dept, limit, offset)


@router.get("/overdue", summary="已预警、到期或逾期的案件（第四十一条、第四十六条）")
async def overdue(cred: Cred, services: Svc, limit: LimitQuery = lists.PAGE, offset: OffsetQuery = 0,
                  as_: AsParam = None) -> list[dict[str, Any]]:
    return await lists.overdue(services, await person(cred, as_, "read"), limit, offset)


@router.get("/stuck", summary="卡住的案件：某一步骤反复失败（PdwStuck）、工作流任务反复失败，或多日没有进展")
async def stuck(cred: Cred, services: Svc, idle_days: Annotated[int, Query(ge=0, le=3650)] = 10,
                limit: LimitQuery = lists.PAGE, offset: OffsetQuery = 0, as_: AsParam = None) -> list[dict[str, Any]]:
    return await lists.stuck(services, await person(cred, as_, "read"), idle_days, limit, offset)

