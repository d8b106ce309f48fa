"""One way to connect to Temporal and to leave a process, shared by the worker, the API and the dev
stack (DESIGN.md, Layout)."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.runtime import Runtime
    from temporalio.service import TLSConfig

    from settings import Settings


async def connect(settings: Settings, *, patient: bool = True, metrics_address: str | None = None) -> Client:
    """A Temporal client with the pydantic data converter every workflow's payloads need, carrying
    the payload codec (codec.py: ciphertext in history; CodecConfigError without keys). The
    worker is patient with a server that is restarting; the API (``patient=False``) gives up within
    about two seconds, so a person waiting on ``pdw`` hears at once that Temporal is down. With
    PDW_TEMPORAL_TLS_* set it speaks mTLS (TlsSettingError for a file it cannot read); the worker
    hands ``metrics_address`` to serve Prometheus metrics."""
    from temporalio.client import Client
    from temporalio.service import RetryConfig

    from codec import data_converter

    retry = RetryConfig() if patient else RetryConfig(max_elapsed_time_millis=2000, max_retries=3)
    return await Client.connect(
        settings.temporal_address, namespace=settings.namespace, data_converter=data_converter(settings),
        retry_config=retry, tls=tls_config(settings),
        runtime=metrics_runtime(metrics_address) if metrics_address else None,
    )


class TlsSettingError(Exception):
    """A PDW_TEMPORAL_TLS_* file that is missing, unreadable or alone; the message is one Chinese line."""


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS to the frontend from the PDW_TEMPORAL_TLS_* files (docs/operations.md, TLS); False when
    none is set (the dev server speaks plain gRPC)."""
    from temporalio.service import TLSConfig

    files = {"PDW_TEMPORAL_TLS_CERT": settings.temporal_tls_cert, "PDW_TEMPORAL_TLS_KEY": settings.temporal_tls_key,
             "PDW_TEMPORAL_TLS_CA": settings.temporal_tls_ca}
    if not any(files.values()) and not settings.temporal_tls_server_name:
        return False
    # The server requires a client certificate (requireClientAuth): a certificate without its key,
    # or the reverse, would fail at the handshake with a far less helpful message.
    if bool(settings.temporal_tls_cert) != bool(settings.temporal_tls_key):
        raise TlsSettingError("PDW_TEMPORAL_TLS_CERT 与 PDW_TEMPORAL_TLS_KEY 须同时设置（客户端证书及其私钥）")
    pem: dict[str, bytes | None] = {}
    for name, path in files.items():
        try:
            pem[name] = path.read_bytes() if path else None
        except OSError as err:
            raise TlsSettingError(f"{name}：无法读取证书文件 {path}（{err.strerror or err}）") from err
    return TLSConfig(server_root_ca_cert=pem["PDW_TEMPORAL_TLS_CA"], client_cert=pem["PDW_TEMPORAL_TLS_CERT"],
                     client_private_key=pem["PDW_TEMPORAL_TLS_KEY"], domain=settings.temporal_tls_server_name)


@lru_cache
def metrics_runtime(address: str) -> Runtime:
    """A Temporal runtime whose SDK metrics (temporal_* : task latencies, schedule-to-start, failures)
    Prometheus scrapes at ``address``; one per process, as the port can be bound once."""
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def exit_now(code: int) -> None:
    """Exit without interpreter teardown: the Temporal client's native threads can abort it
    (temporalio/sdk-python#300), which would turn a finished command into a crash."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
