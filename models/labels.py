"""The Chinese label of every coded value staff may see, from one place: ``zh(kind, value)``.

The labels themselves stay where each process defines its values (ACTION_ZH, SHARE_ATTRIBUTES, the
step rules…); this module registers them by kind, adds the few that had no home, and is what the
service's presenters and the notice templates ask. A test checks that every value of every kind has
a Chinese label and that no raw code reaches a rendered text (tests/test_texts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.access import VERDICT_ZH
from models.cases import ACTION_ZH, LEVEL_ZH
from models.catalog import (
    ELEMENT_ZH,
    FORBIDDEN_GROUNDS,
    OPEN_ATTRIBUTES,
    SHARE_ATTRIBUTES,
    UPDATE_FREQUENCIES,
)
from models.correction import OUTCOMES as CORRECTION_OUTCOMES
from models.departments import ROLE_ZH, DeptKind
from models.dispute import SHARE_OUTCOMES
from models.open_data import ACCESS_MODES, ACCESS_WAYS, ID_TYPES, SECRECY_CONCLUSIONS
from models.processes import CASE_TYPE_ZH
from models.rectification import FAILINGS as RECTIFICATION_FAILINGS
from models.rectification import FINDINGS as RECTIFICATION_FINDINGS
from models.rectification import OUTCOMES as RECTIFICATION_OUTCOMES
from models.review import OUTCOMES as REVIEW_OUTCOMES
from models.review import REVIEW_KINDS
from models.share import GRANT_STATUS_ZH, SHARE_MODES
from models.steps import STEP_RULES

# Kinds of department (Art. 4, 20, 28): who a department is in the measures.
DEPT_KIND_ZH = {
    "center": "县大数据管理中心",
    "department": "公共管理和服务机构",
    "county_gov": "县人民政府",
    "city_bureau": "市大数据发展管理局",
    "expert_committee": "专家委员会",
    "bureau": "县大数据发展管理局",
}

KINDS: dict[str, Mapping[Any, str]] = {
    "action": ACTION_ZH,
    "case_type": CASE_TYPE_ZH,
    "step": {key: rule.zh for key, rule in STEP_RULES.items()},
    # The ladder's level as PdwEscalation carries it; 0 (no rung reached) has no label.
    "level": LEVEL_ZH,
    # A notice's rung: 0 is the 待办 sent when a step starts.
    "rung": {0: "待办", **LEVEL_ZH},
    # Art. 43's registered roles, and the public who applied, asked or objected (issue 12).
    "role": {**{role.value: label for role, label in ROLE_ZH.items()}, "applicant": "申请人"},
    "dept_kind": {kind.value: DEPT_KIND_ZH.get(kind.value, "") for kind in DeptKind},
    "share_attribute": SHARE_ATTRIBUTES,
    "open_attribute": OPEN_ATTRIBUTES,
    # Art. 29 ¶1: the ground forbidden data was classed on, cited as （三）涉及商业秘密、个人隐私的.
    "forbidden_ground": FORBIDDEN_GROUNDS,
    "update_frequency": UPDATE_FREQUENCIES,
    "element": ELEMENT_ZH,
    "share_mode": SHARE_MODES,
    "access_way": ACCESS_WAYS,
    "access_mode": ACCESS_MODES,
    "id_type": ID_TYPES,
    "share_outcome": {"granted": "同意共享", "refused": "不予共享"},
    "grant_status": GRANT_STATUS_ZH,  # Art. 22
    "access_verdict": VERDICT_ZH,  # Art. 22, 25: a read of shared data against its grant
    "correction_outcome": CORRECTION_OUTCOMES,
    "dispute_outcome": {**SHARE_OUTCOMES, **OPEN_ATTRIBUTES},
    "dispute_kind": {"share": "共享争议", "open_attribute": "开放属性争议"},
    "decided_by": {"center": "县大数据管理中心", "county_gov": "县人民政府"},
    "listing_answer": {"listed": "列入开放目录", "declined": "不列入开放目录"},
    # Art. 32: the center's answer to each objection; Art. 28 ¶3: the source's answer to its proposal.
    "objection_answer": {"upheld": "维持数源部门答复", "suggested": "建议数源部门列入开放目录",
                         "resolved": "随案件结果答复"},
    "proposal_answer": {"accepted": "采纳", "rejected": "不采纳"},
    "secrecy_conclusion": SECRECY_CONCLUSIONS,
    "notice_status": {"sent": "已送达", "pending": "待送达", "failed": "送达失败", "not_sent": "未发送（无可用渠道）"},
    "channel": {"log": "系统记录", "email": "电子邮件", "webhook": "工作群机器人", "sms": "短信"},
    "party": {"center": "县大数据管理中心", "source": "数源部门"},
    # Art. 19, 28 ¶4, 30 ¶2: what a periodic review is, and how the department answered it.
    "review_kind": REVIEW_KINDS,
    "review_outcome": REVIEW_OUTCOMES,
    # Art. 46 (一)–(八), the outcome of a rectification case and the center's finding on a report.
    "rectification_failing": {code: f"（{code}）{text}" for code, text in RECTIFICATION_FAILINGS.items()},
    "rectification_outcome": RECTIFICATION_OUTCOMES,
    "rectification_finding": RECTIFICATION_FINDINGS,
}


def zh(kind: str, value: Any, default: str | None = None) -> str:
    """The Chinese label of ``value`` of ``kind``; ``default`` (else the value itself) when it has none.

    An unknown kind is a programming error and raises KeyError.
    """
    labels = KINDS[kind]
    if value is None:
        return default if default is not None else ""
    found = labels.get(value)
    if found is None and not isinstance(value, str):
        found = labels.get(str(value))
    if found is None and isinstance(value, str) and value.isdigit():
        found = labels.get(int(value))
    if found:
        return found
    return default if default is not None else str(value)


def labelled(row: Mapping[str, Any], **kinds: str) -> dict[str, Any]:
    """``row`` with ``<field>_zh`` beside each field named, labelled by its kind (a list: joined by 、)."""
    out = dict(row)
    for field, kind in kinds.items():
        value = row.get(field)
        if isinstance(value, list):
            out[f"{field}_zh"] = "、".join(zh(kind, v) for v in value)
        elif value is not None:
            out[f"{field}_zh"] = zh(kind, value)
    return out
