"""The search attributes every case keeps current (DESIGN.md §6), within the dev server's limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CASE_TYPE = SearchAttributeKey.for_keyword("PdwCaseType")
STATUS = SearchAttributeKey.for_keyword("PdwStatus")
AWAITING = SearchAttributeKey.for_keyword("PdwAwaiting")  # the first department awaited (the soonest due)
# Every department awaited, and each with its own ladder level ("gaj:2"): in a joint approval one may
# be late and the other not, and nobody is listed for another's delay.
AWAITING_ALL = SearchAttributeKey.for_keyword_list("PdwAwaitingAll")
AWAITING_LEVELS = SearchAttributeKey.for_keyword_list("PdwAwaitingLevels")
DEPARTMENTS = SearchAttributeKey.for_keyword_list("PdwDepartments")
DUE_AT = SearchAttributeKey.for_datetime("PdwDueAt")
ESCALATION = SearchAttributeKey.for_int("PdwEscalation")  # 0 none, 1 warned, 2 urged, 3 escalated
PROVISIONAL_DUE = SearchAttributeKey.for_bool("PdwProvisionalDue")
# An activity of the case refused for bad data or still failing after its bounded attempts
# (workflows/deadline.py run_activity): pdw stuck, the digest and the UI find it by this alone.
STUCK = SearchAttributeKey.for_bool("PdwStuck")
# In Chinese, for the Temporal UI's list, whose columns can show search attributes but not the
# summary: what the case is, and who is awaited with each one's rung ("县公安局（催办）；县大数据管理中心").
SUMMARY = SearchAttributeKey.for_keyword("PdwSummary")
AWAITING_ZH = SearchAttributeKey.for_keyword("PdwAwaitingZh")

ALL: list[SearchAttributeKey[Any]] = [
    CASE_TYPE, STATUS, AWAITING, AWAITING_ALL, AWAITING_LEVELS, DEPARTMENTS, DUE_AT, ESCALATION, PROVISIONAL_DUE,
    SUMMARY, AWAITING_ZH, STUCK,
]


def awaited_levels(values: Sequence[str] | None) -> dict[str, int]:
    """``["gaj:2", "dsj:0"]`` as ``{"gaj": 2, "dsj": 0}``."""
    out: dict[str, int] = {}
    for value in values or []:
        code, _, level = value.rpartition(":")
        if code and level.isdigit():
            out[code] = int(level)
    return out


def opening(case_type: str, summary: str, departments: Iterable[str], awaiting: str = "") -> TypedSearchAttributes:
    """What a case is listed by from its start, whoever starts it (the API or a parent workflow).
    Search attributes are not encrypted (the summary is): no personal data in them."""
    return TypedSearchAttributes([
        SearchAttributePair(CASE_TYPE, case_type), SearchAttributePair(SUMMARY, summary),
        SearchAttributePair(STATUS, "opening"), SearchAttributePair(DEPARTMENTS, sorted(departments)),
        *([SearchAttributePair(AWAITING, awaiting)] if awaiting else []),
    ])
