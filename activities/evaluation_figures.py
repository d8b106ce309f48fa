"""The figures of the yearly evaluation report (Art. 41), per department, from what pdw records:
组织管理 (Art. 43 roles, Art. 46 rectification), 数据共享 (Art. 11, 19, 20–23), 数据开放 (Art. 28,
30, 32), 数据利用 (Art. 22, 25). One function per part; every figure carries the ids it counts.

A year is the Asia/Shanghai calendar year. A step owed counts in the year it was handled, or, if
its deadline was missed, in the year that deadline fell (models/evaluation.py, SCORE_FORMULA).
The access log, the reviews and the rectification cases are read as plain rows (the access log as
counts of reads per group: it may hold millions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from activities.calendar import SHANGHAI
from activities.store import engine
from models.cases import LEVEL_ESCALATED, LEVEL_URGED, DeadlineMiss, Decision
from models.catalog import CatalogUpdateCase, DataResource
from models.catalog_register import CatalogRegistrationCase
from models.correction import CorrectionReport
from models.departments import Department, PersonRole, RoleAssignment
from models.dispute import Dispute
from models.evaluation import (
    FIGURES,
    DeptFigures,
    EvaluationFigures,
    Figure,
    MonthFigures,
    RankEntry,
)
from models.notices import Notice
from models.open_data import ListingObjection, ListingReview, OpenApplication
from models.share import Grant, ShareRequest
from models.steps import STEP_RULES
from models.types import utcnow

# Departments the report covers: the center's own work is reported, but only departments are ranked.
REPORTED_KINDS = ("center", "department")
# The bodies that decide, supervise or advise (Art. 4–7): named in the report as not evaluated, in this order.
NOT_EVALUATED_KINDS = ("county_gov", "bureau", "city_bureau", "expert_committee")
# Periods in which a party may act (no one owes them): not steps owed.
WINDOWS = {"share.dispute_window", "open.objection_window"}
SHARE_SOURCE_STEPS = {"share.source_review", "share.source_reply", "share.nonshared_review",
                      "share.batch_source_review", "share.provision"}
SHARE_CENTER_STEPS = {"share.center_review", "share.batch_center_review"}
# Each of these tables with the times that place a row in a year (any of them).
YEAR_TABLES = {"access_read": ("read_at",), "misuse_case": ("opened_at", "closed_at"), "review_case": ("opened_at",),
                   "rectification_case": ("proposed_at", "ordered_at", "closed_at")}
# The access log may hold millions of reads: it is counted in the database, grouped by what a figure needs.
READ_GROUP = ("reader_dept", "resource_id", "verdict", "grant_id", "application_case_id", "misuse_case_id")
READ_OK = ("granted", "open_application")


def base_step(key: str) -> str:
    """A deadline key as notices and misses carry it (``catalog_update.review#2``,
    ``correction.verify+15``) back to its step."""
    return key.split("#", 1)[0].split("+", 1)[0]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI)


def fig(ids: Iterable[str]) -> Figure:
    unique = sorted(set(ids))
    return Figure(value=len(unique), case_ids=unique)


@dataclass
class Owed:
    """One step a department owed: (case, step), whether handled, whether late (Art. 41, 46)."""

    case_id: str
    step: str
    handled: bool = False
    late: bool = False
    missed_statutory: bool = False  # whether a missed deadline was a statutory one, as recorded

    @property
    def ref(self) -> str:
        return f"{self.case_id}:{self.step}"

    @property
    def statutory(self) -> bool:
        """A late step is statutory only if its recorded miss says so (DeadlineMiss.statutory): an
        Art. 11 file sent back has a local deadline; a step on time, by its rule."""
        return self.missed_statutory if self.late else STEP_RULES[self.step].statutory


@dataclass
class Records:
    """The year's records, loaded once and shared by every part's function."""

    year: int
    start: datetime
    end: datetime
    depts: list[Department]
    owned: dict[str, set[str]]  # dept -> its resource ids
    owed: dict[str, dict[tuple[str, str], Owed]]  # dept -> (case, step) -> owed step
    decisions: list[Decision]
    misses: list[DeadlineMiss]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # of YEAR_TABLES
    # Each table read once for every department (not once per department).
    roles: dict[str, list[RoleAssignment]] = field(default_factory=dict)  # dept -> its assignments, in order
    updates: list[CatalogUpdateCase] = field(default_factory=list)
    corrections: list[CorrectionReport] = field(default_factory=list)  # verified (closed) in the year
    disputes: list[Dispute] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)  # given in the year
    grant_cases: dict[int, str] = field(default_factory=dict)  # grant id -> its share case, for reads
    applications: list[OpenApplication] = field(default_factory=list)
    reviews: list[ListingReview] = field(default_factory=list)  # listing reviews started in the year
    listing_of: dict[str, str] = field(default_factory=dict)  # every listing review -> its resource
    objections: list[ListingObjection] = field(default_factory=list)
    # Misuse cases the reads name that ended without a finding of misuse: dismissed, or cancelled as
    # opened in error (a case withdrawn or cancelled is neither pending nor reviewed).
    dismissed: set[str] = field(default_factory=set)

    def within(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def _year_rows(eng: Engine, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    """The year's rows of YEAR_TABLES; the access log as counts of reads per group (READ_GROUP, with ``reads``)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, times in YEAR_TABLES.items():
        table = SQLModel.metadata.tables[name]
        low, high = start.astimezone(UTC), end.astimezone(UTC)
        in_year = or_(*(and_(table.c[t] >= low, table.c[t] < high) for t in times))
        if name == "access_read":
            group = [table.c[c] for c in READ_GROUP]
            query = sa_select(*group, func.count().label("reads")).where(in_year).group_by(*group)
        else:
            query = table.select().where(in_year)
        with eng.connect() as conn:
            rows[name] = [dict(r._mapping) for r in conn.execute(query)]
    return rows


