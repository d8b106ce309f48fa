"""The HTTP hook: other systems start cases, submit decisions and read cases (issue 6).

Every request is signed by its calling system: ``X-Pdw-Key`` (the key id), ``X-Pdw-Timestamp``
(Unix seconds) and ``X-Pdw-Signature``, the hex HMAC-SHA256 under the key's secret of
``METHOD + "\\n" + path + "\\n" + timestamp + "\\n" + body``. A request outside the replay window,
with an unknown key or a bad signature is refused with 401. ``Idempotency-Key`` makes a repeated
start return the same case. Errors are ``application/problem+json`` with Chinese messages.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import starter_cli as cli
from activities.store import StoreError, insert_ignore, session
from models.audit import HookRequest
from settings import get_settings

STARTS = {
    "catalog-update": cli.start_catalog_update,
    "share": cli.start_share_request,
    "correction": cli.start_correction,
}

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


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    message = f"{method}\n{path}\n{timestamp}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def authenticated(request: Request) -> tuple[str, bytes]:
    """The calling system's key id and the request body, once its signature holds."""
    settings = get_settings()
    key_id = request.headers.get("x-pdw-key", "")
    timestamp = request.headers.get("x-pdw-timestamp", "")
    given = request.headers.get("x-pdw-signature", "")
    body = await request.body()
    secret = settings.hook_keys.get(key_id)
    if not secret or not given or not timestamp.isdigit():
        raise Problem(401, "未认证", "缺少或无效的 X-Pdw-Key、X-Pdw-Timestamp、X-Pdw-Signature")
    if abs(time.time() - int(timestamp)) > settings.hook_window_seconds:
        raise Problem(401, "未认证", f"请求时间戳超出 {settings.hook_window_seconds} 秒的有效期，可能是重放")
    expected = signature(secret, request.method, request.url.path, timestamp, body)
    if not hmac.compare_digest(expected, given):
        raise Problem(401, "未认证", "签名无效")
    return key_id, body


def _json(body: bytes) -> dict[str, Any]:
    import json

    try:
        data = json.loads(body or b"{}")
    except ValueError as err:
        raise Problem(400, "请求无效", f"请求体不是 JSON：{err}") from err
    if not isinstance(data, dict):
        raise Problem(400, "请求无效", "请求体须为 JSON 对象")
    return data


async def _call(coro: Any) -> Any:
    try:
        return await coro
    except (cli.CliError, StoreError) as err:
        message = str(err)
        status = 404 if "不存在" in message else 400
        raise Problem(status, "请求无效" if status == 400 else "未找到", message) from err


@app.post("/v1/cases/{process}", status_code=201, summary="开始案件（catalog-update、share、correction）")
async def start(process: str, request: Request) -> JSONResponse:
    key_id, body = await authenticated(request)
    if process not in STARTS:
        raise Problem(404, "未找到", f"流程“{process}”不存在，可用：{'、'.join(STARTS)}")
    fields = _json(body)
    defaults = {"changed_elements": [], "items": [], "purpose": "", "scope": "", "mode": "", "months": 12,
                "found": "", "expected": "", "evidence": "", "proof_provided": False}
    fields = {**defaults, **fields}
    fields.setdefault("resource_id", fields.get("resource"))
    idem = request.headers.get("idempotency-key")
    if idem:
        with session() as s:
            mine = insert_ignore(s, HookRequest, {"key_id": key_id, "idempotency_key": idem, "process": process},
                                 ["key_id", "idempotency_key"])
            earlier = None if mine else s.get(HookRequest, (key_id, idem))
        if earlier is not None:
            if earlier.case_id is None:
                raise Problem(409, "处理中", "相同 Idempotency-Key 的请求正在处理，请稍后重试")
            return JSONResponse({"case_id": earlier.case_id, "repeated": True}, status_code=200)
    try:
        result = await _call(STARTS[process](fields))
    except Problem:
        if idem:
            with session() as s:
                row = s.get(HookRequest, (key_id, idem))
                if row is not None:
                    s.delete(row)  # nothing was started: the key may be used again
        raise
    if idem:
        with session() as s:
            row = s.get(HookRequest, (key_id, idem))
            assert row is not None
            row.case_id = result["case_id"]
            s.add(row)
    return JSONResponse(result, status_code=201)


@app.post("/v1/cases/{case_id}/decisions", summary="在案件中作出决定")
async def decide(case_id: str, request: Request) -> dict[str, Any]:
    _key, body = await authenticated(request)
    d = _json(body)
    if not d.get("as") or not d.get("action"):
        raise Problem(400, "请求无效", "须写明 action（操作）和 as（已备案人员编号）")
    return await _call(cli._decide(case_id, d["action"], d["as"], d.get("reasons"), d.get("basis"), d.get("data") or {}))


@app.get("/v1/cases/{case_id}", summary="案件的全过程")
async def show(case_id: str, request: Request) -> dict[str, Any]:
    await authenticated(request)
    return await _call(cli._show(case_id))


def serve() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(app, host=settings.hook_host, port=settings.hook_port, log_level="warning")
