"""The production stack's parts that run here (issue 14): mTLS to Temporal with the certificates
deploy/make-certs.sh makes, the worker's Prometheus metrics, the API's /metrics, JSON log lines.

The dev server speaks no TLS, so a TLS terminator in front of it (ALPN h2, client certificate
required, as the frontend with requireClientAuth) stands in for the production frontend."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import ssl
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, TLSConfig
from temporalio.worker import Worker

from runtime import TlsSettingError, connect, tls_config
from settings import get_settings
from tests.conftest import venv_binary
from tests.pg import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    subprocess.run(["sh", str(ROOT / "deploy" / "make-certs.sh"), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--headless",
         "--db-filename", str(tmp_path_factory.mktemp("temporal") / "t.db"), "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def mtls_front(certs: Path, upstream: str) -> AsyncIterator[str]:
    """An mTLS listener that forwards to the plain dev server: a client without a certificate from
    the CA fails the handshake, as at the production frontend."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs / "ca.pem"))
    context.load_cert_chain(certs / "temporal.pem", certs / "temporal.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = upstream.rsplit(":", 1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    async with server:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _connected(address: str, attempts: int = 60) -> None:
    for _ in range(attempts):  # the dev server takes a few seconds to answer
        with contextlib.suppress(RuntimeError):
            await Client.connect(address)
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"Temporal dev server at {address} never answered")


async def test_the_worker_and_api_reach_temporal_over_mtls_and_nobody_without_a_client_certificate(
    certs: Path, dev_server: str
) -> None:
    await _connected(dev_server)
    async with mtls_front(certs, dev_server) as front:
        settings = get_settings().model_copy(update={
            "temporal_address": front, "temporal_tls_cert": certs / "worker.pem",
            "temporal_tls_key": certs / "worker.key", "temporal_tls_ca": certs / "ca.pem",
            "temporal_tls_server_name": "temporal"})
        client = await connect(settings, patient=False)
        assert await client.service_client.check_health()  # a real round trip through the mTLS front
        # The CA alone (no client certificate): the front refuses the handshake.
        with pytest.raises(RuntimeError):
            await Client.connect(front, tls=TLSConfig(server_root_ca_cert=(certs / "ca.pem").read_bytes(),
                                                      domain="temporal"),
                                 retry_config=None, lazy=False)


def test_a_missing_or_lone_certificate_file_is_one_chinese_line_naming_the_setting(certs: Path) -> None:
    base = get_settings()
    assert tls_config(base) is False  # nothing set: plain gRPC, as the dev server speaks
    missing = base.model_copy(update={"temporal_tls_cert": certs / "worker.pem", "temporal_tls_key": certs / "worker.key",
                                      "temporal_tls_ca": certs / "nowhere.pem"})
    with pytest.raises(TlsSettingError, match="PDW_TEMPORAL_TLS_CA：无法读取证书文件 .*nowhere.pem"):
        tls_config(missing)
    with pytest.raises(TlsSettingError, match="PDW_TEMPORAL_TLS_CERT 与 PDW_TEMPORAL_TLS_KEY 须同时设置"):
        tls_config(base.model_copy(update={"temporal_tls_cert": certs / "worker.pem"}))
    built = tls_config(base.model_copy(update={"temporal_tls_cert": certs / "api.pem", "temporal_tls_key": certs / "api.key",
                                               "temporal_tls_ca": certs / "ca.pem", "temporal_tls_server_name": "temporal"}))
    assert isinstance(built, TLSConfig) and built.domain == "temporal"
    assert built.client_cert == (certs / "api.pem").read_bytes()


def test_the_worker_refuses_to_start_on_a_missing_certificate_with_one_line(certs: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import worker; worker.main()"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60,
                          env={**_env(), "PDW_TEMPORAL_TLS_CERT": str(certs / "gone.pem"),
                               "PDW_TEMPORAL_TLS_KEY": str(certs / "worker.key")})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("错误：PDW_TEMPORAL_TLS_CERT：无法读取证书文件")
    assert "Traceback" not in done.stderr


def test_the_worker_refuses_to_start_on_a_metrics_port_taken_with_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = subprocess.run([sys.executable, "-c", "import worker; worker.main()"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, env={**_env(), "PDW_WORKER_METRICS_ADDRESS": address})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"错误：PDW_WORKER_METRICS_ADDRESS（{address}）无法监听：该地址已被占用"), line


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PDW_TEMPORAL_TLS")}


@activity.defn(name="production_test_noop")
async def noop() -> str:
    return "ok"


async def test_the_worker_serves_temporal_sdk_metrics_for_prometheus(dev_server: str) -> None:
    await _connected(dev_server)
    address = f"127.0.0.1:{free_port()}"
    client = await connect(get_settings().model_copy(update={"temporal_address": dev_server}), metrics_address=address)
    queue = f"metrics-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, activities=[noop]):
        await asyncio.sleep(1)  # a poll or two: the worker's gauges and the client's request counters
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode())
    assert "temporal_" in text
    assert f'task_queue="{queue}"' in text  # the worker's own series, labelled by its task queue