def load(s: Session, year: int) -> Records:
    start, end = year_bounds(year)
    depts = list(s.exec(select(Department).where(col(Department.kind).in_(REPORTED_KINDS))
                        .order_by(col(Department.name))).all())
    owned: dict[str, set[str]] = defaultdict(set)
    for res in s.exec(select(DataResource)).all():
        owned[res.owner_code].add(res.id)
    decisions = list(s.exec(select(Decision).where(Decision.decided_at >= start, Decision.decided_at < end)).all())
    case_ids = {d.case_id for d in decisions}
    misses = list(s.exec(select(DeadlineMiss).where(DeadlineMiss.due_at >= start, DeadlineMiss.due_at < end)).all())
    if case_ids:  # a step handled this year that was missed in an earlier one
        misses += s.exec(select(DeadlineMiss).where(col(DeadlineMiss.case_id).in_(sorted(case_ids)),
                                                   DeadlineMiss.due_at < start)).all()
    owed: dict[str, dict[tuple[str, str], Owed]] = defaultdict(dict)
    missed_at: dict[tuple[str, str, str], datetime] = {}
    missed_statutory: dict[tuple[str, str, str], bool] = defaultdict(bool)
    for m in misses:
        step = base_step(m.step)
        if step in STEP_RULES:
            key = (m.dept_code, m.case_id, step)
            missed_at[key] = min(missed_at.get(key, m.due_at), m.due_at)
            missed_statutory[key] |= m.statutory  # as recorded: a returned Art. 11 file's deadline is local
    for d in decisions:
        if d.step in STEP_RULES and d.step not in WINDOWS:
            missed = missed_at.get((d.dept_code, d.case_id, d.step))
            if missed is None or start <= missed < end:  # else it counts in the year it was missed
                owed[d.dept_code].setdefault((d.case_id, d.step), Owed(d.case_id, d.step)).handled = True
    for (dept, case_id, step), due in missed_at.items():
        if start <= due < end and step not in WINDOWS:
            o = owed[dept].setdefault((case_id, step), Owed(case_id, step))
            o.late, o.missed_statutory = True, missed_statutory[(dept, case_id, step)]
    rows = _year_rows(s.get_bind(), start, end)  # type: ignore[arg-type]
    r = Records(year, start, end, depts, owned, owed, decisions, misses, rows)
    _load_tables(s, r)
    return r


