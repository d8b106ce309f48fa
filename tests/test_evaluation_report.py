"""The yearly evaluation report (Art. 41) on a known year (2019, which no other test touches): every
figure of two departments with its case ids and the ranking, the html (self-contained, charts as
SVG, every department named), the xlsx, who may read a draft, publishing with advice and the
frozen result, the public list, the yearly draft workflow and the ``pdw report`` commands."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, delete, or_, text
from sqlmodel import SQLModel, col, select
from temporalio.testing import WorkflowEnvironment

from activities.calendar import SHANGHAI
from activities.evaluation_figures import Owed, Records, compute, ranking, year_bounds
from activities.store import engine, session
from models.cases import DeadlineMiss, Decision
from models.catalog import CatalogUpdateCase
from models.correction import CorrectionReport
from models.departments import Department, RoleAssignment
from models.dispute import Dispute
from models.evaluation import FIGURES, PARTS, DraftResult, EvaluationReport
from models.notices import Notice
from models.open_data import ListingObjection, ListingReview, OpenApplication
from models.share import Grant, ShareRequest
from service import auth
from service.auth import signature
from service.context import Services
from settings import HookKey, get_settings
from tests.test_commands import apdw, api_url, dev, home  # noqa: F401  (fixtures: the API over HTTP)

YEAR = 2019
SYSTEM_SECRET = "report-system-secret"


def t(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(YEAR, month, day, hour, tzinfo=SHANGHAI)


def _decision(case_id: str, seq: int, step: str, action: str, person: str, dept: str, at: datetime) -> Decision:
    return Decision(case_id=case_id, seq=seq, step=step, action=action, person_id=person, person_name=person,
                    dept_code=dept, role="daily_admin", decided_at=at, article="第四十一条测试")


def _miss(case_id: str, step: str, dept: str, due: datetime, statutory: bool) -> DeadlineMiss:
    return DeadlineMiss(case_id=case_id, step=step, dept_code=dept, due_at=due, statutory=statutory, article="测试")


def _notice(case_id: str, step: str, level: int, dept: str, person: str, at: datetime) -> Notice:
    return Notice(case_id=case_id, step=step, level=level, dept_code=dept, role="first_responsible", person_id=person,
                  person_name=person, channel="log", subject="测试", body="测试", status="sent", case_time=at)


def _insert_row(name: str, row: dict[str, Any]) -> None:
    """A row in one of the access log's, the reviews' or the rectifications' tables; columns the row
    does not name but the table requires get a neutral value."""
    eng = engine()
    table = SQLModel.metadata.tables[name]
    full = dict(row)
    for column in table.columns:
        if column.name in full or column.nullable or column.server_default is not None or column.autoincrement is True:
            continue
        if column.primary_key and isinstance(column.type, Integer):
            continue
        full[column.name] = ([] if isinstance(column.type, JSON) else 0 if isinstance(column.type, Integer)
                             else False if isinstance(column.type, Boolean)
                             else t(1, 1) if isinstance(column.type, DateTime) else "")
    with eng.begin() as conn:
        conn.execute(table.insert().values(**full))


@pytest.fixture(scope="module")
def year() -> Iterator[dict[str, Any]]:
    """A known year of records for 县公安局 (gaj) and 县教育局 (jyj), with the center's (dsj) steps;
    removed afterwards so that no other test sees them."""
    made: dict[str, Any] = {"roles": []}
    with session() as s:
        # Art. 43: gaj's first responsible person changes in the year; its daily administrator is filed.
        for role, person, since, until in (("first_responsible", "gaj.wanghaitao", t(1, 10), t(8, 1)),
                                           ("first_responsible", "gaj.lijun", t(8, 1), datetime(2020, 1, 15, tzinfo=SHANGHAI)),
                                           ("daily_admin", "gaj.zhangfang", t(3, 1), datetime(2020, 2, 1, tzinfo=SHANGHAI))):
            row = RoleAssignment(dept_code="gaj", role=role, person_id=person, since=since, until=until, note="测试")
            s.add(row)
            s.flush()
            made["roles"].append(f"role-{row.id}")
        s.add_all([
            # Art. 11: gaj updates late (statutory), jyj on time; the center reviews both.
            CatalogUpdateCase(case_id="catalog-2019-000001", resource_id="RES-GAJ-001", owner_code="gaj", status="approved",
                              changed_at=t(2, 1), change_note="测试", started_by="gaj.zhangfang", started_at=t(2, 1)),
            CatalogUpdateCase(case_id="catalog-2019-000002", resource_id="RES-JYJ-001", owner_code="jyj", status="approved",
                              changed_at=t(9, 2), change_note="测试", started_by="jyj.panxiaoyu", started_at=t(9, 2)),
            _decision("catalog-2019-000001", 1, "catalog_update.submit", "submit", "gaj.zhangfang", "gaj", t(2, 12)),
            _decision("catalog-2019-000001", 2, "catalog_update.review", "approve", "dsj.zhouwei", "dsj", t(2, 13)),
            _decision("catalog-2019-000002", 1, "catalog_update.submit", "submit", "jyj.panxiaoyu", "jyj", t(9, 3)),
            _decision("catalog-2019-000002", 2, "catalog_update.review", "approve", "dsj.zhouwei", "dsj", t(9, 4)),
            _miss("catalog-2019-000001", "catalog_update.submit", "gaj", t(2, 8, 23), True),
            # Art. 11: scjgj's file came back; its resubmission had a local deadline, missed: late, not statutory.
            CatalogUpdateCase(case_id="catalog-2019-000003", resource_id="RES-SCJGJ-001", owner_code="scjgj",
                              status="approved", changed_at=t(10, 1), change_note="测试", started_by="scjgj.jinlei",
                              started_at=t(10, 1)),
            _decision("catalog-2019-000003", 1, "catalog_update.submit", "submit", "scjgj.jinlei", "scjgj", t(10, 20)),
            _miss("catalog-2019-000003", "catalog_update.submit#2", "scjgj", t(10, 15, 23), False),
        ])
        for case_id, requester, source, resource, started, collected in (
                ("share-2019-000001", "gaj", "jyj", "RES-JYJ-002", t(3, 4), True),
                ("share-2019-000002", "jyj", "gaj", "RES-GAJ-002", t(4, 1), False),
                ("share-2019-000003", "gaj", "jyj", "RES-JYJ-002", t(5, 2), True)):
            s.add(ShareRequest(case_id=case_id, resource_id=resource, requester_code=requester, source_code=source,
                               items=["学籍号"], purpose="测试", scope="测试", mode="query", months=6,
                               share_attribute="restricted", collected=collected, status="closed", started_at=started))
        s.flush()
        s.add_all([
            # Art. 20: joint approval on time; the 7-WD reply of data not yet collected missed (statutory),
            # urged and escalated (督办 also reaches the center); a local joint-approval step missed.
            _decision("share-2019-000001", 1, "share.center_review", "approve", "dsj.zhouwei", "dsj", t(3, 5)),
            _decision("share-2019-000001", 2, "share.source_review", "approve", "jyj.panxiaoyu", "jyj", t(3, 6)),
            _decision("share-2019-000002", 1, "share.source_reply", "refuse", "gaj.zhangfang", "gaj", t(4, 15)),
            _miss("share-2019-000002", "share.source_reply", "gaj", t(4, 10, 23), True),
            _notice("share-2019-000002", "share.source_reply", 1, "gaj", "gaj.zhangfang", t(4, 9)),
            _notice("share-2019-000002", "share.source_reply", 2, "gaj", "gaj.lijun", t(4, 11)),
            _notice("share-2019-000002", "share.source_reply", 3, "gaj", "gaj.wanghaitao", t(4, 12)),
            _notice("share-2019-000002", "share.source_reply", 3, "dsj", "dsj.chenjianguo", t(4, 12)),
            _decision("share-2019-000003", 1, "share.center_review", "approve", "dsj.zhouwei", "dsj", t(5, 6)),
            _decision("share-2019-000003", 2, "share.source_review", "approve", "jyj.panxiaoyu", "jyj", t(5, 13)),
            _miss("share-2019-000003", "share.source_review", "jyj", t(5, 10, 23), False),
            _notice("share-2019-000003", "share.source_review", 2, "jyj", "jyj.chenli", t(5, 11)),
            Grant(case_id="share-2019-000001", grantee_code="gaj", resource_id="RES-JYJ-002", source_code="jyj",
                  items=["学籍号"], purpose="测试", scope="测试", mode="query", valid_from=t(3, 6), valid_until=t(9, 6)),
            Grant(case_id="share-2019-000003", grantee_code="gaj", resource_id="RES-JYJ-002", source_code="jyj",
                  items=["学籍号"], purpose="测试", scope="测试", mode="query", valid_from=t(5, 13), valid_until=t(11, 13)),
            # Art. 23: forwarded by the center, verified by jyj on time after an extension.
            CorrectionReport(case_id="correction-2019-000001", resource_id="RES-JYJ-001", reporter_code="gaj",
                             source_code="jyj", items=["学校名称"], found="错", expected="对", evidence="测试",
                             status="closed", received_at=t(6, 1, 12), extension_days=5, outcome="corrected",
                             reported_at=t(6, 1), closed_at=t(6, 10)),
            _decision("correction-2019-000001", 1, "correction.forward", "forward", "dsj.zhouwei", "dsj", t(6, 1, 11)),
            _decision("correction-2019-000001", 2, "correction.verify", "extend", "jyj.liuyang", "jyj", t(6, 3)),
            _decision("correction-2019-000001", 3, "correction.verify", "correct", "jyj.panxiaoyu", "jyj", t(6, 10)),
            # Art. 20 ¶2: jyj disputes gaj's refusal.
            Dispute(case_id="dispute-2019-000001", kind="share", parent_case_id="share-2019-000002",
                    resource_id="RES-GAJ-002", raised_by="jyj.panxiaoyu", parties=["jyj", "gaj"], claim="测试",
                    status="closed", started_at=t(4, 20)),
            # Art. 28: an application for jyj's data; Art. 32: gaj declines a listing, an objection answered.
            OpenApplication(case_id="open-2019-000001", resource_id="RES-JYJ-001", id_type="resident_id",
                            applicant_label="孙*（测试）", scope="测试", purpose="测试", access_way="download",
                            status="closed", outcome="approved", applied_at=t(7, 1), closed_at=t(7, 20)),
            ListingReview(case_id="listing-2019-000001", resource_id="RES-GAJ-002", request_count=5, status="closed",
                          answer="declined", started_at=t(8, 1)),
        ])
        s.flush()
        s.add(ListingObjection(case_id="listing-2019-000001", seq=1, ref=f"obj-{uuid.uuid4().hex[:12]}",
                               objector_label="王*", objection="测试", received_at=t(8, 20), answer="upheld",
                               answered_at=t(8, 22)))
    with session() as s:
        made["grant"] = s.exec(select(Grant.id).where(Grant.case_id == "share-2019-000001")).one()
    # Rectification, reviews, misuse and reads (Art. 46, 19, 28 ¶4, 22, 25).
    _insert_row("rectification_case", {
        "case_id": "rect-2019-000001", "dept_code": "gaj", "failings": ["二"], "status": "closed", "outcome": "accepted",
        "proposed_at": t(9, 10), "ordered_by": "xzf", "ordered_at": t(9, 12), "rounds": 1, "closed_at": t(10, 20)})
    _insert_row("review_case", {
        "case_id": "review-2019-000001", "kind": "freshness", "dept_code": "jyj", "period": "2019-11-01",
        "resource_ids": ["RES-JYJ-002"], "status": "closed", "opened_at": t(11, 1), "closed_at": t(11, 8)})
    _insert_row("review_case", {
        "case_id": "review-2019-000002", "kind": "open_scope", "dept_code": "gaj", "period": "2019",
        "resource_ids": ["RES-GAJ-002"], "status": "awaiting", "opened_at": t(12, 2)})
    _insert_row("misuse_case", {
        "case_id": "misuse-2019-000001", "grantee_code": "gaj", "resource_id": "RES-JYJ-002", "source_code": "jyj",
        "status": "closed", "outcome": "confirmed", "opened_at": t(10, 8), "closed_at": t(10, 15), "reads": 1})
    # Art. 22: a second suspected misuse, checked and dismissed: not a 违规使用案件, its read not outside a grant.
    _insert_row("misuse_case", {
        "case_id": "misuse-2019-000002", "grantee_code": "gaj", "resource_id": "RES-JYJ-002", "source_code": "jyj",
        "status": "closed", "outcome": "dismissed", "opened_at": t(11, 2), "closed_at": t(11, 6), "reads": 1})
    _insert_row("access_batch", {"batch_id": "batch-2019-report", "system": "test", "kind": "reads",
                                 "received_at": t(10, 8), "count": 4})
    for at, verdict, misuse in ((t(3, 10), "granted", None), (t(3, 11), "granted", None),
                                (t(10, 7), "no_grant", "misuse-2019-000001"),
                                (t(11, 1), "outside_items", "misuse-2019-000002")):
        _insert_row("access_read", {
            "batch_id": "batch-2019-report", "read_at": at, "reader_dept": "gaj", "resource_id": "RES-JYJ-002",
            "items": ["学籍号"], "verdict": verdict, "grant_id": made["grant"] if verdict == "granted" else None,
            "misuse_case_id": misuse})
    yield made
    _remove_year(made)


def _remove_year(made: dict[str, Any]) -> None:
    like = f"%-{YEAR}-%"
    with session() as s:
        for model, column in ((Decision, Decision.case_id), (DeadlineMiss, DeadlineMiss.case_id),
                              (Notice, Notice.case_id), (Grant, Grant.case_id), (ListingObjection, ListingObjection.case_id),
                              (ListingReview, ListingReview.case_id), (OpenApplication, OpenApplication.case_id),
                              (Dispute, Dispute.case_id), (CorrectionReport, CorrectionReport.case_id),
                              (ShareRequest, ShareRequest.case_id), (CatalogUpdateCase, CatalogUpdateCase.case_id)):
            s.execute(delete(model).where(or_(col(column).like(like), col(column).like("evaluation-201%"))))
        s.execute(delete(RoleAssignment).where(col(RoleAssignment.note) == "测试",
                                               col(RoleAssignment.since) < datetime(2020, 1, 1, tzinfo=SHANGHAI)))
        s.execute(delete(EvaluationReport).where(col(EvaluationReport.year).in_([YEAR, YEAR - 1])))
    eng = engine()
    with eng.begin() as conn:
        for name, where in (("access_read", "batch_id = 'batch-2019-report'"),
                            ("access_batch", "batch_id = 'batch-2019-report'"),
                            ("misuse_case", "case_id LIKE '%-2019-%'"), ("review_case", "case_id LIKE '%-2019-%'"),
                            ("rectification_case", "case_id LIKE '%-2019-%'")):
            conn.execute(text(f"DELETE FROM {name} WHERE {where}"))  # noqa: S608  (fixed names)


def figures_of(report: dict[str, Any], code: str) -> dict[str, tuple[int, list[str]]]:
    dept = next(d for d in report["departments"] if d["code"] == code)
    return {key: (f["value"], f["case_ids"]) for part in dept["parts"].values() for key, f in part.items()}


def _ids(*ids: str | None) -> tuple[int, list[str]]:
    return len(ids), sorted(i for i in ids if i is not None)


def test_art41_every_figure_of_a_known_year_with_its_case_ids(year: dict[str, Any]) -> None:
    report = compute(YEAR).model_dump(mode="json")
    none: tuple[int, list[str]] = (0, [])
    r1, r2, r3 = year["roles"]
    rect = ("rect-2019-000001",)
    misuse = ("misuse-2019-000001",)  # confirmed
    dismissed = ("misuse-2019-000002",)
    # Reads are counted, traced to the cases they were read under (the grant's, the misuse case); the read
    # whose misuse case was dismissed is no read outside a grant (Art. 22), but still a read of jyj's data.
    granted = (2, ["share-2019-000001"])
    outside = (1, list(misuse))
    own = (4, sorted(["share-2019-000001", *misuse, *dismissed]))
    gaj = {
        # 组织管理 (Art. 43, 46)
        "roles_filed": _ids(r1, r3), "roles_held": _ids(r2, r3), "role_changes": _ids(r2),
        "rectification_proposed": _ids(*rect), "rectification_ordered": _ids(*rect),
        "rectification_accepted": _ids(*rect),
        # 数据共享 (Art. 11, 20, 23): both of gaj's steps statutory and late
        "catalog_updates": _ids("catalog-2019-000001"), "catalog_updates_on_time": none,
        "catalog_updates_late": _ids("catalog-2019-000001"),
        "statutory_steps": _ids("catalog-2019-000001:catalog_update.submit", "share-2019-000002:share.source_reply"),
        "statutory_on_time": none,
        "statutory_late": _ids("catalog-2019-000001:catalog_update.submit", "share-2019-000002:share.source_reply"),
        "local_steps": none, "local_on_time": none, "local_late": none,
        "share_source_handled": _ids("share-2019-000002:share.source_reply"), "share_source_on_time": none,
        "share_source_late": _ids("share-2019-000002:share.source_reply"),
        "share_center_handled": none, "share_center_on_time": none, "share_center_late": none,
        "corrections_verified": none, "corrections_on_time": none, "extensions": none,
        "urgings": _ids("share-2019-000002:share.source_reply"),
        "escalations": _ids("share-2019-000002:share.source_reply"),  # the center's copy counts against gaj
        "disputes": _ids("dispute-2019-000001"), "grants_given": none,
        "grants_received": _ids("share-2019-000001", "share-2019-000003"),
        "freshness_reviews": none, "freshness_answered": none,
        # 数据开放 (Art. 28, 32, 28 ¶4)
        "open_applications": none, "open_applications_closed": none,
        "listing_reviews": _ids("listing-2019-000001"), "listing_listed": none,
        "listing_declined": _ids("listing-2019-000001"),
        "objections": _ids("listing-2019-000001#1"), "objections_answered": _ids("listing-2019-000001#1"),
        "objections_upheld": _ids("listing-2019-000001#1"), "objections_suggested": none,
        "open_scope_reviews": _ids("review-2019-000002"), "open_scope_answered": none,
        "restricted_open_reviews": none, "restricted_open_answered": none,
        # 数据利用 (Art. 22, 25)
        "reads_granted": granted, "reads_outside_grant": outside, "reads_of_own_data": none,
        "misuse_opened_as_user": _ids(*misuse, *dismissed), "misuse_as_user": _ids(*misuse),
        "misuse_dismissed_as_user": _ids(*dismissed),
        "misuse_opened_as_source": none, "misuse_as_source": none, "misuse_dismissed_as_source": none,
    }
    jyj = {
        "roles_filed": none, "roles_held": none, "role_changes": none, "rectification_proposed": none,
        "rectification_ordered": none, "rectification_accepted": none,
        "catalog_updates": _ids("catalog-2019-000002"), "catalog_updates_on_time": _ids("catalog-2019-000002"),
        "catalog_updates_late": none,
        "statutory_steps": _ids("catalog-2019-000002:catalog_update.submit", "correction-2019-000001:correction.verify"),
        "statutory_on_time": _ids("catalog-2019-000002:catalog_update.submit", "correction-2019-000001:correction.verify"),
        "statutory_late": none,
        "local_steps": _ids("share-2019-000001:share.source_review", "share-2019-000003:share.source_review"),
        "local_on_time": _ids("share-2019-000001:share.source_review"),
        "local_late": _ids("share-2019-000003:share.source_review"),
        "share_source_handled": _ids("share-2019-000001:share.source_review", "share-2019-000003:share.source_review"),
        "share_source_on_time": _ids("share-2019-000001:share.source_review"),
        "share_source_late": _ids("share-2019-000003:share.source_review"),
        "share_center_handled": none, "share_center_on_time": none, "share_center_late": none,
        "corrections_verified": _ids("correction-2019-000001"), "corrections_on_time": _ids("correction-2019-000001"),
        "extensions": _ids("correction-2019-000001"),
        "urgings": _ids("share-2019-000003:share.source_review"), "escalations": none,
        "disputes": _ids("dispute-2019-000001"), "grants_given": _ids("share-2019-000001", "share-2019-000003"),
        "grants_received": none,
        "freshness_reviews": _ids("review-2019-000001"),
        "freshness_answered": _ids("review-2019-000001"),
        "open_applications": _ids("open-2019-000001"), "open_applications_closed": _ids("open-2019-000001"),
        "listing_reviews": none, "listing_listed": none, "listing_declined": none, "objections": none,
        "objections_answered": none, "objections_upheld": none, "objections_suggested": none, "open_scope_reviews": none, "open_scope_answered": none,
        "restricted_open_reviews": none, "restricted_open_answered": none,
        "reads_granted": none, "reads_outside_grant": none, "reads_of_own_data": own,
        "misuse_opened_as_user": none, "misuse_as_user": none, "misuse_dismissed_as_user": none,
        "misuse_opened_as_source": _ids(*misuse, *dismissed), "misuse_as_source": _ids(*misuse),
        "misuse_dismissed_as_source": _ids(*dismissed),
    }
    assert figures_of(report, "gaj") == gaj
    assert figures_of(report, "jyj") == jyj
    # The center's own steps are reported (not ranked): its two share approvals, both on time.
    center = figures_of(report, "dsj")
    assert center["share_center_handled"] == center["share_center_on_time"] == _ids(
        "share-2019-000001:share.center_review", "share-2019-000003:share.center_review")
    assert center["local_late"] == none
    # Art. 11: a statutory step late against a local deadline (the file came back) is late, not statutory late.
    scjgj = figures_of(report, "scjgj")
    late = _ids("catalog-2019-000003:catalog_update.submit")
    assert (scjgj["statutory_steps"], scjgj["local_steps"], scjgj["local_late"]) == (none, late, late)
    # Every figure Art. 41's parts name is there, in order, for every reported department.
    assert all(list(d["parts"]) == list(PARTS) for d in report["departments"])
    assert all(list(d["parts"][p]) == list(FIGURES.get(p, {})) for d in report["departments"] for p in PARTS)
    # The ranking: jyj 100×(4−1−0)/4 = 75; gaj 100×(2−2−2)/2 → 0; scjgj 100×(1−1−0)/1 = 0, the same rank
    # as gaj (listed by name); the rest owed nothing: unranked, by name.
    ranking = report["ranking"]
    assert [(e["code"], e["rank"], e["owed"], e["late"], e["statutory_late"], e["score"]) for e in ranking[:3]] == [
        ("jyj", 1, 4, 1, 0, 75.0), ("gaj", 2, 2, 2, 2, 0.0), ("scjgj", 2, 1, 1, 0, 0.0)]
    rest = ranking[3:]
    assert all(e["rank"] is None and e["score"] is None for e in rest)
    assert [e["name"] for e in rest] == sorted(e["name"] for e in rest)
    assert "dsj" not in [e["code"] for e in ranking]
    # Monthly trends: cases opened and deadlines missed, with their ids.
    months = {m["month"]: m for m in report["monthly"]}
    assert months[2]["opened"]["case_ids"] == ["catalog-2019-000001"]
    assert months[4]["opened"]["case_ids"] == ["dispute-2019-000001", "share-2019-000002"]
    assert months[4]["missed"]["case_ids"] == ["share-2019-000002:share.source_reply"]
    assert months[5]["missed"]["case_ids"] == ["share-2019-000003:share.source_review"]
    assert [m["missed"]["value"] for m in report["monthly"]] == [0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    assert months[9]["opened"]["case_ids"] == ["catalog-2019-000002", *rect]
    # Art. 41 evaluates the departments (and reports the center): every other body is named as not evaluated.
    assert report["not_evaluated"][:4] == NOT_EVALUATED
    assert not set(NOT_EVALUATED) & {d["name"] for d in report["departments"]}


NOT_EVALUATED = ["县人民政府", "县大数据发展管理局", "温州市大数据发展管理局", "县公共数据专家委员会"]


def test_art22_a_read_whose_misuse_case_was_cancelled_is_no_read_outside_a_grant(year: dict[str, Any]) -> None:
    """A case cancelled as opened in error is neither pending nor reviewed: its read is not counted
    as outside a grant, as a dismissed one's is not."""
    def outside() -> tuple[int, list[str]]:
        return figures_of(compute(YEAR).model_dump(mode="json"), "gaj")["reads_outside_grant"]

    def outcome(value: str | None) -> None:
        with engine().begin() as conn:
            conn.execute(text("UPDATE misuse_case SET outcome = :v WHERE case_id = 'misuse-2019-000002'"), {"v": value})

    with_dismissed = outside()
    try:
        outcome("cancelled")
        assert outside() == with_dismissed and "misuse-2019-000002" not in with_dismissed[1]
        outcome(None)
        pending = outside()  # still under review: counted, traced to its case
        assert pending[0] == with_dismissed[0] + 1 and "misuse-2019-000002" in pending[1]
    finally:
        outcome("dismissed")  # the module's known year as it was


