"""The pdw worker: every workflow and activity on one task queue (DESIGN.md, Layout)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities import (
    access,
    applicants,
    calendar,
    calendar_change,
    cases,
    catalog,
    catalog_register,
    correction,
    dispute,
    evaluation,
    grants,
    notices,
    open_data,
    projection,
    rectification,
    review,
    share,
    transfer,
)
from activities.failures import BadDataInterceptor
from codec import CodecConfigError
from logs import configure_logging
from runtime import TlsSettingError, connect, exit_now, tls_config
from settings import Settings, get_settings
from workflows.access_retention import AccessLogRetentionWorkflow
from workflows.applicants import ApplicantsPurgeWorkflow
from workflows.calendar_change import CalendarChangeWorkflow
from workflows.catalog_register import CatalogRegistrationWorkflow
from workflows.catalog_update import CatalogUpdateWorkflow
from workflows.correction import DataCorrectionWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.evaluation import EvaluationDraftWorkflow
from workflows.grant_expiry import GrantExpiryWorkflow
from workflows.misuse import MisuseReviewWorkflow
from workflows.notice_delivery import DailyDigestWorkflow, NoticeDeliveryWorkflow
from workflows.open_listing import OpenListingReviewWorkflow
from workflows.open_review import RestrictedOpenReviewWorkflow
from workflows.rectification import RectificationWorkflow
from workflows.review import PeriodicReviewWorkflow
from workflows.review_round import FreshnessCheckRound, OpenScopeReviewRound, RestrictedOpenReviewRound
from workflows.share import ShareApprovalWorkflow

WORKFLOWS = [
    CatalogUpdateWorkflow,
    CatalogRegistrationWorkflow,
    ShareApprovalWorkflow,
    DisputeWorkflow,
    DataCorrectionWorkflow,
    RestrictedOpenReviewWorkflow,
    OpenListingReviewWorkflow,
    NoticeDeliveryWorkflow,
    DailyDigestWorkflow,
    CalendarChangeWorkflow,
    ApplicantsPurgeWorkflow,
    GrantExpiryWorkflow,
    EvaluationDraftWorkflow,
    MisuseReviewWorkflow,  # Art. 22
    AccessLogRetentionWorkflow,  # Art. 25
    RectificationWorkflow,  # Art. 46
    PeriodicReviewWorkflow,  # Art. 19, 28 ¶4, 30 ¶2
    OpenScopeReviewRound,
    RestrictedOpenReviewRound,
    FreshnessCheckRound,
]
ACTIVITIES: list[Callable[..., Any]] = [
    calendar.compute_deadline,
    calendar.extend_deadline,
    calendar.recompute_deadlines,
    calendar.count_working_days,
    calendar_change.tell_running_cases,
    correction.open_correction_case,
    correction.update_correction_case,
    cases.verify_actor,
    cases.record_decision,
    cases.record_deadline_miss,
    catalog.open_catalog_update_case,
    catalog.check_catalog_elements,
    catalog.update_catalog_case,
    catalog.publish_catalog_changes,
    catalog_register.open_catalog_registration,
    catalog_register.update_catalog_registration,
    catalog_register.publish_new_entry,
    transfer.check_transfer,
    transfer.record_transfer,
    share.open_share_case,
    share.write_grant,
    share.grant_and_close,  # the grant, the closing and (pdw-2026.12.3) the requester's notice in one (issue 14)
    share.close_share_case,
    share.record_provision,
    dispute.open_dispute_case,
    dispute.close_dispute_case,
    open_data.open_open_application,
    open_data.open_listing_review,
    open_data.update_open_case,
    open_data.save_listing_objection,
    notices.send_ladder_notice,
    notices.open_step,  # a step's deadline and 待办 in one (issue 14)
    notices.send_case_notice,
    notices.deliver_notice,
    notices.mark_notice_failed,
    notices.daily_digest,
    applicants.tell_applicants,
    applicants.purge_applicants_daily,
    grants.send_grant_expiry_notices,
    evaluation.draft_evaluation_report,
    access.open_misuse_case,  # Art. 22, 25
    access.revoke_misused_grants,
    access.close_misuse_case,
    access.purge_access_log,
    rectification.open_rectification_case,  # Art. 46
    rectification.update_rectification_case,
    review.plan_review_round,  # Art. 19, 28 ¶4, 30 ¶2
    review.open_review_case,
    review.update_review_case,
    review.missing_refreshes,
    review.new_catalog_case_id,
    review.reserve_catalog_update,
    projection.project_case,  # the case projection (issue 14)
]

log = structlog.get_logger("pdw.worker")


def build_worker(client: Client, task_queue: str, executor: ThreadPoolExecutor,
                 max_cached_workflows: int | None = None) -> Worker:
    """``max_cached_workflows``: the setting's unless given (tests that move a case between workers
    keep none: the time-skipping server never moves a task off a gone worker's sticky queue)."""
    settings = get_settings()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        activity_executor=executor,
        # The cases run outside the SDK's sandbox: it re-imports a workflow's modules for every new
        # case and compiles a statement for every payload's serialization context, ~20 % of the
        # worker's CPU (bench/README.md). Determinism is guarded instead by replaying inside the
        # sandbox every case the workflow tests ran (tests/conftest.py, ``env``) and every released
        # version's histories (tests/test_replay.py), and by workflow code changing nothing that
        # runs could share (tests/test_layout.py). docs/operations.md, Upgrading pdw while cases run.
        workflow_runner=UnsandboxedWorkflowRunner(),
        # docs/operations.md, Scaling workers: the executor has a thread per activity slot (run_worker).
        max_cached_workflows=settings.worker_max_cached_workflows if max_cached_workflows is None
        else max_cached_workflows,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        interceptors=[BadDataInterceptor()],  # bad data fails at once, in Chinese (activities/failures.py)
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; in-flight activities finish before the worker returns."""
    client = await connect(settings, metrics_address=settings.worker_metrics_address)
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as executor:
        worker = build_worker(client, settings.task_queue, executor)
        log.info("worker_started", task_queue=settings.task_queue, address=settings.temporal_address)
        async with worker:
            await stop.wait()
        log.info("worker_stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        tls_config(settings)  # a certificate file that cannot be read: one line at start
    except TlsSettingError as err:
        print(f"错误：{err}", file=sys.stderr)
        exit_now(1)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    try:
        asyncio.run(_main())
    except CodecConfigError as err:  # no keys, or bad ones: say which, in one line
        print(f"错误：{err}", file=sys.stderr)
        exit_now(1)
    except ValueError as err:  # the SDK's Prometheus exporter could not start (the port taken…)
        if "Prometheus" not in str(err):
            raise
        print(f"错误：PDW_WORKER_METRICS_ADDRESS（{settings.worker_metrics_address}）无法监听：该地址已被占用或本机没有"
              f"（SDK：{err}）", file=sys.stderr)
        exit_now(1)
    except RuntimeError as err:  # Temporal not reachable: one line, not a traceback
        log.error("worker_cannot_connect", address=settings.temporal_address, error=str(err))
        print(f"错误：无法连接 Temporal 服务 {settings.temporal_address}：请检查 PDW_TEMPORAL_ADDRESS", file=sys.stderr)
        exit_now(1)
    exit_now(0)


if __name__ == "__main__":
    main()
