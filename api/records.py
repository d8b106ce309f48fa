"""The county's records, for anyone with a credential (grants and notices by department)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CODE, AsParam, Cred, LimitQuery, OffsetQuery, ResourceId, person
from api.errors import PROBLEMS
from service import records
from service.context import db

router = APIRouter(prefix="/v1", responses=PROBLEMS)


@router.get("/me", summary="当前凭证代表的人员及其备案角色")
async def me(cred: Cred, as_: AsParam = None) -> dict[str, Any]:
    who = await person(cred, as_, "read")
    actor = who.person()
    return {**actor.model_dump(), "roles_zh": [records.ROLES_ZH.get(r, r) for r in actor.roles], "key_id": who.key_id}


@router.get("/departments", summary="各部门及其备案人员（第四十三条）")
async def departments(cred: Cred, as_: AsParam = None) -> list[dict[str, Any]]:
    return await db(records.departments, await person(cred, as_, "read"))


@router.get("/catalog", summary="目录中的数据资源及其现行版本（第十条）")
async def catalog(cred: Cred, as_: AsParam = None) -> list[dict[str, Any]]:
    await person(cred, as_, "read")
    return await db(records.catalog)


@router.get("/catalog/{resource_id}", summary="一条目录的全部版本")
async def catalog_entry(resource_id: ResourceId, cred: Cred, as_: AsParam = None) -> list[dict[str, Any]]:
    await person(cred, as_, "read")
    return await db(records.catalog_entry, resource_id)


@router.get("/grants", summary="共享授权（第二十条、第二十二条）")
async def grants(cred: Cred, dept: Annotated[str | None, Query(max_length=32, pattern=CODE)] = None,
                 resource: Annotated[str | None, Query(max_length=64, pattern=CODE)] = None, all: bool = False,
                 as_: AsParam = None) -> list[dict[str, Any]]:
    who = await person(cred, as_, "read")
    return await db(records.grants, who, dept, resource, all)


@router.get("/notices", summary="发件箱：什么通知、发给谁、何时、经哪个渠道、结果如何")
async def notices(cred: Cred, case: Annotated[str | None, Query(max_length=64, pattern=CODE)] = None, failed: bool = False,
                  limit: LimitQuery = 50, offset: OffsetQuery = 0, as_: AsParam = None) -> list[dict[str, Any]]:
    who = await person(cred, as_, "read")
    return await db(records.notices, who, case, failed, limit, offset)
