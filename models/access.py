"""The access log (Art. 25, 46 (六)): every read of shared or restricted-open data a system reports,
with its verdict against the grants (Art. 22); data-refresh events (Art. 19); misuse cases (Art. 22).

Systems post batches (the sharing platform, the open system); a batch is recorded once by its id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.cases import CaseState
from models.departments import Actor
from models.requests import Id, Items
from models.types import UTCDateTime, utcnow

BATCH_MAX = 2000  # reads (or refreshes) in one batch: fits the 1 MiB body limit; a bigger one is split by the system
OFFSET_MAX = 100_000  # deeper pages: narrow by time instead (Art. 25 queries stay index scans)
BatchId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]
KINDS = ("reads", "refreshes")
# Art. 22: shared data only within the grant; Art. 28/46 (六): restricted-open data by an approved application.
VERDICT_ZH = {
    "granted": "在授权范围内",
    "open_application": "受限开放申请已获同意",
    "no_grant": "无有效授权",
    "outside_items": "超出授权数据项",
    "outside_period": "超出授权期限",
    # Art. 28, 46 (六): a citizen or company (no department) read restricted-open data without an approved
    # application: recorded and counted, but Art. 22's misuse case is about departments, so none opens.
    "no_application": "无已获同意的受限开放申请",
}
ALLOWED = ("granted", "open_application")
READS_SIGNAL = "reads_added"  # the ingest tells an open misuse case of more bad reads (workflows/misuse.py)
# A misuse case, while under review (not yet decided), is the one case of its (grantee, resource): later bad
# reads join it; once decided, they open a new one.
UNDER_REVIEW = "under_review"
OPEN_ONLY = text("status = 'under_review'")


class AccessBatch(SQLModel, table=True):
    """One batch a system posted: recorded once by its id (a repeat is told it is a duplicate)."""

    __tablename__ = "access_batch"

    batch_id: str = SQLField(primary_key=True, max_length=64)
    system: str = SQLField(max_length=64)  # the key id that signed it
    kind: str = SQLField(max_length=16)  # reads | refreshes
    received_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)
    count: int
    digest: str = SQLField(max_length=64)  # sha256 of its content: the same id with other content is refused


class AccessRead(SQLModel, table=True):
    """One read of shared data (Art. 25), with its verdict (Art. 22)."""

    __tablename__ = "access_read"
    # Art. 25's three queries (by resource, grant, department), newest first, paged by (read_at, id).
    __table_args__ = (Index("ix_access_read_resource_time", "resource_id", "read_at", "id"),
                      Index("ix_access_read_grant_time", "grant_id", "read_at", "id"),
                      Index("ix_access_read_reader_time", "reader_dept", "read_at", "id"))

    id: int | None = SQLField(default=None, primary_key=True)
    batch_id: str = SQLField(index=True, max_length=64)
    read_at: datetime = SQLField(index=True, sa_type=UTCDateTime)
    # None: a restricted-open read by a citizen or company under an application (Art. 28, 46 (六)).
    reader_dept: str | None = SQLField(default=None, max_length=32)
    reader_person: str | None = SQLField(default=None, max_length=64)  # or the applicant's label (masked)
    resource_id: str = SQLField(max_length=64)
    items: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    grant_id: int | None = SQLField(default=None)
    application_case_id: str | None = SQLField(default=None, max_length=64)
    verdict: str = SQLField(max_length=32)
    misuse_case_id: str | None = SQLField(default=None, index=True, max_length=64)


class DataRefresh(SQLModel, table=True):
    """The source refreshed a resource's data in the sharing system (Art. 19)."""

    __tablename__ = "data_refresh"

    id: int | None = SQLField(default=None, primary_key=True)
    batch_id: str = SQLField(index=True, max_length=64)
    resource_id: str = SQLField(index=True, max_length=64)
    refreshed_at: datetime = SQLField(index=True, sa_type=UTCDateTime)
    recorded_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)


class MisuseCase(SQLModel, table=True):
    """The county's record of a misuse case (Art. 22); Temporal holds where it stands."""

    __tablename__ = "misuse_case"
    __table_args__ = (Index("uq_misuse_case_open", "grantee_code", "resource_id", unique=True,
                            postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY),)

    case_id: str = SQLField(primary_key=True, max_length=64)
    grantee_code: str = SQLField(index=True, max_length=32)
    resource_id: str = SQLField(index=True, max_length=64)
    source_code: str = SQLField(index=True, max_length=32)
    status: str = SQLField(max_length=32)
    outcome: str | None = SQLField(default=None, max_length=16)  # confirmed | dismissed | cancelled
    opened_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    reads: int = 0


# ---- the API's bodies ------------------------------------------------------------------------------


class ReadIn(BaseModel):
    """One read as the platform reports it; a time without its zone is refused."""

    model_config = ConfigDict(extra="forbid")

    read_at: AwareDatetime
    reader_dept: Id | None = None  # may be omitted only with application_case_id (an applicant's read, Art. 28)
    reader_person: Id | None = None
    resource_id: Id
    items: Items
    grant_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    application_case_id: Id | None = None


class ReadsBatch(BaseModel):
    """POST /v1/access/reads (Art. 25, 46 (六))."""

    model_config = ConfigDict(extra="forbid")

    batch_id: BatchId
    reads: list[ReadIn] = Field(min_length=1, max_length=BATCH_MAX)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_id: Id
    refreshed_at: AwareDatetime


class RefreshBatch(BaseModel):
    """POST /v1/access/refreshes (Art. 19)."""

    model_config = ConfigDict(extra="forbid")

    batch_id: BatchId
    refreshes: list[RefreshIn] = Field(min_length=1, max_length=BATCH_MAX)


# ---- the misuse case's workflow payloads --------------------------------------------------------------


class MisuseInput(BaseModel):
    case_id: str
    grantee_code: str
    resource_id: str
    source_code: str


class MisuseOpened(BaseModel):
    reads: int  # what the records count so far (a batch may have told the case before it started)
    grantee_name: str
    source_name: str
    center_code: str
    center_name: str
    resource_name: str


class ReadsAdded(BaseModel):
    """Signal: a batch added bad reads to the case (the count in the records grew)."""

    batch_id: str
    count: int
    total: int  # the case's reads in the records after this batch: signals may come in any order
    verdicts: dict[str, int] = {}


class Revocation(BaseModel):
    """Art. 22: the grantee's grants on the resource are revoked at once, by the center's decision."""

    case_id: str
    grantee_code: str
    resource_id: str
    actor: Actor
    reasons: str
    at: datetime


class MisuseClosing(BaseModel):
    case_id: str
    status: str
    outcome: str | None = None
    closed_at: datetime | None = None


class MisuseState(CaseState):
    case_type: str = "misuse"
    grantee_code: str
    resource_id: str
    source_code: str
    reads: int = 0
    batches: list[str] = []
    verdicts: dict[str, int] = {}
    revoked_grants: list[int] = []
    outcome: str | None = None


class MisuseResult(BaseModel):
    case_id: str
    status: str
    revoked_grants: list[int] = []


class RetentionResult(BaseModel):
    reads: int
    refreshes: int
    kept_for_open_cases: int
