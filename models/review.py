"""Recurring reviews (定期评估审查): data outside the open scope (Art. 28 ¶4), restricted-open data
(Art. 30 ¶2) and the freshness of shared data against its declared 更新频度 (Art. 19, 46 (二)(三)).
A Schedule starts a round; the round opens one review case per source department and period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.types import UTCDateTime, utcnow

OPEN_SCOPE, RESTRICTED_OPEN, FRESHNESS = "open_scope", "restricted_open", "freshness"
REVIEW_KINDS = {
    OPEN_SCOPE: "开放范围外数据定期评估审查",
    RESTRICTED_OPEN: "受限开放数据定期评估",
    FRESHNESS: "共享数据更新时效检查",
}
REVIEW_ARTICLES = {OPEN_SCOPE: "第二十八条第四款", RESTRICTED_OPEN: "第三十条第二款", FRESHNESS: "第十九条"}
# The open attributes each open review looks at (models/catalog.py OPEN_ATTRIBUTES), and what an
# ``open`` conclusion may turn them into: Art. 28 ¶4 brings data into the open scope (either class);
# Art. 30 ¶2 turns restricted-open data into unconditional-open.
REVIEWED_ATTRIBUTES = {OPEN_SCOPE: ("forbidden", "unopened"), RESTRICTED_OPEN: ("restricted",)}
OPEN_TO = {OPEN_SCOPE: ("unconditional", "restricted"), RESTRICTED_OPEN: ("unconditional",)}
# Art. 19: the longest a 更新频度 allows between refreshes, in days; 不定期 (irregular) is never stale.
FRESHNESS_PERIOD_DAYS = {"realtime": 1, "daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366}
# The source department's answer, by kind: open reviews ``answer`` per entry (keep or open); the
# freshness check ``refreshed`` (once new refresh events arrived) or ``explain`` per entry.
ANSWER_STEPS = {OPEN_SCOPE: "review.open_scope_answer", RESTRICTED_OPEN: "review.restricted_open_answer",
                FRESHNESS: "review.freshness_answer"}
CONCLUSIONS = {"keep": "维持现有开放属性", "open": "纳入开放范围（启动目录更新）"}
OUTCOMES = {"kept": "维持现有开放属性", "opening": "已启动目录更新", "refreshed": "已更新数据",
            "explained": "已说明原因"}


class ReviewCase(SQLModel, table=True):
    """The county's record of one review case; one per kind, department and period (a repeated or
    retried round opens nothing twice)."""

    __tablename__ = "review_case"
    __table_args__ = (UniqueConstraint("kind", "dept_code", "period", name="uq_review_case_kind_dept_period"),)

    case_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    dept_code: str = Field(foreign_key="department.code", index=True, max_length=32)
    period: str = Field(max_length=16)  # "2026", "2026-H1", or the day for the freshness check
    resource_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=16)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def review_period(kind: str, day: date) -> str:
    """The period a round belongs to: the year (Art. 28 ¶4), the half year (Art. 30 ¶2), the day (Art. 19)."""
    if kind == OPEN_SCOPE:
        return f"{day.year}"
    if kind == RESTRICTED_OPEN:
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    return day.isoformat()


# ---- workflow payloads ----------------------------------------------------------------------------


class ReviewRoundInput(BaseModel):
    """A round: ``at`` the moment it looks (default the workflow's now); ``period`` only to name it
    differently (tests)."""

    kind: str = OPEN_SCOPE
    at: datetime | None = None
    period: str | None = None


class ReviewEntry(BaseModel):
    """One catalog entry under review, as it stood when the case opened."""

    resource_id: str
    name: str
    open_attribute: str
    update_frequency: str
    last_refreshed_at: datetime | None = None


class ReviewInput(BaseModel):
    case_id: str
    kind: str
    dept_code: str
    dept_name: str = ""
    period: str
    entries: list[ReviewEntry]
    # When the case opened (the workflow's time): a case a round did not record is recorded with it.
    opened_at: datetime | None = None


class ReviewPlan(BaseModel):
    """What a round found: its period, and the cases recorded for it but not yet started."""

    period: str
    cases: list[ReviewInput] = []


class ReviewRoundResult(BaseModel):
    kind: str
    period: str
    opened: list[str] = []  # case ids started by this run
    already: list[str] = []  # case ids an earlier run of the same period had started


class ReviewOpened(BaseModel):
    dept_name: str
    center_code: str
    center_name: str
    opened_at: datetime


class ReviewRecordUpdate(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
    closed_at: datetime | None = None


class RefreshCheck(BaseModel):
    """Art. 19: have refresh events newer than ``since`` arrived for each of ``resource_ids``?"""

    resource_ids: list[str]
    since: datetime


class ReviewState(CaseState):
    case_type: str = "review"
    kind: str
    kind_zh: str = ""
    dept_code: str
    period: str
    entries: list[ReviewEntry] = []
    opened_at: datetime | None = None
    conclusions: dict[str, dict[str, Any]] = {}  # resource id -> the department's conclusion
    catalog_updates: dict[str, str] = {}  # resource id -> the catalog-update case an ``open`` started
    outcome: str | None = None


class ReviewResult(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
