"""The yearly evaluation report (Art. 41): its figures per department, in the article's five parts,
and the ``evaluation_report`` table that keeps each year's draft and, once published, its frozen
figures and html with the center's improvement advice (改进意见)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

# Art. 41's five parts, in its order; 基础保障 is what pdw cannot know: the center writes it.
PARTS: dict[str, str] = {
    "org": "组织管理",
    "basic": "基础保障",
    "sharing": "数据共享",
    "opening": "数据开放",
    "use": "数据利用",
}
REPORT_STATUS_ZH = {"draft": "草稿", "published": "已发布", "computed": "即时统计"}

# Every figure's Chinese label, by part, in the order the report shows them.
FIGURES: dict[str, dict[str, str]] = {
    "org": {
        "roles_filed": "已备案的角色（共3项：主要负责人、分管领导、日常管理人员，第四十三条）",
        "roles_held": "年末有人在岗的角色（第四十三条）",
        "role_changes": "年内备案人员变更（第四十三条第二款）",
        "rectification_proposed": "中心提出整改建议（第四十六条）",
        "rectification_ordered": "被责令整改（第四十六条）",
        "rectification_accepted": "整改经验收通过（第四十六条）",
    },
    "sharing": {
        "catalog_updates": "目录更新案件（第十一条）",
        "catalog_updates_on_time": "按时（5个工作日内）更新目录（第十一条）",
        "catalog_updates_late": "逾期更新目录（第十一条）",
        "statutory_steps": "应办的法定时限环节（第十一条、第二十条、第二十三条、第三十二条）",
        "statutory_on_time": "法定时限环节按时办结",
        "statutory_late": "法定时限环节逾期",
        "local_steps": "应办的本地时限环节（本地规定）",
        "local_on_time": "本地时限环节按时办结",
        "local_late": "本地时限环节逾期",
        "share_source_handled": "作为数源部门答复、审批共享申请（第二十条、第二十一条）",
        "share_source_on_time": "作为数源部门按时答复、审批",
        "share_source_late": "作为数源部门逾期答复、审批",
        "share_center_handled": "作为县大数据管理中心审批共享申请（第二十条、第二十一条）",
        "share_center_on_time": "作为中心按时审批",
        "share_center_late": "作为中心逾期审批",
        "corrections_verified": "校核纠错反馈（第二十三条）",
        "corrections_on_time": "按时（5个工作日内，含经同意延长）校核",
        "extensions": "延长校核期限（第二十三条）",
        "urgings": "被催办的环节（催办）",
        "escalations": "被督办的环节（督办）",
        "disputes": "涉及的共享争议（第二十条第二款）",
        "grants_given": "作为数源部门提供的共享授权（第二十条）",
        "grants_received": "作为使用部门获得的共享授权（第二十条）",
        "freshness_reviews": "数据更新时效核查（第十九条）",
        "freshness_answered": "数据更新时效核查已办结",
    },
    "opening": {
        "open_applications": "本部门数据的受限开放申请（第二十八条）",
        "open_applications_closed": "受限开放申请已办结",
        "listing_reviews": "开放目录申请审核（第三十二条）",
        "listing_listed": "答复列入开放目录",
        "listing_declined": "答复不列入开放目录",
        "objections": "对答复的复核申请（第三十二条）",
        "objections_answered": "复核申请已答复",
        "objections_upheld": "复核维持数源部门答复",
        "objections_suggested": "复核后中心建议列入开放目录（第二十八条第三款）",
        "open_scope_reviews": "开放范围外数据定期评估（第二十八条第四款）",
        "open_scope_answered": "开放范围外数据定期评估已办结",
        "restricted_open_reviews": "受限开放数据定期评估（第三十条第二款）",
        "restricted_open_answered": "受限开放数据定期评估已办结",
    },
    "use": {
        "reads_granted": "依共享授权或开放申请读取数据（第二十五条）",
        "reads_outside_grant": "授权外读取（待核查或经核查）：无授权或超出授权范围、期限，不含经核查不予认定或撤销立案的（第二十二条）",
        "reads_of_own_data": "本部门数据被读取（第二十五条）",
        "misuse_opened_as_user": "作为使用部门被立案核查的疑似违规使用（第二十二条）",
        "misuse_as_user": "作为使用部门经核查确认的违规使用案件（第二十二条）",
        "misuse_dismissed_as_user": "作为使用部门经核查不予认定的疑似违规使用（第二十二条）",
        "misuse_opened_as_source": "本部门数据被立案核查的疑似违规使用（第二十二条）",
        "misuse_as_source": "本部门数据经核查确认的违规使用案件（第二十二条）",
        "misuse_dismissed_as_source": "本部门数据经核查不予认定的疑似违规使用（第二十二条）",
    },
}
# The ranking's score, as the report explains it.
SCORE_FORMULA = (
    "得分 = 100 × (应办环节数 − 逾期环节数 − 法定时限逾期环节数) ÷ 应办环节数，最低为 0："
    "应办环节指本年度本部门应在期限内办理的各类环节（已办理的按办理时所在年度，逾期的按期限届满所在年度），"
    "法定时限（第十一条、第二十条、第二十三条、第三十二条）逾期按两次计（以逾期时所适用期限的性质为准：适用本地期限的逾期不按法定时限计）。"
    "得分相同的名次相同，按部门名称排列；"
    "本年度无应办环节的部门不计分，列在最后。县大数据管理中心的数字列入报告，但不参加排名。"
)


class Figure(BaseModel):
    """One number with the case ids (or record ids) it counts, so that every figure can be traced.
    Reads (数据利用) are many: their count comes with the cases they were read under."""

    value: int
    case_ids: list[str] = []


class DeptFigures(BaseModel):
    code: str
    name: str
    kind: str
    parts: dict[str, dict[str, Figure]]  # part -> figure key -> figure (FIGURES' order)


class MonthFigures(BaseModel):
    month: int
    opened: Figure  # cases opened in the month
    missed: Figure  # deadlines missed (due) in the month, as case_id:step


class RankEntry(BaseModel):
    rank: int | None
    code: str
    name: str
    owed: int
    late: int
    statutory_late: int
    score: float | None


class EvaluationFigures(BaseModel):
    """What pdw computes for a year (Art. 41); the texts come from the center."""

    year: int
    computed_at: datetime
    departments: list[DeptFigures]
    monthly: list[MonthFigures]
    ranking: list[RankEntry]
    score_formula: str = SCORE_FORMULA
    not_evaluated: list[str] = []  # the county's bodies that decide, supervise or advise: named, not evaluated


class ReportTexts(BaseModel):
    """What the center writes (Art. 41): 基础保障, remarks and the improvement advice."""

    basic_guarantee: str | None = None
    remarks: str | None = None
    advice: str | None = None


class EvaluationReport(SQLModel, table=True):
    """One year's report: a draft the Schedule or the center refreshes, then published and frozen."""

    __tablename__ = "evaluation_report"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    status: str = Field(default="draft", max_length=16)  # draft | published
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    basic_guarantee: str | None = Field(default=None, sa_column=Column(Text))
    remarks: str | None = Field(default=None, sa_column=Column(Text))
    advice: str | None = Field(default=None, sa_column=Column(Text))  # Art. 41 改进意见
    drafted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by: str | None = Field(default=None, max_length=64)
    html: str | None = Field(default=None, sa_column=Column(Text))


class DraftResult(BaseModel):
    year: int
    status: str
    refreshed: bool  # False: the year is already published and was left alone
    center_code: str = ""  # who hears of the draft
