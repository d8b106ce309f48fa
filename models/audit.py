"""Audit events: what happened in a case, written once each (keyed by case and event key).

The rows form a hash chain in id order across the whole table: each carries the hash of the row
before it (``prev_hash``) and its own (``row_hash``, over its fields and ``prev_hash``), so an edited,
deleted or inserted row breaks the chain from there on (``pdw audit verify``)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.cases import json_column
from models.types import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    key: str = Field(max_length=128)
    event: str = Field(max_length=64)
    person_id: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)
    detail: dict[str, Any] = json_column()
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)


GENESIS = "0" * 64  # the prev_hash of the first row
CHAINED = ("case_id", "key", "event", "person_id", "at", "detail", "recorded_at")


def _instant(value: Any) -> str:
    # Microseconds and UTC: what PostgreSQL and SQLite both give back for what was written.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """sha256 of the canonical JSON (sorted keys, no blanks) of a row's CHAINED fields and prev_hash.
    The id is left out: the chain's order (by id) and prev_hash already fix where a row stands."""
    body = {name: fields.get(name) for name in CHAINED}
    body.update(at=_instant(body["at"]), recorded_at=_instant(body["recorded_at"]), prev_hash=prev_hash)
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditRecord(BaseModel):
    case_id: str
    key: str
    event: str
    person_id: str | None = None
    at: datetime
    detail: dict[str, Any] = {}


class HookRequest(SQLModel, table=True):
    """A start through the HTTP hook, by its caller's Idempotency-Key: a repeat returns the same case."""

    __tablename__ = "hook_request"

    key_id: str = Field(primary_key=True, max_length=64)
    idempotency_key: str = Field(primary_key=True, max_length=128)
    process: str = Field(max_length=32)
    case_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
