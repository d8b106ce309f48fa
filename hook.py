"""The HTTP hook: other systems start cases, submit decisions and read cases.

Every request is signed by its calling system: ``X-Pdw-Key`` (the key id), ``X-Pdw-Timestamp``
(Unix seconds) and ``X-Pdw-Signature``, the hex HMAC-SHA256 under the key's secret of
``METHOD + "\\n" + path + "\\n" + timestamp + "\\n" + Idempotency-Key + "\\n" + body`` (an empty
Idempotency-Key when none is sent). A request outside the replay window, with an unknown key, a bad
signature, or a signature already used is refused with 401. ``Idempotency-Key`` makes a repeated
start return the same case. Errors are ``application/problem+json`` with Chinese messages.
Every request names the registered person it acts for (``"as"``; an open-data application comes
from a citizen and names none): the hook has no default actor.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.exceptions import WorkflowAlreadyStartedError

import starter_cli as cli
from activities.store import StoreError, insert_ignore, session
from models.audit import HookRequest
from settings import get_settings


def _open_attribute_dispute(f: dict[str, Any]) -> Any:
    return cli.start_open_attribute_dispute(str(f.get("resource_id") or ""), str(f.get("open_attribute") or ""),
                                            str(f.get("reason") or ""), f["as"], f.get("case_id"))


def _open_application(f: dict[str, Any]) -> Any:
    return cli.start_open_application(
        str(f.get("resource_id") or ""), str(f.get("name") or ""), str(f.get("id_type") or "resident_id"),
        str(f.get("id_number") or ""), str(f.get("contact") or ""), str(f.get("scope") or ""),
        str(f.get("purpose") or ""), str(f.get("access_way") or "download"), f.get("case_id"),
    )


# process -> (start, case-number prefix, whether a registered person must be named)
STARTS = {
    "catalog-update": (cli.start_catalog_update, "catalog", True),
    "share": (cli.start_share_request, "share", True),
    "correction": (cli.start_correction, "correction", True),
    "dispute": (_open_attribute_dispute, "dispute", True),  # Art. 28 ¶3; share disputes: a decision
    "open-application": (_open_application, "open", False),  # a citizen's, from the open system
}
MAX_BODY = 1 << 20
_seen: dict[tuple[str, str], float] = {}  # (key id, signature) -> when first used, within the window

app = FastAPI(
    title="pdw HTTP hook",
    description="永嘉县公共数据共享开放流程：其他系统开始案件、提交决定、查询案件。请求须签名（见 hook.py）。",
    version="1",
)


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@app.exception_handler(Problem)
async def _problem(_request: Request, err: Problem) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": err.title, "status": err.status, "detail": err.detail},
                        status_code=err.status, media_type="application/problem+json")


@app.exception_handler(Exception)
async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
    structlog.get_logger("pdw.hook").exception("hook_error", error=type(err).__name__)
    return JSONResponse({"type": "about:blank", "title": "服务器内部错误", "status": 500,
                         "detail": "请求未能处理，请稍后重试或联系管理员"},
                        status_code=500, media_type="application/problem+json")


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes, idempotency_key: str = "") -> str:
    message = f"{method}\n{path}\n{timestamp}\n{idempotency_key}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def authenticated(request: Request) -> tuple[str, bytes]:
    """The calling system's key id and the request body, once its signature holds."""
    settings = get_settings()
    key_id = request.headers.get("x-pdw-key", "")
    timestamp = request.headers.get("x-pdw-timestamp", "")
    given = request.headers.get("x-pdw-signature", "")
    secret = settings.hook_keys.get(key_id)
    if not secret or not re.fullmatch(r"[0-9a-f]{64}", given) or not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise Problem(401, "未认证", "缺少或无效的 X-Pdw-Key、X-Pdw-Timestamp、X-Pdw-Signature")
    now = time.time()
    if abs(now - int(timestamp)) > settings.hook_window_seconds:
        raise Problem(401, "未认证", f"请求时间戳超出 {settings.hook_window_seconds} 秒的有效期，可能是重放")
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise Problem(413, "请求过大", "请求体超过 1 MiB")
    body = await request.body()
    expected = signature(secret, request.method, request.url.path, timestamp, body,
                         request.headers.get("idempotency-key", ""))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Problem(401, "未认证", "签名无效")
    for seen_key, at in list(_seen.items()):
        if now - at > 2 * settings.hook_window_seconds:
            del _seen[seen_key]
    if (key_id, given) in _seen:
        raise Problem(401, "未认证", "该签名已使用过：请求被重放")
    _seen[(key_id, given)] = now
    return key_id, body


