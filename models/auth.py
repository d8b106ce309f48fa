"""Credentials: people's personal tokens (stored hashed) and the signatures systems have used
(replay protection shared by every API replica)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class ApiToken(SQLModel, table=True):
    """A personal token issued by the center; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=64)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=200)
    issued_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HookSignature(SQLModel, table=True):
    """A signature a calling system has used: the same signed request twice is a replay."""

    __tablename__ = "hook_signature"

    key_id: str = Field(primary_key=True, max_length=64)
    signature: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