def _load_tables(s: Session, r: Records) -> None:
    """The tables the parts read, each queried once for the whole year (not once per department)."""
    start, end = r.start, r.end
    roles: dict[str, list[RoleAssignment]] = defaultdict(list)
    for a in s.exec(select(RoleAssignment).where(RoleAssignment.since < end)
                    .order_by(col(RoleAssignment.since), col(RoleAssignment.id))):
        roles[a.dept_code].append(a)
    r.roles = roles
    r.updates = list(s.exec(select(CatalogUpdateCase).where(CatalogUpdateCase.started_at >= start,
                                                            CatalogUpdateCase.started_at < end)))
    r.corrections = list(s.exec(select(CorrectionReport).where(
        col(CorrectionReport.outcome).is_not(None), col(CorrectionReport.closed_at) >= start,
        col(CorrectionReport.closed_at) < end)))
    r.disputes = list(s.exec(select(Dispute).where(Dispute.started_at >= start, Dispute.started_at < end)))
    r.grants = list(s.exec(select(Grant).where(Grant.valid_from >= start, Grant.valid_from < end)))
    reads = r.rows["access_read"]
    grant_ids = sorted({g["grant_id"] for g in reads if g.get("grant_id") is not None})
    if grant_ids:
        r.grant_cases = {g.id: g.case_id for g in s.exec(select(Grant).where(col(Grant.id).in_(grant_ids)))
                         if g.id is not None}
    misuse_ids = sorted({g["misuse_case_id"] for g in reads if g.get("misuse_case_id")})
    if misuse_ids:  # Art. 22: a read whose misuse case was dismissed was found not to be outside a grant
        table = SQLModel.metadata.tables["misuse_case"]
        with s.get_bind().connect() as conn:  # type: ignore[union-attr]
            r.dismissed = {row[0] for row in conn.execute(sa_select(table.c.case_id).where(
                table.c.case_id.in_(misuse_ids), table.c.outcome.in_(("dismissed", "cancelled", "withdrawn"))))}
    r.applications = list(s.exec(select(OpenApplication).where(OpenApplication.applied_at >= start,
                                                               OpenApplication.applied_at < end)))
    r.listing_of = dict(s.exec(select(ListingReview.case_id, ListingReview.resource_id)).all())
    r.reviews = list(s.exec(select(ListingReview).where(ListingReview.started_at >= start,
                                                        ListingReview.started_at < end)))
    r.objections = list(s.exec(select(ListingObjection).where(ListingObjection.received_at >= start,
                                                              ListingObjection.received_at < end)))


# ---- 组织管理 (Art. 43, 46) ---------------------------------------------------------------------------


def organisation(r: Records, dept: str) -> dict[str, Figure]:
    rows = r.roles.get(dept, [])
    at = min(r.end, utcnow())
    filed = {a.role for a in rows if a.since < r.end and a.role in set(PersonRole)}
    held = {a.role for a in rows if a.since < at and (a.until is None or a.until > at)}
    first: dict[str, int | None] = {}
    changes: list[str] = []
    for a in rows:  # Art. 43 ¶2: a holder after the first of a role is a change, kept current
        if a.role in first and r.within(a.since):
            changes.append(f"role-{a.id}")
        first.setdefault(a.role, a.id)
    rect = [row for row in r.rows["rectification_case"] if row.get("dept_code") == dept]
    return {
        "roles_filed": Figure(value=len(filed), case_ids=sorted(f"role-{a.id}" for a in rows if a.role in filed
                                                                and a.since < r.end and first.get(a.role) == a.id)),
        "roles_held": Figure(value=len(held), case_ids=sorted(f"role-{a.id}" for a in rows if a.since < at
                                                              and (a.until is None or a.until > at))),
        "role_changes": fig(changes),
        "rectification_proposed": fig(x["case_id"] for x in rect if r.within(x.get("proposed_at"))),
        "rectification_ordered": fig(x["case_id"] for x in rect if r.within(x.get("ordered_at"))),
        "rectification_accepted": fig(x["case_id"] for x in rect
                                      if x.get("outcome") == "accepted" and r.within(x.get("closed_at"))),
    }


# ---- 数据共享 (Art. 11, 19, 20–23) ----------------------------------------------------------------------


