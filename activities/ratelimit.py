"""Rate limits of the public routes, kept in the database so that every API replica counts in the
same row: one atomic upsert per request (INSERT … ON CONFLICT DO UPDATE count = count + 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from activities.store import session
from models.receipts import RateCount


def window_of(now: datetime, seconds: int) -> datetime:
    """The start of the fixed window ``now`` falls in."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def hit(bucket: str, window_start: datetime) -> int:
    """Count one request of ``bucket`` in the window; returns the window's count, this one included."""
    table = RateCount.__table__  # type: ignore[attr-defined]
    with session() as s:
        insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(table).values(bucket=bucket[:128], window_start=window_start, count=1)
        upsert = stmt.on_conflict_do_update(index_elements=["bucket", "window_start"],
                                            set_={"count": table.c.count + 1}).returning(table.c.count)
        return int(s.connection().execute(upsert).scalar_one())


def forget_windows(older_than: timedelta = timedelta(days=1)) -> int:
    """Drop the counts of windows long past (the daily purge calls it)."""
    cutoff = datetime.now(UTC) - older_than
    with session() as s:
        result = s.connection().execute(delete(RateCount).where(RateCount.window_start < cutoff))  # type: ignore[arg-type]
        return int(result.rowcount or 0)
