"""What every case shows supervisors: search attributes and Chinese current details (DESIGN.md §6),
and the activity options every workflow uses."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from models import search
    from models.calendar import Deadline
    from models.cases import LEVEL_URGED, LEVEL_ZH

# Store activities are quick; a database that is down is retried, bad input is not (non_retryable).
ACTIVITY = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1)),
}
OVERDUE = "overdue"


def due_zh(deadline: Deadline) -> str:
    d = deadline.due_date
    kind = "法定" if deadline.statutory else "本地默认"
    provisional = "，暂定" if deadline.provisional else ""
    return f"{d.year}年{d.month}月{d.day}日24时（{deadline.article}，{kind}期限{provisional}）"


class CaseView:
    """Keeps a case's search attributes and current details saying where it stands."""

    def show_waiting(
        self, *, status: str, awaiting: str, deadline: Deadline, level: int, what_zh: str
    ) -> None:
        """The case waits on ``awaiting`` until ``deadline``; past due its status reads ``overdue``."""
        workflow.upsert_search_attributes(
            [
                search.STATUS.value_set(OVERDUE if level >= LEVEL_URGED else status),
                search.AWAITING.value_set(awaiting),
                search.DUE_AT.value_set(deadline.due_at),
                search.ESCALATION.value_set(level),
                search.PROVISIONAL_DUE.value_set(deadline.provisional),
            ]
        )
        flag = f"【{LEVEL_ZH[level]}】" if level else ""
        workflow.set_current_details(f"{flag}等待{what_zh}，期限 {due_zh(deadline)}")

    def show_closed(self, *, status: str, text_zh: str) -> None:
        updates: list[SearchAttributeUpdate] = [  # type: ignore[type-arg]
            search.STATUS.value_set(status),
            search.AWAITING.value_unset(),
            search.DUE_AT.value_unset(),
            search.ESCALATION.value_set(0),
        ]
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(text_zh)
