"""What operators alert on, read at each scrape of the API's /metrics (docs/operations.md, What to
watch): stuck and overdue cases from Temporal's visibility, undelivered notices and the records'
size from the database. Counts only: no case id, name or department in a label."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import text
from sqlmodel import col, func, select
from temporalio.service import RPCError

from activities.store import engine, session
from models.cases import LEVEL_URGED
from models.notices import Notice
from service.context import Services, db
from service.errors import ServiceError
from service.lists import RUNNING

log = structlog.get_logger("pdw.metrics")
# PdwStuck: a step refused for bad data or failing past its attempts (workflows/deadline.py);
# LEVEL_URGED is urging (催办), which comes at the deadline: the case is overdue (Art. 41, 46).
CASE_QUERIES = {"stuck": f"PdwStuck = true AND {RUNNING}", "overdue": f"PdwEscalation >= {LEVEL_URGED} AND {RUNNING}"}


def _records() -> dict[str, float]:
    with session() as s:
        failed = s.exec(select(func.count()).select_from(Notice).where(col(Notice.status) == "failed")).one()
        out = {"notices_failed": float(failed)}
        if engine().dialect.name == "postgresql":
            out["database_bytes"] = float(s.connection().execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return out


async def gauges(services: Services) -> dict[str, float]:
    """The current values; a part that cannot be read (Temporal or the database down) is left out,
    so a scrape still answers and the missing series is what alerts."""
    out: dict[str, float] = {}
    try:
        client = await services.temporal()
        for name, query in CASE_QUERIES.items():
            out[f"cases_{name}"] = float((await client.count_workflows(query, rpc_timeout=timedelta(seconds=5))).count)
    except (ServiceError, RPCError) as err:
        log.warning("metrics_cases_unavailable", error=str(err))
    try:
        out.update(await db(_records))
    except ServiceError as err:
        log.warning("metrics_records_unavailable", error=str(err))
    return out
