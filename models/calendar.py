"""Working-day calendar records: county overrides and official years loaded from a file."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

OVERRIDE = "override"  # a single day the county sets (pdw calendar override)
YEAR_FILE = "year_file"  # a day from a whole year's official schedule (pdw calendar load)


class CalendarDay(SQLModel, table=True):
    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    source: str = Field(primary_key=True, max_length=16)
    is_workday: bool
    note: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CalendarYear(SQLModel, table=True):
    """A year whose official schedule (holidays and 调休) has been loaded: its dates are final."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True)
    title: str
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Deadline(BaseModel):
    """A step's deadline as the calendar computed it, with the ladder's rungs."""

    step: str
    article: str
    statutory: bool
    working_days: int
    event_at: datetime
    due_date: date  # the last working day; the deadline ends at its 24:00 Asia/Shanghai
    due_at: datetime
    warn_at: datetime
    escalate_at: datetime
    provisional: bool
    extended_by: int = 0  # working days added to the original deadline (Art. 23: at most 15)
    attempt: int = 0  # the step awaited afresh, as each review round of a returned revision

    @property
    def key(self) -> str:
        """The step as notices and missed-deadline records know it: an extended deadline, or a step
        awaited afresh, is a new one."""
        key = self.step if not self.attempt else f"{self.step}#{self.attempt + 1}"
        return key if not self.extended_by else f"{key}+{self.extended_by}"


class DeadlineRequest(BaseModel):
    step: str
    event_at: datetime
    # What remains of a statutory period after the file came back to its holder (Art. 11): never
    # fewer than the local minimum, and where that gives more, the period is a local one.
    remaining_working_days: int | None = None
    # The period a decision set (Art. 46: the order's working days to correct), in place of the rule's.
    working_days: int | None = None


class RecomputeRequest(BaseModel):
    """A case's deadlines to count again after the days ``first``..``last`` changed."""

    deadlines: list[Deadline]
    first: date
    last: date


class CalendarChange(BaseModel):
    """A change of the working-day calendar, as every running case hears of it."""

    key: str  # the audit's key: one change, told once
    first: date
    last: date
    source_zh: str  # "县级调整：2027-01-08 改为休息日（台风）" / "载入 2027 年国务院安排"
    by: str  # who made it


class WorkingDaysRequest(BaseModel):
    start: datetime
    end: datetime


class ExtensionRequest(BaseModel):
    original: Deadline
    extra_working_days: int