def test_art41_equal_scores_share_a_rank_listed_by_name() -> None:
    def dept(code: str, name: str) -> Department:
        return Department(code=code, name=name, kind="department")

    def owed(late: int) -> dict[tuple[str, str], Owed]:
        return {(f"c{i}", "correction.verify"): Owed(f"c{i}", "correction.verify", handled=True, late=i < late)
                for i in range(4)}

    start, end = year_bounds(YEAR)
    depts = [dept("d", "丁局"), dept("c", "丙局"), dept("b", "乙局"), dept("a", "甲局"), dept("e", "戊局")]
    r = Records(YEAR, start, end, depts, {}, {"a": owed(0), "b": owed(0), "c": owed(0), "d": owed(1)}, [], [])
    ranked = [(e.rank, e.name, e.score) for e in ranking(r)]
    # 1, 1, 1, 4 (the three at 100 share the first place, by name), and 戊局, which owed nothing, unranked.
    by_name = sorted(["甲局", "乙局", "丙局"])
    assert ranked == [(1, by_name[0], 100.0), (1, by_name[1], 100.0), (1, by_name[2], 100.0), (4, "丁局", 75.0),
                      (None, "戊局", None)]


def test_art41_a_draft_kept_before_the_figures_changed_is_computed_afresh() -> None:
    from activities.store import resolve_actor
    from service import reports

    old = compute(YEAR - 2).model_dump(mode="json")
    for d in old["departments"]:
        d["parts"]["use"].pop("misuse_dismissed_as_user")  # a figure added since
    with session() as s:
        s.add(EvaluationReport(year=YEAR - 2, status="draft", figures=old))
    try:
        figures, _, status, _ = reports.view(resolve_actor("dsj.zhouwei"), YEAR - 2)
        assert status == "computed" and all(list(d.parts["use"]) == list(FIGURES["use"]) for d in figures.departments)
    finally:
        with session() as s:
            s.execute(delete(EvaluationReport).where(col(EvaluationReport.year) == YEAR - 2))


