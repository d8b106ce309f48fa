"""Store work of the access log (Art. 25, 46 (六)), the data-refresh events (Art. 19) and misuse cases
(Art. 22): recording a batch once with each read's verdict, the misuse case a bad read joins or
opens, revoking the grants a confirmed misuse loses, and the retention purge (网络安全法 第二十一条)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from temporalio import activity

from activities.calendar import SHANGHAI
from activities.notices import start_deliveries
from activities.share import revoke_grant, tell_revoked
from activities.store import (
    StoreError,
    allocate_case_id,
    center,
    get_department,
    insert_ignore,
    record_audit,
    session,
    update_case_record,
)
from models.access import (
    ALLOWED,
    UNDER_REVIEW,
    AccessBatch,
    AccessRead,
    DataRefresh,
    MisuseCase,
    MisuseClosing,
    MisuseInput,
    MisuseOpened,
    ReadIn,
    ReadsBatch,
    RefreshBatch,
    RetentionResult,
    Revocation,
)
from models.audit import AuditRecord
from models.catalog import CatalogVersion, DataResource
from models.departments import Department
from models.evaluation import EvaluationReport
from models.open_data import OpenApplication
from models.share import Grant
from settings import get_settings

log = structlog.get_logger("pdw.activities")
AUDIT_SUBJECT = "access-log"  # the audit's case id for every accepted batch (Art. 25)


class BatchError(StoreError):
    """One read (or refresh) of a batch is bad: the whole batch is refused, naming it (Art. 25)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class BatchConflict(StoreError):
    """The batch id was used before for other content."""


@dataclass
class Touched:
    """A misuse case a batch opened or added bad reads to (the service starts or tells its workflow)."""

    inp: MisuseInput
    new: bool
    count: int
    total: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)


@dataclass
class Recorded:
    answer: dict[str, Any]
    center_code: str = ""
    touched: list[Touched] = field(default_factory=list)


