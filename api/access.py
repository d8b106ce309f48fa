"""The access log (Art. 25, 46 (六)): the sharing platform and the open system post reads and data-refresh
events (a signed key bound to the center); staff query who read what."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import CODE, AsParam, Cred, Svc, person
from api.errors import PROBLEMS
from models.access import OFFSET_MAX, ReadsBatch, RefreshBatch
from service import access
from service.context import db

router = APIRouter(prefix="/v1/access", responses=PROBLEMS)
AGAIN: dict[int | str, dict[str, Any]] = {200: {"description": "同一批次已报送过：与首次相同的应答，duplicate 为 true"}}


def _status(answer: dict[str, Any]) -> JSONResponse:
    """201 for a batch recorded now, 200 for one recorded before (``duplicate``)."""
    return JSONResponse(answer, status_code=200 if answer.get("duplicate") else 201)


@router.post("/reads", status_code=201, summary="报送共享数据的读取记录（第二十五条、第四十六条第六项；共享平台、开放系统）",
             responses=AGAIN)
async def post_reads(body: ReadsBatch, cred: Cred, services: Svc) -> JSONResponse:
    system = await access.require_platform(cred.key_id, cred.key, cred.token is not None)
    return _status(await access.post_reads(services, system, body))


@router.post("/refreshes", status_code=201, summary="报送数据更新记录（第十九条；共享平台）", responses=AGAIN)
async def post_refreshes(body: RefreshBatch, cred: Cred, services: Svc) -> JSONResponse:
    system = await access.require_platform(cred.key_id, cred.key, cred.token is not None)
    return _status(await access.post_refreshes(services, system, body))


@router.get("/reads", summary="读取记录：谁在何时读取了哪些数据，是否在授权范围内（第二十五条），新的在前")
async def list_reads(
    cred: Cred,
    resource: Annotated[str | None, Query(max_length=64, pattern=CODE, description="数据资源编号")] = None,
    grant: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="共享授权编号")] = None,
    dept: Annotated[str | None, Query(max_length=32, pattern=CODE, description="读取的部门代码")] = None,
    limit: Annotated[int, Query(ge=1, le=access.PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    as_: AsParam = None,
) -> dict[str, Any]:
    who = await person(cred, as_, "read")
    return await db(access.list_reads, who, resource, grant, dept, limit, offset)