async def test_the_api_counts_requests_by_route_template_and_shows_them_to_loopback_only(dev_server: str) -> None:
    from devstack import register_search_attributes
    from hook import create_app
    from service.context import Services

    await _connected(dev_server)
    settings = get_settings().model_copy(update={"temporal_address": dev_server})
    client = await connect(settings)
    await register_search_attributes(client, settings.namespace)
    for _ in range(40):  # until the new attributes are queryable (the namespace cache refreshes)
        with contextlib.suppress(RPCError):
            await client.count_workflows("PdwStuck = true")
            break
        await asyncio.sleep(0.25)
    app = create_app(Services(settings, client=client))
    case_id = "PDW-SHARE-2026-SECRET-CASE"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)),
                                 base_url="http://pdw.test") as local:
        assert (await local.get(f"/v1/cases/{case_id}")).status_code == 401  # no token
        shown = await local.get("/metrics")
        # Behind a proxy on this host every caller is loopback: a forwarded request is refused.
        proxied = await local.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
        assert proxied.status_code == 403 and "PDW_METRICS_OPEN" in proxied.json()["detail"]
        await local.request("BREW", "/metrics")  # any method a client sends: one label, OTHER
        again = (await local.get("/metrics")).text
    assert 'method="OTHER"' in again and "BREW" not in again
    assert shown.status_code == 200
    assert 'pdw_api_requests_total{method="GET",route="/v1/cases/{case_id}",status="401"}' in shown.text
    assert "pdw_api_request_seconds_bucket" in shown.text
    assert case_id not in shown.text  # labels hold the template, never a case id
    # What operators alert on, read at the scrape (service/metrics.py).
    for gauge in ("pdw_cases_stuck 0.0", "pdw_cases_overdue 0.0", "pdw_notices_failed ", "pdw_database_bytes "):
        assert f"\n{gauge}" in shown.text, gauge
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.1.2.3", 40000)),
                                 base_url="http://pdw.test") as remote:
        assert (await remote.get("/metrics")).status_code == 403
    opened = create_app(Services(settings.model_copy(update={"metrics_open": True}), client=client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=opened, client=("10.1.2.3", 40000)),
                                 base_url="http://pdw.test") as remote:
        assert (await remote.get("/metrics")).status_code == 200


def test_log_lines_are_json_with_the_event_name_in_production_and_console_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from logs import JsonLineFormatter, configure_logging, json_logs

    assert json_logs("json") and not json_logs("console")
    assert json_logs("auto") is (not sys.stderr.isatty())
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    structlog.reset_defaults()
    try:
        configure_logging("INFO", "json")
        structlog.get_logger("pdw.test").info("case_opened", case_id="PDW-1", phone="13905770000")
        line = json.loads(out.getvalue().strip().splitlines()[-1])
        assert line["event"] == "case_opened" and line["case_id"] == "PDW-1" and line["level"] == "info"
        assert line["phone"] == "139****0000"  # masked as before
        record = logging.LogRecord("temporalio.worker", logging.WARNING, __file__, 1, "poll %s failed", ("x",), None)
        assert json.loads(JsonLineFormatter().format(record))["event"] == "poll x failed"
    finally:
        structlog.reset_defaults()
        configure_logging(get_settings().log_level)


def test_every_image_is_pinned_and_the_image_holds_every_module_the_package_lists() -> None:
    import re
    import tomllib

    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    images = re.findall(r"^\s+image:\s*(\S+)", compose, re.MULTILINE)
    assert images and all(re.search(r":\d[\w.-]*$", image) for image in images), images  # a version, never latest
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM \S+:\d[\w.-]*$", dockerfile, re.MULTILINE)
    copied = " ".join(line for line in dockerfile.splitlines() if line.startswith("COPY")).split()
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    wanted = {p.split(".")[0] for p in tool["packages"]} | {f"{m}.py" for m in tool["py-modules"]}
    assert wanted <= set(copied), wanted - set(copied)


def test_the_env_file_example_sets_every_secret_the_compose_file_requires() -> None:
    import re

    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    example = (ROOT / "deploy" / "pdw.env.example").read_text(encoding="utf-8")
    given = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert required and required <= given, required - given


@pytest.mark.parametrize("address", ["notanaddress", "0.0.0.0:", "0.0.0.0:99999", ":9464"])
def test_a_bad_metrics_address_is_refused_at_start_naming_the_setting(address: str) -> None:
    from pydantic import ValidationError

    from settings import Settings

    with pytest.raises(ValidationError) as refused:
        Settings(worker_metrics_address=address)
    assert "PDW_WORKER_METRICS_ADDRESS" in str(refused.value) and "主机:端口" in str(refused.value)
    assert Settings(worker_metrics_address="127.0.0.1:9464").worker_metrics_address == "127.0.0.1:9464"


@pytest.mark.parametrize(("name", "value", "said"), [
    ("PDW_NAMESPACE_RETENTION_DAYS", "-3", "须不小于 1"), ("PDW_NAMESPACE_RETENTION_DAYS", "abc", "须为整数"),
    ("PDW_LOG_FORMAT", "xml", "之一"), ("PDW_METRICS_OPEN", "maybe", "须为 true 或 false")])
def test_a_bad_setting_is_one_chinese_line_naming_it(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                     said: str) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            get_settings()
    finally:
        monkeypatch.delenv(name)
        get_settings.cache_clear()
    line = str(refused.value)
    assert line.startswith(f"错误：{name}：") and said in line and "Input should" not in line and " or " not in line
