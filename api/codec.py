"""The Temporal UI's remote codec (issue 11): the UI posts the encrypted payloads it shows to
``/codec/decode`` (and a signal's or update's input to ``/codec/encode``) and renders the answer.
The protocol is Temporal's: ``{"payloads": [...]}`` in proto JSON, the namespace in ``X-Namespace``.

Only the UI's origin may call it from a browser (CORS); in dev only loopback clients are answered;
in production it sits behind the UI's own authentication (docs/operations.md).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.deps import services_of
from codec import CodecConfigError, CodecError, EncryptionCodec, codec_for
from service.errors import Kind, ServiceError, bad_input, not_found

PREFIX = "/codec"
router = APIRouter(prefix=PREFIX, include_in_schema=False)


def origin_of(url: str) -> str:
    """``http://host:port`` of a URL: what a browser sends as Origin."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


class CodecCors:
    """CORS for the codec routes alone, allowing only the UI's origin: the rest of the API is
    called by ``pdw`` and systems, never by a browser, and keeps no CORS at all."""

    def __init__(self, app: ASGIApp, ui_origin: str) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=[ui_origin], allow_methods=["POST"],
                                   allow_headers=["content-type", "x-namespace", "authorization"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _codec(request: Request) -> EncryptionCodec:
    settings = services_of(request).settings
    if settings.codec_endpoint == "off":
        raise not_found("载荷解密接口未开启（PDW_CODEC_ENDPOINT=off）")
    if settings.codec_endpoint == "loopback" and not _loopback(request.client.host if request.client else None):
        raise ServiceError(Kind.forbidden, "载荷解密接口只回应本机请求：生产环境请设置 PDW_CODEC_ENDPOINT=open "
                                           "并置于 Web 界面的认证之后（docs/operations.md）")
    try:
        return codec_for(settings)
    except CodecConfigError as err:
        raise ServiceError(Kind.unavailable, str(err)) from err


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as err:
        raise bad_input('请求体须为 {"payloads": [...]}（Temporal 远程编解码协议）', "payloads") from err


def _answer(payloads: list[Any]) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))


@router.post("/decode")
async def decode(request: Request, x_namespace: str | None = Header(default=None)) -> JSONResponse:
    codec = _codec(request)
    given = await _payloads(request)
    try:
        return _answer(await codec.decode(list(given.payloads)))
    except CodecError as err:
        raise bad_input(str(err), "payloads") from err


@router.post("/encode")
async def encode(request: Request, x_namespace: str | None = Header(default=None)) -> JSONResponse:
    codec = _codec(request)
    given = await _payloads(request)
    return _answer(await codec.encode(list(given.payloads)))
