"""What pdw costs per case beside a bare workflow of the same steps (issue 14).

An unconditional share approval (Art. 20: request → the center approves → grant), N cases at once,
started and decided as the API does (``client.start_workflow`` with the opening search attributes,
then ``execute_update("decide")`` with a registered center person; a decision sent before the case
awaits it is refused by the validator and sent again, as staff would), beside ``bench/bare.py``:
the same business steps as no-op activities on pdw's payload models, one update. Rounds alternate
pdw and the bare workflow on one server, so load drift hits both; the figures are medians.

It starts everything itself and takes it all down at the end (also on Ctrl-C): a Temporal dev
server (.venv/bin/temporal, in memory, headless, frontend port 7533), a fresh PostgreSQL database
(tests/pg.py: PDW_TEST_DATABASE_URL, default postgresql://127.0.0.1:5432/test), migrations and the
demo county, and the two workers, each in a process of its own as production runs them (pdw's is
``python worker.py``; the bare one on its own task queue); this process is the load, as the API
is. ``--one-process`` runs both workers in this process beside the load instead (the method of the
figures before 2026-11-28's third session). Besides the rates it reports the CPU milliseconds a case
costs the load, the worker, the Temporal server and the rest of the machine (PostgreSQL).

    .venv/bin/python bench/throughput.py --cases 30 --rounds 5 --json

The last line of stdout is JSON; figures go in bench/README.md. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

PORT, UI_PORT = 7533, 8533
PDW_QUEUE = "pdw-bench"
RESOURCE, ITEMS = "RES-SCJGJ-001", ["统一社会信用代码", "名称"]
REQUESTER, CENTER_PERSON = "gaj.zhangfang", "dsj.zhouwei"
BATCH_TIMEOUT = 300
RETRIES = {"pdw": 0, "bare": 0, "pdw0": 0}  # decisions refused as not yet awaited, sent again
NOT_YET = "现在不能审批"  # both validators' refusal while the case does not yet await the center


def server_command() -> list[str]:
    from devstack import _CLI_TYPE, find_binary
    from models import search

    cmd = [find_binary("temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(PORT),
           "--ui-port", str(UI_PORT), "--namespace", "default", "--log-level", "error"]
    for key in search.ALL:
        kind = _CLI_TYPE[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        cmd += ["--search-attribute", f"{key.name}={kind}"]
    return cmd


async def decide_when_ready(handle: Any, decision: Any) -> float:
    """Send the decision until the case takes it; the seconds of the accepted round trip."""
    from temporalio.client import WorkflowUpdateFailedError

    wait = 0.05
    while True:
        start = time.perf_counter()
        try:
            await handle.execute_update("decide", decision)
            return time.perf_counter() - start
        except WorkflowUpdateFailedError as err:
            if NOT_YET not in str(getattr(err.cause, "message", err.cause)):
                raise
            RETRIES[handle.id.split("-")[2]] += 1
            # Backing off: each refusal is a workflow task on the worker, load that would grow with
            # the very slowness it measures.
            await asyncio.sleep(wait)
            wait = min(wait * 2, 0.4)


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(worker_pids: list[int]) -> tuple[float, float, float, float]:
    """CPU seconds used so far by this process (the load: starts, decisions, results), the kind's
    workers (0 with --one-process: they are this process), the Temporal server and the whole
    machine (the rest: PostgreSQL, the other kind's idle workers, anything else running): where a
    case's cost lands."""
    tick = os.sysconf("SC_CLK_TCK")
    machine = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    worker = sum(process_cpu(pid) for pid in worker_pids if pid != os.getpid())
    times = os.times()
    # user, nice, system, irq, softirq: not idle, iowait, a VM's steal, nor guest (already in user).
    busy = machine[0] + machine[1] + machine[2] + machine[5] + machine[6]
    return times.user + times.system, worker, process_cpu(SERVER_PID[0]), busy / tick


SERVER_PID: list[int] = []
WORKERS: list[subprocess.Popen[bytes]] = []  # killed with the server when interrupted


@asynccontextmanager
async def running_workers(client: Any, one_process: bool, home: str, bare_unsandboxed: bool,
                          replicas: int) -> AsyncIterator[dict[str, list[int]]]:
    """pdw's workers and the bare ones; yields the process ids each kind's cases run in.

    By default each in processes of their own, as production runs them: pdw's ``python worker.py``
    with its settings (PDW_*), the bare one ``bench/bare.py``'s, ``replicas`` of each on the kind's
    task queue; this process is the load, as the API is. --one-process runs one of each in this
    process beside the load (the method of the figures before 2026-11-28's third session): there
    one GIL serves the load and both workers."""
    from temporalio.worker import Worker

    from bench import bare
    from worker import build_worker

    if one_process:
        with ThreadPoolExecutor(max_workers=16) as executor:
            async with build_worker(client, PDW_QUEUE, executor), Worker(
                    client, task_queue=bare.TASK_QUEUE, workflows=[bare.BareShareWorkflow], activities=bare.ACTIVITIES,
                    workflow_runner=bare.runner(bare_unsandboxed)):
                yield {"pdw": [os.getpid()], "pdw0": [os.getpid()], "bare": [os.getpid()]}
        return
    commands = {"pdw": [sys.executable, str(ROOT / "worker.py")],
                "bare": [sys.executable, "-c", "import asyncio, bench.bare as b; asyncio.run(b.run_worker())"]}
    env = {**os.environ, "PYTHONPATH": str(ROOT), bare.UNSANDBOXED: "1" if bare_unsandboxed else ""}
    if sys.pycache_prefix:
        env["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    names = [(kind, f"{kind}-worker-{i + 1}") for kind in commands for i in range(replicas)]
    logs = {name: open(Path(home) / f"{name}.log", "wb") for _, name in names}  # noqa: SIM115
    procs = {name: (kind, subprocess.Popen(commands[kind], cwd=ROOT, env=env, stdout=logs[name],
                                           stderr=subprocess.STDOUT)) for kind, name in names}
    WORKERS.extend(proc for _, proc in procs.values())
    try:
        yield {kind: [proc.pid for k, proc in procs.values() if k == kind] for kind in commands}
    finally:
        for _, proc in procs.values():
            proc.terminate()
        for name, (_, proc) in procs.items():
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            logs[name].close()
            if code not in (0, -signal.SIGTERM):
                print(f"{name} exited {code}:\n" + (Path(home) / f"{name}.log").read_text()[-3000:], file=sys.stderr)


async def one_batch(start: Callable[[int], Awaitable[Any]], decision: Any, n: int) -> tuple[float, list[float], list[Any]]:
    """N cases at once: the wall time until all are closed, each decision's round trip, the handles."""
    began = time.perf_counter()

    async def case(i: int) -> tuple[float, Any]:
        handle = await start(i)
        took = await decide_when_ready(handle, decision)
        result = await handle.result()
        status = result["status"] if isinstance(result, dict) else result.status
        assert status == "granted", result
        return took, handle

    try:  # a case that never closes is a fault to look at, not a figure
        done = await asyncio.wait_for(asyncio.gather(*(case(i) for i in range(n))), timeout=BATCH_TIMEOUT)
    except TimeoutError:
        raise SystemExit(f"a batch of {n} cases did not close within {BATCH_TIMEOUT} s") from None
    return time.perf_counter() - began, [t for t, _ in done], [h for _, h in done]


async def history_size(handle: Any, show: bool = False) -> tuple[int, int]:
    history = await handle.fetch_history()
    if show:  # --show-history: what a case's history is made of, to find what costs
        from collections import Counter

        from temporalio.api.enums.v1 import EventType

        kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)
        print(f"{handle.id}: {dict(kinds.most_common())}", file=sys.stderr)
        t0 = history.events[0].event_time.ToDatetime()
        for e in history.events:
            at = (e.event_time.ToDatetime() - t0).total_seconds()
            print(f"  {at:7.3f} {EventType.Name(e.event_type).removeprefix('EVENT_TYPE_')}", file=sys.stderr)
            if e.event_type in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,):
                print("  activity", e.activity_task_scheduled_event_attributes.activity_type.name, file=sys.stderr)
            if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
                print("  upsert", {k: v.data.decode()[:40] for k, v in fields.items()}, file=sys.stderr)
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                print("  marker", e.marker_recorded_event_attributes.marker_name, file=sys.stderr)
    return len(history.events), sum(e.ByteSize() for e in history.events)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from activities.store import resolve_actor
    from bench import bare
    from devstack import wait_for_server
    from models import search
    from models.cases import DecisionInput
    from models.share import ShareRequestInput
    from runtime import connect
    from settings import get_settings

    settings = get_settings()
    await wait_for_server(settings)
    client = await connect(settings)
    requester, center = resolve_actor(REQUESTER), resolve_actor(CENTER_PERSON)
    decision = DecisionInput(action="approve", actor=center, reasons="符合无条件共享条件")

    def request(case_id: str) -> ShareRequestInput:
        return ShareRequestInput(case_id=case_id, resource_id=RESOURCE, items=ITEMS, purpose="办理企业开办登记时核验身份",
                                 scope="本部门行政审批窗口", mode="query", months=12, requested_by=requester)

    def starter(kind: str, tag: str) -> Callable[[int], Awaitable[Any]]:
        async def start(i: int) -> Any:
            case_id = f"share-bench-{kind}-{tag}-{i:04d}"
            if kind in ("pdw", "pdw0"):  # as service/starts.start_share_request: opening search attributes, summary
                return await client.start_workflow(
                    "ShareApproval", request(case_id), id=case_id, task_queue=PDW_QUEUE,
                    search_attributes=search.opening("share", f"共享申请 {RESOURCE}", {"gaj", "scjgj"}, "scjgj"),
                    static_summary=f"共享申请 {RESOURCE} 市场主体登记信息（县公安局 → 县市场监督管理局）")
            return await client.start_workflow("BareShare", request(case_id), id=case_id, task_queue=bare.TASK_QUEUE)
        return start

    kinds: tuple[str, ...] = ("pdw", "bare", "pdw0") if args.unpatched else ("pdw", "bare")
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    decide: list[float] = []
    last: dict[str, Any] = {}
    cpu: dict[str, list[float]] = {kind: [0.0, 0.0, 0.0, 0.0] for kind in kinds}
    async with running_workers(client, args.one_process, os.environ["PDW_HOME"], args.bare_unsandboxed,
                               args.workers) as pids:
        for kind in kinds:  # warm-up, not counted: imports, connections, caches
            await one_batch(starter(kind, "warm"), decision, min(args.cases, 5))
        for r in range(args.rounds):
            order = kinds if r % 2 == 0 else kinds[::-1]
            order = tuple(k for k in order if args.only in (None, k))
            for kind in order:
                before = cpu_seconds(pids[kind])
                elapsed, took, handles = await one_batch(starter(kind, f"r{r}-{uuid.uuid4().hex[:4]}"), decision,
                                                         args.cases)
                cpu[kind] = [total + after - was for total, after, was in zip(cpu[kind], cpu_seconds(pids[kind]), before, strict=True)]
                rates[kind].append(args.cases / elapsed)
                last[kind] = handles[0]
                if kind == "pdw":
                    decide += took
                print(f"round {r + 1} {kind:>4}: {args.cases / elapsed:6.2f} cases/s ({elapsed:.2f} s)",
                      file=sys.stderr, flush=True)
    n = args.rounds * args.cases
    per_case = {kind: {"load": None if args.one_process else round(1000 * load / n, 1),
                       "worker": round(1000 * (load + worker if args.one_process else worker) / n, 1),
                       "server": round(1000 * server / n, 1),
                       "rest": round(1000 * (machine - load - worker - server) / n, 1)}
                for kind, (load, worker, server, machine) in cpu.items() if args.only in (None, kind)}
    print(f"CPU ms per case: {json.dumps(per_case)}", file=sys.stderr)
    extra = {"pdw_unpatched_cases_per_s": round(statistics.median(rates["pdw0"]), 2)} if args.unpatched else {}
    if args.only:  # profiling one side: its rate alone
        return {f"{args.only}_cases_per_s": round(statistics.median(rates[args.only]), 2)}
    events, size = await history_size(last["pdw"], args.show_history)
    bare_events, bare_size = await history_size(last["bare"], args.show_history)
    if args.unpatched:
        extra["pdw_unpatched_history_events"], extra["pdw_unpatched_history_bytes"] = await history_size(last["pdw0"])
    pdw_rate, bare_rate = statistics.median(rates["pdw"]), statistics.median(rates["bare"])
    q = statistics.quantiles(decide, n=20) if len(decide) > 1 else decide * 19
    return {
        "pdw_cases_per_s": round(pdw_rate, 2), "baseline_cases_per_s": round(bare_rate, 2),
        "ratio": round(pdw_rate / bare_rate, 3),
        "decide_p50_s": round(statistics.median(decide), 3), "decide_p95_s": round(q[18], 3),
        "history_events": events, "history_bytes": size,
        "baseline": {"history_events": bare_events, "history_bytes": bare_size},
        **extra, "cpu_ms_per_case": per_case, "refused_early": RETRIES,
        "workers": "one process, with the load" if args.one_process
        else f"{args.workers} process(es) of each kind, the load in another",
        "bare_runner": "unsandboxed, as pdw's" if args.bare_unsandboxed else "the SDK's sandbox (its default)",
        "rounds": {k: [round(v, 2) for v in vals] for k, vals in rates.items()},
        "cases": args.cases, "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
    }


