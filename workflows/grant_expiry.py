"""Started daily by the ``pdw-grant-expiry`` Schedule: grantees hear before their grants expire
(Art. 22), a number of working days ahead (PDW_GRANT_EXPIRY_NOTICE_WORKING_DAYS)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.grants import send_grant_expiry_notices


@workflow.defn(name="GrantExpiry")
class GrantExpiryWorkflow:
    @workflow.run
    async def run(self) -> int:
        # The workflow's time, not the activity's clock: what "today" is stays in the history.
        return await workflow.execute_activity(send_grant_expiry_notices, workflow.now(),
                                               start_to_close_timeout=timedelta(minutes=5),
                                               retry_policy=RetryPolicy(maximum_attempts=5))
