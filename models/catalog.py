"""The data-resource catalog (Art. 10) with its versions, and the catalog-update case (Art. 11)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, Column, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.departments import Actor
from models.types import UTCDateTime, utcnow

# Art. 15: 共享属性.
SHARE_ATTRIBUTES = {"unconditional": "无条件共享", "restricted": "受限共享", "non_shared": "不予共享"}
# Art. 28: 开放属性.
OPEN_ATTRIBUTES = {"unconditional": "无条件开放", "restricted": "受限开放", "forbidden": "禁止开放"}
UPDATE_FREQUENCIES = {
    "realtime": "实时",
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "yearly": "每年",
    "irregular": "不定期",
}
# Art. 10's seven elements, with the Chinese names staff know them by.
ELEMENT_ZH = {
    "name": "数据名称",
    "content": "数据内容",
    "encoding_format": "编码格式",
    "provider_code": "提供单位",
    "share_attribute": "共享属性",
    "open_attribute": "开放属性",
    "update_frequency": "更新频度",
}


class CatalogElements(SQLModel):
    """The basic elements of a catalog entry (Art. 10), with the grounds Art. 15 asks for."""

    name: str = ""
    content: str = ""
    encoding_format: str = ""
    provider_code: str = Field(default="", max_length=32)
    share_attribute: str = Field(default="", max_length=16)
    open_attribute: str = Field(default="", max_length=16)
    update_frequency: str = Field(default="", max_length=16)
    share_reason: str | None = None  # Art. 15: why restricted
    share_basis: str | None = None  # Art. 15: the legal basis for restricted or non-shared

    def problems(self) -> list[str]:
        """Every way these elements break Art. 10 or Art. 15, in Chinese; empty when valid."""
        found = [
            f"{zh}（{field}）不能为空：目录条目须描述全部基本要素（第十条）"
            for field, zh in ELEMENT_ZH.items()
            if not str(getattr(self, field) or "").strip()
        ]
        for field, allowed in (
            ("share_attribute", SHARE_ATTRIBUTES),
            ("open_attribute", OPEN_ATTRIBUTES),
            ("update_frequency", UPDATE_FREQUENCIES),
        ):
            value = getattr(self, field)
            if value and value not in allowed:
                choices = "、".join(f"{k}（{v}）" for k, v in allowed.items())
                found.append(f"{ELEMENT_ZH[field]}（{field}）的值“{value}”无效，应为：{choices}（第十条）")
        if self.share_attribute == "restricted" and not (
            (self.share_reason or "").strip() and (self.share_basis or "").strip()
        ):
            found.append(
                "共享属性为受限共享时，须写明理由（share_reason）和法律依据（share_basis）（第十五条）"
            )
        if self.share_attribute == "non_shared" and not (self.share_basis or "").strip():
            found.append("共享属性为不予共享时，须写明法律、法规或规章依据（share_basis）（第十五条）")
        return found

    @classmethod
    def parse(cls, data: dict[str, object]) -> tuple[CatalogElements | None, list[str]]:
        """Elements from loose input (CLI, hook, update payload), or the Chinese reasons they are not."""
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            return None, [f"未知的目录要素：{', '.join(unknown)}（第十条）"]
        try:
            elements = cls.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as err:
            return None, [f"目录要素 {'.'.join(map(str, e['loc']))} 格式错误：{e['msg']}" for e in err.errors()]
        return elements, elements.problems()

    def elements_only(self) -> CatalogElements:
        return CatalogElements.model_validate(self.model_dump(include=set(CatalogElements.model_fields)))


class DataResource(SQLModel, table=True):
    """A data resource; its catalog entry is the current CatalogVersion."""

    __tablename__ = "data_resource"

    id: str = Field(primary_key=True, max_length=64)
    owner_code: str = Field(foreign_key="department.code", index=True, max_length=32)
    current_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Art. 20: whether the data is collected (归集) into the sharing system.
    collected: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    # The data items a share request may ask for, and the share modes offered (Art. 16).
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    share_modes: list[str] = Field(
        default_factory=lambda: ["verification", "query", "batch"],
        sa_column=Column(JSON, nullable=False, server_default='["verification", "query", "batch"]'),
    )


class CatalogVersion(CatalogElements, table=True):
    """Every approved revision of a catalog entry is kept; ``is_current`` marks the one in force."""

    __tablename__ = "catalog_version"
    __table_args__ = (UniqueConstraint("resource_id", "version"), UniqueConstraint("case_id"))

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    version: int
    is_current: bool = True
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    case_id: str | None = Field(default=None, max_length=64)


class CatalogUpdateCase(SQLModel, table=True):
    """The county's record of one catalog-update case (Art. 11); Temporal holds where it stands."""

    __tablename__ = "catalog_update_case"

    case_id: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(foreign_key="data_resource.id", index=True, max_length=64)
    owner_code: str = Field(index=True, max_length=32)
    status: str = Field(max_length=32)
    changed_at: datetime = Field(sa_type=UTCDateTime)
    change_note: str
    started_by: str
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_version: int | None = None


# ---- workflow payloads ----------------------------------------------------------------------------


class CatalogUpdateInput(BaseModel):
    """Start a catalog update: a data element of ``resource_id`` changed at ``changed_at`` (Art. 11)."""

    case_id: str
    resource_id: str
    changed_at: datetime
    change_note: str
    changed_elements: list[str] = []
    started_by: Actor


class CatalogCaseOpened(BaseModel):
    resource_id: str
    owner_code: str
    owner_name: str
    center_code: str
    center_name: str
    current_version: int
    current: CatalogElements


class PublishRequest(BaseModel):
    """Elements a case changes in a catalog entry, applied to the version current when published,
    so that changes made meanwhile by another case are kept."""

    case_id: str
    resource_id: str
    changes: dict[str, str | None]
    approved_at: datetime


class CaseStatusUpdate(BaseModel):
    case_id: str
    status: str
    due_at: datetime | None = None
    closed_at: datetime | None = None
    approved_version: int | None = None


class CatalogUpdateState(CaseState):
    """The whole case as the ``state`` query returns it."""

    case_type: str = "catalog_update"
    resource_id: str
    owner_code: str = ""
    owner_name: str = ""
    change_note: str
    changed_elements: list[str] = []
    changed_at: datetime
    current: CatalogElements | None = None
    revision: CatalogElements | None = None
    rounds: int = 0
    used_working_days: int = 0  # of Art. 11's 5, while the department held the file
    approved_version: int | None = None


class CatalogUpdateResult(BaseModel):
    case_id: str
    status: str
    approved_version: int | None
