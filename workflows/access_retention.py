"""Started daily by the ``pdw-access-log-retention`` Schedule: reads of shared data and refresh events
older than PDW_ACCESS_LOG_RETENTION_DAYS go (Art. 25; 网络安全法 第二十一条: kept at least six months),
never the reads an open misuse case rests on (Art. 22)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.access import purge_access_log
    from models.access import RetentionResult


@workflow.defn(name="AccessLogRetention")
class AccessLogRetentionWorkflow:
    @workflow.run
    async def run(self) -> RetentionResult:
        # The workflow's time, not the activity's clock: what "today" is stays in the history.
        return await workflow.execute_activity(purge_access_log, workflow.now(),
                                               start_to_close_timeout=timedelta(minutes=10),
                                               retry_policy=RetryPolicy(maximum_attempts=5))
