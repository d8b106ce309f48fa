"""What the public may do without any credential (Art. 28, 32): apply for restricted-open data,
ask for data not in the open catalog, object to the source's answer; and working-day look-ups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.cases import started
from api.deps import Cred, Credential, Svc
from api.errors import PROBLEMS
from models.requests import ObjectionRequest, OpenApplicationRequest, OpenRequestRequest
from service import cases, records, starts
from service.auth import PUBLIC, Principal, require_key_action
from service.context import db

router = APIRouter(prefix="/v1", responses=PROBLEMS)


@router.post("/public/open-applications", status_code=201, summary="申请受限开放数据（第二十八条第二款、第三十一条）")
async def open_application(body: OpenApplicationRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = _public(cred, "open-application")
    return await started(services, request, cred, who, "open-application",
                         lambda cid: starts.start_open_application(services, body, cid))


def _public(cred: Credential, route: str) -> Principal:
    """The public's routes take no credential; a system that signs anyway is known by its key, and
    held to the routes the key allows."""
    if not cred.key_id:
        return PUBLIC
    principal = Principal(actor=None, key_id=cred.key_id)
    require_key_action(principal, cred.key, route)
    return principal


@router.post("/public/open-requests", summary="申请尚未列入开放目录的数据（第三十二条）")
async def open_request(body: OpenRequestRequest, services: Svc) -> dict[str, Any]:
    return await starts.record_public_request(services, body)


@router.post("/public/objections", summary="对数源部门的答复申请复核（第三十二条）")
async def objection(body: ObjectionRequest, services: Svc) -> dict[str, Any]:
    return await cases.object_to_answer(services, body)


@router.get("/calendar/due", summary="期限：自事件次日起第 N 个工作日，当日 24 时止")
async def due(from_: Annotated[str, Query(alias="from", max_length=10, description="触发事件的日期 YYYY-MM-DD")],
              working_days: Annotated[int, Query(description="工作日数")]) -> dict[str, Any]:
    return await db(records.due, from_, working_days)
