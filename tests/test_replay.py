"""Determinism guard: replay every history the workflow tests produced with today's workflow code."""

from __future__ import annotations

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.helpers import decision, start_catalog_update, wait_status
from worker import WORKFLOWS


async def test_replay_histories_the_suite_produced(env, worker, histories) -> None:
    # One case of our own, so this test means something when run alone.
    handle = await start_catalog_update(env, worker, resource="RES-SCJGJ-002")
    await wait_status(handle, "awaiting_submission")
    await handle.execute_update(
        "decide", decision("submit", "scjgj.jinlei", data={"update_frequency": "weekly"})
    )
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    await handle.result()
    all_histories = [*histories, await handle.fetch_history()]
    assert await replay_all(all_histories) == len(all_histories)


async def replay_all(histories: list[WorkflowHistory]) -> int:
    """Replay each history with today's workflow code; fails on the first that does not replay."""
    from codec import data_converter
    from settings import get_settings

    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(get_settings()))
    replayed = 0
    async with replayer.workflow_replay_iterator(iter_histories(histories)) as results:
        async for result in results:
            assert result.replay_failure is None, result.replay_failure
            replayed += 1
    return replayed


async def iter_histories(items):  # type: ignore[no-untyped-def]
    for item in items:
        yield item
