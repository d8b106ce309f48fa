"""Audit events: what happened in a case, written once each (keyed by case and event key)."""

from __future__ import annotations

from datetime import datetime
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