def _steps(owed: Iterable[Owed], prefix: str) -> dict[str, Figure]:
    owed = list(owed)
    return {
        f"{prefix}_handled" if prefix.startswith("share") else f"{prefix}_steps": fig(o.ref for o in owed),
        f"{prefix}_on_time": fig(o.ref for o in owed if o.handled and not o.late),
        f"{prefix}_late": fig(o.ref for o in owed if o.late),
    }


def _ladder(s: Session, r: Records, level: int) -> dict[str, set[str]]:
    """Who was urged (催办) or escalated (督办): the department awaited in each (case, step) whose
    rung was reached in the year, from the outbox; 督办 also reaches the center's leaders, so the
    awaited department is the one the missed deadline stands against."""
    notices = s.exec(select(Notice.case_id, Notice.step, Notice.dept_code).where(
        Notice.level == level, Notice.case_time >= r.start, Notice.case_time < r.end)).all()
    against = {(m.case_id, m.step): m.dept_code for m in r.misses}
    out: dict[str, set[str]] = defaultdict(set)
    recipients: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case_id, step, dept in notices:
        recipients[(case_id, step)].add(dept)
    for (case_id, step), depts in recipients.items():
        awaited = against.get((case_id, step))
        if awaited is None:
            awaited = next(iter(depts)) if len(depts) == 1 else None
        if awaited is not None:
            out[awaited].add(f"{case_id}:{step}")
    return out


def sharing(r: Records, dept: str, urged: dict[str, set[str]], escalated: dict[str, set[str]]) -> dict[str, Figure]:
    owed = r.owed.get(dept, {}).values()
    updates = [u.case_id for u in r.updates if u.owner_code == dept]
    late_updates = {m.case_id for m in r.misses if base_step(m.step) == "catalog_update.submit"}
    submitted = {d.case_id for d in r.decisions if d.step == "catalog_update.submit"}
    verified = [c.case_id for c in r.corrections if c.source_code == dept]
    late_verify = {m.case_id for m in r.misses if base_step(m.step) == "correction.verify"}
    disputes = [d for d in r.disputes if dept in d.parties]
    grants = r.grants
    fresh = [x for x in r.rows["review_case"] if x.get("kind") == "freshness" and x.get("dept_code") == dept
             and r.within(x.get("opened_at"))]
    return {
        "catalog_updates": fig(updates),
        "catalog_updates_on_time": fig(c for c in updates if c in submitted and c not in late_updates),
        "catalog_updates_late": fig(c for c in updates if c in late_updates),
        **_steps((o for o in owed if o.statutory), "statutory"),
        **_steps((o for o in owed if not o.statutory), "local"),
        **_steps((o for o in owed if o.step in SHARE_SOURCE_STEPS), "share_source"),
        **_steps((o for o in owed if o.step in SHARE_CENTER_STEPS), "share_center"),
        "corrections_verified": fig(verified),
        "corrections_on_time": fig(c for c in verified if c not in late_verify),
        "extensions": fig(d.case_id for d in r.decisions if d.action == "extend" and d.dept_code == dept),
        "urgings": fig(urged.get(dept, set())),
        "escalations": fig(escalated.get(dept, set())),
        "disputes": fig(d.case_id for d in disputes),
        "grants_given": fig(g.case_id for g in grants if g.source_code == dept),
        "grants_received": fig(g.case_id for g in grants if g.grantee_code == dept),
        "freshness_reviews": fig(x["case_id"] for x in fresh),
        "freshness_answered": fig(x["case_id"] for x in fresh if x.get("closed_at") is not None),
    }


# ---- 数据开放 (Art. 28, 30, 32) -------------------------------------------------------------------------


