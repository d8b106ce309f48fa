"""The rounds the review Schedules start (devstack.daily_schedules): each opens one review case
(workflows/review.py) per source department that owes one, once per period.

- ``pdw-open-scope-review`` (yearly): data outside the open scope, Art. 28 ¶4;
- ``pdw-restricted-open-review`` (twice a year): restricted-open data, Art. 30 ¶2;
- ``pdw-freshness-check`` (daily): shared data not refreshed within its 更新频度, Art. 19.

Idempotent: the store records one case per kind, department and period before it starts (a unique
constraint), and the case's workflow id is its case id, never reused: a repeated or retried round in
the same period opens nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.review import plan_review_round
    from models import search
    from models.review import (
        FRESHNESS,
        OPEN_SCOPE,
        RESTRICTED_OPEN,
        REVIEW_ARTICLES,
        REVIEW_KINDS,
        ReviewPlan,
        ReviewRoundInput,
        ReviewRoundResult,
    )

from workflows.review import PeriodicReviewWorkflow


async def run_round(kind: str, given: ReviewRoundInput | None) -> ReviewRoundResult:
    at = (given.at if given and given.at else None) or workflow.now()
    inp = ReviewRoundInput(kind=kind, at=at, period=given.period if given else None)
    plan: ReviewPlan = await workflow.execute_activity(
        plan_review_round, inp, start_to_close_timeout=timedelta(minutes=2),
        # Until it works: a round missed is a period's review lost (the Schedule waits for the next).
        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10)))
    result = ReviewRoundResult(kind=kind, period=plan.period)
    for case in plan.cases:
        summary = f"{REVIEW_KINDS[kind]} {case.period}（{case.dept_name}，{len(case.entries)} 项）"
        try:
            await workflow.start_child_workflow(
                PeriodicReviewWorkflow.run, case, id=case.case_id,
                # The case outlives the round, and its id is never started twice (a closed one neither).
                parent_close_policy=ParentClosePolicy.ABANDON, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=summary, static_details=f"{REVIEW_KINDS[kind]}（{REVIEW_ARTICLES[kind]}）",
                search_attributes=search.opening("review", summary, [case.dept_code], case.dept_code))
        except WorkflowAlreadyStartedError:  # an earlier run started it and was retried before it knew
            result.already.append(case.case_id)
            continue
        result.opened.append(case.case_id)
    return result


@workflow.defn(name="OpenScopeReviewRound")
class OpenScopeReviewRound:
    """Art. 28 ¶4: each department with forbidden or unopened entries reviews them yearly."""

    @workflow.run
    async def run(self, inp: ReviewRoundInput | None = None) -> ReviewRoundResult:
        return await run_round(OPEN_SCOPE, inp)


@workflow.defn(name="RestrictedOpenReviewRound")
class RestrictedOpenReviewRound:
    """Art. 30 ¶2: each department with restricted-open entries reviews them twice a year."""

    @workflow.run
    async def run(self, inp: ReviewRoundInput | None = None) -> ReviewRoundResult:
        return await run_round(RESTRICTED_OPEN, inp)


@workflow.defn(name="FreshnessCheckRound")
class FreshnessCheckRound:
    """Art. 19: each department with stale shared entries (past the grace period) answers daily at most."""

    @workflow.run
    async def run(self, inp: ReviewRoundInput | None = None) -> ReviewRoundResult:
        return await run_round(FRESHNESS, inp)