def unpatch_pdw0() -> None:
    """--unpatched: cases named ``share-bench-pdw0-…`` run as cases started before issue 14's
    workflow changes did (regular activities, every upsert): the same code, the patch answered False."""
    from temporalio import workflow

    from workflows.versions import LOCAL_ACTIVITIES, RELEASES

    patched = workflow.patched

    def old_for_pdw0(patch_id: str) -> bool:
        if patch_id in (*RELEASES, LOCAL_ACTIVITIES) and workflow.info().workflow_id.startswith("share-bench-pdw0-"):
            return False
        return patched(patch_id)

    workflow.patched = old_for_pdw0  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=30, help="cases at once in each batch")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of pdw and the bare workflow")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON line (always the last line)")
    parser.add_argument("--unpatched", action="store_true",
                        help="a third kind, pdw0: pdw without issue 14's patch (what it saved, under the same load)")
    parser.add_argument("--only", choices=("pdw", "bare"), help="run one side only (to profile it)")
    parser.add_argument("--bare-unsandboxed", action="store_true",
                        help="run the bare workflow outside the SDK's sandbox too, as pdw's worker runs its cases")
    parser.add_argument("--one-process", action="store_true",
                        help="both workers in this process, beside the load (the method before 2026-11-28's third session)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of each kind, on its task queue (docs/operations.md runs at least two)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="leave PYTHONDONTWRITEBYTECODE as it is (else bytecode is cached in a temporary directory)")
    parser.add_argument("--show-history", action="store_true", help="print one case's history events (stderr)")
    parser.add_argument("--log-level", default="WARNING", help="the worker's log level (stderr)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers: at least 1")
    if args.one_process and args.workers != 1:
        parser.error("--one-process runs one worker of each kind in this process: leave out --workers")
    if args.unpatched and not args.one_process:
        parser.error("--unpatched changes the workflow code in this process: give --one-process too")

    home = tempfile.TemporaryDirectory(prefix="pdw-bench-")
    if not args.no_bytecode_cache:
        # Temporal's sandbox imports each workflow's modules afresh for every case: without cached
        # bytecode (PYTHONDONTWRITEBYTECODE, or a read-only install) it compiles them every time.
        sys.pycache_prefix, sys.dont_write_bytecode = str(Path(home.name) / "pycache"), False
    from tests.pg import DEFAULT_URL, fresh_database

    key = base64.b64encode(os.urandom(32)).decode()
    os.environ.update(
        PDW_HOME=home.name, PDW_TEMPORAL_ADDRESS=f"127.0.0.1:{PORT}", PDW_NAMESPACE="default",
        PDW_TASK_QUEUE=PDW_QUEUE, PDW_CODEC_KEYS=json.dumps({"bench": {"key": key, "cipher": "aes-256-gcm"}}),
        PDW_CODEC_KEY_ID="bench", PDW_LOG_LEVEL=args.log_level,
    )
    from devstack import answers

    if answers("127.0.0.1", PORT):
        sys.exit(f"port {PORT} is taken (another bench/throughput.py still running?): stop it first")
    server = subprocess.Popen(server_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    SERVER_PID.append(server.pid)

    def interrupted(*_: Any) -> None:
        """Ctrl-C or kill: down at once. A graceful stop would wait on the workers' shutdown, which
        waits on cases in flight."""
        print("interrupted: taking the workers, the server and the database down", file=sys.stderr, flush=True)
        for proc in WORKERS:
            proc.kill()
        server.kill()
        url = os.environ.get("PDW_DATABASE_URL", "")
        if "/pdw_test_" in url:  # the one fresh_database made for this run
            import psycopg

            name = url.rpartition("/")[2]
            with psycopg.connect(os.environ.get("PDW_TEST_DATABASE_URL", DEFAULT_URL), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        home.cleanup()
        os._exit(130)

    # Also when started in the background, where the shell had SIGINT ignored.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        with fresh_database() as url:
            os.environ["PDW_DATABASE_URL"] = url
            from settings import get_settings

            get_settings.cache_clear()
            from activities.migrate import upgrade
            from activities.seed import seed_demo_county
            from logs import configure_logging

            configure_logging(args.log_level)
            upgrade()
            seed_demo_county()
            if args.unpatched:
                unpatch_pdw0()
            try:
                figures = asyncio.run(bench(args))
            finally:
                from activities.store import engine

                engine().dispose()  # else the database cannot be dropped
        if not args.json:
            for name, value in figures.items():
                print(f"{name}: {value}")
        print(json.dumps(figures, ensure_ascii=False))
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)  # in memory: nothing to shut down gracefully
        except subprocess.TimeoutExpired:
            server.kill()
        home.cleanup()


if __name__ == "__main__":
    main()