def opening(r: Records, dept: str) -> dict[str, Figure]:
    mine = r.owned.get(dept, set())
    apps = [a for a in r.applications if a.resource_id in mine]
    reviews = [v for v in r.reviews if v.resource_id in mine]
    objections = [o for o in r.objections if r.listing_of.get(o.case_id) in mine]
    periodic = [x for x in r.rows["review_case"] if x.get("dept_code") == dept
                and r.within(x.get("opened_at"))]

    def review(kind: str, closed: bool) -> Figure:
        return fig(x["case_id"] for x in periodic if x.get("kind") == kind and (not closed or x.get("closed_at")))

    return {
        "open_applications": fig(a.case_id for a in apps),
        "open_applications_closed": fig(a.case_id for a in apps if a.closed_at is not None),
        "listing_reviews": fig(v.case_id for v in reviews),
        "listing_listed": fig(v.case_id for v in reviews if v.answer == "listed"),
        "listing_declined": fig(v.case_id for v in reviews if v.answer == "declined"),
        "objections": fig(f"{o.case_id}#{o.seq}" for o in objections),
        "objections_answered": fig(f"{o.case_id}#{o.seq}" for o in objections if o.answer is not None),
        "objections_upheld": fig(f"{o.case_id}#{o.seq}" for o in objections if o.answer == "upheld"),
        "objections_suggested": fig(f"{o.case_id}#{o.seq}" for o in objections if o.answer == "suggested"),
        "open_scope_reviews": review("open_scope", False),
        "open_scope_answered": review("open_scope", True),
        "restricted_open_reviews": review("restricted_open", False),
        "restricted_open_answered": review("restricted_open", True),
    }


# ---- 数据利用 (Art. 22, 25) ------------------------------------------------------------------------------


def _reads(groups: Iterable[dict[str, Any]], grant_cases: dict[int, str]) -> Figure:
    """A count of reads, traced to the cases they were read under: the grant's share case, the open
    application, or the misuse case a read outside any grant opened (Art. 22, 25)."""
    groups = list(groups)
    cases = {grant_cases.get(g["grant_id"]) if g.get("grant_id") is not None else None for g in groups}
    cases |= {g.get("application_case_id") for g in groups} | {g.get("misuse_case_id") for g in groups}
    return Figure(value=sum(int(g["reads"]) for g in groups), case_ids=sorted(c for c in cases if c))


def _misuse(r: Records, party: str, dept: str) -> dict[str, list[str]]:
    """Art. 22 misuse cases of ``dept`` as ``party`` (grantee_code or source_code): opened (立案核查)
    in the year, and closed in the year as confirmed or dismissed. Only a confirmed case is a
    违规使用案件: a case opened is a check, not a finding."""
    rows = [x for x in r.rows["misuse_case"] if x.get(party) == dept]
    closed = [x for x in rows if r.within(x.get("closed_at"))]
    return {
        "opened": [x["case_id"] for x in rows if r.within(x.get("opened_at"))],
        "confirmed": [x["case_id"] for x in closed if x.get("outcome") == "confirmed"],
        "dismissed": [x["case_id"] for x in closed if x.get("outcome") == "dismissed"],
    }


def use(r: Records, dept: str) -> dict[str, Figure]:
    mine = r.owned.get(dept, set())
    reads = r.rows["access_read"]
    # Outside a grant: reads the log found outside one, pending a check or confirmed; not those whose
    # misuse case was dismissed (found not to be outside a grant, Art. 22).
    outside = [g for g in reads if g["reader_dept"] == dept and g["verdict"] not in READ_OK
               and g.get("misuse_case_id") not in r.dismissed]
    user, source = _misuse(r, "grantee_code", dept), _misuse(r, "source_code", dept)
    return {
        "reads_granted": _reads((g for g in reads if g["reader_dept"] == dept and g["verdict"] in READ_OK),
                                r.grant_cases),
        "reads_outside_grant": _reads(outside, r.grant_cases),
        "reads_of_own_data": _reads((g for g in reads if g["resource_id"] in mine), r.grant_cases),
        "misuse_opened_as_user": fig(user["opened"]),
        "misuse_as_user": fig(user["confirmed"]),
        "misuse_dismissed_as_user": fig(user["dismissed"]),
        "misuse_opened_as_source": fig(source["opened"]),
        "misuse_as_source": fig(source["confirmed"]),
        "misuse_dismissed_as_source": fig(source["dismissed"]),
    }


# ---- trends and ranking --------------------------------------------------------------------------------


