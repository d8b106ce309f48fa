"""The API's request bodies (the JSON ``pdw … --input`` sends has the same fields). They give OpenAPI
its schemas and refuse, before anything is looked up, what no request may carry: unknown fields,
over-long text, control characters (a NUL byte cannot even be stored by PostgreSQL)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_MAX, SHORT_MAX = 2000, 200


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("不能含控制字符")
    return value


def _clean_data(value: dict[str, Any]) -> dict[str, Any]:
    """A decision's data: flat JSON scalars, text within the limits."""
    if len(value) > 50:
        raise ValueError("最多 50 项")
    for key, item in value.items():
        if _CONTROL.search(key):  # not echoed: a control character in an answer reaches a terminal
            raise ValueError("项名不能含控制字符")
        if len(key) > 64:
            raise ValueError(f"项名“{key[:20]}…”超过 64 个字符")
        if isinstance(item, str):
            if len(item) > TEXT_MAX:
                raise ValueError(f"{key} 不能超过 {TEXT_MAX} 个字符")
            _no_control(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{key} 须为有限数值")
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValueError(f"{key} 须为文字、数字或真假值")
    return value


Text = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_no_control)]
Short = Annotated[str, StringConstraints(max_length=SHORT_MAX), AfterValidator(_no_control)]
Code = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9._:\-]*$")]
# An id that names a record (a resource, a case, a person): never empty.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]*$")]
Items = Annotated[list[Short], Field(max_length=100)]
# A decision's id, the Temporal update id: letters, digits and ._:- (the case id's alphabet).
DecisionId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:\-]*$")]

# The Chinese name of each field, for errors that name it.
FIELD_ZH = {
    "number": "回执编号", "X-Receipt-Token": "回执令牌",
    "as": "代表的备案人员", "resource_id": "数据资源编号", "change_note": "变化说明", "changed_at": "变化时间",
    "changed_elements": "变化的要素", "items": "数据项", "purpose": "用途", "scope": "使用范围", "mode": "共享方式",
    "months": "使用月数", "found": "发现的问题", "expected": "期望的数据", "evidence": "证明材料",
    "proof_provided": "已提供证明材料", "open_attribute": "开放属性", "reason": "理由", "name": "名称",
    "id_type": "证件类型", "id_number": "证件号码", "contact": "联系方式", "access_way": "获取方式",
    "access_way_note": "获取方式说明", "forbidden_ground": "禁止开放情形",
    "case_id": "案件编号", "action": "操作", "reasons": "理由", "basis": "依据", "data": "数据项",
    "role": "角色", "person_id": "人员编号", "note": "依据", "day": "日期", "workday": "是否工作日",
    "days": "有效天数", "label": "说明", "older_than_minutes": "分钟数", "force": "强制",
    "decision_id": "决定编号", "from": "起算日期", "working_days": "工作日数", "idle_days": "无进展天数",
    "year": "年份", "dept": "部门代码", "code": "部门代码", "resource": "数据资源编号", "case": "案件编号",
    "grant_id": "共享授权编号", "token_id": "令牌编号", "all": "全部", "title": "文件标题", "holidays": "放假安排",
    "workdays": "调休上班日",
    # Art. 10, 15, 39: a new catalog entry's elements; a transfer's new department.
    "encoding_format": "编码格式", "provider_code": "提供单位", "share_attribute": "共享属性",
    "update_frequency": "更新频度", "share_reason": "受限理由", "share_basis": "法律依据", "share_modes": "共享方式",
    "secrecy_reviewer": "保密审查人", "secrecy_reviewed_on": "保密审查日期", "secrecy_conclusion": "保密审查结论",
    "collected": "已归集", "content": "数据内容", "to": "移交部门",
    # Art. 46: a rectification proposal.
    "failings": "第四十六条所列情形", "evidence_cases": "证据案件", "correct": "应当改正的事项",
    "authority": "责令改正机关",
    # Art. 41: what the center writes into the yearly evaluation report.
    "advice": "改进意见", "basic_guarantee": "基础保障", "remarks": "备注", "format": "格式",
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)


class Acting(Body):
    """What a signed system sends: the registered person it acts for (a person's token names them)."""

    as_: Code | None = Field(default=None, alias="as", description="系统代表办理的已备案人员编号（个人令牌无须填写）")


class CatalogUpdateRequest(Acting):
    """Art. 11: a data element changed; the department updates its entry within 5 working days."""

    resource_id: Id
    change_note: Text
    changed_at: Short | None = Field(default=None, description="要素变化的日期 YYYY-MM-DD 或 ISO 时间，默认现在")
    changed_elements: Annotated[list[Code], Field(max_length=10)] = []


