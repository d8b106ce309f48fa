"""pdw's settings: one class, read from PDW_* environment variables (DESIGN.md, Interfaces)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class HookKey(BaseModel):
    """A calling system's key: its secret, the departments it may act for and, optionally, the
    only routes it may use (process routes such as "share", and "decide", "read")."""

    secret: str
    departments: list[str] = Field(default_factory=list)
    actions: list[str] | None = None


class CodecKey(BaseModel):
    """One payload-encryption key: base64 of 32 bytes for AES-256-GCM, 16 bytes for SM4-GCM."""

    key: str
    cipher: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PDW_", extra="ignore")

    database_url: str | None = None
    temporal_address: str = "127.0.0.1:7233"
    namespace: str = "default"
    # How long Temporal keeps a closed case's workflow (pdw setup sets it on the namespace): pdw show
    # and the lists read the case projection in the database, which keeps closed cases for good.
    namespace_retention_days: int = Field(default=30, ge=1)
    task_queue: str = "pdw"
    home: Path = Path("./.pdw")
    ui_port: int = 8233
    ui_base_url: str | None = None
    # How many working days before a deadline the warning (预警) goes out.
    warn_working_days: int = 1
    # How many working days after the deadline the case is escalated (督办) to leaders.
    escalate_after_working_days: int = 1
    # Local defaults for the steps the measures give no time for, by step key: {"catalog_update.review": 5}.
    local_deadline_days: dict[str, int] = Field(default_factory=dict)
    # Art. 11: after the center returns a catalog update, the department has what remains of its 5
    # working days, but never fewer than this (a local period beyond what remained).
    returned_min_working_days: int = 2
    # Notices (issue 5): the outbox always; these channels too ("log", "email", "webhook").
    notice_channels: list[str] = Field(default_factory=lambda: ["log"])
    # Who hears of each ladder rung, by level (0 待办 when a step starts, 1 预警, 2 催办, 3 督办), as
    # Art. 43 roles; escalation also reaches the first responsible person of the center (or, for a
    # dispute, the county government).
    notice_roles: dict[int, list[str]] = Field(
        default_factory=lambda: {0: ["daily_admin"], 1: ["daily_admin"], 2: ["leader_in_charge"],
                                 3: ["first_responsible"]}
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "pdw@localhost"
    webhook_url: str | None = None  # a DingTalk-style custom robot: https://…/robot/send?access_token=…
    webhook_secret: str | None = None  # 加签 secret
    digest_cron: str = "30 8 * * *"  # leaders' daily digest, Asia/Shanghai, sent on working days
    # Art. 22: each grantee hears this many working days before a grant expires, once, with how to
    # renew it; the pdw-grant-expiry Schedule looks daily (Asia/Shanghai).
    grant_expiry_notice_working_days: int = 10
    grant_expiry_cron: str = "0 9 * * *"
    # Recurring reviews (Asia/Shanghai): data outside the open scope yearly (Art. 28 ¶4), restricted-open
    # data twice a year (Art. 30 ¶2), shared data's freshness against its 更新频度 daily (Art. 19); an
    # entry is checked only this many days after its first refresh event arrived (day one opens nothing).
    open_scope_review_cron: str = "0 9 10 3 *"
    restricted_open_review_cron: str = "0 9 10 3,9 *"
    freshness_check_cron: str = "0 7 * * *"
    freshness_grace_days: int = 30
    # Art. 41: the pdw-evaluation-report Schedule drafts the previous year's evaluation report
    # (Asia/Shanghai; default 9:00 on 5 January) and tells the center.
    evaluation_cron: str = "0 9 5 1 *"
    # Art. 25: reads of shared data and refresh events are kept this many days (网络安全法 第二十一条:
    # network logs at least six months, so below 183 is refused at start); the daily
    # pdw-access-log-retention Schedule deletes older ones, never those an open misuse case rests on.
    access_log_retention_days: int = 365
    access_log_retention_cron: str = "30 3 * * *"
    # The API: each calling system's key id with its secret and the departments it is bound to;
    # signed requests older than the window are refused.
    hook_keys: dict[str, HookKey] = Field(default_factory=dict)
    hook_host: str = "127.0.0.1"
    hook_port: int = 8000
    hook_window_seconds: int = 300
    # People's personal tokens expire after this many days unless issued for fewer.
    token_days: int = 90
    # Art. 32: public requests for a dataset not in the open catalog that start the source's review.
    open_request_threshold: int = 5
    # Art. 32 counts people: the secret of the keyed hash (HMAC-SHA256) of a requester's identity
    # number. Every API replica needs the same one, kept apart from the database; never change it
    # while requests are being counted. Unset: $PDW_HOME/person-key, written on first use (dev).
    person_key: str | None = None
    # The public routes (issue 12): requests per client address and window, counted in the database
    # so API replicas share them; receipt reads are counted apart. Behind a proxy, the header it
    # sets with the client's address (e.g. "X-Forwarded-For": its first address is taken).
    public_rate_limit: int = 20
    receipt_rate_limit: int = 60
    public_rate_window_seconds: int = 60
    public_client_header: str | None = None
    # Applicants' SMS notices: a gateway webhook taking a JSON POST {"mobile", "text"}; signed with
    # X-Pdw-Timestamp / X-Pdw-Signature (HMAC-SHA256) when a secret is set. Unset: no SMS is sent.
    sms_url: str | None = None
    sms_secret: str | None = None
    # 个人信息保护法: days after a case closed that applicants' names, identity numbers and contacts
    # are kept, per kind; then the daily purge (pdw-applicants-purge) erases them.
    retention_application_days: int = 180
    retention_request_days: int = 180
    retention_objection_days: int = 180
    purge_cron: str = "0 3 * * *"  # Asia/Shanghai
    log_level: str = "INFO"
    # The worker (docs/operations.md, Scaling workers): cases kept in memory between their tasks, about
    # 0.4 MB each (bench/README.md: RSS 614 MB with 1,000 cached, 227 MB with 100); an evicted case
    # replays its history on its next task. Activities at once, each on a thread of a pool of this size
    # (they wait on the database, whose pool is 10 per process). Workflow tasks at once (CPU-bound,
    # under one GIL: more buys nothing on one process).
    worker_max_cached_workflows: int = 250
    worker_max_concurrent_activities: int = 16
    worker_max_concurrent_workflow_tasks: int = 50
    # One JSON object per line (for the log collector) or coloured lines for a person; "auto": JSON
    # unless stderr is a terminal.
    log_format: Literal["auto", "json", "console"] = "auto"
    # mTLS to the Temporal frontend (docs/operations.md, TLS): PEM files of this process's client
    # certificate and key and of the CA that signed the server's; unset, plain gRPC (dev).
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls_server_name: str | None = None  # when the address is not a name in the server's certificate
    # Prometheus metrics: the worker's Temporal SDK metrics on this address ("0.0.0.0:9464"; unset: none);
    # the API's /metrics answers loopback callers only unless metrics_open (behind the proxy's access rule).
    worker_metrics_address: str | None = None
    metrics_open: bool = False
    # Payload encryption (codec.py, docs/operations.md): every key still needed to read old
    # histories, by id; new payloads use codec_key_id (or the only key). Empty: the key file
    # $PDW_HOME/codec-keys.json that pdw dev / pdw setup write for a dev machine.
    codec_keys: dict[str, CodecKey] = Field(default_factory=dict)
    codec_key_id: str | None = None
    # Who may call the API's /codec endpoint (the Temporal UI's remote codec): "loopback" (dev),
    # "open" (production, behind the UI's own authentication), "off".
    codec_endpoint: Literal["loopback", "open", "off"] = "loopback"

    @field_validator("worker_max_cached_workflows", "worker_max_concurrent_activities",
                     "worker_max_concurrent_workflow_tasks")
    @classmethod
    def _worker_limits(cls, value: int, info: ValidationInfo) -> int:
        # The SDK needs two workflow-task slots when workflows are cached (one for a query's task).
        name = info.field_name or ""
        label, least = {"worker_max_cached_workflows": ("工作进程缓存的案件数", 0),
                        "worker_max_concurrent_activities": ("同时执行的活动数", 1)}.get(name, ("同时执行的工作流任务数", 2))
        if value < least:
            raise ValueError(f"PDW_{name.upper()}（{label}）为 {value}，不能小于 {least}")
        return value

    @field_validator("worker_metrics_address")
    @classmethod
    def _host_and_port(cls, address: str | None) -> str | None:
        host, _, port = (address or "").rpartition(":")
        if address is not None and not (host and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"PDW_WORKER_METRICS_ADDRESS（指标地址）为“{address}”：须为 主机:端口，如 0.0.0.0:9464")
        return address

    @field_validator("access_log_retention_days")
    @classmethod
    def _six_months_at_least(cls, days: int) -> int:
        if days < 183:
            raise ValueError(f"PDW_ACCESS_LOG_RETENTION_DAYS（读取记录保存天数）为 {days}，不能少于 183 天："
                             "网络日志留存不少于六个月（《网络安全法》第二十一条）")
        return days

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL as SQLAlchemy wants it: psycopg 3 for PostgreSQL, a file under home otherwise."""
        url = self.database_url or f"sqlite:///{(self.home / 'pdw.db').resolve()}"
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def ui_url(self) -> str:
        return self.ui_base_url or f"http://127.0.0.1:{self.ui_port}"


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as err:  # a refused PDW_* value: one line at start, not a traceback
        raise SystemExit("错误：" + "；".join(_refusal_zh(e) for e in err.errors())) from err


# Pydantic's own refusals, said in Chinese (our validators' messages are Chinese already).
RULES_ZH = {"greater_than_equal": "须不小于 {ge}", "greater_than": "须大于 {gt}", "less_than_equal": "须不大于 {le}",
            "int_parsing": "须为整数", "int_type": "须为整数", "bool_parsing": "须为 true 或 false",
            "literal_error": "须为 {expected} 之一", "json_invalid": "须为合法的 JSON"}


def _refusal_zh(e: Any) -> str:
    ctx = e.get("ctx") or {}
    if ctx.get("error"):
        return str(ctx["error"])
    rule = RULES_ZH.get(e["type"], "").format(**{k: str(v).replace(" or ", ", ") for k, v in ctx.items()}) or e["msg"]
    return f"PDW_{'_'.join(map(str, e['loc'])).upper()}：{rule}（当前值：{str(e.get('input'))[:40]}）"
