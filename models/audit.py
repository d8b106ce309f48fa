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
