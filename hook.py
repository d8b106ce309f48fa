"""The pdw API: the one door through which every case is started, decided and read, by staff
(``pdw``, with a personal token) and by other systems (signed keys bound to departments).
docs/api.md describes it; ``hook:app`` is the application for uvicorn; the routes are in ``api/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import access, admin, cases, codec, metrics, public, records, reports
from api.errors import BodyLimit, install_errors, quiet_server_errors
from service.context import Services
from settings import get_settings


def create_app(services: Services | None = None) -> FastAPI:
    """The API; tests hand in their own services (a Temporal client, a task queue)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or Services(get_settings())
        yield

    app = FastAPI(
        title="pdw API",
        description="永嘉县公共数据共享开放流程：开始案件、作出决定、查询案件与记录、管理。见 docs/api.md。",
        version="2",
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    app.add_middleware(BodyLimit)
    # The Temporal UI (in a browser at settings.ui_url) calls /codec; nothing else is cross-origin.
    app.add_middleware(codec.CodecCors, ui_origin=codec.origin_of((services.settings if services else get_settings()).ui_url))
    app.add_middleware(metrics.RequestMetrics)  # outermost: refusals by the others are counted too
    install_errors(app)
    for module in (cases, public, records, admin, codec, access, reports, metrics):
        app.include_router(module.router)
    return app


def serve() -> None:
    import uvicorn

    from codec import CodecConfigError, codec_for
    from logs import configure_logging
    from runtime import TlsSettingError, tls_config

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        codec_for(settings)  # no keys: one line at start, not a 503 on every case
        tls_config(settings)  # nor a certificate file that cannot be read
    except (CodecConfigError, TlsSettingError) as err:
        raise SystemExit(f"错误：{err}") from err
    quiet_server_errors()
    # log_config=None: uvicorn's records go through the root handler (masked, JSON lines: logs.py).
    uvicorn.run(app, host=settings.hook_host, port=settings.hook_port, log_level="warning", log_config=None)


app = create_app()
