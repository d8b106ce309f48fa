"""Error reports on shared data and their verification (Art. 23)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.departments import Actor
from models.types import UTCDateTime, utcnow

MAX_EXTENSION_WORKING_DAYS = 15  # Art. 23 ¶1
OUTCOMES = {"corrected": "已更正", "confirmed": "经校核数据无误"}
PROCEED_NOTICE = (
    "校核期间，办理业务涉及的自然人、法人或其他组织已提供合法有效证明材料的，受理单位应直接办理，"
    "不得拒绝、推诿或要求办事人办理数据更正手续（第二十三条第二款）"
)


class CorrectionReport(SQLModel, table=True):
    __tablename__ = "correction_report"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    reporter_code: str = Field(index=True, max_length=32)
    source_code: str = Field(index=True, max_length=32)
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    found: str
    expected: str
    evidence: str
    proof_provided: bool = False
    status: str = Field(max_length=32)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # by the source: the clock starts
    extension_days: int = 0
    outcome: str | None = Field(default=None, max_length=16)
    outcome_text: str | None = None
    corrected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CorrectionInput(BaseModel):
    case_id: str
    resource_id: str
    items: list[str]
    found: str  # what the reporter found
    expected: str  # what it expects the data to be
    evidence: str
    proof_provided: bool = False  # Art. 23 ¶2: the citizen or organisation gave valid proof
    reported_by: Actor


class CorrectionOpened(BaseModel):
    source_code: str
    source_name: str
    center_code: str
    center_name: str
    resource_name: str


class CorrectionUpdate(BaseModel):
    case_id: str
    status: str
    received_at: datetime | None = None
    extension_days: int | None = None
    outcome: str | None = None
    outcome_text: str | None = None
    corrected_at: datetime | None = None
    closed_at: datetime | None = None


class CorrectionState(CaseState):
    case_type: str = "correction"
    resource_id: str
    reporter_code: str
    source_code: str = ""
    items: list[str]
    found: str
    expected: str
    evidence: str
    proof_provided: bool = False
    must_proceed: str | None = None  # Art. 23 ¶2, for the staff to cite
    received_at: datetime | None = None
    extension_days: int = 0
    outcome: str | None = None
    outcome_text: str | None = None
    corrected_at: datetime | None = None


class CorrectionResult(BaseModel):
    case_id: str
    outcome: str
