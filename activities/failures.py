"""Bad data fails an activity at once, in Chinese, instead of being retried for ever.

A ``StoreError`` (bad input found against the records) or a database refusing a row (a NUL byte,
a value too long, a constraint broken) will fail every retry alike. The worker's interceptor turns
each into a non-retryable ``ApplicationError`` of type ``BadData`` with a Chinese message; the
workflow's ``run_activity`` then marks the case stuck (``PdwStuck``) for a person to look at. The
database's own message (with the row's values, perhaps an applicant's) goes to the worker's log,
not into the case's history."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.exc import DataError, IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.store import StoreError

BAD_DATA = "BadData"  # workflows/deadline.py knows it by this type
REFUSALS = ("BadInput", "Forbidden", "NotFound")  # what a person asked for was refused: no fault
log = structlog.get_logger("pdw.activities")


def bad_data(err: Exception) -> ApplicationError | None:
    """The Chinese, non-retryable failure for ``err``, or None when a retry may yet succeed."""
    if isinstance(err, StoreError):
        return ApplicationError(str(err), type=BAD_DATA, non_retryable=True)
    if isinstance(err, DataError):
        return ApplicationError("数据库拒绝保存本案的数据：含不能保存的字符（如 NUL）或超出字段长度，须人工核查",
                                type=BAD_DATA, non_retryable=True)
    if isinstance(err, IntegrityError):
        return ApplicationError("数据库拒绝保存本案的数据：违反数据约束（重复、缺少关联记录或必填项为空），须人工核查",
                                type=BAD_DATA, non_retryable=True)
    return None


class _BadDataInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except ApplicationError as err:
            if err.type in REFUSALS and err.category != ApplicationErrorCategory.BENIGN:
                # A refusal of bad input is an answer, not a fault: the SDK logs a benign failure at
                # DEBUG, without the traceback that would otherwise fill the worker's console.
                raise ApplicationError(err.message, *err.details, type=err.type, non_retryable=err.non_retryable,
                                       category=ApplicationErrorCategory.BENIGN) from None
            raise  # already says what it means
        except Exception as err:
            failure = bad_data(err)
            if failure is None:
                raise
            info = activity.info()
            log.error("activity_bad_data", activity=info.activity_type, workflow_id=info.workflow_id,
                      error=type(err).__name__, detail=str(err)[:500])
            raise failure from None  # not from err: its text would carry the row into history


class BadDataInterceptor(Interceptor):
    """Registered on every worker (worker.py ``build_worker``)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BadDataInbound(next)
