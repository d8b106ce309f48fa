"""What the public holds after applying, asking or objecting (Art. 28, 32): a receipt number and a
token (shown once, stored only as a hash), by which the public status route answers; the counters
that rate-limit the public routes across API replicas; the applicants' notices.

The receipt keeps the contact the applicant gave, for notices only: the outbox names the receipt and
the masked label, never the contact, and the purge (个人信息保护法) erases it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

RECEIPT_PREFIX = "GK"  # 公开: receipts are numbered GK-2026-000123
# What a receipt is for (Art. 28 ¶2, Art. 32), and how long its personal data is kept (settings).
RECEIPT_KINDS = {"application": "受限开放数据申请", "request": "列入开放目录申请", "objection": "复核申请"}
# How an applicant hears of outcomes: by the contact given. A fixed line gets no notices.
NOTIFY_ZH = {"email": "电子邮件", "sms": "短信", "": "不发送通知（固定电话）"}
APPLICANT_ROLE = "applicant"


class PublicReceipt(SQLModel, table=True):
    __tablename__ = "public_receipt"

    number: str = Field(primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # application | request | objection
    resource_id: str = Field(max_length=64, index=True)
    case_id: str | None = Field(default=None, max_length=64, index=True)  # application / listing case
    # open_request.id (a request): the row counting its person (Art. 32), one receipt per submission
    request_id: int | None = Field(default=None, index=True)
    objection_ref: str | None = Field(default=None, max_length=32)  # listing_objection.ref (an objection)
    label: str  # masked, as the case shows it: kept after the purge
    contact: str | None = None  # erased by the purge
    notify: str = Field(default="", max_length=8)  # email | sms | "" (none): kept after the purge
    idem: str | None = Field(default=None, max_length=64, unique=True, index=True)  # a retried request's key
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RateCount(SQLModel, table=True):
    """Requests of one bucket (a route group and a client address) in one window: one atomic
    upsert per request, so every API replica counts in the same row."""

    __tablename__ = "rate_limit"

    bucket: str = Field(primary_key=True, max_length=128)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    count: int = 0


class ApplicantNotice(BaseModel):
    """An outcome the applicants, requesters or objectors of a case hear of (Art. 28 ¶2, 29, 32).
    Names no one: the activity finds the receipts (and their contacts) in the records."""

    case_id: str
    key: str  # unique within the case: "open.outcome", "listing.answer", "objection.3"
    headline: str
    text: str
    article: str
    who: str = "application"  # application | requesters | objectors | all (requesters and objectors)
    objection_ref: str | None = None  # one objection's objector only
    at: datetime
