"""Who is calling, as FastAPI dependencies: a person's token, a system's signed key bound to its
departments (the person it vouches for must be of those), or the public."""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from api.errors import IDEMPOTENCY_KEY
from models.access import OFFSET_MAX
from service import auth
from service.auth import Principal
from service.context import Services, db
from service.errors import Kind, ServiceError, bad_input
from settings import HookKey, get_settings


@dataclass(frozen=True)
class Credential:
    """What the request proved: a person's token, a system's verified key, or nothing."""

    token: str | None = None
    key_id: str | None = None
    key: HookKey | None = None
    signature: str = ""


async def credential(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer 个人令牌（工作人员）")] = None,
    x_pdw_key: Annotated[str | None, Header(description="调用系统的密钥编号")] = None,
    x_pdw_timestamp: Annotated[str | None, Header(description="Unix 秒")] = None,
    x_pdw_signature: Annotated[str | None, Header(description="HMAC-SHA256，见 docs/api.md")] = None,
    idempotency_key: Annotated[str | None, Header(description="重复提交同一开始请求时返回同一案件")] = None,
) -> Credential:
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise bad_input("Idempotency-Key 须为 1 至 128 个可见 ASCII 字符", "Idempotency-Key")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not re.fullmatch(r"[A-Za-z0-9_\-]{10,200}", token.strip()):
            raise ServiceError(Kind.unauthenticated, "个人令牌格式不对：请完整复制 pdw token issue 签发的令牌"
                                                     "（形如 pdw_…；HTTP 调用时放在 Authorization: Bearer 后）")
        return Credential(token=token.strip())
    if x_pdw_key is None and x_pdw_signature is None:
        return Credential()
    settings = services_of(request).settings
    key = auth.key_for(settings, x_pdw_key or "")
    given, ts = x_pdw_signature or "", x_pdw_timestamp or ""
    if key is None or not re.fullmatch(r"[0-9a-f]{64}", given) or not re.fullmatch(r"[0-9]{1,12}", ts):
        raise ServiceError(Kind.unauthenticated, "缺少或无效的 X-Pdw-Key、X-Pdw-Timestamp、X-Pdw-Signature")
    if abs(time.time() - int(ts)) > settings.hook_window_seconds:
        raise ServiceError(Kind.unauthenticated, f"请求时间戳超出 {settings.hook_window_seconds} 秒的有效期，可能是重放")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    expected = auth.signature(key.secret, request.method, path, ts, await request.body(), idempotency_key or "")
    if not hmac.compare_digest(expected, given):
        raise ServiceError(Kind.unauthenticated, "签名无效")
    await db(auth.remember_signature, x_pdw_key or "", given, settings.hook_window_seconds)
    return Credential(key_id=x_pdw_key, key=key, signature=given)


Cred = Annotated[Credential, Depends(credential)]

# What the URL may carry: codes and ids (no NUL or other control character reaches the database).
CODE = r"^[A-Za-z0-9._:\-]+$"
AsParam = Annotated[str | None, Query(alias="as", max_length=64, pattern=CODE,
                                      description="系统代表办理或查看的已备案人员编号")]
CaseId = Annotated[str, Path(max_length=64, pattern=CODE, description="案件编号")]
ResourceId = Annotated[str, Path(max_length=64, pattern=CODE, description="数据资源编号")]
DeptPath = Annotated[str, Path(max_length=32, pattern=CODE, description="部门代码")]
DeptQuery = Annotated[str, Query(max_length=32, pattern=CODE, description="部门代码")]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# A page of a list: at most 1,000 rows, skipping at most OFFSET_MAX (models/access.py).
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="每页条数")]
OffsetQuery = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="跳过的条数")]


async def acting(cred: Credential, as_: str | None, action: str) -> Principal:
    """The person acting: the token's, or the one a system vouches for within its departments."""
    if cred.token:
        actor = await db(auth.person_for_token, cred.token)
        if as_ and as_ != actor.person_id:
            raise ServiceError(Kind.forbidden, f"个人令牌属于{actor.label()}，不能代表“{as_}”办理")
        return Principal(actor=actor)
    if cred.key_id and cred.key:
        principal = await db(auth.system_actor, cred.key_id, cred.key, as_)
        auth.require_key_action(principal, cred.key, action)
        return principal
    return auth.PUBLIC


async def person(cred: Credential, as_: str | None, action: str) -> Principal:
    principal = await acting(cred, as_, action)
    principal.person()
    return principal


async def staff_only(cred: Credential, as_: str | None = None) -> Principal:
    """Administration takes a person's own token: a system does no administration."""
    if cred.key_id:
        raise ServiceError(Kind.forbidden, "调用系统不能办理管理事项：须由县大数据管理中心人员用个人令牌办理")
    return await person(cred, as_, "admin")


def services_of(request: Request) -> Services:
    state = request.app.state
    if getattr(state, "services", None) is None:  # served without its lifespan
        state.services = Services(get_settings())
    return state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services_of)]


def audit_system_call(principal: Principal, cred: Credential, subject: str, what: str) -> None:
    """What a system did on a person's behalf: the audit names the key and the person."""
    if cred.key_id and principal.actor:
        from service.admin import audit

        audit(principal.actor, subject, "system_request",
              {"key_id": cred.key_id, "what": what, "signature": cred.signature[:16]})