# ---- the API ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    people = ["dsj.zhouwei", "dsj.linxiaohong", "xzf.wuminghui", "dsjj.yuting", "gaj.zhangfang", "jyj.chenli"]
    return {p: str(auth.issue_token(None, p, days=1, label="test", by="tests")["token"]) for p in people}


@pytest.fixture
async def api(env: WorkflowEnvironment, worker: str) -> AsyncIterator[httpx.AsyncClient]:
    from hook import create_app

    settings = get_settings().model_copy(update={
        "task_queue": worker, "hook_keys": {"edu": HookKey(secret=SYSTEM_SECRET, departments=["jyj"])}})
    transport = httpx.ASGITransport(app=create_app(Services(settings, client=env.client)))
    async with httpx.AsyncClient(transport=transport, base_url="http://pdw.test", timeout=60) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(method: str, path: str, body: bytes = b"") -> dict[str, str]:
    ts = str(int(time.time()))
    return {"X-Pdw-Key": "edu", "X-Pdw-Timestamp": ts,
            "X-Pdw-Signature": signature(SYSTEM_SECRET, method, path, ts, body, "")}


async def test_art41_report_formats_for_the_overseers_and_not_for_departments(
        year: dict[str, Any], api: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    path = f"/v1/reports/evaluation/{YEAR}"
    html = await api.get(path, params={"format": "html"}, headers=bearer(tokens["xzf.wuminghui"]))  # county government
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    page = html.text
    # Self-contained: no script, no address at all (no external stylesheet, font or image); printable.
    assert "<script" not in page and "http" not in page and "@import" not in page and "@media print" in page
    assert page.count("<svg") >= 2 and "<text" in page and "按时办结率" in page and "草稿" not in page[:400]
    with session() as s:
        names = s.exec(select(Department.name).where(col(Department.kind).in_(["center", "department"]))).all()
    assert names and all(name in page for name in names)
    # The bodies not evaluated are named, in one line (Art. 41 evaluates the departments).
    line = next(x for x in page.splitlines() if "不参与评估的单位：" in x)
    assert all(name in line for name in NOT_EVALUATED) and "不属本报告评估对象" in line
    # Art. 22: only confirmed misuse is a 违规使用案件; reads outside a grant are pending or checked.
    assert FIGURES["use"]["misuse_as_user"] in page and "授权外读取（待核查或经核查）" in page
    assert "share-2019-000002（答复未归集数据的共享申请）" in page  # traceable: the appendix names the case ids
    from tests.test_texts import _visible, raw_codes

    assert not raw_codes(_visible(page))  # no code reaches the reader: steps, records, sources in Chinese
    xlsx = await api.get(path, params={"format": "xlsx"}, headers=bearer(tokens["dsjj.yuting"]))  # 县大数据发展管理局
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.content))
    assert {"说明", *PARTS.values(), "排名", "月度趋势", "案件明细"} <= set(wb.sheetnames)
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert about["依据"].startswith("《永嘉县公共数据共享开放管理暂行办法》第四十一条")
    assert all(name in about["评估范围"] for name in NOT_EVALUATED) and "不参与评估的单位" in about["评估范围"]
    sharing = wb["数据共享"]
    header = [c.value for c in sharing[1]]
    assert header[:2] == ["部门", "部门类别"] and FIGURES["sharing"]["statutory_late"] in header
    gaj_row = next(r for r in sharing.iter_rows(values_only=True) if r[0] == "县公安局")
    assert gaj_row[header.index(FIGURES["sharing"]["statutory_late"])] == 2
    assert sharing.column_dimensions["A"].width >= 20
    detail = [r for r in wb["案件明细"].iter_rows(values_only=True) if r[0] == "县公安局"]
    assert any(r[2] == FIGURES["sharing"]["statutory_late"] and "share-2019-000002:share.source_reply" in r[4]
               for r in detail)
    assert [r[1] for r in wb["排名"].iter_rows(min_row=2, max_row=3, values_only=True)] == ["县教育局", "县公安局"]
    answer = await api.get(path, headers=bearer(tokens["dsj.zhouwei"]))  # json by default
    assert answer.json()["status"] == "computed" and answer.json()["ranking"][0]["code"] == "jyj"
    # Art. 41: the departments evaluated may not read a report before it is published.
    denied = await api.get(path, params={"format": "html"}, headers=bearer(tokens["gaj.zhangfang"]))
    assert denied.status_code == 403 and "第四十一条" in denied.json()["detail"]
    # Nor through a system's key bound to a department, nor the public without a credential.
    query = f"{path}?format=json&as=jyj.chenli"
    via_system = await api.get(query, headers=signed("GET", query))
    assert via_system.status_code == 403, via_system.text
    assert (await api.get(path)).status_code == 401
    bad = await api.get(path, params={"format": "pdf"}, headers=bearer(tokens["dsj.zhouwei"]))
    assert bad.status_code == 400 and "format" in bad.json()["detail"]


