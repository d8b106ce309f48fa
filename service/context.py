"""What every service call is handed: the settings, the Temporal client (connected on first use,
so the API answers while Temporal is down) and database work run off the event loop, with the
store's and the database's errors turned into service errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from temporalio.client import Client

from activities.store import NotFoundError, StoreError
from runtime import TlsSettingError, connect
from service.errors import Kind, ServiceError, bad_input, not_found, unavailable
from settings import Settings

T = TypeVar("T")
log = structlog.get_logger("pdw.service")


@dataclass
class Services:
    settings: Settings
    client: Client | None = None  # handed in (tests, the dev stack) or connected on first use
    _clients: dict[Any, Client] = field(default_factory=dict)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    async def temporal(self) -> Client:
        """The Temporal client; a server that is down is one line for staff, tried again next call.
        One client per event loop: the API may serve on another loop than the one that made it."""
        if self.client is not None:
            return self.client
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            try:
                self._clients[loop] = await asyncio.wait_for(connect(self.settings, patient=False), timeout=10)
            except TlsSettingError as err:  # a certificate gone or unreadable since start-up
                log.warning("temporal_tls_unusable", error=str(err))
                raise unavailable(f"Temporal 暂时无法连接：{err}") from err
            except (RuntimeError, TimeoutError, OSError) as err:
                log.warning("temporal_unavailable", address=self.settings.temporal_address, error=str(err))
                raise unavailable(
                    f"Temporal 服务 {self.settings.temporal_address} 暂时无法连接：请稍后重试，"
                    "或先运行 make dev、检查 PDW_TEMPORAL_ADDRESS"
                ) from err
        return self._clients[loop]


def store_error(err: Exception) -> ServiceError | None:
    """The service error for a store or database failure, or None if it is neither."""
    if isinstance(err, ServiceError):
        return err
    if isinstance(err, NotFoundError):
        return not_found(str(err))
    if isinstance(err, StoreError):
        return bad_input(str(err))
    if isinstance(err, ProgrammingError | OperationalError) and _not_migrated(err):
        return unavailable("数据库尚未迁移到当前版本：请先运行 pdw setup")
    if isinstance(err, DataError):  # a value the database cannot hold: bad input, whatever let it through
        return bad_input("请求中有数据库不能保存的值（如控制字符或超长文字）")
    if isinstance(err, OperationalError):
        log.warning("database_unavailable", error=type(err.orig).__name__ if err.orig else type(err).__name__)
        return unavailable("数据库暂时无法连接：请稍后重试或联系管理员")
    return None


def _not_migrated(err: Exception) -> bool:
    text = str(err).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking database work on a thread, never on the event loop."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except Exception as err:
        mapped = store_error(err)
        if mapped is None:
            raise
        raise mapped from err


def sync_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The same mapping for code that already runs on a thread."""
    try:
        return fn(*args, **kwargs)
    except Exception as err:
        mapped = store_error(err)
        if mapped is None:
            raise
        raise mapped from err


__all__ = ["Kind", "ServiceError", "Services", "db", "store_error", "sync_db"]
