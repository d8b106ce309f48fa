"""A live stack for the tests that kill and restart real parts (tests/test_fault_kills.py,
tests/test_two_workers.py): a dev server, pdw-worker processes and the API, as subprocesses on a
PostgreSQL of the test's own, driven through the API the way staff's systems call it; and the row
counts that show each case finished once, nothing doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import venv_binary
from tests.pg import Cluster, free_port
from tests.test_e2e import BIN, _wait

CASES = 20
RESOURCE = "RES-SCJGJ-001"  # unconditional and collected: the center approves alone (Art. 20)
SHARE = {"resource_id": RESOURCE, "items": ["名称"], "purpose": "企业开办时核验主体资格",
         "scope": "县公安局治安大队", "mode": "query", "months": 6}
REQUESTER, CENTER = "gaj.zhangfang", "dsj.zhouwei"
SETTLE_SECONDS = 150  # a lost activity is retried after its 30 s start-to-close timeout


class FaultStack:
    """A dev server, workers and the API on a PostgreSQL of the test's own, each of which a test can
    kill and start again on the same ports and files."""

    def __init__(self, cluster: Cluster, home: Path) -> None:
        self.cluster, self.home = cluster, home
        self.port, self.ui_port, self.api_port = free_port(), free_port(), free_port()
        self.address, self.api = f"127.0.0.1:{self.port}", f"http://127.0.0.1:{self.api_port}"
        self.env = {**os.environ, "PDW_DATABASE_URL": cluster.url, "PDW_TEMPORAL_ADDRESS": self.address,
                    "PDW_TASK_QUEUE": f"pdw-kills-{uuid.uuid4().hex[:6]}", "PDW_HOME": str(home),
                    "PDW_HOOK_PORT": str(self.api_port), "PDW_API_URL": self.api, "PDW_ACTOR": CENTER}
        self.env.pop("PDW_TOKEN", None)
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.hook: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    # ---- the processes -----------------------------------------------------------------------------

    def _log(self, name: str) -> Any:
        return (self.home / f"{name}.log").open("ab")

    def start_server(self) -> None:
        with self._log("temporal") as log:
            self.server = subprocess.Popen(
                [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
                 "--ui-port", str(self.ui_port), "--db-filename", str(self.home / "temporal.db"),
                 "--log-level", "warn"], stdout=log, stderr=log)
        _wait(lambda: "SERVING" in subprocess.run(
            [venv_binary("temporal"), "operator", "cluster", "health", "--address", self.address],
            capture_output=True, text=True, timeout=10).stdout, "the dev server", timeout=60)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start a pdw-worker on the stack's task queue (another, where one runs): ``worker`` is the
        newest, ``workers`` every one started."""
        with self._log(f"worker-{len(self.workers) + 1}") as log:
            self.worker = subprocess.Popen([str(BIN / "pdw-worker")], env=self.env, stdout=log, stderr=log)
        self.workers.append(self.worker)
        return self.worker

    def start_api(self) -> None:
        with self._log("hook") as log:
            self.hook = subprocess.Popen([str(BIN / "pdw"), "hook"], env=self.env, stdout=log, stderr=log)
        _wait(lambda: urllib.request.urlopen(f"{self.api}/openapi.json", timeout=2).status == 200, "the API",
              timeout=90)  # slow to import on a loaded machine

    @staticmethod
    def kill9(process: subprocess.Popen[bytes] | None) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)

    def close(self) -> None:
        for process in (self.hook, *self.workers, self.server):
            self.kill9(process)

    # ---- the API, as staff's systems call it ---------------------------------------------------------

    def call(self, method: str, path: str, person: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """(HTTP status, JSON answer); status 0 where nothing answered."""
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        request = urllib.request.Request(
            self.api + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.tokens[person]}", "Content-Type": "application/json",
                     **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=70) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read() if err.fp else b""
            try:
                return err.code, json.loads(raw or b"null")
            except ValueError:
                return err.code, raw.decode(errors="replace")
        except OSError:
            return 0, None

    def start_cases(self, n: int) -> list[str]:
        """``n`` share requests, each under its own Idempotency-Key, so a start sent again while a
        part is down is the same start."""
        keys = [f"kills-{uuid.uuid4().hex[:12]}" for _ in range(n)]

        def start(key: str) -> str:
            def once() -> str | None:
                status, answer = self.call("POST", "/v1/cases/share", REQUESTER, SHARE, {"Idempotency-Key": key})
                return str(answer["case_id"]) if status in (200, 201) else None
            return str(_wait(once, "a share request started", timeout=90))

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(start, keys))

    def show(self, case_id: str) -> dict[str, Any] | None:
        status, answer = self.call("GET", f"/v1/cases/{case_id}", CENTER)
        return answer if status == 200 and isinstance(answer, dict) else None

    def approve(self, case_id: str) -> int:
        """The center approves; always under the same decision id for the same case."""
        status, _ = self.call("POST", f"/v1/cases/{case_id}/decisions", CENTER,
                              {"action": "approve", "decision_id": f"fault-{case_id}"})
        return status

    def wait_under_review(self, cases: list[str], timeout: float = SETTLE_SECONDS) -> None:
        def ready() -> bool:
            shown = [self.show(c) for c in cases]
            return all(s is not None and s["state"]["status"] == "under_review" for s in shown)
        _wait(ready, "every case under review", timeout=timeout)

    def settle(self, cases: list[str], answers: Counter[int], timeout: float = SETTLE_SECONDS) -> None:
        """Until every case has COMPLETED: a case still under review with no decision taken is sent
        its approval again (the same id), at most every 10 s."""
        sent: dict[str, float] = {}
        end = time.monotonic() + timeout
        left = list(cases)
        while left:
            assert time.monotonic() < end, f"cases not finished after {timeout} s: {left}"
            for case_id in list(left):
                shown = self.show(case_id)
                if shown is None:
                    continue
                if shown["workflow_status"] == "COMPLETED":
                    left.remove(case_id)
                elif (shown["workflow_status"] == "RUNNING" and shown["state"]["status"] == "under_review"
                      and not shown["state"]["decisions"] and time.monotonic() - sent.get(case_id, 0) > 10):
                    sent[case_id] = time.monotonic()
                    answers[self.approve(case_id)] += 1
            time.sleep(0.5)

    def approve_all(self, cases: list[str], answers: Counter[int],
                    answered: list[tuple[float, float, int]] | None = None,
                    ) -> tuple[threading.Thread, Callable[[], int]]:
        """Send every approval from 4 threads in the background; returns the thread and a count of
        approvals confirmed so far. ``answered``: when each approval was sent and answered
        (monotonic), and the answer's status."""
        confirmed = Counter[str]()

        def one(case_id: str) -> None:
            sent_at = time.monotonic()
            status = self.approve(case_id)
            answers[status] += 1
            if answered is not None:
                answered.append((sent_at, time.monotonic(), status))
            if status == 200:
                confirmed["n"] += 1

        def run() -> None:
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(one, cases))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, lambda: confirmed["n"]

    def failed_workflows(self) -> int:
        """Workflows of any type (cases, notice deliveries) that ended other than COMPLETED."""
        query = "ExecutionStatus='Failed' OR ExecutionStatus='Terminated' OR ExecutionStatus='TimedOut'"
        done = subprocess.run([venv_binary("temporal"), "workflow", "list", "--query", query, "--address",
                               self.address, "-o", "json"], capture_output=True, text=True, timeout=60, check=True)
        return len(json.loads(done.stdout or "[]") or [])


