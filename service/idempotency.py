"""Idempotent starts: a caller's ``Idempotency-Key`` names one case, chosen before anything starts,
so a repeated start (a retry after a lost answer) returns that case instead of opening another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from activities.calendar import SHANGHAI
from activities.store import allocate_case_id, insert_ignore, session
from models.audit import HookRequest
from models.processes import Process
from service.context import Services, db
from service.errors import Kind, ServiceError
from service.starts import exists

Start = Callable[[str | None], Awaitable[dict[str, Any]]]


def claim(scope: str, key: str, process: Process, digest: str) -> str:
    """The case id this key names: allocated in the same transaction as the key's row (SQLite has
    one writer, so a second session here would wait on the first)."""
    fingerprint = f"{process.prefix}:{digest}"  # fits the 32-character column
    with session() as s:
        insert_ignore(s, HookRequest, {"key_id": scope, "idempotency_key": key, "process": fingerprint},
                      ["key_id", "idempotency_key"])
        row = s.get(HookRequest, (scope, key))
        assert row is not None
        if row.process != fingerprint:
            raise ServiceError(Kind.reused_key, "该 Idempotency-Key 已用于另一请求", "Idempotency-Key")
        if row.case_id is None:
            row.case_id = allocate_case_id(s, process.prefix, datetime.now(SHANGHAI).year)
            s.add(row)
        return row.case_id


def release(scope: str, key: str) -> None:
    with session() as s:
        row = s.get(HookRequest, (scope, key))
        if row is not None:
            s.delete(row)


async def idempotent_start(
    services: Services, scope: str, key: str | None, process: Process, digest: str, start: Start
) -> tuple[dict[str, Any], bool]:
    """(the answer, whether this call started the case)."""
    if not key:
        return await start(None), True
    case_id = await db(claim, scope, key, process, digest)
    if await exists(services, case_id):
        return {"case_id": case_id, "repeated": True}, False
    try:
        return await start(case_id), True
    except ServiceError as err:
        if err.kind != Kind.unavailable:  # refused before anything started: the key may be used again
            await db(release, scope, key)
        raise
