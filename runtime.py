"""One way to connect to Temporal and to leave a process, shared by the worker, the API and the dev
stack (DESIGN.md, Layout)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.client import Client

    from settings import Settings


async def connect(settings: Settings, *, patient: bool = True) -> Client:
    """A Temporal client with the pydantic data converter every workflow's payloads need, carrying
    the payload codec (codec.py: ciphertext in history; CodecConfigError without keys). The
    worker is patient with a server that is restarting; the API (``patient=False``) gives up within
    about two seconds, so a person waiting on ``pdw`` hears at once that Temporal is down."""
    from temporalio.client import Client
    from temporalio.service import RetryConfig

    from codec import data_converter

    retry = RetryConfig() if patient else RetryConfig(max_elapsed_time_millis=2000, max_retries=3)
    return await Client.connect(
        settings.temporal_address, namespace=settings.namespace, data_converter=data_converter(settings),
        retry_config=retry,
    )


def exit_now(code: int) -> None:
    """Exit without interpreter teardown: the Temporal client's native threads can abort it
    (temporalio/sdk-python#300), which would turn a finished command into a crash."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
