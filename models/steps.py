"""Every step a case waits on, with its time limit and the article it comes from.

Statutory limits are fixed by the measures; the others are local defaults the measures do not set
(PROCESSES.md, Time), which a deployment may change through ``PDW_LOCAL_DEADLINE_DAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepRule:
    key: str
    zh: str  # what is owed, without who owes it: texts put the department before it
    working_days: int
    statutory: bool
    article: str


STEP_RULES: dict[str, StepRule] = {
    rule.key: rule
    for rule in (
        # Art. 11 ¶2: update the catalog within 5 working days of an element changing.
        StepRule("catalog_update.submit", "更新目录条目", 5, True, "第十一条"),
        # Art. 11 ¶1: the center supervises and reviews; the measures set no time (local default).
        StepRule("catalog_update.review", "审核目录更新", 5, False, "第十一条"),
        # Art. 10–11: a new entry — the center reviews it (审核), the department revises what the center
        # returned; the measures set no time for either (local defaults).
        StepRule("catalog_register.review", "审核新编目录条目", 5, False, "第十一条"),
        StepRule("catalog_register.revise", "修改退回的新编目录条目", 5, False, "第十一条"),
        # Art. 20 ¶1: collected data — the center approves; restricted data jointly with the source.
        StepRule("share.center_review", "审批共享申请", 5, False, "第二十条"),
        StepRule("share.source_review", "联合审批共享申请", 5, False, "第二十条"),
        # Art. 20 ¶1: data not yet collected — the source replies within 7 working days.
        StepRule("share.source_reply", "答复未归集数据的共享申请", 7, True, "第二十条"),
        # Art. 15, 17: non-shared data only desensitised, and only if the source agrees.
        StepRule("share.nonshared_review", "审查不予共享类数据可否脱敏提供", 5, False, "第十七条"),
        # Art. 21: batch mode needs the center's and the source's review.
        StepRule("share.batch_center_review", "审核批量共享", 5, False, "第二十一条"),
        StepRule("share.batch_source_review", "审核批量共享", 5, False, "第二十一条"),
        # Art. 20 ¶2: after a refusal, how long either department may still ask for coordination.
        StepRule("share.dispute_window", "对拒绝共享申请协调的期间", 10, False, "第二十条"),
        # Art. 20 ¶1: data not yet collected — agreeing means providing it through the sharing
        # system; the measures set no time for providing (local default).
        StepRule("share.provision", "提供未归集的数据", 10, False, "第二十条"),
        # Art. 20 ¶2: the center coordinates; if that fails, the county government decides.
        StepRule("dispute.coordinate", "协调共享争议", 10, False, "第二十条"),
        StepRule("dispute.county_decision", "决定共享争议", 15, False, "第二十条"),
        # Art. 20 ¶2: coordination succeeds only when both departments agree to the center's
        # proposal, each under its own local deadline (silence is not consent); coordination that
        # fails, or that a department asks to end (local rule), the center reports to the county.
        StepRule("dispute.requester_agreement", "确认是否同意协调意见（使用部门）", 5, False, "第二十条"),
        StepRule("dispute.source_agreement", "确认是否同意协调意见（数源部门）", 5, False, "第二十条"),
        StepRule("dispute.report", "将协调未成的争议报请县人民政府决定", 3, False, "第二十条"),
        # Art. 28 ¶3: a disputed open attribute — the expert committee's opinion, then the county decides.
        StepRule("dispute.expert_opinion", "对开放属性争议提出意见", 10, False, "第二十八条"),
        StepRule("dispute.open_county_decision", "决定开放属性", 15, False, "第二十八条"),
        # Art. 23: an error report goes through the center to the source, which verifies it within
        # 5 working days of receipt (its head may extend by at most 15).
        StepRule("correction.forward", "转交纠错反馈", 2, False, "第二十三条"),
        StepRule("correction.verify", "校核数据", 5, True, "第二十三条"),
        # Art. 28 ¶2: restricted-open data — the center reviews and reports to the city bureau.
        StepRule("open.center_review", "审核受限开放申请并报市大数据发展管理局", 5, False, "第二十八条"),
        StepRule("open.city_review", "审核受限开放申请", 10, False, "第二十八条"),
        # Art. 32: the source reviews data the public often asks for; an objection to its answer is
        # reviewed by the center within 3 working days.
        StepRule("open.listing_review", "审核是否列入开放目录", 10, False, "第三十二条"),
        StepRule("open.objection_window", "对数源部门答复提出复核申请的期间", 15, False, "第三十二条"),
        StepRule("open.objection_review", "复核数源部门的答复", 3, True, "第三十二条"),
        # Art. 28 ¶3: the center may only propose another open attribute; the source answers the
        # proposal (local default: the measures set no time); silence is not consent.
        StepRule("open.proposal_answer", "答复县大数据管理中心的开放属性修改建议", 5, False, "第二十八条"),
        # Art. 27: the center, 会同 the source, keeps the open catalog: it confirms a listing
        # (after the source's own 保密审查, Art. 39) before the open attribute is published.
        StepRule("open.listing_confirm", "会同确认列入开放目录", 5, False, "第二十七条"),
        # Art. 39: after the county decides to list (Art. 28 ¶3), the source's own 保密审查 record.
        StepRule("open.secrecy_record", "报送保密审查记录", 5, False, "第三十九条"),
        # Art. 28 ¶4, 30 ¶2, 19: the source answers a periodic review; the measures set no time (local defaults).
        StepRule("review.open_scope_answer", "答复开放范围外数据定期评估审查", 15, False, "第二十八条第四款"),
        StepRule("review.restricted_open_answer", "答复受限开放数据定期评估", 15, False, "第三十条第二款"),
        StepRule("review.freshness_answer", "答复共享数据更新时效检查", 5, False, "第十九条"),
        # Art. 22: reads outside any grant — the center reviews the misuse case (local default).
        StepRule("misuse.review", "核查越权使用共享数据", 5, False, "第二十二条"),
        # Art. 46: the authority orders (or declines) on the center's proposal; the department corrects
        # within the period the order sets; the center checks, the authority accepts. The measures set
        # no time for any of them (local defaults; the order's period replaces correct's).
        StepRule("rectification.order", "决定是否责令改正", 10, False, "第四十六条"),
        StepRule("rectification.correct", "整改并报告整改情况", 20, False, "第四十六条"),
        StepRule("rectification.check", "核查整改情况", 5, False, "第四十六条"),
        StepRule("rectification.accept", "验收整改情况", 5, False, "第四十六条"),
    )
}


def step_rule(key: str) -> StepRule:
    return STEP_RULES[key]