async def test_art41_publish_needs_advice_then_the_report_is_frozen_and_public(
        year: dict[str, Any], api: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    # dsj.zhouwei is the center's 日常管理人员: he drafts; dsj.linxiaohong (分管领导) publishes.
    center, leader, gaj = bearer(tokens["dsj.zhouwei"]), bearer(tokens["dsj.linxiaohong"]), bearer(tokens["gaj.zhangfang"])
    publish = f"/v1/reports/evaluation/{YEAR}/publish"
    assert (await api.post(f"/v1/reports/evaluation/{YEAR}/draft", json={}, headers=gaj)).status_code == 403
    draft = f"/v1/reports/evaluation/{YEAR}/draft"  # nor a department's system, naming one of its people
    body = json.dumps({"as": "jyj.chenli"}).encode()
    by_key = await api.post(draft, content=body, headers={**signed("POST", draft, body), "Content-Type": "application/json"})
    assert by_key.status_code == 403, by_key.text
    with session() as s:
        assert s.get(EvaluationReport, YEAR) is None  # nothing drafted by the refused callers
    drafted = await api.post(f"/v1/reports/evaluation/{YEAR}/draft", json={}, headers=center)
    assert drafted.status_code == 200 and drafted.json()["status"] == "draft"
    full = {"advice": "改进", "basic_guarantee": "经费到位。"}
    daily = await api.post(publish, json=full, headers=center)  # public and permanent: the center's leaders only
    assert daily.status_code == 403 and "主要负责人" in daily.json()["detail"] and "分管领导" in daily.json()["detail"]
    no_basic = await api.post(publish, json={"advice": "改进", "basic_guarantee": " "}, headers=leader)
    assert no_basic.status_code == 400 and "basic_guarantee" in no_basic.json()["detail"]
    assert "基础保障" in no_basic.json()["detail"] and "第四十一条" in no_basic.json()["detail"]
    assert YEAR not in [r["year"] for r in (await api.get("/v1/public/reports")).json()]  # published only
    assert (await api.get(f"/v1/public/reports/{YEAR}")).status_code == 404  # a draft is not public
    refused = await api.post(publish, json={"advice": "  ", "basic_guarantee": "经费到位。"}, headers=leader)
    assert refused.status_code == 400 and "改进意见" in refused.json()["detail"] and "第四十一条" in refused.json()["detail"]
    assert (await api.post(publish, json={"advice": "改进"}, headers=gaj)).status_code == 403  # the center's only:
    county = await api.post(publish, json={"advice": "改进"}, headers=bearer(tokens["xzf.wuminghui"]))
    assert county.status_code == 403 and "县大数据管理中心" in county.json()["detail"]  # not the county's, who may read it
    body = json.dumps({"advice": "改进", "as": "jyj.chenli"}).encode()
    via_system = await api.post(publish, content=body, headers={**signed("POST", publish, body),
                                                                "Content-Type": "application/json"})
    assert via_system.status_code == 403  # nor a system's key
    with session() as s:
        assert s.get(EvaluationReport, YEAR).status == "draft"  # type: ignore[union-attr]  (nothing changed)
    # Art. 41: a whole year, published once for good: not a year still running, nor one not begun.
    now = datetime.now(SHANGHAI).year
    running = await api.post(f"/v1/reports/evaluation/{now}/publish", json=full, headers=leader)
    assert running.status_code == 400 and "尚未结束" in running.json()["detail"]
    future = await api.post(f"/v1/reports/evaluation/{now + 1}/draft", json={}, headers=center)
    assert future.status_code == 400 and "尚未开始" in future.json()["detail"]
    assert (await api.get(f"/v1/reports/evaluation/{now + 1}", headers=center)).status_code == 400
    # A year before pdw kept any record: an empty report, published for good, is refused.
    empty = await api.post("/v1/reports/evaluation/2001/publish", headers=bearer(tokens["dsj.linxiaohong"]),
                           json={"advice": "改进", "basic_guarantee": "到位"})
    assert empty.status_code == 400 and "没有任何记录" in empty.json()["detail"], empty.text
    with session() as s:
        assert s.get(EvaluationReport, 2001) is None  # nothing written: not even a draft
    with session() as s:
        assert s.get(EvaluationReport, now) is None and s.get(EvaluationReport, now + 1) is None
    done = await api.post(publish, headers=leader, json={
        "advice": "县公安局应按第二十条在七个工作日内答复未归集数据的共享申请。", "basic_guarantee": "经费、人员到位。",
        "remarks": "无"})
    assert done.status_code == 200, done.text
    again = await api.post(publish, json={"advice": "再次发布", "basic_guarantee": "再次"}, headers=leader)
    assert again.status_code == 409 and "不能更改" in again.json()["detail"]
    redraft = await api.post(f"/v1/reports/evaluation/{YEAR}/draft", json={}, headers=center)
    assert redraft.status_code == 409
    listed = (await api.get("/v1/public/reports")).json()
    assert [r["year"] for r in listed if r["year"] == YEAR] == [YEAR]
    with session() as s:
        assert all(r.status == "published" for r in s.exec(select(EvaluationReport)) if r.year in [x["year"] for x in listed])
    public = await api.get(f"/v1/public/reports/{YEAR}")
    assert public.status_code == 200 and "七个工作日内答复" in public.text and "经费、人员到位" in public.text
    # Published: every staff member may read it, frozen as published, even the departments evaluated.
    frozen = await api.get(f"/v1/reports/evaluation/{YEAR}", params={"format": "html"}, headers=gaj)
    assert frozen.status_code == 200 and frozen.text == public.text
    as_json = (await api.get(f"/v1/reports/evaluation/{YEAR}", headers=gaj)).json()
    assert as_json["status"] == "published" and as_json["advice"].startswith("县公安局")
    mine = (await api.get("/v1/reports", headers=gaj)).json()
    assert {"year": YEAR, "status": "published"}.items() <= next(r for r in mine if r["year"] == YEAR).items()


async def test_art41_public_report_routes_are_rate_limited_like_every_public_route(env: WorkflowEnvironment) -> None:
    from hook import create_app

    # Counted as reads (the receipts' limit), apart from the public's submissions.
    settings = get_settings().model_copy(update={"receipt_rate_limit": 1, "public_rate_limit": 1000,
                                                 "public_client_header": "X-Forwarded-For"})
    transport = httpx.ASGITransport(app=create_app(Services(settings, client=env.client)))
    me = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}, 10.{uuid.uuid4().int % 250}.0.1"}
    async with httpx.AsyncClient(transport=transport, base_url="http://pdw.test", timeout=60) as client:
        assert (await client.get("/v1/public/reports", headers=me)).status_code == 200
        limited = await client.get(f"/v1/public/reports/{YEAR}", headers=me)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1 and "查询" in limited.text


