"""Administration (the center's; docs/api.md gives who may take each action): registered people,
grants, notices, the calendar, personal tokens, the audit chain's check. A system's key does no
administration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Cred, DeptPath, RowId, Svc, staff_only
from api.errors import PROBLEMS
from models.requests import (
    Acting,
    DigestRequest,
    OverrideRequest,
    RetryRequest,
    RevokeRequest,
    RoleAssignRequest,
    TokenRequest,
    TokenRevokeRequest,
    YearRequest,
)
from service import admin, audit, auth, receipts
from service.context import db

router = APIRouter(prefix="/v1", responses=PROBLEMS)


@router.post("/departments/{code}/roles", summary="登记备案人员变更（第四十三条第二款）")
async def assign(code: DeptPath, body: RoleAssignRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.assign(services, (await staff_only(cred, body.as_)).person(), code, body)


@router.post("/grants/{grant_id}/revoke", summary="撤销共享授权（第二十二条）")
async def revoke(grant_id: RowId, body: RevokeRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.revoke(services, (await staff_only(cred, body.as_)).person(), grant_id, body)


@router.post("/notices/retry", summary="重新投递仍待送达的通知")
async def retry(body: RetryRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.retry_notices(services, (await staff_only(cred, body.as_)).person(), body.older_than_minutes)


@router.post("/notices/digest", summary="立即发送领导逾期案件日报")
async def digest(body: DigestRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.digest(services, (await staff_only(cred, body.as_)).person(), body.force)


@router.post("/calendar/overrides", summary="县级调整某一天是否为工作日")
async def override(body: OverrideRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.override_day(services, (await staff_only(cred, body.as_)).person(), body)


@router.post("/calendar/years", summary="载入国务院公布的全年节假日安排")
async def load_year(body: YearRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    return await admin.load_official_year(services, (await staff_only(cred, body.as_)).person(), body)


@router.post("/tokens", status_code=201, summary="签发个人令牌（只显示一次）")
async def issue(body: TokenRequest, cred: Cred, services: Svc) -> dict[str, Any]:
    issuer = (await staff_only(cred, body.as_)).person()
    return await db(auth.issue_token, issuer, body.person_id, days=body.days or services.settings.token_days,
                    label=body.label)


@router.get("/tokens", summary="已签发的个人令牌（不含令牌本身）")
async def tokens(cred: Cred) -> list[dict[str, Any]]:
    return await db(auth.list_tokens, (await staff_only(cred)).person())


@router.post("/tokens/{token_id}/revoke", summary="吊销个人令牌")
async def revoke_token(token_id: RowId, body: TokenRevokeRequest, cred: Cred) -> dict[str, Any]:
    return await db(auth.revoke_token, (await staff_only(cred, body.as_)).person(), token_id, body.reason)


@router.get("/audit/verify", summary="核验审计链：是否有审计记录被改动、删除或插入")
async def verify_audit(cred: Cred) -> dict[str, Any]:
    return await db(audit.verify, (await staff_only(cred)).person())


@router.post("/applicants/purge", summary="删除超过保存期限的申请人个人信息（个人信息保护法；只保留脱敏标识）")
async def purge_applicants(body: Acting, cred: Cred, services: Svc) -> dict[str, Any]:
    return await receipts.purge(services, (await staff_only(cred, body.as_)).person())