def _json(body: bytes, need_as: bool = True) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError as err:
        raise Problem(400, "请求无效", f"请求体不是 JSON：{err}") from err
    if not isinstance(data, dict):
        raise Problem(400, "请求无效", "请求体须为 JSON 对象")
    if need_as and (not isinstance(data.get("as"), str) or not data["as"]):
        raise Problem(400, "请求无效", "须用 as 写明代表哪位已备案人员办理（第四十三条）")
    return data


async def _call(coro: Any) -> Any:
    try:
        return await coro
    except (cli.CliError, StoreError) as err:
        message = str(err)
        status = 404 if "不存在" in message else 400
        raise Problem(status, "请求无效" if status == 400 else "未找到", message) from err
    except (TypeError, ValueError, AttributeError) as err:
        raise Problem(400, "请求无效", f"字段格式错误：{err}") from err


def _claim(key_id: str, idem: str, process: str, digest: str, prefix: str) -> HookRequest:
    """The request's row: ours if new, with the case id chosen before anything starts. ``process``
    with the body's digest tells a repeat from another request reusing the key."""
    with session() as s:
        insert_ignore(s, HookRequest, {"key_id": key_id, "idempotency_key": idem, "process": f"{process}:{digest}"},
                      ["key_id", "idempotency_key"])
        row = s.get(HookRequest, (key_id, idem))
        assert row is not None
        if row.process != f"{process}:{digest}":
            raise Problem(422, "请求冲突", "该 Idempotency-Key 已用于另一请求")
        if row.case_id is None:
            row.case_id = cli.new_case_id(prefix)
            s.add(row)
        return row


def _release(key_id: str, idem: str) -> None:
    with session() as s:
        row = s.get(HookRequest, (key_id, idem))
        if row is not None:
            s.delete(row)


@app.post("/v1/cases/{process}", status_code=201,
          summary="开始案件（catalog-update、share、correction、dispute、open-application）")
async def start(process: str, request: Request) -> JSONResponse:
    key_id, body = await authenticated(request)
    if process not in STARTS:
        raise Problem(404, "未找到", f"流程“{process}”不存在，可用：{'、'.join(STARTS)}")
    starter, prefix, need_as = STARTS[process]
    defaults = {"changed_elements": [], "items": [], "purpose": "", "scope": "", "mode": "", "months": 12,
                "found": "", "expected": "", "evidence": "", "proof_provided": False}
    fields = {**defaults, **_json(body, need_as)}
    fields.setdefault("resource_id", fields.get("resource"))
    idem = request.headers.get("idempotency-key")
    if idem:
        digest = hashlib.sha256(body).hexdigest()[:16]
        row = await asyncio.to_thread(_claim, key_id, idem, prefix, digest, prefix)
        fields["case_id"] = row.case_id
        if await cli.is_running(await cli.client(), row.case_id) or await _exists(row.case_id):
            return JSONResponse({"case_id": row.case_id, "repeated": True}, status_code=200)
    try:
        result = await _call(starter(fields))
    except Problem:
        if idem:  # refused before anything started: the key may be used again
            await asyncio.to_thread(_release, key_id, idem)
        raise
    except cli.CliError as err:
        if isinstance(err.__cause__, WorkflowAlreadyStartedError):  # a retry of a start that went through
            return JSONResponse({"case_id": fields["case_id"], "repeated": True}, status_code=200)
        raise
    return JSONResponse(result, status_code=201)


async def _exists(case_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await (await cli.client()).get_workflow_handle(case_id).describe()
        return True
    except RPCError:
        return False


@app.post("/v1/cases/{case_id}/decisions", summary="在案件中作出决定")
async def decide(case_id: str, request: Request) -> dict[str, Any]:
    _key, body = await authenticated(request)
    d = _json(body)
    if not d.get("action"):
        raise Problem(400, "请求无效", "须写明 action（操作）")
    return await _call(cli._decide(case_id, d["action"], d["as"], d.get("reasons"), d.get("basis"), d.get("data") or {}))


@app.get("/v1/cases/{case_id}", summary="案件的全过程")
async def show(case_id: str, request: Request) -> dict[str, Any]:
    await authenticated(request)
    return await _call(cli._show(case_id))


def serve() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(app, host=settings.hook_host, port=settings.hook_port, log_level="warning")