def monthly(s: Session, r: Records) -> list[MonthFigures]:
    """Per month: cases opened (every process's record) and deadlines missed (by due date)."""
    opened: list[tuple[str, datetime]] = []
    for model, at in ((CatalogUpdateCase, CatalogUpdateCase.started_at),
                      (CatalogRegistrationCase, CatalogRegistrationCase.started_at),
                      (ShareRequest, ShareRequest.started_at), (CorrectionReport, CorrectionReport.reported_at),
                      (Dispute, Dispute.started_at), (OpenApplication, OpenApplication.applied_at),
                      (ListingReview, ListingReview.started_at)):
        opened += s.exec(select(model.case_id, at).where(at >= r.start, at < r.end)).all()  # type: ignore[attr-defined]
    for name, column in (("review_case", "opened_at"), ("rectification_case", "proposed_at"),
                         ("misuse_case", "opened_at")):
        for x in r.rows[name]:
            when = x.get(column)  # the model's UTCDateTime column: aware on every database
            if when is not None and r.within(when):
                opened.append((x["case_id"], when))
    by_month: dict[int, list[str]] = defaultdict(list)
    missed: dict[int, list[str]] = defaultdict(list)
    for case_id, at in opened:
        by_month[at.astimezone(SHANGHAI).month].append(case_id)
    for m in r.misses:
        if r.within(m.due_at):
            missed[m.due_at.astimezone(SHANGHAI).month].append(f"{m.case_id}:{m.step}")
    return [MonthFigures(month=month, opened=fig(by_month[month]), missed=fig(missed[month])) for month in range(1, 13)]


def ranking(r: Records) -> list[RankEntry]:
    """The documented score (models/evaluation.py SCORE_FORMULA); departments only, ties by name."""
    entries: list[RankEntry] = []
    for d in r.depts:
        if d.kind != "department":
            continue
        owed = list(r.owed.get(d.code, {}).values())
        late = sum(o.late for o in owed)
        stat = sum(o.late and o.statutory for o in owed)
        score = round(max(0.0, 100 * (len(owed) - late - stat) / len(owed)), 1) if owed else None
        entries.append(RankEntry(rank=None, code=d.code, name=d.name, owed=len(owed), late=late,
                                 statutory_late=stat, score=score))
    entries.sort(key=lambda e: (e.score is None, -(e.score or 0), e.name))
    for i, e in enumerate(entries):  # equal scores share a rank (1, 1, 1, 4), listed by name
        if e.score is None:
            e.rank = None
        elif i and entries[i - 1].score == e.score:
            e.rank = entries[i - 1].rank
        else:
            e.rank = i + 1
    return entries


def not_evaluated(s: Session) -> list[str]:
    """Every other body of the county, by name: the report says it does not evaluate them."""
    others = s.exec(select(Department).where(col(Department.kind).not_in(REPORTED_KINDS))).all()
    order = {kind: i for i, kind in enumerate(NOT_EVALUATED_KINDS)}
    return [d.name for d in sorted(others, key=lambda d: (order.get(d.kind, len(order)), d.name))]


def compute(year: int, eng: Engine | None = None) -> EvaluationFigures:
    """Every figure of the year's report (Art. 41), from the records as they stand now."""
    with Session(eng or engine()) as s:
        r = load(s, year)
        urged, escalated = _ladder(s, r, LEVEL_URGED), _ladder(s, r, LEVEL_ESCALATED)
        depts = []
        for d in r.depts:
            parts = {
                "org": organisation(r, d.code),
                "basic": {},  # 基础保障: the center writes it (ReportTexts)
                "sharing": sharing(r, d.code, urged, escalated),
                "opening": opening(r, d.code),
                "use": use(r, d.code),
            }
            for part, labels in FIGURES.items():  # FIGURES' order, and nothing unlabelled
                assert set(parts[part]) == set(labels), (part, set(parts[part]) ^ set(labels))
                parts[part] = {key: parts[part][key] for key in labels}
            depts.append(DeptFigures(code=d.code, name=d.name, kind=d.kind, parts=parts))
        return EvaluationFigures(year=year, computed_at=utcnow(), departments=depts, monthly=monthly(s, r),
                                 ranking=ranking(r), not_evaluated=not_evaluated(s))
