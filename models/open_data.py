"""Opening data to the public: restricted-open applications (Art. 28–31) and public requests for
data not yet in the open catalog, with the review of objections (Art. 32).

An applicant's name, identity document and contact are personal data: they are kept in these tables
only, never in a workflow's input, a search attribute or a log line; cases carry a masked label."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.types import UTCDateTime, utcnow

# Art. 31: how opened data is obtained.
ACCESS_WAYS = {"download": "下载数据", "api": "接口调用数据", "algorithm": "通过公共数据平台以算法模型获取结果数据"}
# Art. 28 ¶2: how restricted-open data is accessed once approved.
ACCESS_MODES = {"authorisation": "公民、法人授权", "sandbox": "沙箱"}
ID_TYPES = {"resident_id": "居民身份证", "passport": "护照", "uscc": "统一社会信用代码", "other": "其他证件"}


def masked(name: str, id_type: str, id_number: str) -> str:
    """A label for an applicant that names no one: 张* (居民身份证 ****1234)."""
    shown = name.strip()[:1] + "*" * max(len(name.strip()) - 1, 1)
    return f"{shown}（{ID_TYPES.get(id_type, id_type)} ****{id_number.strip()[-4:]}）"


class OpenApplication(SQLModel, table=True):
    """A citizen's or organisation's application for restricted-open data (Art. 28 ¶2)."""

    __tablename__ = "open_application"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    applicant_name: str
    id_type: str = Field(max_length=16)
    id_number: str = Field(max_length=64)
    contact: str
    applicant_label: str
    scope: str
    purpose: str
    access_way: str = Field(max_length=16)
    open_attribute: str | None = Field(default=None, max_length=16)
    status: str = Field(default="opening", max_length=32)
    outcome: str | None = Field(default=None, max_length=16)
    reasons: str | None = None
    access_mode: str | None = Field(default=None, max_length=16)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OpenRequest(SQLModel, table=True):
    """A public request for data not in the open catalog (Art. 32), counted per resource."""

    __tablename__ = "open_request"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    requester_name: str
    contact: str
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    review_case_id: str | None = Field(default=None, max_length=64)  # the review it started or joined


class ListingReview(SQLModel, table=True):
    """The source's review of data the public often asks for, and the center's review of an
    objection to its answer (Art. 32)."""

    __tablename__ = "listing_review"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    request_count: int
    status: str = Field(max_length=32)
    answer: str | None = Field(default=None, max_length=16)  # listed | declined
    answer_reasons: str | None = None
    objector_name: str | None = None
    objector_contact: str | None = None
    objection: str | None = None
    review_outcome: str | None = Field(default=None, max_length=16)  # upheld | overturned
    review_reasons: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- workflow payloads ----------------------------------------------------------------------------


class OpenApplyInput(BaseModel):
    case_id: str
    resource_id: str
    applicant_label: str  # masked: the application row holds who it is
    scope: str
    purpose: str
    access_way: str


class OpenCaseOpened(BaseModel):
    open_attribute: str
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
    open_attribute: str = ""
    outcome: str | None = None
    access_mode: str | None = None
    center_opinion: str | None = None  # Art. 28 ¶2: what the center reported with the application


class ListingReviewInput(BaseModel):
    case_id: str
    resource_id: str
    request_count: int


class ListingReviewState(CaseState):
    case_type: str = "open_listing"
    resource_id: str
    request_count: int
    answer: str | None = None
    answer_reasons: str | None = None
    objection: str | None = None
    objector_label: str | None = None
    review_outcome: str | None = None


class OpenResult(BaseModel):
    case_id: str
    outcome: str
