"""Started yearly by the ``pdw-evaluation-report`` Schedule (PDW_EVALUATION_CRON, January): drafts
the previous year's evaluation report (Art. 41) and tells the center, which adds its improvement
advice (改进意见) and publishes it (``pdw report publish``). A re-run refreshes a draft, never a
published report."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.calendar import SHANGHAI
    from activities.evaluation import draft_evaluation_report
    from activities.notices import send_case_notice
    from models.evaluation import DraftResult
    from models.notices import CaseNotice

# Retried until it succeeds (no maximum_attempts): a short database outage must not lose the year's draft,
# which runs once a year; the draft is idempotent, so retries at most every ten minutes are harmless.
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=10))


@workflow.defn(name="EvaluationDraft")
class EvaluationDraftWorkflow:
    @workflow.run
    async def run(self, year: int | None = None) -> DraftResult:
        # The workflow's time, not the activity's clock: which year is "last year" stays in the history.
        year = year or workflow.now().astimezone(SHANGHAI).year - 1
        result = await workflow.execute_activity(draft_evaluation_report, year,
                                                 start_to_close_timeout=timedelta(minutes=10), retry_policy=RETRY)
        if result.refreshed:
            await workflow.execute_activity(
                send_case_notice,
                # The report is no case process: CASE_TYPE_ZH has no label for it, so the label goes as is.
                CaseNotice(
                    case_id=f"evaluation-{year}", case_type="年度评估报告", key="evaluation.draft", kind="outcome",
                    dept_code=result.center_code, headline=f"{year}年度评估报告草稿已生成",
                    detail=(f"请核对各部门数字（pdw report evaluation --year {year} --out 报告.html），填写基础保障、备注"
                            f"和改进意见后由中心主要负责人或分管领导发布：pdw report publish --year {year} "
                            "--advice-file 改进意见.txt --basic-file 基础保障.txt（第四十一条：每年发布评估报告并提出改进意见）"),
                    article="第四十一条", at=workflow.now(),
                ),
                start_to_close_timeout=timedelta(minutes=2), retry_policy=RETRY,
            )
        return result
