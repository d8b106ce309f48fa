"""Registering a new catalog entry, 目录编制 (Art. 10–11): the department compiles the entry with all
its elements (Art. 10) and its own 保密审查 record (Art. 39), the center reviews it (审核, Art. 11 ¶1),
and an approved entry is published as version 1 of a new data resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.catalog import CatalogElements
from models.departments import Actor
from models.types import UTCDateTime, utcnow

# While a registration is open its resource id is reserved: no second open registration may claim
# it (a withdrawn one frees it). A partial unique index, so that two starts at once cannot both pass.
OPEN_ONLY = text("closed_at IS NULL")


class CatalogRegistrationCase(SQLModel, table=True):
    """The county's record of one registration case (Art. 10–11); Temporal holds where it stands."""

    __tablename__ = "catalog_register_case"
    __table_args__ = (Index("uq_catalog_register_open_resource", "resource_id", unique=True,
                            postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY),)

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(max_length=64)  # the data_resource it becomes once published
    owner_code: str = Field(foreign_key="department.code", index=True, max_length=32)
    name: str
    status: str = Field(max_length=32)
    # The elements as last submitted (CatalogElements, JSON): what the center reviews.
    elements: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    collected: bool = True
    started_by: str
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_version: int | None = None


# ---- workflow payloads ----------------------------------------------------------------------------


class CatalogRegisterInput(BaseModel):
    """Start a registration: ``elements`` already checked by the service (Art. 10, 15, 29, 39)."""

    case_id: str
    resource_id: str
    elements: CatalogElements
    collected: bool = True  # Art. 20: whether the data is already collected into the sharing system
    started_by: Actor


class CatalogRegisterOpened(BaseModel):
    owner_code: str
    owner_name: str
    center_code: str
    center_name: str


class RegistrationUpdate(BaseModel):
    case_id: str
    status: str
    due_at: datetime | None = None
    closed_at: datetime | None = None
    approved_version: int | None = None
    elements: dict[str, Any] | None = None


class NewEntry(BaseModel):
    """An approved registration: the data resource and its catalog version 1."""

    case_id: str
    resource_id: str
    elements: CatalogElements
    collected: bool
    approved_at: datetime


class CatalogRegisterState(CaseState):
    case_type: str = "catalog_register"
    resource_id: str
    owner_code: str = ""
    owner_name: str = ""
    elements: CatalogElements | None = None
    rounds: int = 0  # how many times the center returned it
    approved_version: int | None = None


class CatalogRegisterResult(BaseModel):
    case_id: str
    status: str
    approved_version: int | None = None
