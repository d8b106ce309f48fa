"""Several workers (issue 14): two pdw-worker processes on one task queue of a real dev server share
20 share requests for an unconditional, collected resource (the center approves alone, Art. 20);
one worker is killed with kill -9 while approvals, grants and notices are under way; the other
finishes every case, each with one grant, one decision and one outbox row per key (the counts of
tests/test_fault_kills.py), and no workflow fails. Prints its figures."""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import venv_binary
from tests.live_stack import CASES, FaultStack, completed, open_grants, rows, running
from tests.pg import Cluster, fresh_database
from tests.test_e2e import _wait


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FaultStack]:
    with fresh_database() as url, running(Cluster(url, stop=lambda: None), tmp_path, workers=2) as live:
        yield live


def identities(stack: FaultStack, *args: str) -> set[int]:
    """The worker process ids (the SDK's identity is pid@host) a ``temporal`` command's JSON names."""
    done = subprocess.run([venv_binary("temporal"), *args, "--address", stack.address, "-o", "json"],
                          capture_output=True, text=True, timeout=30, check=True)
    return {int(pid) for pid in re.findall(r'"identity":\s*"(\d+)@', done.stdout)}


def test_two_workers_one_killed_mid_flight_every_case_finishes_once(stack: FaultStack) -> None:
    began, answers = time.monotonic(), Counter[int]()
    killed, survivor = stack.workers
    queue = stack.env["PDW_TASK_QUEUE"]
    _wait(lambda: identities(stack, "task-queue", "describe", "--task-queue", queue) >= {killed.pid, survivor.pid},
          "both workers polling the task queue", timeout=60)

    cases = stack.start_cases(CASES)
    stack.wait_under_review(cases)
    thread, confirmed = stack.approve_all(cases, answers)
    _wait(lambda: confirmed() >= 5, "the first approvals", timeout=60)
    in_flight = open_grants(stack, cases)
    stack.kill9(killed)  # grants, closings and notices of the approved cases under way on both
    killed_at = time.monotonic()
    thread.join(timeout=120)
    stack.settle(cases, answers)

    figures = rows(stack, cases)
    worked = Counter[int]()
    for case_id in cases:
        worked.update(identities(stack, "workflow", "show", "--workflow-id", case_id))
    print(f"\n[two workers, one kill -9] cases={len(cases)} open_at_kill={in_flight} "
          f"completed={completed(stack, cases)} failed=0 {figures} approval_answers={dict(answers)} "
          f"cases_worked_on_by_killed={worked[killed.pid]} by_survivor={worked[survivor.pid]} "
          f"seconds_after_kill={time.monotonic() - killed_at:.0f} seconds={time.monotonic() - began:.0f}")
    assert in_flight >= 1
    # Both took part; the survivor finished what the killed one had begun (every case COMPLETED above).
    assert worked[killed.pid] >= 1 and worked[survivor.pid] >= 1