# ---- the yearly draft and the commands -----------------------------------------------------------------


async def test_art41_yearly_schedule_drafts_the_year_and_tells_the_center(
        year: dict[str, Any], env: WorkflowEnvironment, worker: str) -> None:
    from devstack import daily_schedules

    assert daily_schedules(get_settings())["pdw-evaluation-report"] == ("EvaluationDraft", "0 9 5 1 *")
    workflow_id = f"evaluation-test-{uuid.uuid4().hex[:8]}"
    result = await env.client.execute_workflow("EvaluationDraft", YEAR - 1, id=workflow_id, task_queue=worker,
                                               result_type=DraftResult)
    assert result.refreshed and result.status == "draft"
    with session() as s:
        row = s.get(EvaluationReport, YEAR - 1)
        assert row is not None and row.status == "draft" and row.figures["year"] == YEAR - 1
        told = s.exec(select(Notice).where(Notice.case_id == f"evaluation-{YEAR - 1}")).all()
    assert told and {n.dept_code for n in told} == {"dsj"} and "第四十一条" in told[0].body
    assert "evaluation" not in told[0].subject.split("：")[0].split()[0]  # a Chinese label, not the code
    # A re-run refreshes the draft and tells nobody twice (the outbox row is written once).
    await env.client.execute_workflow("EvaluationDraft", YEAR - 1, id=f"evaluation-test-{uuid.uuid4().hex[:8]}",
                                      task_queue=worker)
    with session() as s:
        assert len(s.exec(select(Notice).where(Notice.case_id == f"evaluation-{YEAR - 1}")).all()) == len(told)


