"""The public hears back (Art. 28 ¶2, 29, 32), and its personal data is kept no longer than needed
(个人信息保护法): the helper case workflows call to tell applicants, and the daily purge started by
the ``pdw-applicants-purge`` Schedule."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.applicants import purge_applicants_daily, tell_applicants
    from models.receipts import ApplicantNotice

from workflows.deadline import run_activity


async def tell_public(case_id: str, key: str, headline: str, text: str, article: str, *, who: str = "application",
                      objection_ref: str | None = None) -> None:
    """The applicants (requesters, objectors) of a case hear of an outcome, once per receipt and
    ``key``: the activity finds who by their receipts; the workflow never holds a contact."""
    await run_activity(tell_applicants, ApplicantNotice(
        case_id=case_id, key=key, headline=headline, text=text, article=article, who=who,
        objection_ref=objection_ref, at=workflow.now()))


async def tell_listing_answer(case_id: str, reasons: str) -> None:
    """Art. 32: the requesters hear the source's refusal, its reasons and (from the records, with the
    objection window's end already written) by when they may object to the center."""
    await tell_public(case_id, "listing.answer", "数源部门不予列入开放目录", f"理由：{reasons}", "第三十二条",
                      who="requesters")


OBJECTION_ZH = {"uphold": "复核维持数源部门答复", "suggest": "县大数据管理中心建议数源部门列入开放目录"}


async def tell_objector(case_id: str, seq: int, action: str, reasons: str, ref: str) -> None:
    """Art. 32 反馈复核结果: one objection's objector hears the center's answer to it."""
    await tell_public(case_id, f"listing.objection.{seq}", OBJECTION_ZH[action], f"理由：{reasons}", "第三十二条",
                      who="objectors", objection_ref=ref)


@workflow.defn(name="ApplicantsPurge")
class ApplicantsPurgeWorkflow:
    """Started daily by the ``pdw-applicants-purge`` Schedule: names, identity numbers and contacts
    past their retention period are erased, the masked labels kept (个人信息保护法)."""

    @workflow.run
    async def run(self) -> dict[str, int]:
        return await workflow.execute_activity(purge_applicants_daily, start_to_close_timeout=timedelta(minutes=10),
                                               retry_policy=RetryPolicy(maximum_attempts=5))
