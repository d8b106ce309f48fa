"""The notices outbox: what went to whom, when, through which channel, with what result."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.calendar import Deadline, DeadlineRequest
from models.types import UTCDateTime, utcnow


class Notice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "step", "level", "person_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    step: str
    level: int
    dept_code: str = Field(max_length=32)
    role: str
    person_id: str = Field(max_length=64)
    person_name: str
    channel: str = Field(max_length=16)
    subject: str
    body: str
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    error: str | None = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    address: str | None = None  # the email address or mobile the channel used
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    case_time: datetime = Field(sa_type=UTCDateTime)  # the workflow's time when the rung was reached


class StepOpening(BaseModel):
    """A step begins (CaseWorkflow.start_step): its deadline to compute from ``request`` and the 待办
    to write to the department that owes it, in one activity (activities/notices.open_step)."""

    request: DeadlineRequest
    attempt: int = 0  # the step awaited afresh (Deadline.attempt)
    case_id: str
    case_type: str
    step_zh: str
    dept_code: str
    at: datetime
    escalate_to: str = "center"


class LadderNotice(BaseModel):
    """One rung of the deadline ladder reached in one case's step."""

    case_id: str
    case_type: str
    step_zh: str
    level: int
    dept_code: str
    deadline: Deadline
    at: datetime  # the workflow's time when the rung was reached
    # Whose leaders escalation (督办) also reaches, by department kind: the center's, or for a
    # dispute the county government's (Art. 20 ¶2).
    escalate_to: str = "center"


DECISION_KINDS = (
    "approved", "refused", "returned", "dispute_escalated", "county_decision", "city_decision",
    "correction_outcome", "grant_revoked", "outcome",
    "grant_expiring",  # Art. 22: a grant expires soon; how to renew it
)


class CaseNotice(BaseModel):
    """A decision a department must hear of (approved, refused with reasons and basis, revoked…)."""

    case_id: str
    case_type: str
    key: str  # what the notice is about, unique within the case: "share.granted"
    kind: str = "outcome"  # which template of templates/decision/
    dept_code: str
    headline: str
    detail: str = ""
    article: str
    at: datetime
