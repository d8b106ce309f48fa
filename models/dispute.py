"""Disputes between departments, coordinated by the center and decided by the county government
(Art. 20 ¶2), and disputed open attributes (Art. 28 ¶3)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.cases import CaseState, DecisionRecord
from models.departments import Actor
from models.types import UTCDateTime, utcnow

SHARE, OPEN_ATTRIBUTE = "share", "open_attribute"
SHARE_OUTCOMES = {"share": "予以共享", "refuse": "不予共享"}


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"

    case_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    parent_case_id: str | None = Field(default=None, index=True, max_length=64)
    resource_id: str = Field(max_length=64)
    raised_by: str
    parties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    claim: str
    status: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)  # center | county_gov
    reasons: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DisputeInput(BaseModel):
    case_id: str
    kind: str  # share | open_attribute
    resource_id: str
    raised_by: Actor
    parties: list[str]  # the two departments that disagree (a share dispute: the requester, then the other side)
    claim: str
    parent_case_id: str | None = None
    proposed_open_attribute: str | None = None  # Art. 28 ¶3: what the center proposes
    proposed_forbidden_ground: str | None = None  # Art. 29: its ground, when it proposes forbidden
    # Local rule: the refusal disputed is the center's own, so the center cannot coordinate it and
    # the dispute goes straight to the county government (Art. 20 ¶2).
    center_refused: bool = False


class DisputeOpened(BaseModel):
    parties: dict[str, str]
    center_code: str
    county_code: str
    expert_code: str
    current_open_attribute: str
    current_forbidden_ground: str | None = None  # Art. 29
    has_secrecy_record: bool = False  # Art. 39: the entry carries its source's 保密审查 record


class DisputeClosing(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
    decided_by: str | None = None
    reasons: str | None = None
    closed_at: datetime | None = None


class DisputeState(CaseState):
    case_type: str = "dispute"
    kind: str
    resource_id: str
    claim: str
    parent_case_id: str | None = None
    proposed_open_attribute: str | None = None
    proposed_forbidden_ground: str | None = None  # Art. 29
    expert_opinion: str | None = None
    outcome: str | None = None
    forbidden_ground: str | None = None  # Art. 29: the ground the county decided data forbidden on
    decided_by: str | None = None
    center_refused: bool = False  # local rule: straight to the county (Art. 20 ¶2)
    proposed_outcome: str | None = None  # the center's coordination proposal (share | refuse)
    answers: dict[str, str] = {}  # department code -> agree | disagree, to the proposal
    county_asked_by: str | None = None  # local rule: the department that asked for the county


class DisputeResult(BaseModel):
    case_id: str
    outcome: str  # share | refuse, or the decided open attribute
    forbidden_ground: str | None = None  # Art. 29: named whenever the outcome is forbidden
    decided_by: str
    reasons: str | None = None
    basis: str | None = None
    decision: DecisionRecord | None = None  # the center's agreed proposal or the county's decision, as recorded
    agreements: list[DecisionRecord] = []  # Art. 20 ¶2: both departments' agreement to the proposal