def digest_of(kind: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([kind, body], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _earlier(s: Session, batch_id: str, kind: str, digest: str) -> dict[str, Any] | None:
    """The answer for a batch recorded before (idempotent by batch id), or None if it is new."""
    row = s.get(AccessBatch, batch_id)
    if row is None:
        return None
    if row.kind != kind or row.digest != digest:
        raise BatchConflict(f"批次编号（batch_id）“{batch_id}”已于 {row.received_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} "
                            "用于内容不同的另一批记录：同一批次只能报送一次，内容不同的须用新的批次编号（第二十五条）")
    answer: dict[str, Any] = {"batch_id": batch_id, "kind": kind, "count": row.count, "duplicate": True}
    if kind == "reads":
        rows = s.exec(select(AccessRead.verdict, AccessRead.misuse_case_id).where(AccessRead.batch_id == batch_id)).all()
        answer["verdicts"] = dict(Counter(v for v, _ in rows))
        answer["misuse_cases"] = sorted({m for _, m in rows if m})
    return answer


def _check_time(at: datetime, now: datetime, where: str) -> None:
    """A past time within the retention period: older records would be purged at once (网络安全法 第二十一条)."""
    days = get_settings().access_log_retention_days
    try:
        future = at > now + timedelta(minutes=5)  # a few minutes for the systems' clocks
        too_old = at < now - timedelta(days=days)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00: no instant in UTC
        raise BatchError(f"{where}：时间 {at.isoformat()} 超出可表示的范围（第二十五条）", where) from None
    if future:
        raise BatchError(f"{where}：时间 {at.isoformat()} 晚于现在，不能报送将来的记录（第二十五条）", where)
    if too_old:
        raise BatchError(f"{where}：时间 {at.isoformat()} 早于保存期限（{days} 天）：超过保存期限的记录不再接收"
                         "（第二十五条，网络安全法 第二十一条）", where)


def _resources(s: Session, ids: set[str]) -> dict[str, DataResource]:
    return {r.id: r for r in s.exec(select(DataResource).where(col(DataResource.id).in_(ids))).all()}


def _check_reads(s: Session, reads: list[ReadIn], now: datetime) -> dict[str, DataResource]:
    """Every read names a catalogued resource, its items from the catalog entry, a registered department
    (or, for an applicant's read of restricted-open data, the application: Art. 28, 46 (六)), a past time.
    The first bad one refuses the whole batch, by its index and field; nothing is written."""
    resources = _resources(s, {r.resource_id for r in reads})
    named = {r.reader_dept for r in reads if r.reader_dept is not None}
    depts = set(s.exec(select(Department.code).where(col(Department.code).in_(named))).all())
    applications = _applications(s, reads)
    for i, r in enumerate(reads):
        if r.resource_id not in resources:
            raise BatchError(f"reads.{i}.resource_id：数据资源编号“{r.resource_id}”不在目录中（第十条、第二十五条）",
                             f"reads.{i}.resource_id")
        if r.reader_dept is None and r.application_case_id is None:
            raise BatchError(f"reads.{i}.reader_dept：须写明使用部门；公民、法人的受限开放读取须以 application_case_id "
                             "写明其申请（第二十五条、第二十八条）", f"reads.{i}.reader_dept")
        if r.application_case_id and r.application_case_id not in applications:
            raise BatchError(f"reads.{i}.application_case_id：受限开放申请“{r.application_case_id}”不存在"
                             "（第二十八条、第四十六条第六项）", f"reads.{i}.application_case_id")
        if r.reader_dept is not None and r.reader_dept not in depts:
            raise BatchError(f"reads.{i}.reader_dept：部门代码“{r.reader_dept}”未登记（第二十五条：读取记录须写明使用部门）",
                             f"reads.{i}.reader_dept")
        if not [item for item in r.items if item.strip()]:
            raise BatchError(f"reads.{i}.items：读取的数据项不能为空（第二十二条、第二十五条）", f"reads.{i}.items")
        unknown = [item for item in r.items if item not in resources[r.resource_id].items]
        if unknown:
            raise BatchError(f"reads.{i}.items：数据项“{unknown[0]}”不是数据资源“{r.resource_id}”目录所列的数据项"
                             "（第十条、第二十五条）", f"reads.{i}.items")
        _check_time(r.read_at, now, f"reads.{i}.read_at")
    return resources


def _grant_verdict(g: Grant | None, r: ReadIn) -> str:
    """Art. 22: a read is within its grant if the grant is the reader's, on this resource, not revoked
    before the read, covers the items read and was valid at the time."""
    if g is None or g.grantee_code != r.reader_dept or g.resource_id != r.resource_id:
        return "no_grant"
    if g.revoked_at is not None and g.revoked_at <= r.read_at:
        return "no_grant"
    if not set(r.items) <= set(g.items):
        return "outside_items"
    if not g.valid_from <= r.read_at <= g.valid_until:
        return "outside_period"
    return "granted"


def _applications(s: Session, reads: list[ReadIn]) -> dict[str, OpenApplication]:
    ids = {r.application_case_id for r in reads if r.application_case_id}
    return {a.case_id: a for a in s.exec(select(OpenApplication).where(col(OpenApplication.case_id).in_(ids))).all()}


def _verdicts(s: Session, reads: list[ReadIn], resources: dict[str, DataResource]) -> list[tuple[str, int | None]]:
    """Each read's verdict and the grant it was read under (given and the reader's own, or the one that
    covers it): a grant of another department is never stored, so the grant filter shows only its reads."""
    pairs = {(r.reader_dept, r.resource_id) for r in reads if r.reader_dept is not None}
    ids = {r.grant_id for r in reads if r.grant_id}
    grants = s.exec(select(Grant).where(or_(col(Grant.id).in_(ids), and_(
        col(Grant.grantee_code).in_({d for d, _ in pairs}), col(Grant.resource_id).in_({x for _, x in pairs}))))).all()
    by_id = {g.id: g for g in grants}
    apps = _applications(s, reads)
    out: list[tuple[str, int | None]] = []
    for r in reads:
        if resources[r.resource_id].owner_code == r.reader_dept:
            out.append(("granted", None))  # the source reading its own data needs no grant, whatever it cites
        elif r.reader_dept is None:
            # Art. 28 ¶2, 46 (六): a citizen's or company's read only under an application the city approved.
            app = apps.get(r.application_case_id or "")
            ok = app is not None and app.outcome == "approved" and app.resource_id == r.resource_id
            out.append(("open_application" if ok else "no_application", None))
        elif r.grant_id:
            g = by_id.get(r.grant_id)
            own = g is not None and g.grantee_code == r.reader_dept and g.resource_id == r.resource_id
            out.append((_grant_verdict(g, r), r.grant_id if own else None))
        else:  # a department citing an application is judged against its grants like any department (Art. 22)
            match = next((g for g in grants if g.grantee_code == r.reader_dept and g.resource_id == r.resource_id
                          and _grant_verdict(g, r) == "granted"), None)
            out.append(("granted", match.id) if match else ("no_grant", None))
    return out


def _misuse_case_for(s: Session, grantee: str, resource: DataResource, count: int,
                     now: datetime) -> tuple[str, bool, int]:
    """The misuse case of (grantee, resource) under review, its reads grown by ``count``, or a new one;
    with its reads now. A decided case (its row no longer under review) is not joined. The partial
    unique index keeps a second batch at the same moment from opening a second case."""
    for _ in range(3):
        open_case = s.exec(select(MisuseCase.case_id).where(
            MisuseCase.grantee_code == grantee, MisuseCase.resource_id == resource.id,
            MisuseCase.status == UNDER_REVIEW)).first()
        if open_case:
            joined = s.execute(update(MisuseCase).where(col(MisuseCase.case_id) == open_case,
                                                         col(MisuseCase.status) == UNDER_REVIEW)
                               .values(reads=MisuseCase.reads + count))
            if not getattr(joined, "rowcount", 0):  # decided meanwhile: open a new case
                continue
            total = s.exec(select(MisuseCase.reads).where(MisuseCase.case_id == open_case)).one()
            return open_case, False, total
        try:
            with s.begin_nested():
                case_id = allocate_case_id(s, "misuse", now.astimezone(SHANGHAI).year)
                s.add(MisuseCase(case_id=case_id, grantee_code=grantee, resource_id=resource.id,
                                 source_code=resource.owner_code, status=UNDER_REVIEW, opened_at=now, reads=count))
                s.flush()
            return case_id, True, count
        except IntegrityError:  # another batch opened it meanwhile: join that one
            continue
    raise StoreError(f"未能为部门“{grantee}”和数据资源“{resource.id}”登记滥用核查案件，请重试")


def record_reads(system: str, batch: ReadsBatch, now: datetime) -> Recorded:
    """Art. 25: record a batch of reads once, each with its verdict (Art. 22); bad reads join the open
    misuse case of their (department, resource) or open one. The batch is an audit event."""
    digest = digest_of("reads", batch.model_dump(mode="json"))
    with session() as s:
        if (earlier := _earlier(s, batch.batch_id, "reads", digest)) is not None:
            return Recorded(earlier, touched=_open_cases_touched(s, batch.batch_id, earlier["misuse_cases"]))
        resources = _check_reads(s, batch.reads, now)
        if not insert_ignore(s, AccessBatch, {"batch_id": batch.batch_id, "system": system, "kind": "reads",
                                              "received_at": now, "count": len(batch.reads), "digest": digest},
                             ["batch_id"]):
            earlier = _earlier(s, batch.batch_id, "reads", digest)  # the same batch, posted at the same moment
            assert earlier is not None
            return Recorded(earlier)
        verdicts = _verdicts(s, batch.reads, resources)
        bad: dict[tuple[str, str], list[int]] = {}
        for i, (verdict, _) in enumerate(verdicts):
            dept = batch.reads[i].reader_dept
            if verdict not in ALLOWED and dept is not None:  # Art. 22 is about departments: no case for applicants
                bad.setdefault((dept, batch.reads[i].resource_id), []).append(i)
        case_of: dict[int, str] = {}
        touched = []
        for (dept, rid), idx in sorted(bad.items()):
            case_id, new, total = _misuse_case_for(s, dept, resources[rid], len(idx), now)
            case_of.update(dict.fromkeys(idx, case_id))
            touched.append(Touched(MisuseInput(case_id=case_id, grantee_code=dept, resource_id=rid,
                                               source_code=resources[rid].owner_code), new, len(idx), total,
                                   dict(Counter(verdicts[i][0] for i in idx))))
        apps = _applications(s, batch.reads)

        def person(r: ReadIn) -> str | None:  # an applicant is named by the application's (masked) label
            app = apps.get(r.application_case_id or "") if r.reader_dept is None else None
            return app.applicant_label[:64] if app is not None else r.reader_person

        s.add_all([AccessRead(batch_id=batch.batch_id, read_at=r.read_at, reader_dept=r.reader_dept,
                              reader_person=person(r), resource_id=r.resource_id, items=list(r.items),
                              grant_id=grant_id, verdict=verdict,
                              # an application traces only an applicant's read (a department reads under grants)
                              application_case_id=r.application_case_id if r.reader_dept is None else None,
                              misuse_case_id=case_of.get(i))
                   for i, (r, (verdict, grant_id)) in enumerate(zip(batch.reads, verdicts, strict=True))])
        counts = dict(Counter(v for v, _ in verdicts))
        record_audit(s, AuditRecord(case_id=AUDIT_SUBJECT, key=f"reads:{batch.batch_id}", event="access_batch_received",
                                    person_id=None, at=now, detail={"system": system, "kind": "reads",
                                    "count": len(batch.reads), "verdicts": counts,
                                    "misuse_cases": sorted({t.inp.case_id for t in touched})}))
        center_code = center(s).code
    log.info("access_reads_recorded", batch=batch.batch_id, system=system, count=len(batch.reads), verdicts=counts)
    answer = {"batch_id": batch.batch_id, "kind": "reads", "count": len(batch.reads), "duplicate": False,
              "verdicts": counts, "misuse_cases": sorted({t.inp.case_id for t in touched})}
    return Recorded(answer, center_code, touched)


def _open_cases_touched(s: Session, batch_id: str, case_ids: list[str]) -> list[Touched]:
    """A batch posted again: its misuse cases still open, to be started, and told of this batch's reads,
    if the first post could not (the case counts a batch once, by its id)."""
    rows = s.exec(select(MisuseCase).where(col(MisuseCase.case_id).in_(case_ids), col(MisuseCase.closed_at).is_(None))).all()
    verdicts = {m.case_id: dict(Counter(s.exec(select(AccessRead.verdict).where(
        AccessRead.batch_id == batch_id, AccessRead.misuse_case_id == m.case_id)).all())) for m in rows}
    return [Touched(MisuseInput(case_id=m.case_id, grantee_code=m.grantee_code, resource_id=m.resource_id,
                                source_code=m.source_code), True, sum(verdicts[m.case_id].values()), m.reads,
                    verdicts[m.case_id]) for m in rows]


def record_refreshes(system: str, batch: RefreshBatch, now: datetime) -> dict[str, Any]:
    """Art. 19: the sources' refresh events, once per batch, for the freshness check."""
    digest = digest_of("refreshes", batch.model_dump(mode="json"))
    with session() as s:
        if (earlier := _earlier(s, batch.batch_id, "refreshes", digest)) is not None:
            return earlier
        known = _resources(s, {r.resource_id for r in batch.refreshes})
        for i, r in enumerate(batch.refreshes):
            if r.resource_id not in known:
                raise BatchError(f"refreshes.{i}.resource_id：数据资源编号“{r.resource_id}”不在目录中（第十九条）",
                                 f"refreshes.{i}.resource_id")
            _check_time(r.refreshed_at, now, f"refreshes.{i}.refreshed_at")
        if not insert_ignore(s, AccessBatch, {"batch_id": batch.batch_id, "system": system, "kind": "refreshes",
                                              "received_at": now, "count": len(batch.refreshes), "digest": digest},
                             ["batch_id"]):
            earlier = _earlier(s, batch.batch_id, "refreshes", digest)
            assert earlier is not None
            return earlier
        s.add_all([DataRefresh(batch_id=batch.batch_id, resource_id=r.resource_id, refreshed_at=r.refreshed_at,
                               recorded_at=now) for r in batch.refreshes])
        record_audit(s, AuditRecord(case_id=AUDIT_SUBJECT, key=f"refreshes:{batch.batch_id}",
                                    event="access_batch_received", person_id=None, at=now,
                                    detail={"system": system, "kind": "refreshes", "count": len(batch.refreshes)}))
    return {"batch_id": batch.batch_id, "kind": "refreshes", "count": len(batch.refreshes), "duplicate": False}


# ---- the misuse case's activities -----------------------------------------------------------------------


@activity.defn
def open_misuse_case(inp: MisuseInput) -> MisuseOpened:
    """The parties' names; the case's row was written by the ingest that opened it."""
    with session() as s:
        the_center = center(s)
        resource = s.exec(select(CatalogVersion.name).where(CatalogVersion.resource_id == inp.resource_id,
                                                            col(CatalogVersion.is_current))).first()
        reads = s.exec(select(MisuseCase.reads).where(MisuseCase.case_id == inp.case_id)).first() or 0
        return MisuseOpened(reads=reads, grantee_name=get_department(s, inp.grantee_code).name,
                            source_name=get_department(s, inp.source_code).name, center_code=the_center.code,
                            center_name=the_center.name, resource_name=resource or inp.resource_id)


def revoke_for_misuse(r: Revocation) -> tuple[list[int], list[int]]:
    """The grants revoked for the case and the notices still to deliver. A retry after a crash part-way
    finds the grants an earlier attempt revoked for this case (by the reason's mark), counts them and
    tells of them again (once: the outbox is keyed), and revokes the rest."""
    mark = f"滥用核查案件 {r.case_id} 认定越权使用"
    with session() as s:
        grants = s.exec(select(Grant).where(
            Grant.grantee_code == r.grantee_code, Grant.resource_id == r.resource_id,
            or_(and_(col(Grant.revoked_at).is_(None), col(Grant.valid_until) > r.at),
                col(Grant.revoke_reason).startswith(mark))).order_by(col(Grant.id))).all()
    revoked, notices = [], []
    for g in grants:
        assert g.id is not None
        if g.revoked_at is None:
            _, ids = revoke_grant(g.id, r.actor, f"{mark}：{r.reasons}", at=r.at)
        else:
            ids = tell_revoked(g, g.revoke_reason or "", g.revoked_at)
        revoked.append(g.id)
        notices += ids
    return revoked, notices


@activity.defn
async def revoke_misused_grants(r: Revocation) -> list[int]:
    """Art. 22 (一经发现将立即取消数据共享): every grant of the grantee on the resource still in force is
    revoked, the grantee and the source told."""
    revoked, notices = await asyncio.to_thread(revoke_for_misuse, r)
    await start_deliveries(activity.client(), notices, activity.info().task_queue)
    log.warning("misuse_grants_revoked", case_id=r.case_id, grants=revoked)
    return revoked


@activity.defn
def close_misuse_case(c: MisuseClosing) -> None:
    update_case_record(MisuseCase, c.case_id, c.model_dump(exclude={"case_id"}))


# ---- retention (网络安全法 第二十一条: 不少于六个月) --------------------------------------------------------


PURGE_CHUNK = 5000  # reads deleted per statement, each committed: a big backlog finishes in bounded steps


def report_floor(s: Session, now: datetime) -> datetime | None:
    """1 January (Asia/Shanghai) of the earliest year that has reads and whose Art. 41 evaluation report
    is not yet published: the report still counts them, so none of that year or later may go."""
    first = s.exec(select(func.min(AccessRead.read_at))).one()
    if first is None:
        return None
    published = set(s.exec(select(EvaluationReport.year).where(EvaluationReport.status == "published")).all())
    for year in range(first.astimezone(SHANGHAI).year, now.astimezone(SHANGHAI).year + 1):
        start = datetime(year, 1, 1, tzinfo=SHANGHAI)
        if year in published:
            continue
        has_reads = s.exec(select(AccessRead.id).where(col(AccessRead.read_at) >= start,
                                                       col(AccessRead.read_at) < datetime(year + 1, 1, 1, tzinfo=SHANGHAI))
                           .limit(1)).first()
        if has_reads is not None:
            return start
    return None


def purge_before(cutoff: datetime, now: datetime) -> RetentionResult:
    """Reads and refresh events older than ``cutoff`` go, except reads an open misuse case rests on,
    reads of a year whose evaluation report is not yet published (Art. 41) and each resource's latest
    refresh (the freshness check counts from it, Art. 19). Reads go in chunks, each committed."""
    open_cases = sa_select(col(MisuseCase.case_id)).where(col(MisuseCase.closed_at).is_(None))
    tied = and_(col(AccessRead.misuse_case_id).is_not(None), col(AccessRead.misuse_case_id).in_(open_cases))
    later = aliased(DataRefresh)
    newer = (sa_select(func.max(later.refreshed_at))
             .where(col(later.resource_id) == col(DataRefresh.resource_id)).scalar_subquery())
    with session() as s:
        floor = report_floor(s, now)
        reads_cutoff = min(cutoff, floor) if floor is not None else cutoff
        kept = s.exec(select(func.count()).select_from(AccessRead).where(col(AccessRead.read_at) < reads_cutoff,
                                                                         tied)).one()
        refreshes = s.execute(delete(DataRefresh).where(col(DataRefresh.refreshed_at) < cutoff,
                                                        col(DataRefresh.refreshed_at) < newer))
    reads = 0
    while True:
        with session() as s:
            ids = s.exec(select(AccessRead.id).where(col(AccessRead.read_at) < reads_cutoff,
                                                     or_(col(AccessRead.misuse_case_id).is_(None), ~tied))
                         .limit(PURGE_CHUNK)).all()
            if ids:
                s.execute(delete(AccessRead).where(col(AccessRead.id).in_(ids)))
        reads += len(ids)
        if len(ids) < PURGE_CHUNK:
            break
    return RetentionResult(reads=reads, refreshes=getattr(refreshes, "rowcount", 0) or 0,
                           kept_for_open_cases=int(kept))


@activity.defn
def purge_access_log(at: datetime) -> RetentionResult:
    days = get_settings().access_log_retention_days
    done = purge_before(at - timedelta(days=days), at)
    log.info("access_log_purged", days=days, reads=done.reads, refreshes=done.refreshes, kept=done.kept_for_open_cases)
    return done
