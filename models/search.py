"""The search attributes every case keeps current (DESIGN.md §6), within the dev server's limits."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_TYPE = SearchAttributeKey.for_keyword("PdwCaseType")
STATUS = SearchAttributeKey.for_keyword("PdwStatus")
AWAITING = SearchAttributeKey.for_keyword("PdwAwaiting")  # the department code whose action is awaited
DEPARTMENTS = SearchAttributeKey.for_keyword_list("PdwDepartments")
DUE_AT = SearchAttributeKey.for_datetime("PdwDueAt")
ESCALATION = SearchAttributeKey.for_int("PdwEscalation")  # 0 none, 1 warned, 2 urged, 3 escalated
PROVISIONAL_DUE = SearchAttributeKey.for_bool("PdwProvisionalDue")

ALL: list[SearchAttributeKey[Any]] = [
    CASE_TYPE, STATUS, AWAITING, DEPARTMENTS, DUE_AT, ESCALATION, PROVISIONAL_DUE,
]
