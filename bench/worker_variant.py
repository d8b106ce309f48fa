"""pdw's worker (worker.py) with the SDK's cache and concurrency settings taken from the environment,
for bench/open_cases.py's ``--worker variant`` only: what the worker's memory does with another
``max_cached_workflows`` (BENCH_MAX_CACHED_WORKFLOWS, the SDK's default 1000) or
``max_concurrent_workflow_tasks`` (BENCH_MAX_CONCURRENT_WORKFLOW_TASKS), or with every module passed
through the sandbox (BENCH_PASSTHROUGH_ALL=1: imported once, not again for each workflow run),
without changing worker.py. BENCH_TRACEMALLOC=path: every 60 s, the top allocations to that file.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import worker  # noqa: E402


def _options() -> dict[str, Any]:
    names = {"BENCH_MAX_CACHED_WORKFLOWS": "max_cached_workflows",
             "BENCH_MAX_CONCURRENT_WORKFLOW_TASKS": "max_concurrent_workflow_tasks"}
    options: dict[str, Any] = {option: int(os.environ[name]) for name, option in names.items() if name in os.environ}
    if os.environ.get("BENCH_PASSTHROUGH_ALL"):
        # Every module imported once for all runs, not again in each workflow's sandbox.
        from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

        options["workflow_runner"] = SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
    return options


def _snapshots(path: Path) -> None:
    tracemalloc.start(12)
    while True:
        time.sleep(60)
        top = tracemalloc.take_snapshot().statistics("traceback")[:15]
        with path.open("a") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB\n")
            for stat in top:
                out.write(f"{stat.size / 2**20:8.1f} MB {stat.count:8d} blocks\n")
                out.write("".join(f"      {line}\n" for line in stat.traceback.format()[-12:]))


if __name__ == "__main__":
    # build_worker calls worker.Worker: the same call, with these options in place of its own.
    real, options = worker.Worker, _options()

    def variant(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, **options})

    worker.Worker = variant  # type: ignore[misc,assignment]
    if os.environ.get("BENCH_TRACEMALLOC"):
        threading.Thread(target=_snapshots, args=(Path(os.environ["BENCH_TRACEMALLOC"]),), daemon=True).start()
    worker.main()
