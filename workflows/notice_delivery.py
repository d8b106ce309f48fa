"""Delivering one outbox row: the channel is retried with backoff; one that keeps failing leaves
the row marked failed (listed by ``pdw notices list --failed``), without holding up any case."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notices import daily_digest, deliver_notice, mark_notice_failed

from workflows.deadline import run_activity

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30), backoff_coefficient=2, maximum_interval=timedelta(minutes=30),
    maximum_attempts=10,  # about four hours of trying
)


@workflow.defn(name="NoticeDelivery")
class NoticeDeliveryWorkflow:
    @workflow.run
    async def run(self, notice_id: int) -> str:
        try:
            return await workflow.execute_activity(
                deliver_notice, notice_id, start_to_close_timeout=timedelta(minutes=3), retry_policy=DELIVERY_RETRY
            )
        except ActivityError:
            await run_activity(mark_notice_failed, notice_id)
            return "failed"


@workflow.defn(name="DailyDigest")
class DailyDigestWorkflow:
    """Started by the ``pdw-daily-digest`` Schedule: the leaders' list of overdue cases (Art. 41)."""

    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(daily_digest, start_to_close_timeout=timedelta(minutes=5),
                                               retry_policy=RetryPolicy(maximum_attempts=5))
