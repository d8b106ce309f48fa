"""Faults survived with cases in flight, on real parts (issue 11): the worker killed with kill -9 and
restarted, the dev server killed and restarted on the same file, the project's PostgreSQL (a
throwaway cluster of the test's own) stopped for 30 s. Each time 20 share requests for an
unconditional, collected resource (the center approves alone, Art. 20) run through to their grant;
afterwards every case has COMPLETED with exactly one grant, one decision and one outbox row per key,
and none FAILED. Decisions are sent, and sent again where the answer was lost, the way staff would:
with the same decision id, so a resend is the same decision. Each test prints its figures."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from tests.live_stack import (
    CASES,
    CENTER,
    REQUESTER,
    RESOURCE,
    SHARE,
    FaultStack,
    completed,
    decisions_written,
    open_grants,
    rows,
    running,
)
from tests.pg import throwaway_cluster
from tests.test_e2e import BIN, _wait

DB_DOWN = "数据库暂时无法连接"


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    try:
        with throwaway_cluster() as cluster, running(cluster, tmp_path_factory.mktemp("kills")) as stack:
            yield stack
    except RuntimeError as err:  # no PostgreSQL programs here: say so, as the suite does elsewhere
        pytest.fail(str(err))


def kill_twice(faults: FaultStack, label: str, kill: Callable[[], None], restart: Callable[[], None]) -> None:
    """20 cases; a kill -9 while every case is opening and another once approvals are under way,
    each followed by a restart; then every case finishes once, nothing doubled (``rows``)."""
    began, answers, in_flight = time.monotonic(), Counter[int](), []
    cases = faults.start_cases(CASES)
    in_flight.append(open_grants(faults, cases))  # every case is opening: its first activities run
    kill()
    restart()
    faults.wait_under_review(cases)

    thread, confirmed = faults.approve_all(cases, answers)
    _wait(lambda: confirmed() >= 5, "the first approvals", timeout=60)
    in_flight.append(open_grants(faults, cases))
    kill()  # grants, closings and notices of the approved cases under way
    time.sleep(2)
    restart()
    thread.join(timeout=120)
    faults.settle(cases, answers)

    figures = rows(faults, cases)
    print(f"\n[{label}] cases={len(cases)} kills=2 open_at_each_kill={in_flight} "
          f"completed={completed(faults, cases)} failed=0 {figures} "
          f"approval_answers={dict(answers)} seconds={time.monotonic() - began:.0f}")
    assert min(in_flight) >= 5 and in_flight[0] == CASES


def test_worker_killed_twice_with_cases_in_flight(faults: FaultStack) -> None:
    kill_twice(faults, "worker kill -9", lambda: faults.kill9(faults.worker), faults.start_worker)


def test_dev_server_killed_and_restarted_on_the_same_file(faults: FaultStack) -> None:
    kill_twice(faults, "dev server kill -9", lambda: faults.kill9(faults.server), faults.start_server)  # same file


def test_postgresql_stopped_30_seconds_while_cases_run(faults: FaultStack) -> None:
    began, answers = time.monotonic(), Counter[int]()
    cases = faults.start_cases(CASES)
    faults.wait_under_review(cases)

    answered: list[tuple[float, float, int]] = []
    thread, confirmed = faults.approve_all(cases, answers, answered)
    _wait(lambda: confirmed() >= 3, "the first approvals", timeout=60)
    accepted_before = confirmed()
    in_flight, written_before = open_grants(faults, cases), decisions_written(faults, cases)
    faults.cluster.stop()  # pg_ctl stop -m immediate
    down_at = time.monotonic()
    try:
        # A new request while the database is down: one Chinese line, 503, nothing started.
        status, answer = faults.call("POST", "/v1/cases/share", REQUESTER, SHARE,
                                     {"Idempotency-Key": f"kills-down-{uuid.uuid4().hex[:8]}"})
        assert status == 503 and isinstance(answer, dict), (status, answer)
        assert answer["detail"].startswith(DB_DOWN) and "\n" not in answer["detail"], answer
        command = subprocess.run([str(BIN / "pdw"), "share", "request", "--resource", RESOURCE, "--item",
                                  "名称", "--purpose", "核验", "--scope", "窗口", "--mode", "query", "--as", REQUESTER],
                                 env=faults.env, capture_output=True, text=True, timeout=60)
        lines = command.stderr.strip().splitlines()
        assert command.returncode == 1 and len(lines) == 1 and DB_DOWN in lines[0], command.stderr
        # A decision sent now is refused the same way (not taken: sent again later under its id).
        status, answer = faults.call("POST", f"/v1/cases/{cases[-1]}/decisions", CENTER,
                                     {"action": "approve", "decision_id": f"fault-{cases[-1]}"})
        assert status == 503 and answer["detail"].startswith(DB_DOWN), (status, answer)
        answers[status] += 1
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
    finally:
        faults.cluster.start()
    up_at = time.monotonic()
    thread.join(timeout=120)
    faults.settle(cases, answers)

    figures = rows(faults, cases)
    while_down = Counter(status for sent, _, status in answered if down_at <= sent <= up_at)
    # Sent before the stop, answered after the restart: accepted, then finished once it was back.
    across = Counter(status for sent, came, status in answered if sent < down_at and came > up_at)
    print(f"\n[PostgreSQL stopped] cases={len(cases)} down_seconds={up_at - down_at:.0f} "
          f"approvals_confirmed_before_stop={accepted_before} decision_rows_at_stop={written_before} "
          f"open_at_stop={in_flight} approvals_across_the_stop={dict(across)} approvals_sent_while_down={dict(while_down)} "
          f"new_request_while_down=503 completed={completed(faults, cases)} failed=0 {figures} "
          f"approval_answers={dict(answers)} seconds={time.monotonic() - began:.0f}")
    assert in_flight >= 1
