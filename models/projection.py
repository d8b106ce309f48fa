"""The case projection (issue 14): one row per case and one per step awaited now, written by each
case's workflow (activities/projection.py) and read by the inbox, the overdue list, ``pdw stuck``,
the daily digest and ``pdw show``. Temporal visibility cannot sort by custom attributes, so "soonest
due first" over it means reading every case; these tables are indexed and paged. A closed case's
row outlives Temporal's retention: the Art. 41 yearly evaluation reads a whole year."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class StepSnapshot(BaseModel):
    """A step awaited now: who owes it, under which article, by when, at which rung."""

    step: str
    dept_code: str
    step_zh: str
    article: str
    due_at: datetime
    level: int = 0
    provisional: bool = False


class CaseSnapshot(BaseModel):
    """Where a case stands, as its workflow sees it; ``version`` grows with every snapshot, so a
    retried or late write never rolls the row back."""

    case_id: str
    case_type: str
    status: str
    status_zh: str
    departments: list[str] = []
    awaiting: list[str] = []  # department codes, soonest due first
    escalation: int = 0
    due_at: datetime | None = None
    provisional: bool = False
    stuck: bool = False
    details: str = ""
    state: dict[str, Any] = {}
    opened_at: datetime
    last_event_at: datetime | None = None
    closed_at: datetime | None = None
    version: int
    steps: list[StepSnapshot] = []
    parties_written: bool = False  # the departments are stored already (the last write had the same)


class CaseView(SQLModel, table=True):
    __tablename__ = "case_view"
    __table_args__ = (
        Index("ix_case_view_stuck", "stuck", "closed_at"),
        # Open cases by their latest event: pdw stuck's "no progress for N days".
        Index("ix_case_view_open_last_event", "closed_at", "last_event_at"),
    )

    case_id: str = Field(primary_key=True, max_length=64)
    case_type: str = Field(max_length=32)
    status: str = Field(max_length=32)
    status_zh: str
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    awaiting: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    escalation: int = 0
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provisional: bool = False
    stuck: bool = False
    details: str = ""
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = Field(sa_type=UTCDateTime)
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 0


class CaseStep(SQLModel, table=True):
    """One row per step awaited now; none once the case is closed."""

    __tablename__ = "case_step"
    __table_args__ = (
        Index("ix_case_step_inbox", "dept_code", "due_at"),
        # Overdue steps are the soonest due: read in due order, the warned ones come first.
        Index("ix_case_step_overdue", "due_at", "level"),
    )

    case_id: str = Field(primary_key=True, max_length=64, foreign_key="case_view.case_id")
    step: str = Field(primary_key=True, max_length=128)
    dept_code: str = Field(max_length=32)
    step_zh: str
    article: str
    due_at: datetime = Field(sa_type=UTCDateTime)
    level: int = 0
    provisional: bool = False


class CaseParty(SQLModel, table=True):
    """The departments party to a case: a department sees the cases it is party to (a join table
    rather than a JSON containment index, so that SQLite (``pdw dev``) answers the same query)."""

    __tablename__ = "case_party"
    __table_args__ = (Index("ix_case_party_dept", "dept_code", "case_id"),)

    case_id: str = Field(primary_key=True, max_length=64, foreign_key="case_view.case_id")
    dept_code: str = Field(primary_key=True, max_length=32)
