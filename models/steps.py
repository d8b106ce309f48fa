"""Every step a case waits on, with its time limit and the article it comes from.

Statutory limits are fixed by the measures; the others are local defaults the measures do not set
(PROCESSES.md, Time), which a deployment may change through ``PDW_LOCAL_DEADLINE_DAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepRule:
    key: str
    zh: str
    working_days: int
    statutory: bool
    article: str


STEP_RULES: dict[str, StepRule] = {
    rule.key: rule
    for rule in (
        # Art. 11 ¶2: update the catalog within 5 working days of an element changing.
        StepRule("catalog_update.submit", "部门更新目录条目", 5, True, "第十一条"),
        # Art. 11 ¶1: the center supervises and reviews; the measures set no time (local default).
        StepRule("catalog_update.review", "大数据管理中心审核目录更新", 5, False, "第十一条"),
    )
}


def step_rule(key: str) -> StepRule:
    return STEP_RULES[key]
