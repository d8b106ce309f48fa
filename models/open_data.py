"""Opening data to the public: restricted-open applications (Art. 28–31) and public requests for
data not yet in the open catalog, with the review of objections (Art. 32).

An applicant's name, identity document and contact are personal data: they are kept in these tables
only, never in a workflow's input, a search attribute or a log line; cases carry a masked label."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.catalog import SECRECY_CONCLUSIONS as SECRECY_CONCLUSIONS  # Art. 39
from models.catalog import STATE_SECRET as STATE_SECRET
from models.types import UTCDateTime, utcnow

# Art. 31: how opened data is obtained; "other" (（四）) is described in the application's
# access_way_note, which only that way takes.
ACCESS_WAYS = {"download": "下载数据", "api": "接口调用数据", "algorithm": "通过公共数据平台以算法模型获取结果数据",
               "other": "法律、法规、规章和国家规定的其他方式"}
OTHER_WAY = "other"
# Art. 28 ¶2: how restricted-open data is accessed once approved.
ACCESS_MODES = {"authorisation": "公民、法人授权", "sandbox": "沙箱"}
ID_TYPES = {"resident_id": "居民身份证", "passport": "护照", "uscc": "统一社会信用代码", "other": "其他证件"}


def masked(name: str, id_type: str, id_number: str) -> str:
    """A label for an applicant that names no one: 张* (居民身份证 ****1234)."""
    shown = name.strip()[:1] + "*" * max(len(name.strip()) - 1, 1)
    return f"{shown}（{ID_TYPES.get(id_type, id_type)} ****{id_number.strip()[-4:]}）"


def access_way_zh(way: str, note: str | None = None) -> str:
    """Art. 31: the way as the case and its outcome name it; the other way (（四）) with its description."""
    label = ACCESS_WAYS.get(way, way)
    return f"{label}：{note}" if way == OTHER_WAY and note else label


class OpenApplication(SQLModel, table=True):
    """A citizen's or organisation's application for restricted-open data (Art. 28 ¶2)."""

    __tablename__ = "open_application"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    # Erased after the retention period (个人信息保护法; activities/applicants.py): the label stays.
    applicant_name: str | None = None
    id_type: str = Field(max_length=16)
    id_number: str | None = Field(default=None, max_length=64)
    contact: str | None = None
    applicant_label: str
    scope: str
    purpose: str
    access_way: str = Field(max_length=16)
    access_way_note: str | None = None  # Art. 31 (四): what the other way is, only for "other"
    open_attribute: str | None = Field(default=None, max_length=16)
    status: str = Field(default="opening", max_length=32)
    outcome: str | None = Field(default=None, max_length=16)
    reasons: str | None = None
    access_mode: str | None = Field(default=None, max_length=16)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # personal data erased


class OpenRequest(SQLModel, table=True):
    """A public request for data not in the open catalog (Art. 32), counted per resource: an
    ``open request``, or an application refused because the data is unopened (application_case_id).

    Art. 32 counts people, not calls: a person is one identity number (checked against GB 11643 /
    GB 32100; a passport or other number by its form only; contacts are not verified), kept here only
    as person_key, an HMAC of the normalised number alone (not its id type: one number is one person
    whatever type it is sent as) under a server-side secret (PDW_PERSON_KEY), so the count survives
    the erasure of names, numbers and contacts after their retention period."""

    __tablename__ = "open_request"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    requester_name: str | None = None  # erased after the retention period, as contact
    contact: str | None = None
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    review_case_id: str | None = Field(default=None, max_length=64)  # the review it started or joined
    person_key: str = Field(index=True, max_length=80)
    # The refused application this request stands for (Art. 32); unique, so a retry counts nothing twice.
    application_case_id: str | None = Field(default=None, unique=True, index=True, max_length=64)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # personal data erased


class ListingReview(SQLModel, table=True):
    """The source's review of data the public often asks for (Art. 32), its 保密审查 (Art. 39) and
    the center's concurrence (Art. 27) when it lists, the center's proposal after an objection and
    the source's answer to it (Art. 28 ¶3)."""

    __tablename__ = "listing_review"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    request_count: int
    status: str = Field(max_length=32)
    answer: str | None = Field(default=None, max_length=16)  # the source's first answer: listed | declined
    answer_reasons: str | None = None
    proposed_open_attribute: str | None = Field(default=None, max_length=16)  # the center's proposal
    proposal_answer: str | None = Field(default=None, max_length=16)  # accepted | rejected
    dispute_case_id: str | None = Field(default=None, max_length=64)  # Art. 28 ¶3, when rejected
    secrecy_reviewer: str | None = None  # Art. 39: who in the source department reviewed
    secrecy_reviewed_on: date | None = None
    secrecy_conclusion: str | None = Field(default=None, max_length=32)
    concurred_by: str | None = Field(default=None, max_length=64)  # Art. 27: the center's person
    concurred_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    listed_as: str | None = Field(default=None, max_length=16)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # Art. 32: the window's end


