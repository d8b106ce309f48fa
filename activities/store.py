"""The store: one engine per database URL, sessions, idempotent inserts, and look-ups the CLI and
the activities share. Nothing else in pdw opens a database connection."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InvalidatePoolError
from sqlmodel import Session, SQLModel, col, create_engine, select

from models.audit import GENESIS, AuditEvent, AuditRecord, chain_hash
from models.cases import CaseCounter
from models.departments import Actor, Department, Person, RoleAssignment
from settings import get_settings


class StoreError(Exception):
    """Bad input found against the county's records; the message is Chinese, for staff."""


class NotFoundError(StoreError):
    """What was named is not in the records (a department, a resource, a grant, a case)."""


# A pooled connection idle this long is pinged before use (engine_for).
IDLE_PING_SECONDS = 2.0


@lru_cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(eng, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA journal_mode=WAL")

        return eng
    # A database that is down answers within seconds, not the OS's TCP timeout. As many connections
    # as the worker runs activities at once (each holds one while it runs), beyond five kept open.
    overflow = max(5, get_settings().worker_max_concurrent_activities)
    # LIFO: the connection used last is handed out first, so in steady use it is fresh (no ping).
    eng = create_engine(url, pool_size=5, max_overflow=overflow, pool_use_lifo=True, connect_args={"connect_timeout": 5})

    @event.listens_for(eng, "connect")
    @event.listens_for(eng, "checkin")
    def _idle_from(_conn: Any, record: Any) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(eng, "checkout")
    def _ping_after_idle(conn: Any, record: Any, _proxy: Any) -> None:
        """A connection that sat idle may have outlived a database restart: it is pinged before use,
        and if dead the pool drops it and every connection as old, then hands out a new one. One in
        steady use is not (SQLAlchemy's pool_pre_ping pings every checkout: a round trip on every
        transaction, issue 14); one that dies in use fails its transaction, which is retried (an
        activity) or answered as the database being unavailable (the API)."""
        if time.monotonic() - record.info.get("idle_from", 0.0) < IDLE_PING_SECONDS:
            return
        try:
            eng.dialect.do_ping(conn)
        except Exception as err:
            raise InvalidatePoolError("pooled connection is dead") from err

    return eng


def engine() -> Engine:
    return engine_for(get_settings().sqlalchemy_url)


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def insert_ignore(s: Session, model: type[SQLModel], values: dict[str, Any], keys: list[str]) -> bool:
    """Insert a row unless one with the same ``keys`` exists; True when this call inserted it.

    This is how activities stay idempotent: a retried activity writes nothing twice."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    row = model.model_validate(values).model_dump(exclude_none=True)
    stmt = (
        insert(table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*table.primary_key.columns)
    )
    return s.connection().execute(stmt).first() is not None


def next_case_id(process: str, year: int) -> str:
    """A new readable case id, e.g. ``catalog-2026-000001``."""
    with session() as s:
        return allocate_case_id(s, process, year)


def allocate_case_id(s: Session, process: str, year: int) -> str:
    """A new case id within the caller's transaction (one SQLite writer: no second session)."""
    # The row exists before it is locked, so two first cases of a year cannot race.
    insert_ignore(s, CaseCounter, {"process": process, "year": year, "last": 0}, ["process", "year"])
    counter = s.exec(
        select(CaseCounter).where(CaseCounter.process == process, CaseCounter.year == year).with_for_update()
    ).one()
    counter.last += 1
    s.add(counter)
    return f"{process}-{year}-{counter.last:06d}"


# allocate_case_id's numbers, at the end of an id (a dispute's id ends in its share case's).
CASE_NUMBER = re.compile(r"(?P<process>[a-z_]+)-(?P<year>[0-9]{4})-(?P<seq>[0-9]{6,9})$")


def case_number_issued(s: Session, case_id: str) -> bool:
    """``case_id`` ends in a number ``allocate_case_id`` has handed out (its case may have no row yet)."""
    numbered = CASE_NUMBER.search(case_id)
    if numbered is None:
        return False
    counter = s.get(CaseCounter, (numbered["process"], int(numbered["year"])))
    return counter is not None and counter.last >= int(numbered["seq"])


def get_department(s: Session, code: str) -> Department:
    dept = s.get(Department, code)
    if dept is None:
        raise NotFoundError(f"部门代码“{code}”不存在：请先在大数据管理中心登记该部门（pdw dept list 查看）")
    return dept


def holders(s: Session, dept_code: str, role: str, at: datetime | None = None) -> list[Person]:
    """Who holds ``role`` in the department now (Art. 43 ¶2: whoever holds it when asked)."""
    q = select(Person).join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id)).where(
        RoleAssignment.dept_code == dept_code,
        RoleAssignment.role == role,
        RoleAssignment.until.is_(None),  # type: ignore[union-attr]
    )
    return list(s.exec(q).all())


KIND_ZH = {"center": "县大数据管理中心", "county_gov": "县人民政府", "bureau": "县大数据发展管理局",
           "city_bureau": "市大数据发展管理局",
           "expert_committee": "专家委员会"}


def dept_of_kind(s: Session, kind: str) -> Department:
    """The one department of a kind: the center, the county government, the city bureau…"""
    dept = s.exec(select(Department).where(Department.kind == kind)).first()
    if dept is None:
        raise StoreError(f"未登记{KIND_ZH.get(kind, kind)}（kind={kind}）：请先登记该单位（pdw setup --seed 写入示例县）")
    return dept


def center(s: Session) -> Department:
    return dept_of_kind(s, "center")


