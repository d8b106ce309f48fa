"""The data-resource catalog (Art. 10) with its versions, and the catalog-update case (Art. 11)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, Column, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from models.cases import CaseState
from models.departments import Actor
from models.types import UTCDateTime, utcnow

# Art. 15: 共享属性.
SHARE_ATTRIBUTES = {"unconditional": "无条件共享", "restricted": "受限共享", "non_shared": "不予共享"}
# Art. 28: 开放属性. Data outside the open scope that nobody has classed forbidden on an Art. 29
# ground is "unopened" (未开放): the public may ask for it (Art. 32), it is not refused as forbidden.
OPEN_ATTRIBUTES = {"unconditional": "无条件开放", "restricted": "受限开放", "unopened": "未开放（开放范围外）",
                   "forbidden": "禁止开放"}
# Art. 29 ¶1: the only grounds on which data is classed forbidden; an entry so classed names one.
FORBIDDEN_GROUNDS = {
    "state_secret": "（一）依法确定为国家秘密的",
    "security": "（二）开放后可能危及国家安全、公共安全、经济安全和社会稳定的",
    "secret_or_privacy": "（三）涉及商业秘密、个人隐私的",
    "agreement_or_ip": "（四）因数据获取协议或者知识产权保护等禁止开放的",
    "law": "（五）法律、法规规定不得开放或者应当通过其他途径获取的",
}
# Art. 39: what the source department's own 保密审查 may conclude. Data holding state secrets is
# never published on the sharing or open system.
SECRECY_CONCLUSIONS = {"no_state_secret": "不涉及国家秘密", "declassified": "经脱敏、脱密处理后不涉及国家秘密"}
STATE_SECRET = "state_secret"
# Art. 16: 共享方式 (models/share.py reads it from here).
SHARE_MODES = {"verification": "核验", "query": "查询", "batch": "批量"}
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


def forbidden_ground_zh(ground: str | None) -> str:
    """How a refusal cites the entry's Art. 29 ground: 第二十九条第一款第（三）项：涉及商业秘密、个人隐私的."""
    text = FORBIDDEN_GROUNDS.get(ground or "")
    if text is None:
        return "第二十九条"
    return f"第二十九条第一款第{text[:3]}项：{text[3:]}"


def open_attribute_zh(attribute: str | None, ground: str | None = None) -> str:
    """An open attribute for people; forbidden always with its Art. 29 ground: 禁止开放（第二十九条…）."""
    label = OPEN_ATTRIBUTES.get(attribute or "", attribute or "")
    return f"{label}（{forbidden_ground_zh(ground)}）" if attribute == "forbidden" else label


def forbidden_ground_problem(attribute: str | None, ground: object, field: str) -> str | None:
    """Art. 29: classing data forbidden names one ground of its first paragraph; None when it does
    (or the data is not classed forbidden)."""
    if attribute != "forbidden" or ground in FORBIDDEN_GROUNDS:
        return None
    choices = "、".join(f"{k}{v}" for k, v in FORBIDDEN_GROUNDS.items())
    return (f"列为禁止开放须在 {field} 中写明第二十九条第一款所列情形：{choices}；"
            "尚未确定开放、未发现上述情形的数据为未开放（unopened）（第二十九条）")


