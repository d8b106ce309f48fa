"""Rectification orders, 责令改正 (Art. 46): the center proposes, the county government (本级人民政府)
or 县大数据发展管理局 (上级主管部门) orders the department to correct a failing, the department reports,
the center checks, the ordering authority accepts or orders again."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as BodyField
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.departments import Actor
from models.requests import Acting, Code, Id, Short, Text
from models.types import UTCDateTime, utcnow

# Art. 46 (一)–(八): the failings a department may be ordered to correct.
FAILINGS = {
    "一": "未按要求编制或更新公共数据目录",
    "二": "未向公共数据平台及时归集共享数据",
    "三": "提供的数据与本部门所掌握数据不一致、未及时更新或不符合规范、无法使用",
    "四": "将共享数据用于履行本单位职责需要以外的目的",
    "五": "未经公共数据主管部门批准对数据进行商业开发",
    "六": "未按规定记录受限开放类公共数据的开放和利用全过程",
    "七": "未按规定履行个人信息保护职责",
    "八": "违反本办法规定的其他行为",
}
# Art. 46: 本级人民政府 (the county government) or 上级主管部门 (县大数据发展管理局, Art. 4) orders; the center
# (县大数据管理中心) sees the failings first and only proposes.
AUTHORITY_KINDS = {"county_gov": "县人民政府", "bureau": "县大数据发展管理局"}
OUTCOMES = {"accepted": "整改验收通过", "declined": "不予责令改正", "withdrawn": "已撤回", "cancelled": "已撤销"}
# The center's finding on a department's report (local rule: the authority accepts on it).
FINDINGS = {"done": "已整改到位", "not_done": "未整改到位"}
MIN_DAYS, MAX_DAYS = 1, 60  # local rule: the working days an order may give to correct
EVIDENCE_CASES_MAX = 20


def failing_zh(code: str) -> str:
    return f"（{code}）{FAILINGS[code]}"


def split_failings(value: list[str] | str) -> list[str]:
    """"一,三" or ["一", "三"] (also 、 or ，) as a list, blanks dropped, in the order given."""
    parts = value if isinstance(value, list) else re.split(r"[,，、\s]+", value)
    return [p.strip().strip("()（）") for p in parts if p.strip()]


class RectificationCase(SQLModel, table=True):
    """The county's record of one rectification case (Art. 46), which the yearly report (Art. 41)
    counts per department: proposals, orders, declines, acceptances and rounds."""

    __tablename__ = "rectification_case"

    case_id: str = Field(primary_key=True, max_length=64)
    dept_code: str = Field(foreign_key="department.code", index=True, max_length=32)
    failings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=16)  # accepted | declined | withdrawn | cancelled
    proposed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    proposed_by: str = Field(default="", max_length=64)
    authority_code: str = Field(default="", max_length=32)  # the authority the center proposed to
    ordered_by: str | None = Field(default=None, max_length=32)  # the ordering authority's dept code
    ordered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rounds: int = 0  # orders given: 1 once ordered, one more for each reorder
    evidence: str = ""
    evidence_cases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    correct: str = ""  # what the department is to correct
    working_days: int = 0  # the period to correct of the last order (the proposal's until ordered)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- the API's body ---------------------------------------------------------------------------------


class RectificationRequest(Acting):
    """Art. 46: the center proposes that a department be ordered to correct a failing."""

    dept: Code = BodyField(description="被建议责令改正的部门代码（公共管理和服务机构）")
    failings: Annotated[list[Short], BodyField(max_length=8)] | Short = BodyField(
        description="第四十六条所列情形 一 至 八：列表，或以英文逗号、、分隔的文字")
    evidence: Text = BodyField(description="事实和证据")
    evidence_cases: Annotated[list[Id], BodyField(max_length=EVIDENCE_CASES_MAX)] = BodyField(
        default=[], description="作为证据的案件编号（须为记录中涉及该部门的案件）")
    correct: Text = BodyField(description="应当改正的事项")
    working_days: int = BodyField(description=f"建议的改正期限（工作日，{MIN_DAYS}–{MAX_DAYS}）")
    authority: Code | None = BodyField(default=None, description="责令改正机关的部门代码：县人民政府（默认）或县大数据发展管理局")


# ---- workflow payloads ------------------------------------------------------------------------------


class RectificationInput(BaseModel):
    """Start a rectification case: everything already checked by the service (Art. 46)."""

    case_id: str
    dept_code: str
    failings: list[str]
    evidence: str
    evidence_cases: list[str] = []
    correct: str
    working_days: int
    authority_code: str
    proposed_by: Actor


class RectificationOpened(BaseModel):
    dept_name: str
    center_code: str
    center_name: str
    authority_name: str
    authority_kind: str = "county_gov"  # county_gov | bureau: whose leaders a late correction reaches


class RectificationUpdate(BaseModel):
    """Fields of the case's row to set; None leaves a field as it is."""

    case_id: str
    status: str
    outcome: str | None = None
    ordered_by: str | None = None
    ordered_at: datetime | None = None
    rounds: int | None = None
    working_days: int | None = None
    closed_at: datetime | None = None


class RectificationState(CaseState):
    case_type: str = "rectification"
    dept_code: str
    dept_name: str = ""
    authority_code: str
    authority_name: str = ""
    failings: list[str] = []
    evidence: str = ""
    evidence_cases: list[str] = []
    correct: str = ""
    working_days: int = 0
    rounds: int = 0
    reports: list[str] = []  # what the department reported it did, each round
    finding: str | None = None  # the center's finding on the last report: done | not_done
    outcome: str | None = None


class RectificationResult(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
    rounds: int = 0
