"""How long `pdw --help` takes, the command staff type most: median of N fresh processes.

Run: .venv/bin/python bench/startup.py [N]   (target: under 0.3 s; figures in bench/README.md)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

PDW = Path(sys.executable).parent / "pdw"


def main(runs: int = 20) -> None:
    for args in (["--help"], ["decide", "--help"], ["share", "request", "--help"]):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([str(PDW), *args], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"pdw {' '.join(args)}: median {statistics.median(times):.3f} s, "
              f"max {max(times):.3f} s over {runs} runs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
