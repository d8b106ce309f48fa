"""schemathesis against the API's own OpenAPI, in-process: requests generated from the schema (valid
and invalid), each signed afresh by the erp key in an httpx request hook (a signature is accepted
once), with a fixed seed and a cap on examples. No answer is a 5xx, and every answer is within the
schema (status, content type, headers, body). Cases a generated request happens to start are ended
by the worker fixture (tests.helpers.STARTED)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from temporalio.testing import WorkflowEnvironment

from service.auth import signature
from service.context import Services
from settings import HookKey, get_settings
from tests.helpers import STARTED
from tests.test_api import ERP_SECRET

SEED = 20261127
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}  # per operation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
ACTING_FOR = "jyj.panxiaoyu"  # erp is bound to jyj
OWN_HEADERS = {"authorization", "x-pdw-key", "x-pdw-timestamp", "x-pdw-signature", "content-length"}


def drawn(strategy: Any, count: int) -> list[Any]:
    """``count`` examples of ``strategy``, drawn by Hypothesis with a fixed seed."""
    cases: list[Any] = []

    @hypothesis.seed(SEED)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def draw(case: Any) -> None:
        cases.append(case)

    try:
        draw()
    except hypothesis.errors.Unsatisfiable:  # nothing invalid to make of it (e.g. no parameters)
        return []
    return cases


def generated(schema: Any, mode: GenerationMode, count: int) -> Iterator[Any]:
    """``count`` cases per operation (generation only: the requests are sent afterwards, on the
    suite's event loop)."""
    for result in schema.get_all_operations():
        yield from drawn(result.ok().as_strategy(generation_mode=mode), count)


async def sign(request: httpx.Request) -> None:
    """The httpx hook: the erp key's signature over this request, made now (one signature, one use)."""
    body = request.read()
    ts = str(int(time.time()))
    idem = request.headers.get("Idempotency-Key", "")
    path = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
    request.headers["X-Pdw-Key"] = "erp"
    request.headers["X-Pdw-Timestamp"] = ts
    request.headers["X-Pdw-Signature"] = signature(ERP_SECRET, request.method, path, ts, body, idem)


# The time-skipping server has no visibility store: past the checks, these lists get Temporal's
# "unimplemented" as a 503 (tests/test_e2e.py lists against a real server).
LISTINGS = {"/v1/inbox", "/v1/overdue", "/v1/stuck"}


def unlisted(path: str, response: httpx.Response) -> bool:
    return (path in LISTINGS and response.status_code == 503
            and "该 Temporal 服务不支持这一查询（UNIMPLEMENTED）" in response.json().get("detail", ""))


def prepared(case: Any) -> dict[str, Any]:
    """The case as httpx arguments: the body serialised here (the bytes signed are the bytes sent),
    acting for a person of jyj wherever the case says whom it acts for."""
    kwargs = case.as_transport_kwargs(base_url="http://pdw.test")
    headers = {k.lower(): v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in OWN_HEADERS}
    # A fresh Idempotency-Key (it is signed too) keeps two equal requests sent within one second from
    # sharing a signature, which would make the second a replay depending on the clock. Bad keys are
    # the sweep's (tests/test_sweep.py).
    headers["idempotency-key"] = f"st-{uuid.uuid4().hex}"
    params = dict(kwargs.get("params") or {})
    if "as" in params:
        params["as"] = ACTING_FOR
    content: bytes | None = None
    if "json" in kwargs:
        body = kwargs["json"]
        if isinstance(body, dict) and "as" in body:
            body = {**body, "as": ACTING_FOR}
        content = json.dumps(body, ensure_ascii=False, allow_nan=True).encode()
        headers.setdefault("content-type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    return {"method": kwargs["method"], "url": kwargs["url"], "params": params, "headers": headers,
            "content": content}


async def test_schemathesis_no_5xx_and_every_answer_within_the_schema(env: WorkflowEnvironment, worker: str) -> None:
    from hook import create_app

    app_settings = get_settings().model_copy(update={
        "task_queue": worker, "hook_keys": {"erp": HookKey(secret=ERP_SECRET, departments=["jyj"])}})
    app = create_app(Services(app_settings, client=env.client))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    unsendable = listing = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pdw.test", timeout=30,
                                 event_hooks={"request": [sign]}) as client:
        for mode, count in EXAMPLES.items():
            for case in generated(schema, mode, count):
                try:
                    request = prepared(case)
                    response = await client.request(**request)
                except (UnicodeEncodeError, httpx.InvalidURL, httpx.LocalProtocolError):
                    unsendable += 1  # a header or URL no HTTP client could send
                    continue
                statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    answer = response.json()
                    if isinstance(answer, dict) and isinstance(answer.get("case_id"), str):
                        STARTED.append(answer["case_id"])
                if unlisted(case.path, response):
                    listing += 1
                    continue
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as err:  # every check that failed
                    failures.append(f"{mode.value} {case.method} {case.formatted_path} {response.status_code} "
                                    f"{response.text[:200]}: {str(err)[:600]}")
    took = time.monotonic() - started
    total = sum(statuses.values())
    print(f"\nschemathesis {schemathesis.__version__}: {total} requests (seed {SEED}, {EXAMPLES[GenerationMode.POSITIVE]}"
          f" valid + {EXAMPLES[GenerationMode.NEGATIVE]} invalid per operation), {unsendable} unsendable, {listing} listings "
          f"the time-skipping server cannot answer, "
          f"statuses {dict(sorted(statuses.items()))}, {took:.1f} s")
    assert not failures, "\n\n".join(failures[:10]) + f"\n({len(failures)} failures)"
    assert total >= 500 and sum(n for status, n in statuses.items() if status >= 500) == listing
