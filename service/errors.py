"""The one error the service layer raises: a kind the API maps to a status, and a Chinese line for
staff naming the field and the rule."""

from __future__ import annotations

from enum import StrEnum


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