async def test_art41_pdw_report_commands(year: dict[str, Any], dev: dict[str, str | None],  # noqa: F811
                                         tmp_path: Path) -> None:
    out = tmp_path / "报告.html"
    done = await apdw(dev, "report", "evaluation", "--year", str(YEAR - 1), "--out", str(out), "--as", "dsj.zhouwei")
    assert done.exit_code == 0, done.stderr
    assert "<svg" in out.read_text(encoding="utf-8")
    book = tmp_path / "r.xlsx"
    done = await apdw(dev, "report", "evaluation", "--year", str(YEAR - 1), "--out", str(book), "--as", "xzf.wuminghui")
    assert done.exit_code == 0 and book.read_bytes()[:2] == b"PK"
    denied = await apdw(dev, "report", "evaluation", "--year", str(YEAR - 1), "--out", str(out), "--as", "gaj.zhangfang")
    assert denied.exit_code == 1 and "第四十一条" in denied.stderr
    no_advice = await apdw(dev, "report", "publish", "--year", str(YEAR - 1), "--as", "dsj.zhouwei")
    assert no_advice.exit_code == 1 and "改进意见" in no_advice.stderr
    advice = tmp_path / "改进意见.txt"
    advice.write_text("按时答复。", encoding="utf-8")
    no_basic = await apdw(dev, "report", "publish", "--year", str(YEAR - 1), "--advice-file", str(advice),
                          "--as", "dsj.linxiaohong")
    assert no_basic.exit_code == 1 and "--basic-file" in no_basic.stderr and "基础保障" in no_basic.stderr
    # Every example on a line of its own, to paste as is.
    shown = [line.strip() for line in (await apdw(dev, "report", "evaluation", "--help")).stdout.splitlines()]
    assert "pdw report evaluation --year 2026 --out 报告.html" in shown
    assert "pdw report evaluation --year 2026 --format xlsx --out 报告.xlsx" in shown
    listed = await apdw(dev, "report", "list", "--json", "--as", "dsj.zhouwei")
    assert listed.exit_code == 0 and YEAR - 1 in [r["year"] for r in json.loads(listed.stdout)]