def resolve_actor(person_id: str) -> Actor:
    """The registered person ``person_id`` as an actor, with the department and roles they hold
    (one query: every decision and every API request asks)."""
    with session() as s:
        held = s.exec(
            select(Person.name, RoleAssignment.role, Department)
            .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
            .join(Department, col(Department.code) == col(RoleAssignment.dept_code))
            .where(Person.id == person_id, RoleAssignment.until.is_(None))  # type: ignore[union-attr]
            .order_by(col(RoleAssignment.id))  # one department a person (assign_role): the first, if ever two
        ).all()
        if not held:
            if s.get(Person, person_id) is None:
                raise StoreError(f"人员“{person_id}”未登记：须为已向大数据管理中心备案的人员编号（第四十三条）")
            raise StoreError(f"人员“{person_id}”目前不担任任何部门的备案角色，不能办理案件（第四十三条）")
        name, _, dept = held[0]
        return Actor(person_id=person_id, name=name, dept_code=dept.code, dept_name=dept.name, dept_kind=dept.kind,
                     roles=sorted({role for _, role, other in held if other.code == dept.code}))


def assign_role(
    dept_code: str, role: str, person_id: str, *, name: str | None = None, email: str | None = None,
    mobile: str | None = None, dingtalk_id: str | None = None, note: str, by: str | None = None,
) -> tuple[str | None, str]:
    """Register who holds an Art. 43 role from now on. The holder replaced keeps their row with
    ``until`` set (Art. 43 ¶2: changes are reported to the center in writing, so they are kept).
    Returns (previous holder, new holder)."""
    from models.departments import ROLE_ZH, PersonRole
    from models.types import utcnow

    if role not in {r.value for r in PersonRole}:
        choices = "、".join(f"{r.value}（{zh}）" for r, zh in ROLE_ZH.items())
        raise StoreError(f"角色“{role}”无效，应为：{choices}（第四十三条）")
    if not note.strip():
        raise StoreError("依据（note）不能为空：人员变更须写明书面报送的依据（第四十三条）")
    with session() as s:
        get_department(s, dept_code)
        person = s.get(Person, person_id)
        if person is None:
            if not name:
                raise StoreError(f"人员“{person_id}”尚未登记：新登记人员须写明姓名（name）（第四十三条）")
            person = Person(id=person_id, name=name)
        elsewhere = s.exec(select(RoleAssignment.dept_code).where(
            RoleAssignment.person_id == person_id, RoleAssignment.dept_code != dept_code,
            col(RoleAssignment.until).is_(None))).first()
        if elsewhere:
            raise StoreError(f"人员“{person_id}”已是部门“{elsewhere}”的备案人员：一人只能在一个部门备案（第四十三条）")
        changed = {}
        for field, value in (("name", name), ("email", email), ("mobile", mobile), ("dingtalk_id", dingtalk_id)):
            if value and getattr(person, field, None) != value:
                changed[field] = {"from": getattr(person, field, None), "to": value}
                setattr(person, field, value)
        s.add(person)
        now = utcnow()
        if changed:  # where escalation notices go: a change of it is kept like a change of holder
            record_audit(s, AuditRecord(case_id=f"person-{person_id}", key=f"contact:{now.isoformat()}",
                                        event="person_changed", person_id=by, at=now,
                                        detail={"changed": changed, "note": note}))
        current = s.exec(
            select(RoleAssignment).where(
                RoleAssignment.dept_code == dept_code,
                RoleAssignment.role == role,
                RoleAssignment.until.is_(None),  # type: ignore[union-attr]
            )
        ).all()
        if [c.person_id for c in current] == [person_id]:
            return person_id, person_id
        for c in current:
            c.until = now
            s.add(c)
        s.add(RoleAssignment(dept_code=dept_code, role=role, person_id=person_id, since=now, note=note))
        # Art. 43 ¶2: a change of registered people is reported in writing; keep who recorded it and why.
        record_audit(s, AuditRecord(case_id=f"dept-{dept_code}", key=f"{role}:{now.isoformat()}", event="role_assigned",
                                    person_id=by, at=now, detail={"role": role, "person_id": person_id, "note": note,
                                                    "replaced": [c.person_id for c in current]}))
    return (current[0].person_id if current else None), person_id


def update_case_record(model: type[SQLModel], case_id: str, fields: dict[str, Any]) -> None:
    """Set fields of a case's record; fields given as None are left as they are. Setting the same
    values twice changes nothing, so a retried activity is harmless."""
    from temporalio.exceptions import ApplicationError

    with session() as s:
        row = s.get(model, case_id)
        if row is None:
            raise ApplicationError(f"case {case_id} not recorded", non_retryable=True)
        for field, value in fields.items():
            if value is not None:
                setattr(row, field, value)
        s.add(row)


AUDIT_LOCK = 0x7064775F61756469  # pg_advisory_xact_lock's key for the audit chain ("pdw_audi")


def record_audit(s: Session, rec: AuditRecord) -> None:
    """An action taken outside any workflow (a revocation, a change of registered people), once,
    chained to the row before it (models.audit.chain_hash)."""
    from models.types import utcnow

    if s.get_bind().dialect.name == "postgresql":
        # Two writers reading the same last row would fork the chain: one at a time, until commit.
        # (A row lock on the last row would not do: a waiter would still see the old last row.)
        s.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    else:  # SQLite: a write that changes nothing takes the one write lock before the last row is read
        s.connection().execute(text("UPDATE audit_event SET id = id WHERE 0 = 1"))
    last = s.exec(select(AuditEvent.row_hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    # What the database gives back, so that the hash written is the hash verify computes.
    values = {**rec.model_dump(), "detail": json.loads(json.dumps(rec.detail, ensure_ascii=False)),
              "recorded_at": utcnow(), "prev_hash": last or GENESIS}
    values["row_hash"] = chain_hash(values, values["prev_hash"])
    insert_ignore(s, AuditEvent, values, ["case_id", "key"])
