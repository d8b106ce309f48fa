"""What every process shares: case numbers, decisions, missed deadlines, the decide payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.calendar import Deadline
from models.departments import Actor
from models.types import UTCDateTime, utcnow

# The escalation ladder's levels, as the PdwEscalation search attribute carries them.
LEVEL_NONE, LEVEL_WARNED, LEVEL_URGED, LEVEL_ESCALATED = 0, 1, 2, 3
LEVEL_ZH = {LEVEL_WARNED: "预警", LEVEL_URGED: "催办", LEVEL_ESCALATED: "督办"}
# What each decision is called, for staff; processes add theirs here.
ACTION_ZH = {
    "submit": "提交更新",
    "approve": "同意",
    "return": "退回修改",
    "approve_desensitised": "同意脱敏、脱密后提供",
    "refuse": "不同意",
    "dispute": "申请协调",
    "settle": "协调一致",
    "escalate": "协调不成，报请县政府决定",
    "opinion": "提出专家意见",
    "decide": "作出决定",
    "forward": "转交数源部门",
    "report": "报市大数据发展管理局审核",
    "extend": "同意延长校核期限",
    "correct": "更正数据",
    "confirm": "确认数据无误",
    "list": "列入开放目录",
    "decline": "答复不列入开放目录",
    "object": "提出复核申请",
    "uphold": "复核维持数源部门答复",
    "overturn": "复核认为应当开放",
    "withdraw": "撤回案件",
    "cancel": "撤销案件",
    # Art. 32, 28 ¶3, 27: the center's review may only suggest a listing; the source accepts it or
    # rejects it (then experts and the county); the center concurs in a listing (会同).
    "suggest": "复核后建议数源部门列入开放目录",
    "accept": "采纳中心的开放属性修改建议",
    "reject": "不采纳中心的开放属性修改建议",
    "concur": "会同确认列入开放目录",
    # Art. 20 ¶2: the center proposes, both departments agree or not; the last is a local rule.
    "propose": "提出协调意见",
    "agree": "同意协调意见",
    "disagree": "不同意协调意见",
    "ask_county": "请求报请县政府决定（本地规则）",
    # Local rule: the center moves a running case to the resource's new provider (提供单位).
    "transfer": "移交新的数源部门办理",
    # Art. 20: the source provides the data not yet collected that it agreed to share.
    "provide": "提供未归集的数据",
    # Art. 28 ¶4, 30 ¶2, 19: the source department answers a periodic review (workflows/review.py).
    "answer": "答复定期评估审查",
    "refreshed": "报告数据已按更新频度更新",
    "explain": "说明数据未按更新频度更新的原因",
    # Art. 22: the center's finding in a misuse case (workflows/misuse.py records "confirm" as confirm_misuse).
    "confirm_misuse": "认定越权使用共享数据，撤销其共享授权",
    "dismiss": "认定不属越权使用，不予处理",
    # Art. 46: the authority orders or declines, the department reports, the center checks, the
    # authority accepts or orders again (workflows/rectification.py; short names are aliases there).
    "order": "责令改正",
    "decline_order": "不予责令改正",
    "report_rectified": "报告整改情况",
    "check_rectified": "核查整改情况",
    "accept_rectified": "验收整改",
    "reorder": "再次责令改正",
}


class CaseCounter(SQLModel, table=True):
    """Hands out readable case numbers: catalog-2026-000001."""

    __tablename__ = "case_counter"

    process: str = Field(primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    last: int = 0


class Decision(SQLModel, table=True):
    """Who decided what in a case, when, on which reasons, basis and article."""

    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    seq: int
    step: str
    action: str
    person_id: str
    person_name: str
    dept_code: str
    role: str
    decided_at: datetime = Field(sa_type=UTCDateTime)
    reasons: str | None = None
    basis: str | None = None
    article: str


class DeadlineMiss(SQLModel, table=True):
    """A missed deadline, recorded against the department (Art. 41, 46) for the yearly evaluation."""

    __tablename__ = "deadline_miss"
    __table_args__ = (UniqueConstraint("case_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=64)
    step: str
    dept_code: str = Field(index=True, max_length=32)
    due_at: datetime = Field(sa_type=UTCDateTime)
    statutory: bool
    article: str
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DecisionInput(BaseModel):
    """One person's decision in a case: the payload of every workflow's ``decide`` update."""

    action: str
    actor: Actor
    reasons: str | None = None
    basis: str | None = None
    data: dict[str, Any] = {}


class DecisionOutcome(BaseModel):
    case_id: str
    action: str
    status: str
    message: str


class DecisionRecord(BaseModel):
    """A decision as the workflow keeps it in its state and hands it to the store."""

    case_id: str
    seq: int
    step: str
    action: str
    actor: Actor
    role: str
    decided_at: datetime
    reasons: str | None = None
    basis: str | None = None
    article: str


class TimelineEntry(BaseModel):
    at: datetime
    text: str


class CaseState(BaseModel):
    """What every case's ``state`` query returns; each process adds its own fields."""

    case_id: str
    case_type: str
    status: str
    status_zh: str
    awaiting: list[str] = []  # department codes whose action is awaited now
    article: str | None = None  # the article governing the current step
    escalation: int = 0
    parties: dict[str, str] = {}  # department code -> name
    facts: list[str] = []  # what the case is about, in Chinese, for pdw show
    deadlines: dict[str, Deadline] = {}  # step key -> its deadline
    decisions: list[DecisionRecord] = []
    timeline: list[TimelineEntry] = []
    calendar_changes: list[str] = []  # the calendar changes this case has counted its deadlines on
    stuck_zh: str | None = None  # why a step keeps failing (PdwStuck), while it does


class MissRecord(BaseModel):
    case_id: str
    step: str
    dept_code: str
    due_at: datetime
    statutory: bool
    article: str


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
