"""How long staff wait for ``pdw`` now that it is a client of the API (issue 9): ``pdw show``,
``pdw decide`` (a refused decision: the round trip to the workflow's validator and back) and
``pdw inbox``, each run N times as fresh processes, beside ``temporal workflow describe`` on the
same case, which is the floor: one process that asks the Temporal server directly.

Run against a running stack (``make dev``, or any API at PDW_API_URL with dev tokens for --as):

    .venv/bin/python bench/cli.py share-2026-000001 -n 20 --as dsj.zhouwei --dept dsj

Figures go in bench/README.md; nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(command: list[str], runs: int) -> tuple[list[float], int]:
    """Wall time of each run of ``command`` as a fresh process, and how many exited non-zero."""
    times, failed = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
        failed += done.returncode != 0
    return times, failed


def p90(times: list[float]) -> float:
    return statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case_id", help="an existing case, e.g. share-2026-000001")
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument("--as", dest="person", default="dsj.zhouwei", help="who reads and decides (a dev token)")
    parser.add_argument("--dept", default="dsj", help="whose inbox")
    parser.add_argument("--action", default="noop", help="the decision sent (refused unless it fits the case)")
    parser.add_argument("--pdw", default=str(BIN / "pdw"), help="how to run pdw (default: the venv's pdw)")
    args = parser.parse_args()

    api = os.environ.get("PDW_API_URL", "http://127.0.0.1:8000").rstrip("/")
    try:
        urllib.request.urlopen(f"{api}/openapi.json", timeout=5).close()
    except OSError as err:
        sys.exit(f"the API at {api} does not answer ({err}): start the stack (make dev) or set PDW_API_URL")
    pdw = shlex.split(args.pdw)
    address = os.environ.get("PDW_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    namespace = os.environ.get("PDW_NAMESPACE", "default")
    commands = {
        f"pdw show {args.case_id}": [*pdw, "show", args.case_id, "--as", args.person],
        f"pdw decide {args.case_id} {args.action}": [*pdw, "decide", args.case_id, args.action, "--as", args.person],
        f"pdw inbox --dept {args.dept}": [*pdw, "inbox", "--dept", args.dept, "--as", args.person],
        f"temporal workflow describe --workflow-id {args.case_id}": [
            str(BIN / "temporal"), "workflow", "describe", "--workflow-id", args.case_id,
            "--address", address, "--namespace", namespace],
    }
    width = max(len(name) for name in commands)
    print(f"{'command':<{width}}  {'median':>8}  {'p90':>8}  runs  non-zero exits")
    for name, command in commands.items():
        times, failed = timed(command, args.runs)
        print(f"{name:<{width}}  {statistics.median(times):>6.3f} s  {p90(times):>6.3f} s  {args.runs:>4}  {failed}")
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{date.today().isoformat()}; API {api}, Temporal {address}")


if __name__ == "__main__":
    main()
