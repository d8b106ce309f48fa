"""Determinism guard: replay with today's workflow code, inside the SDK's sandbox (the worker runs
cases outside it: worker.py), every history the workflow tests produced, and every history a
released version left in tests/histories/ (cases it started may still be running when this code
takes over: tests/histories/README.md)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.helpers import STARTED, decision, start_catalog_update, wait_status
from tests.history_files import load, replay_failures

RELEASES = sorted(p for p in (Path(__file__).parent / "histories").iterdir() if p.is_dir())


async def test_a_case_the_worker_ran_replays_in_the_sandbox(env, worker) -> None:
    """When run alone too (every case a session runs is replayed so at its end: tests/conftest.py)."""
    handle = await start_catalog_update(env, worker, resource="RES-SCJGJ-002")
    await wait_status(handle, "awaiting_submission")
    await handle.execute_update(
        "decide", decision("submit", "scjgj.jinlei", data={"update_frequency": "weekly"})
    )
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    await handle.result()
    assert await replay_failures([await handle.fetch_history()]) == []


async def test_the_types_no_process_test_starts_leave_histories_too(env, worker) -> None:
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
    assert await replay_failures([await digest.fetch_history(), await round_.fetch_history()]) == []


@pytest.mark.parametrize("release", RELEASES, ids=[p.name for p in RELEASES])
async def test_histories_of_a_released_version_replay(release: Path) -> None:
    histories = [history for _, history in load(release)]
    assert histories, f"{release} holds no history"
    failures = await replay_failures(histories)
    assert not failures, (f"{len(failures)}/{len(histories)} histories of {release.name} no longer replay "
                          "(a change to running cases needs workflow.patched: docs/operations.md, Upgrading pdw while cases run):\n"
                          + "\n".join(f"{workflow_id}: {error}" for workflow_id, error in failures))