class CatalogRegisterRequest(Acting):
    """Art. 10–11: a department compiles a new catalog entry with all its elements (and, for data
    classed shareable or open, its own 保密审查 record, Art. 39); the center reviews it. A missing
    element is reported with the others by the rule it breaks (第十条), not as a missing field."""

    resource_id: Id | None = Field(default=None, description="数据资源编号，不填则生成 RES-<部门代码>-<序号>")
    name: Short = ""
    content: Text = ""
    encoding_format: Short = ""
    provider_code: Code = Field(default="", description="提供单位（部门代码），默认本部门；县大数据管理中心可代部门登记")
    share_attribute: Code = ""
    open_attribute: Code = ""
    update_frequency: Code = ""
    share_reason: Text | None = None
    share_basis: Text | None = None
    forbidden_ground: Code | None = None
    items: Items | Short = Field(default=[], description="数据项：列表，或以、或英文逗号分隔的文字")
    share_modes: Annotated[list[Code], Field(max_length=3)] | Short = Field(
        default=[], description="共享方式 verification、query、batch：列表，或以、或英文逗号分隔的文字")
    secrecy_reviewer: Short | None = None
    secrecy_reviewed_on: Short | None = Field(default=None, description="保密审查日期 YYYY-MM-DD（第三十九条）")
    secrecy_conclusion: Code | None = None
    collected: bool = Field(default=True, description="数据是否已归集到共享系统（第二十条）")


class TransferRequest(Acting):
    """Local rule (Art. 11: the providing unit changed): the center moves a running case's source
    role to the resource's current owner."""

    to: Code = Field(description="移交给的部门代码：须为数据资源现在的提供单位")
    reason: Text
    decision_id: DecisionId | None = None


class ShareStartRequest(Acting):
    """Art. 13, 16, 20: a using department applies for data items."""

    resource_id: Id
    items: Items
    purpose: Text
    scope: Text
    mode: Code
    months: int = Field(default=12, ge=1, le=60)


class GrantRenewRequest(Acting):
    """Art. 22: renew a grant: a new share request prefilled from it; months and purpose may change."""

    months: int | None = Field(default=None, ge=1, le=60)
    purpose: Text | None = None


class CorrectionRequest(Acting):
    """Art. 23: an error in shared data, reported through the center."""

    resource_id: Id
    items: Items
    found: Text
    expected: Text
    evidence: Text = ""
    proof_provided: bool = False


class OpenAttributeDisputeRequest(Acting):
    """Art. 28 ¶3: the center and the source disagree on an open attribute."""

    resource_id: Id
    open_attribute: Code
    reason: Text
    forbidden_ground: Code | None = Field(
        default=None, description="建议禁止开放时必填：第二十九条第一款所列情形，如 secret_or_privacy（第二十九条）")


class Applicant(Body):
    name: Short
    id_type: Code = "resident_id"
    id_number: Short
    contact: Short


class OpenApplicationRequest(Applicant):
    """Art. 28 ¶2, Art. 31: a citizen or organisation applies for restricted-open data."""

    resource_id: Id
    scope: Text
    purpose: Text
    access_way: Code = "download"
    access_way_note: Text | None = Field(
        default=None, description="获取方式为 other（法律、法规、规章和国家规定的其他方式）时必填：具体方式及依据（第三十一条）")


class OpenRequestRequest(Applicant):
    """Art. 32: the public asks for data not in the open catalog; counted once per person, a person
    being one identity number (id_type + id_number, checked like an application's)."""

    resource_id: Id


class ObjectionRequest(Applicant):
    """Art. 32: an objection to the source's answer, reviewed by the center within 3 working days."""

    case_id: Id
    reason: Text


class DecisionRequest(Acting):
    """One decision in a case: the action and what the measures demand with it."""

    action: Code
    reasons: Text | None = None
    basis: Text | None = None
    data: Annotated[dict[str, Any], AfterValidator(_clean_data)] = {}
    decision_id: DecisionId | None = Field(
        default=None, description="决定编号（8–64 个字母、数字或 ._:-）：重新提交同一决定时用同一编号，不会成为第二项决定；不填则由服务生成")


class RoleAssignRequest(Acting):
    """Art. 43 ¶2: who holds a department's registered role from now on."""

    role: Code
    person_id: Id
    name: Short | None = None
    email: Short | None = None
    mobile: Short | None = None
    dingtalk: Short | None = None
    note: Text


class RevokeRequest(Acting):
    reason: Text


class OverrideRequest(Acting):
    day: Short
    workday: bool
    note: Text


class YearHoliday(Body):
    from_: Short = Field(alias="from")
    to: Short | None = None
    name: Short = "放假"


class YearWorkday(Body):
    date: Short
    name: Short = "调休上班"


class YearRequest(Acting):
    """A year's official schedule of the State Council (the file ``pdw calendar load`` reads)."""

    year: int = Field(ge=2000, le=2100)
    title: Short
    holidays: Annotated[list[YearHoliday], Field(max_length=60)] = []
    workdays: Annotated[list[YearWorkday], Field(max_length=30)] = []


class TokenRequest(Acting):
    person_id: Id
    days: int | None = Field(default=None, ge=1, le=366)
    label: Short = ""


class TokenRevokeRequest(Acting):
    reason: Text = ""


class RetryRequest(Acting):
    older_than_minutes: int = Field(default=5, ge=0, le=100_000)


class DigestRequest(Acting):
    force: bool = False


# Art. 41: the center's texts in the yearly evaluation report may be longer than a decision's.
ReportText = Annotated[str, StringConstraints(max_length=20000), AfterValidator(_no_control)]


class ReportPublishRequest(Acting):
    """Art. 41: publish the year's evaluation report with the center's improvement advice."""

    advice: ReportText | None = None
    basic_guarantee: ReportText | None = None
    remarks: ReportText | None = None


def field_label(name: str) -> str:
    zh = FIELD_ZH.get(name)
    return f"{zh}（{name}）" if zh else name
