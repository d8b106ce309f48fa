"""Determinism guard: replay with today's workflow code, inside the SDK's sandbox (the worker runs
cases outside it: worker.py), every history the workflow tests produced, and every history a
released version left in tests/histories/ (cases it started may still be running when this code
takes over: tests/histories/README.md)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from tests.helpers import STARTED, decision, start_catalog_update, wait_status
from tests.history_files import load, replay_failures, sandboxed_replayer

RELEASES = sorted(p for p in (Path(__file__).parent / "histories").iterdir() if p.is_dir())


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


async def test_the_types_no_process_test_starts_leave_histories_too(env, worker, histories) -> None:
    """The leaders' digest and the restricted-open round run only from Schedules: started here, so a
    release's saved histories hold every workflow type (tests/histories/README.md)."""
    from models.review import ReviewRoundInput

    digest = await env.client.start_workflow("DailyDigest", id=f"digest-test-{uuid.uuid4().hex[:8]}",
                                             task_queue=worker)
    await digest.result()
    round_ = await env.client.start_workflow(
        "RestrictedOpenReviewRound", ReviewRoundInput(period=f"replay-{uuid.uuid4().hex[:6]}"),
        id=f"round-test-{uuid.uuid4().hex[:8]}", task_queue=worker, result_type=dict)
    STARTED.extend((await round_.result())["opened"])  # the review cases it opened end with the test
    histories.extend([await digest.fetch_history(), await round_.fetch_history()])


@pytest.mark.parametrize("release", RELEASES, ids=[p.name for p in RELEASES])
async def test_histories_of_a_released_version_replay(release: Path) -> None:
    histories = [history for _, history in load(release)]
    assert histories, f"{release} holds no history"
    failures = await replay_failures(histories)
    assert not failures, (f"{len(failures)}/{len(histories)} histories of {release.name} no longer replay "
                          "(a change to running cases needs workflow.patched: docs/operations.md, Upgrading pdw while cases run):\n"
                          + "\n".join(f"{workflow_id}: {error}" for workflow_id, error in failures))


async def replay_all(histories: list[WorkflowHistory]) -> int:
    """Replay each history with today's workflow code; fails on the first that does not replay."""
    replayer = sandboxed_replayer()
    replayed = 0
    async with replayer.workflow_replay_iterator(iter_histories(histories)) as results:
        async for result in results:
            assert result.replay_failure is None, result.replay_failure
            replayed += 1
    return replayed


async def iter_histories(items):  # type: ignore[no-untyped-def]
    for item in items:
        yield item