class CatalogElements(SQLModel):
    """The basic elements of a catalog entry (Art. 10), with the grounds Art. 15 and Art. 29 ask
    for, the data items and share modes requests are checked against (Art. 16, 20), and the source
    department's own 保密审查 record (Art. 39)."""

    name: str = ""
    content: str = ""
    encoding_format: str = ""
    provider_code: str = Field(default="", max_length=32)
    share_attribute: str = Field(default="", max_length=16)
    open_attribute: str = Field(default="", max_length=16)
    update_frequency: str = Field(default="", max_length=16)
    share_reason: str | None = None  # Art. 15: why restricted
    share_basis: str | None = None  # Art. 15: the legal basis for restricted or non-shared
    forbidden_ground: str | None = Field(default=None, max_length=32)  # Art. 29: a key of FORBIDDEN_GROUNDS
    # The data items (数据内容) a share request may ask for, and the share modes offered (Art. 16, 20).
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    share_modes: list[str] = Field(default_factory=list,
                                   sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Art. 39: the source department's own confidentiality review (本部门保密审查): who, when, conclusion.
    secrecy_reviewer: str | None = None
    secrecy_reviewed_on: date | None = None
    secrecy_conclusion: str | None = Field(default=None, max_length=32)

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
        if self.open_attribute == "forbidden" and self.forbidden_ground not in FORBIDDEN_GROUNDS:
            choices = "、".join(f"{k}{v}" for k, v in FORBIDDEN_GROUNDS.items())
            found.append(f"开放属性为禁止开放时，须写明第二十九条第一款所列情形（forbidden_ground）：{choices}；"
                         "尚未确定开放的数据请标为 unopened（未开放）（第二十九条）")
        found += self._item_problems() + self._secrecy_problems()
        return found

    def _item_problems(self) -> list[str]:
        found = []
        if not [i for i in self.items if str(i).strip()]:
            found.append("数据项（items）不能为空：须列出数据内容所含的数据项，共享申请据此核对（第十条、第二十条）")
        bad = [m for m in self.share_modes if m not in SHARE_MODES]
        if bad:
            choices = "、".join(f"{k}（{v}）" for k, v in SHARE_MODES.items())
            found.append(f"共享方式（share_modes）“{bad[0]}”无效，应为：{choices}（第十六条）")
        elif not self.share_modes and self.share_attribute in ("unconditional", "restricted"):
            found.append("共享方式（share_modes）不能为空：可共享的数据须写明提供的共享方式（第十六条）")
        return found

    def _secrecy_problems(self) -> list[str]:
        """Art. 39: data classed shareable or open carries its source department's 保密审查 record."""
        if self.share_attribute not in ("unconditional", "restricted") and self.open_attribute not in (
                "unconditional", "restricted"):
            return []
        found = []
        if not (self.secrecy_reviewer or "").strip():
            found.append("共享或开放的数据须事先经本部门保密审查：secrecy_reviewer（保密审查人）不能为空（第三十九条）")
        if self.secrecy_reviewed_on is None:
            found.append("共享或开放的数据须事先经本部门保密审查：secrecy_reviewed_on（保密审查日期）应为 YYYY-MM-DD（第三十九条）")
        if self.secrecy_conclusion == STATE_SECRET:
            found.append("保密审查结论为涉及国家秘密的数据，不得在公共数据共享和开放系统上发布（第三十九条）")
        elif self.secrecy_conclusion not in SECRECY_CONCLUSIONS:
            choices = "、".join(f"{k}（{v}）" for k, v in SECRECY_CONCLUSIONS.items())
            found.append(f"共享或开放的数据须事先经本部门保密审查：secrecy_conclusion（保密审查结论）应为 {choices}（第三十九条）")
        return found

    @classmethod
    def parse(cls, data: dict[str, object]) -> tuple[CatalogElements | None, list[str]]:
        """Elements from loose input (CLI, hook, update payload), or the Chinese reasons they are not."""
        unknown = sorted(set(data) - set(CatalogElements.model_fields))
        if unknown:
            return None, [f"未知的目录要素：{', '.join(unknown)}（第十条）"]
        values = {k: v for k, v in data.items() if v is not None}
        if values.get("open_attribute") != "forbidden":
            values.pop("forbidden_ground", None)  # a ground is kept only while the data is forbidden
        for field in ("items", "share_modes"):  # "a、b" or "a,b" from the command line
            if isinstance(values.get(field), str):
                values[field] = [p.strip() for p in str(values[field]).replace("、", ",").split(",") if p.strip()]
        try:
            elements = cls.model_validate(values)
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
    changes: dict[str, Any]
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