@contextmanager
def running(cluster: Cluster, home: Path, workers: int = 1) -> Iterator[FaultStack]:
    """The dev server, ``pdw setup --seed --dev-tokens``, ``workers`` pdw-worker processes and the API
    on ``cluster``; every process killed at the end."""
    stack = FaultStack(cluster, home)
    try:
        stack.start_server()
        setup = [str(BIN / "pdw"), "setup", "--seed", "--dev-tokens"]
        _wait(lambda: subprocess.run(setup, env=stack.env, capture_output=True, timeout=120).returncode == 0,
              "pdw setup", timeout=120)
        stack.tokens = json.loads((stack.home / "dev-tokens.json").read_text(encoding="utf-8"))
        for _ in range(workers):
            stack.start_worker()
        stack.start_api()
        yield stack
    finally:
        stack.close()


def rows(stack: FaultStack, cases: list[str]) -> dict[str, int]:
    """Assert one grant, one decision and one outbox row per key, the case's records granted; return
    the figures."""
    with psycopg.connect(stack.cluster.url) as conn:
        def one(sql: str, *args: Any) -> list[tuple[Any, ...]]:
            return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]

        doubled = {
            "grant": one('SELECT case_id FROM "grant" GROUP BY case_id HAVING count(*) > 1'),
            "decision": one("SELECT case_id, seq FROM decision GROUP BY case_id, seq HAVING count(*) > 1"),
            "notice": one("SELECT case_id, step, level, person_id, channel FROM notice "
                          "GROUP BY case_id, step, level, person_id, channel HAVING count(*) > 1"),
        }
        assert doubled == {"grant": [], "decision": [], "notice": []}
        grants = dict(one('SELECT case_id, count(*) FROM "grant" WHERE case_id = ANY(%s) GROUP BY case_id', cases))
        assert grants == dict.fromkeys(cases, 1)
        decisions = one("SELECT case_id, action, person_id FROM decision WHERE case_id = ANY(%s)", cases)
        assert sorted(decisions) == sorted((c, "approve", CENTER) for c in cases)  # resends did not double
        granted_notices = dict(one("SELECT case_id, count(*) FROM notice WHERE case_id = ANY(%s) "
                                   "AND step = 'share.granted' GROUP BY case_id", cases))
        assert set(granted_notices) == set(cases)
        statuses = dict(one("SELECT status, count(*) FROM share_request WHERE case_id = ANY(%s) GROUP BY status",
                            cases))
        assert statuses == {"granted": len(cases)}
        notices = one("SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM notice "
                      "WHERE case_id = ANY(%s)", cases)[0]
    assert stack.failed_workflows() == 0
    return {"grants": sum(grants.values()), "decisions": len(decisions), "notices": notices[0],
            "notices_sent": notices[1], "doubled_rows": 0}


def completed(stack: FaultStack, cases: list[str]) -> int:
    shown = [stack.show(c) for c in cases]
    assert all(s is not None and s["workflow_status"] == "COMPLETED" for s in shown)
    return len(shown)


def decisions_written(stack: FaultStack, cases: list[str]) -> int:
    with psycopg.connect(stack.cluster.url) as conn:
        written = conn.execute("SELECT count(*) FROM decision WHERE case_id = ANY(%s)", (cases,)).fetchone()
    return written[0] if written else 0


def open_grants(stack: FaultStack, cases: list[str]) -> int:
    """How many of ``cases`` have no grant yet (in flight at a kill)."""
    with psycopg.connect(stack.cluster.url) as conn:
        written = conn.execute('SELECT count(*) FROM "grant" WHERE case_id = ANY(%s)', (cases,)).fetchone()
    return len(cases) - (written[0] if written else 0)
