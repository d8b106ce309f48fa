"""The one error the service layer raises: a kind the API maps to a status, and a Chinese line for
staff naming the field and the rule."""

from __future__ import annotations

from enum import StrEnum

from temporalio.service import RPCError, RPCStatusCode


class Kind(StrEnum):
    bad_input = "bad_input"
    unauthenticated = "unauthenticated"
    forbidden = "forbidden"
    not_found = "not_found"
    conflict = "conflict"
    reused_key = "reused_key"  # an Idempotency-Key sent again with another request
    unavailable = "unavailable"
    rate_limited = "rate_limited"  # too many requests from one client: 429 with Retry-After


class ServiceError(Exception):
    def __init__(self, kind: Kind, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.field = kind, message, field


def bad_input(message: str, field: str | None = None) -> ServiceError:
    return ServiceError(Kind.bad_input, message, field)


def forbidden(message: str) -> ServiceError:
    return ServiceError(Kind.forbidden, message)


def not_found(message: str) -> ServiceError:
    return ServiceError(Kind.not_found, message)


def conflict(message: str) -> ServiceError:
    return ServiceError(Kind.conflict, message)


def unavailable(message: str) -> ServiceError:
    return ServiceError(Kind.unavailable, message)


class RateLimited(ServiceError):
    """Over a public route's limit: the caller may try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(Kind.rate_limited, message)
        self.retry_after = retry_after


def temporal_cause_zh(err: RPCError) -> str:
    """Why Temporal did not answer, for staff: in Chinese, not the transport's English (the API's log
    keeps that: the error is raised from ``err``)."""
    if err.status == RPCStatusCode.UNAVAILABLE or "connect" in err.message.lower():
        return "连接不上 Temporal 服务（是否在运行？），请稍后再试"
    if err.status == RPCStatusCode.UNIMPLEMENTED:  # e.g. listing, on a server without its visibility store
        return "该 Temporal 服务不支持这一查询（UNIMPLEMENTED）"
    return f"Temporal 返回错误（{err.status.name if err.status else '未知'}），请稍后再试或联系管理员"
