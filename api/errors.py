"""How the API answers errors: problem+json with one Chinese line naming the JSON field, the body
limit enforced on the bytes read, and no trace (nor any local variable) in an answer."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.requests import field_label
from service.context import store_error
from service.errors import Kind, ServiceError

log = structlog.get_logger("pdw.api")
MAX_BODY = 1 << 20
STATUS = {Kind.bad_input: 400, Kind.unauthenticated: 401, Kind.forbidden: 403, Kind.not_found: 404,
          Kind.conflict: 409, Kind.reused_key: 422, Kind.unavailable: 503,
          Kind.rate_limited: 429}
TITLE = {400: "请求无效", 401: "未认证", 403: "无权办理", 404: "未找到", 405: "方法不允许", 409: "请求冲突",
         413: "请求过大", 422: "请求冲突", 429: "请求过于频繁", 500: "服务器内部错误", 503: "暂时无法办理"}
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


class Problem(BaseModel):
    """application/problem+json (RFC 9457), the detail one Chinese line."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": TITLE[status], "content": {"application/problem+json": {}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 503)
}


def problem(status: int, detail: str, field: str | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLE.get(status, "错误"), "status": status, "detail": detail}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class BodyLimit:
    """Refuse a body over MAX_BODY on the bytes read, chunked or not, before the app sees any of it:
    at most MAX_BODY is ever held in memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await problem(413, "请求体超过 1 MiB")(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await problem(413, "请求体超过 1 MiB")(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class _NoServerTrace(logging.Filter):
    """Starlette re-raises a 500 for the server to log; its trace, message included, stays out of
    the log (``api_error`` already says where it failed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.exc_info, record.exc_text = None, None
            record.msg, record.args = "api_error_reraised", ()
        return True


def quiet_server_errors() -> None:
    logging.getLogger("uvicorn.error").addFilter(_NoServerTrace())


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_r: Request, err: ServiceError) -> JSONResponse:
        answer = problem(STATUS[err.kind], err.message, err.field)
        if retry_after := getattr(err, "retry_after", None):  # 429: when to try again
            answer.headers["Retry-After"] = str(retry_after)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        return problem(400, *validation_line(first))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, err: StarletteHTTPException) -> JSONResponse:
        detail = {404: "没有这个接口（见 /docs）", 405: "该接口不支持此方法"}.get(
            err.status_code, "请求体不是有效的 JSON" if err.status_code == 400 else "请求无效")
        return problem(err.status_code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(_r: Request, err: Exception) -> JSONResponse:
        mapped = store_error(err)
        if mapped is not None:
            return problem(STATUS[mapped.kind], mapped.message, mapped.field)
        # The log gets where it failed, not the message nor any local variable: either may carry an
        # applicant's identity number or phone.
        log.error("api_error", error=type(err).__name__, trace="".join(traceback.format_tb(err.__traceback__)))
        return problem(500, "请求未能处理，请稍后重试或联系管理员")


VALIDATION_ZH = {
    "missing": "缺少此项", "extra_forbidden": "不认识的字段", "string_type": "须为文字", "int_type": "须为整数",
    "int_parsing": "须为整数", "int_from_float": "须为整数", "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false", "list_type": "须为列表", "dict_type": "须为对象",
    "model_attributes_type": "须为对象", "json_invalid": "请求体不是有效的 JSON", "finite_number": "须为有限数值",
    "string_pattern_mismatch": "只能含字母、数字和 . _ : -",
}


def validation_line(error: Any) -> tuple[str, str | None]:
    """One Chinese line naming the JSON field and the rule."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "json_invalid":  # its loc is a position in the text, not a field
        return VALIDATION_ZH[kind], None
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "header", "path")]
    field = ".".join(loc) or None
    if kind == "string_too_long":
        rule = f"不能超过 {ctx.get('max_length')} 个字符"
    elif kind == "string_too_short":
        rule = "不能为空" if ctx.get("min_length") == 1 else f"不能少于 {ctx.get('min_length')} 个字符"
    elif kind == "too_long":
        rule = f"最多 {ctx.get('max_length')} 项"
    elif kind in ("greater_than_equal", "less_than_equal"):
        rule = f"须在允许范围内（{'≥' if kind == 'greater_than_equal' else '≤'} {ctx.get('ge', ctx.get('le'))}）"
    elif kind == "value_error":
        rule = str(ctx.get("error", error.get("msg", "")))
    else:
        rule = VALIDATION_ZH.get(kind, "格式不符")
    if field is None:
        return f"请求体{rule}", None
    top = loc[0]
    return f"{field_label(top)}{'.' + '.'.join(loc[1:]) if loc[1:] else ''}：{rule}", field


