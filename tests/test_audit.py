"""The audit log as a hash chain: rows written hold, an edited, deleted or inserted row is found by
``verify_chain`` (and by GET /v1/audit/verify and ``pdw audit verify``, the center's only), writers at
once do not fork it, and the migration chains the rows kept before it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, update
from sqlmodel import col, select

from activities.store import engine_for, record_audit, session
from models.audit import AuditEvent, AuditRecord
from models.types import utcnow
from service.audit import verify_chain
from settings import get_settings
from tests.pg import fresh_database
from tests.test_api import api, bearer, signed, tokens  # noqa: F401 - fixtures
from tests.test_commands import apdw, api_url, dev, home  # noqa: F401 - fixtures

TABLE: Any = AuditEvent.__table__  # type: ignore[attr-defined]


def write(count: int, prefix: str | None = None) -> list[AuditEvent]:
    """``count`` audit rows of a case of their own, in id order."""
    case_id = prefix or f"audit-test-{uuid.uuid4().hex[:8]}"
    for n in range(count):
        with session() as s:
            record_audit(s, AuditRecord(case_id=case_id, key=f"k{n}", event="test_event", person_id="dsj.zhouwei",
                                        at=utcnow(), detail={"n": n, "note": "测试", "nested": {"list": [1, 2.5]}}))
    with session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.id))).all())


@pytest.fixture
def rows() -> list[AuditEvent]:
    written = write(3)
    assert verify_chain()["holds"], verify_chain()["message"]
    return written


def test_rows_written_are_chained_and_the_chain_holds(rows: list[AuditEvent]) -> None:
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    again = write(1, rows[0].case_id)  # the same (case, key) again: written once, the chain unchanged
    assert len(again) == 3
    result = verify_chain()
    assert result["holds"] and result["broken"] is None and result["rows"] >= 3
    assert result["message"].startswith("审计链完整：") and result["head"] == rows[-1].row_hash


def test_a_row_edited_in_the_database_is_the_row_verify_names(rows: list[AuditEvent]) -> None:
    edited = rows[1]
    try:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == edited.id).values(detail={"n": 99}))
        result = verify_chain()
        assert not result["holds"]
        assert result["broken"] == {"id": edited.id, "case_id": edited.case_id, "event": "test_event",
                                    "why": "内容与其哈希不符：该记录被改动过"}
        assert result["message"].startswith(f"审计链已断：第一处在记录 {edited.id}（案件 {edited.case_id}，事件 test_event）")
    finally:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == edited.id).values(detail=edited.detail))
    assert verify_chain()["holds"]


def test_a_row_rehashed_after_an_edit_breaks_the_chain_at_the_next_row(rows: list[AuditEvent]) -> None:
    from models.audit import chain_hash

    forged = {**rows[1].model_dump(), "detail": {"n": 99}}
    try:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == rows[1].id).values(
                detail={"n": 99}, row_hash=chain_hash(forged, rows[1].prev_hash)))
        broken = verify_chain()["broken"]
        assert broken["id"] == rows[2].id and "删除、插入或改动" in broken["why"]
    finally:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == rows[1].id).values(
                detail=rows[1].detail, row_hash=rows[1].row_hash))
    assert verify_chain()["holds"]


def test_a_row_deleted_breaks_the_chain_at_the_row_after_it(rows: list[AuditEvent]) -> None:
    gone = rows[1]
    try:
        with session() as s:
            s.connection().execute(delete(TABLE).where(TABLE.c.id == gone.id))
        result = verify_chain()
        assert not result["holds"] and result["broken"]["id"] == rows[2].id
        assert "被删除" in result["message"] and rows[2].case_id in result["message"]
    finally:
        with session() as s:
            s.connection().execute(insert(TABLE).values(**gone.model_dump()))
    assert verify_chain()["holds"]


def test_writers_at_once_do_not_fork_the_chain() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: write(4), range(8)))
    result = verify_chain()
    assert result["holds"], result["message"]
    with session() as s:
        prevs = s.exec(select(AuditEvent.prev_hash)).all()
    assert len(prevs) == len(set(prevs))  # no two rows follow the same row


@pytest.fixture(params=["postgresql", "sqlite"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The settings pointed at a database of its own, migrated to 0008 only."""
    from alembic import command

    from activities.migrate import alembic_config

    settings = get_settings()
    previous = settings.database_url
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    with fresh_database() if request.param == "postgresql" else sqlite as url:
        settings.database_url = url
        engine_url = settings.sqlalchemy_url
        try:
            command.upgrade(alembic_config(engine_url), "0008")
            yield engine_url
        finally:
            settings.database_url = previous
            engine_for(engine_url).dispose()  # before the database is dropped


def test_the_migration_chains_the_rows_kept_before_it(old_database: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from activities.migrate import alembic_config

    old = create_engine(old_database)
    with old.begin() as conn:
        for n, detail in enumerate(('{"n": 1}', '{"note": "旧记录", "list": [1, 2]}', "{}")):
            conn.execute(text("INSERT INTO audit_event (case_id, key, event, person_id, at, detail, recorded_at) "
                              "VALUES (:c, :k, 'old_event', NULL, :at, :d, :at)"),
                         {"c": "old-case", "k": f"k{n}", "at": utcnow(), "d": detail})
    old.dispose()
    command.upgrade(alembic_config(old_database), "head")
    result = verify_chain()
    assert result["holds"] and result["rows"] == 3, result["message"]
    write(2)  # new rows follow the migrated ones
    assert verify_chain()["rows"] == 5


# ---- through the API and pdw --------------------------------------------------------------------------


async def test_the_center_verifies_a_department_and_a_signing_system_may_not(
    api: httpx.AsyncClient, tokens: dict[str, str]  # noqa: F811 - fixtures
) -> None:
    answer = await api.get("/v1/audit/verify", headers=bearer(tokens["dsj.zhouwei"]))
    assert answer.status_code == 200 and answer.json()["holds"] is True, answer.text
    assert answer.json()["message"].startswith("审计链完整")
    department = await api.get("/v1/audit/verify", headers=bearer(tokens["jyj.panxiaoyu"]))
    assert department.status_code == 403 and "县大数据管理中心" in department.json()["detail"]
    headers, _ = signed("GET", "/v1/audit/verify?as=jyj.panxiaoyu", None)
    system = await api.get("/v1/audit/verify", params={"as": "jyj.panxiaoyu"}, headers=headers)
    assert system.status_code == 403 and "调用系统不能办理管理事项" in system.json()["detail"]
    assert (await api.get("/v1/audit/verify")).status_code == 401


async def test_pdw_audit_verify_prints_one_chinese_line(dev: dict[str, str | None]) -> None:  # noqa: F811
    done = await apdw(dev, "audit", "verify", "--as", "dsj.zhouwei")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("审计链完整：") and len(done.stdout.strip().splitlines()) == 1
    edited = write(1)[0]
    try:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == edited.id).values(event="forged"))
        broken = await apdw(dev, "audit", "verify", "--as", "dsj.zhouwei")
        assert broken.exit_code == 1 and len(broken.stdout.strip().splitlines()) == 1
        assert broken.stdout.startswith(f"审计链已断：第一处在记录 {edited.id}（案件 {edited.case_id}，事件 forged）")
    finally:
        with session() as s:
            s.connection().execute(update(TABLE).where(TABLE.c.id == edited.id).values(event="test_event"))
    refused = await apdw(dev, "audit", "verify", "--as", "jyj.panxiaoyu")
    assert refused.exit_code == 1 and refused.stderr.startswith("错误：") and "核验审计链" in refused.stderr
