"""What the public may do without any credential (Art. 28, 32): apply for restricted-open data,
ask for data not in the open catalog, object to the source's answer; and working-day look-ups."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from api.cases import started
from api.deps import Cred, Credential, Svc
from api.errors import PROBLEMS, TITLE, Problem
from models.requests import ObjectionRequest, OpenApplicationRequest, OpenRequestRequest
from service import receipts, records, starts
from service.auth import PUBLIC, Principal, require_key_action
from service.context import Services, db

router = APIRouter(prefix="/v1", responses=PROBLEMS)
LIMITED: dict[int | str, dict[str, Any]] = {429: {
    "model": Problem, "description": TITLE[429], "content": {"application/problem+json": {}},
    "headers": {"Retry-After": {"description": "几秒后可再试", "schema": {"type": "integer"}}}}}


def client_of(request: Request, services: Services) -> str:
    """The caller's address: behind a proxy, the right-most address of its header (the one the proxy
    appended, what it saw; those to the left are the client's to choose), else the peer."""
    header = services.settings.public_client_header
    if header and (forwarded := request.headers.get(header)):
        if last := forwarded.split(",")[-1].strip():
            return last[:64]
    return request.client.host if request.client else "unknown"


def rate_limited(group: str, route: str) -> Callable[..., Awaitable[None]]:
    """The public routes are limited per client address, counted in the database so that every API
    replica shares the count; a system that signs is held to its key instead, and only on the
    routes its key allows (else 403 before anything is counted or done)."""

    async def check(request: Request, cred: Cred, services: Svc) -> None:
        if cred.key_id:
            _public(cred, route)
            return
        await receipts.check_rate(services, client_of(request, services), group)

    return check


def limited(route: str) -> list[Any]:
    return [Depends(rate_limited("public", route))]


async def idem_of(request: Request, cred: Credential) -> str | None:
    """A retried submission's key, scoped as idempotent starts are (api/cases.py ``started``)."""
    key = request.headers.get("idempotency-key")
    if not key:
        return None
    # The route and the body's digest are in the scope, also for a signing system: only the same
    # submission under the same key is its repeat (and has its receipt's token renewed).
    digest = hashlib.sha256(await request.body()).hexdigest()[:16]
    scope = f"{request.url.path}\n{cred.key_id or 'public'}:{digest}"
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


@router.post("/public/open-applications", status_code=201, summary="申请受限开放数据（第二十八条第二款、第三十一条）",
             dependencies=limited("open-application"), responses=LIMITED)
async def open_application(body: OpenApplicationRequest, request: Request, cred: Cred, services: Svc) -> JSONResponse:
    who = _public(cred, "open-application")
    answer = await started(services, request, cred, who, "open-application",
                           lambda cid: starts.start_open_application(services, body, cid))
    if answer.status_code == 200:  # a repeated start: the same receipt, with a fresh token (the old one stops)
        repeated = json.loads(bytes(answer.body))
        receipt = await receipts.repeated_application(str(repeated.get("case_id", "")))
        return JSONResponse({**repeated, **receipt}, status_code=200)
    return answer


def _public(cred: Credential, route: str) -> Principal:
    """The public's routes take no credential; a system that signs anyway is known by its key, and
    held to the routes the key allows."""
    if not cred.key_id:
        return PUBLIC
    principal = Principal(actor=None, key_id=cred.key_id)
    require_key_action(principal, cred.key, route)
    return principal


@router.post("/public/open-requests", summary="申请尚未列入开放目录的数据（第三十二条）",
             dependencies=limited("open-request"), responses=LIMITED)
async def open_request(body: OpenRequestRequest, request: Request, cred: Cred, services: Svc) -> dict[str, Any]:
    _public(cred, "open-request")
    return await receipts.public_request(services, body, await idem_of(request, cred))


@router.post("/public/objections", summary="对数源部门的答复申请复核（第三十二条）",
             dependencies=limited("open-objection"), responses=LIMITED)
async def objection(body: ObjectionRequest, request: Request, cred: Cred, services: Svc) -> dict[str, Any]:
    _public(cred, "open-objection")
    return await receipts.public_objection(services, body, await idem_of(request, cred))


ReceiptNumber = Annotated[str, Path(max_length=32, pattern=r"^GK-[0-9]{4}-[0-9]{6,12}$", description="回执编号")]
ReceiptToken = Annotated[str, Header(alias="X-Receipt-Token", min_length=1, max_length=100,
                                     description="受理时显示一次的回执令牌")]


@router.get("/public/receipts/{number}", summary="凭回执编号和令牌查询办理情况（第二十八条、第三十二条）",
            dependencies=[Depends(rate_limited("receipt", "open-status"))], responses=LIMITED)
async def receipt(number: ReceiptNumber, token: ReceiptToken, services: Svc) -> dict[str, Any]:
    return await receipts.status(services, number, token)


@router.get("/calendar/due", summary="期限：自事件次日起第 N 个工作日，当日 24 时止")
async def due(from_: Annotated[str, Query(alias="from", max_length=10, description="触发事件的日期 YYYY-MM-DD")],
              working_days: Annotated[int, Query(description="工作日数")]) -> dict[str, Any]:
    return await db(records.due, from_, working_days)