class ListingObjection(SQLModel, table=True):
    """One objection to the source's answer and the center's answer to it within 3 working days
    (Art. 32). Every objector may object; the objector's name and contact stay in this table."""

    __tablename__ = "listing_objection"

    case_id: str = Field(primary_key=True, foreign_key="listing_review.case_id", max_length=64)
    seq: int = Field(primary_key=True)
    ref: str = Field(index=True, max_length=32)  # links the public route's call to the workflow's row
    objector_label: str  # masked, as the case shows it
    objector_name: str | None = None
    objector_contact: str | None = None
    objection: str
    received_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=16)  # upheld | suggested | resolved
    answer_reasons: str | None = None
    proposed_open_attribute: str | None = Field(default=None, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # name and contact erased


# ---- workflow payloads ----------------------------------------------------------------------------


class OpenApplyInput(BaseModel):
    case_id: str
    resource_id: str
    applicant_label: str  # masked: the application row holds who it is
    scope: str
    purpose: str
    access_way: str
    access_way_note: str | None = None  # Art. 31 (四)


class OpenCaseOpened(BaseModel):
    open_attribute: str
    forbidden_ground: str | None = None  # Art. 29: cited when an application is refused
    resource_name: str
    source_code: str
    source_name: str
    center_code: str
    center_name: str
    city_code: str
    city_name: str


class OpenCaseUpdate(BaseModel):
    case_id: str
    table: str  # open_application | listing_review
    fields: dict[str, str | int | None]


class OpenReviewState(CaseState):
    case_type: str = "open_review"
    resource_id: str
    applicant_label: str
    scope: str
    purpose: str
    access_way: str
    access_way_note: str | None = None  # Art. 31 (四)
    open_attribute: str = ""
    outcome: str | None = None
    access_mode: str | None = None
    center_opinion: str | None = None  # Art. 28 ¶2: what the center reported with the application


class ListingReviewInput(BaseModel):
    case_id: str
    resource_id: str
    request_count: int


class SecrecyReview(BaseModel):
    """Art. 39: the source department's own confidentiality review, before data is opened."""

    reviewer: str
    reviewed_on: date
    conclusion: str  # a key of SECRECY_CONCLUSIONS


class ObjectionView(BaseModel):
    """One objection as the case shows it: masked, with its own 3-working-day review (Art. 32)."""

    seq: int
    objector_label: str
    objection: str
    received_at: datetime
    due_at: datetime | None = None
    answer: str | None = None  # upheld | suggested | resolved (the case ended before the answer)
    answer_reasons: str | None = None
    proposed_open_attribute: str | None = None
    answered_at: datetime | None = None


class ObjectionRecord(ObjectionView):
    """What the workflow writes of an objection (never the objector's name or contact)."""

    case_id: str
    ref: str


class Proposal(BaseModel):
    """Art. 28 ¶3: the center's proposal to the source after reviewing objections (Art. 32)."""

    open_attribute: str
    reasons: str
    objections: list[int]  # the objections it answers
    answer: str | None = None  # accepted | rejected


class ListingReviewState(CaseState):
    case_type: str = "open_listing"
    resource_id: str
    request_count: int
    answer: str | None = None
    answer_reasons: str | None = None
    objections: list[ObjectionView] = []
    proposal: Proposal | None = None
    dispute_case_id: str | None = None
    secrecy_review: SecrecyReview | None = None
    concurred_by: str | None = None
    listed_as: str | None = None


def secrecy_review(data: dict[str, Any], today: date) -> SecrecyReview:
    """Art. 39: the 保密审查 record a listing carries, from a decision's data; ValueError naming the
    field otherwise. Data found to hold state secrets is never opened."""
    reviewer = str(data.get("secrecy_reviewer") or "").strip()
    if not reviewer:
        raise ValueError("列入开放目录须附本部门保密审查记录：data.secrecy_reviewer（保密审查人）不能为空（第三十九条）")
    try:
        reviewed_on = date.fromisoformat(str(data.get("secrecy_reviewed_on") or ""))
    except ValueError:
        raise ValueError("列入开放目录须附本部门保密审查记录：data.secrecy_reviewed_on（保密审查日期）"
                         "应为 YYYY-MM-DD（第三十九条）") from None
    if reviewed_on > today:
        raise ValueError("保密审查须在列入之前完成：data.secrecy_reviewed_on（保密审查日期）不能晚于今天（第三十九条）")
    conclusion = str(data.get("secrecy_conclusion") or "")
    if conclusion == STATE_SECRET:
        raise ValueError("保密审查结论为涉及国家秘密的数据，不得在公共数据开放系统上发布（第三十九条）")
    if conclusion not in SECRECY_CONCLUSIONS:
        choices = "、".join(f"{k}（{v}）" for k, v in SECRECY_CONCLUSIONS.items())
        raise ValueError(f"列入开放目录须附本部门保密审查记录：data.secrecy_conclusion（保密审查结论）应为 {choices}（第三十九条）")
    return SecrecyReview(reviewer=reviewer, reviewed_on=reviewed_on, conclusion=conclusion)


class OpenResult(BaseModel):
    case_id: str
    outcome: str
