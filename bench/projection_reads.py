"""The case projection's reads at N open cases, without Temporal (issue 14): the inbox, the overdue
list, a case's state for ``pdw show``, ``pdw stuck``'s two lists, the digest's lists; and the
tables' bytes per case. The rows are written straight into a fresh database (every case awaiting
the center, a quarter of them urged), so only the queries and their Python are timed; end to end
figures (workflows writing the rows, the API in between) are bench/open_cases.py's.

    .venv/bin/python bench/projection_reads.py --cases 10000 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATE = {"case_id": "x", "case_type": "share", "status": "under_review", "status_zh": "审核中",
         "parties": {"dsj": "县大数据管理中心", "gaj": "县公安局"}, "facts": ["数据资源：RES-GAJ-002"] * 3,
         "timeline": [{"at": "2026-11-01T00:00:00+00:00", "text": "县教育局提出共享申请，用途：核验身份"}] * 4}

SEED = """
INSERT INTO case_view (case_id, case_type, status, status_zh, departments, awaiting, escalation, due_at, provisional,
  stuck, details, state, opened_at, last_event_at, closed_at, version)
SELECT 'share-2026-' || lpad(i::text, 6, '0'), 'share', 'under_review', '审核中',
  json_build_array('dsj', (ARRAY['gaj','scjgj','zjj','jyj','zrzyj'])[i %% 5 + 1]), '["dsj"]'::json,
  CASE WHEN (i * 7919) %% 960 < 240 THEN 2 ELSE 0 END,
  now() + (((i * 7919) %% 960 - 240) || ' hours')::interval, false, i %% 997 = 0, '等待', %s::json,
  now() - interval '20 days', now() - ((i %% 15) || ' days')::interval, NULL, 1
FROM generate_series(0, %s - 1) i
"""
REST = """
INSERT INTO case_step SELECT case_id, 'share.center_review', 'dsj', '中心审核', '第二十条', due_at, escalation, false
FROM case_view;
INSERT INTO case_party SELECT case_id, json_array_elements_text(departments) FROM case_view;
ANALYZE;
"""


def p95(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.quantiles(times, n=20)[-1] if runs > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from tests.pg import fresh_database

    with fresh_database() as url:
        os.environ["PDW_DATABASE_URL"] = url
        from activities.migrate import upgrade
        from activities.projection import digest_lists
        from activities.seed import seed_demo_county
        from activities.store import engine
        from service.cases import projected_state
        from service.lists import _idle, _inbox, _overdue, _stuck_marked

        upgrade()
        seed_demo_county()
        with engine().begin() as conn:
            conn.exec_driver_sql(SEED, (json.dumps(STATE), args.cases))
            for statement in REST.split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement.replace("%%", "%"))
        n = args.cases
        figures = {
            "cases": n,
            "inbox_first_page_p95_s": p95(lambda: _inbox("dsj", 200, 0), 30),
            "inbox_last_page_p95_s": p95(lambda: _inbox("dsj", 200, max(n - 200, 0)), 10),
            "overdue_p95_s": p95(lambda: _overdue(None, 200, 0), 30),
            "overdue_of_a_department_p95_s": p95(lambda: _overdue("gaj", 200, 0), 30),
            "show_state_p95_s": p95(lambda: projected_state("share-2026-000042"), 50),
            "stuck_marked_s": p95(lambda: _stuck_marked(None), 3),
            "idle_first_page_s": p95(lambda: _idle(None, 10, set(), 200, 0), 3),
            "digest_lists_s": p95(lambda: digest_lists(2), 3),
        }
        with engine().connect() as conn:
            for table in ("case_view", "case_step", "case_party"):
                size = conn.exec_driver_sql(f"SELECT pg_total_relation_size('{table}')").scalar() or 0
                figures[f"{table}_bytes_per_case"] = size // n
        engine().dispose()
    if args.json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value:.4f}" if isinstance(value, float) else f"{key:32} {value}")


if __name__ == "__main__":
    main()
