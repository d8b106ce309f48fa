"""Prometheus metrics of the API (docs/operations.md, Metrics): requests counted and timed by route
template and status, and the county's gauges operators alert on (service/metrics.py). The labels hold a route's template (``/cases/{case_id}``), never a case id,
a person's name or a query string, so a scrape shows no one's data.

``GET /metrics`` answers loopback callers only unless PDW_METRICS_OPEN (then publish it to the
Prometheus server alone, by the reverse proxy's access rule or the network)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.codec import _loopback
from api.deps import services_of
from service import metrics as service_metrics
from service.errors import Kind, ServiceError

router = APIRouter(include_in_schema=False)

REQUESTS = Counter("pdw_api_requests", "API requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("pdw_api_request_seconds", "Time to answer an API request, by route template",
                    ["method", "route"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GAUGE_HELP = {
    "cases_stuck": "Running cases with a step refused or failing past its attempts (PdwStuck)",
    "cases_overdue": "Running cases past a deadline (urged or escalated, Art. 41, 46)",
    "notices_failed": "Notices whose delivery failed (pdw notices list --failed)",
    "database_bytes": "Size of pdw's records database",
}


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """ASGI middleware counting every answer, also those refused before a route ran."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception that escapes every handler
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # a template, or no route at all
            method = scope["method"] if scope["method"] in METHODS else "OTHER"  # a label set that cannot grow
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    # A proxy on this host makes every caller loopback: a forwarded request is not the host's own.
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    local = _loopback(request.client.host if request.client else None) and not forwarded
    if not services_of(request).settings.metrics_open and not local:
        raise ServiceError(Kind.forbidden, "指标接口只回应本机请求：由 Prometheus 抓取时设置 PDW_METRICS_OPEN=true "
                                           "并只向 Prometheus 开放（docs/operations.md）")
    # The county's gauges are read now, in a registry of this scrape alone: a part that could not
    # be read is absent (an alert on absence fires), never a stale value.
    current = CollectorRegistry()
    for name, value in (await service_metrics.gauges(services_of(request))).items():
        Gauge(f"pdw_{name}", GAUGE_HELP[name], registry=current).set(value)
    return Response(generate_latest() + generate_latest(current), media_type=CONTENT_TYPE_LATEST)
