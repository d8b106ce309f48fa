"""Share requests and grants (Art. 13–22)."""

from __future__ import annotations

import calendar
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.catalog import SHARE_MODES as SHARE_MODES  # Art. 16, defined with the catalog's elements
from models.departments import Actor
from models.notices import CaseNotice
from models.types import UTCDateTime, utcnow

MAX_MONTHS = 60
# Art. 22: where a grant stands: in force, past its valid_until, or revoked for misuse.
GRANT_STATUS_ZH = {"active": "有效", "expired": "已过期", "revoked": "已撤销"}


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


class ShareRequest(SQLModel, table=True):
    """The county's record of a share request; Temporal holds where it stands."""

    __tablename__ = "share_request"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    requester_code: str = Field(index=True, max_length=32)
    source_code: str = Field(index=True, max_length=32)
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str
    scope: str
    mode: str = Field(max_length=16)
    months: int
    share_attribute: str = Field(max_length=16)
    collected: bool
    status: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=16)  # granted | refused
    reasons: str | None = None
    basis: str | None = None
    dispute_case_id: str | None = None
    # Art. 22: the grant this request renews, if it is a renewal (pdw grant renew).
    renews_grant_id: int | None = None
    # Art. 20: when the source recorded providing data not yet collected.
    provided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Grant(SQLModel, table=True):
    """Permission to use shared data: who, which items, for what, how, since and until when.
    Shared data serves only the grantee's duties; misuse revokes it at once (Art. 22)."""

    __table_args__ = (UniqueConstraint("case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=64)
    grantee_code: str = Field(index=True, max_length=32)
    resource_id: str = Field(index=True, max_length=64)
    source_code: str = Field(max_length=32)
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str
    scope: str
    mode: str = Field(max_length=16)
    desensitised: bool = False
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def status(self, now: datetime) -> str:
        """active, expired (past valid_until) or revoked (Art. 22)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.valid_until <= now else "active"


# ---- workflow payloads ----------------------------------------------------------------------------


class ShareRequestInput(BaseModel):
    case_id: str
    resource_id: str
    items: list[str]
    purpose: str
    scope: str
    mode: str
    months: int
    requested_by: Actor
    renews_grant_id: int | None = None  # Art. 22: a renewal of this grant


class ShareCaseOpened(BaseModel):
    source_code: str
    source_name: str
    center_code: str
    center_name: str
    share_attribute: str
    collected: bool
    resource_name: str


class GrantRequest(BaseModel):
    case_id: str
    grantee_code: str
    resource_id: str
    source_code: str
    items: list[str]
    purpose: str
    scope: str
    mode: str
    desensitised: bool
    valid_from: datetime
    valid_until: datetime


class Provision(BaseModel):
    """Art. 20: the source provided data not yet collected: the resource is now collected."""

    case_id: str
    resource_id: str
    provided_at: datetime
    person_id: str


class ShareClosing(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
    reasons: str | None = None
    basis: str | None = None
    dispute_case_id: str | None = None
    closed_at: datetime | None = None


# Where the requester's notice names its grant before the grant is written (ShareGranted): the
# activity puts the number in its place, the first occurrence only (the detail's head).
GRANT_ID_SLOT = "〔共享授权编号〕"


class ShareGranted(BaseModel):
    """An approval's grant and the request's closing as granted, written by one activity
    (activities/share.grant_and_close, release pdw-2026.12.2); since pdw-2026.12.3 the requester's
    notice too, its detail naming the grant by ``GRANT_ID_SLOT`` (the number is the grant's row)."""

    grant: GrantRequest
    closing: ShareClosing
    notice: CaseNotice | None = None


class ShareState(CaseState):
    case_type: str = "share"
    resource_id: str
    requester_code: str
    source_code: str = ""
    items: list[str]
    purpose: str
    scope: str
    mode: str
    months: int
    share_attribute: str = ""
    collected: bool = True
    approvers: dict[str, str] = {}  # party (center | source) -> step
    approvals: dict[str, str] = {}  # party -> its action
    desensitised: bool = False
    refusal_reasons: str | None = None
    refusal_basis: str | None = None
    refused_by: str | None = None  # the department whose refusal stands (the center's goes to the county)
    dispute_case_id: str | None = None
    grant_id: int | None = None
    renews_grant_id: int | None = None  # Art. 22
    provided_note: str | None = None  # Art. 20: how the source provided uncollected data


class ShareResult(BaseModel):
    case_id: str
    status: str
    grant_id: int | None = None
