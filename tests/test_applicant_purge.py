"""个人信息保护法: applicants' names, identity numbers and contacts are kept only for their retention
period (days after the case closed, per kind), then erased by the center (`pdw applicants purge`,
audited) or the daily Schedule's workflow; the masked label stays and every case still reads."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.notices import deliver_notice
from activities.store import insert_ignore, session
from models.audit import AuditEvent
from models.notices import Notice
from models.open_data import OpenApplication, OpenRequest
from models.receipts import PublicReceipt
from models.types import utcnow
from service import auth
from service.context import Services
from settings import HookKey, get_settings
from tests.helpers import STARTED

APPLICANT = {"name": "孙琳", "id_type": "resident_id", "id_number": "330324197707071116", "contact": "sunlin@example.com",
             "resource_id": "RES-GAJ-001", "scope": "研究", "purpose": "人口结构研究"}


@pytest.fixture
def retention(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the retention periods (days) as a deployment would, through PDW_* settings."""

    def configure(days: int) -> None:
        for kind in ("APPLICATION", "REQUEST", "OBJECTION"):
            monkeypatch.setenv(f"PDW_RETENTION_{kind}_DAYS", str(days))
        get_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
async def api(env: WorkflowEnvironment, worker: str) -> AsyncIterator[httpx.AsyncClient]:
    from hook import create_app

    settings = get_settings().model_copy(update={
        "task_queue": worker, "hook_keys": {"erp": HookKey(secret="erp-secret", departments=["dsj"])}})
    app = create_app(Services(settings, client=env.client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test", timeout=60) as c:
        yield c


def bearer(person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.issue_token(None, person, days=1, label='test', by='tests')['token']}"}


async def refused_application(api: httpx.AsyncClient, env: WorkflowEnvironment) -> dict[str, Any]:
    """An application for forbidden data (Art. 29): refused and closed at once."""
    answer = (await api.post("/v1/public/open-applications", json=APPLICANT)).json()
    STARTED.append(answer["case_id"])
    await env.client.get_workflow_handle(answer["case_id"]).result()
    with session() as s:  # closed a day ago by the wall clock (the time-skipping server's runs ahead)
        row = s.get(OpenApplication, answer["case_id"])
        assert row is not None and row.closed_at is not None
        row.closed_at = utcnow() - timedelta(days=1)
        s.add(row)
    return answer  # type: ignore[no-any-return]


def purge_events() -> list[AuditEvent]:
    with session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.event == "applicants_purged")
                           .order_by(col(AuditEvent.id))).all())


async def test_pipl_only_the_center_purges_and_a_department_or_a_system_is_refused(
    api: httpx.AsyncClient, retention: Any
) -> None:
    retention(0)
    before = len(purge_events())
    clerk = await api.post("/v1/applicants/purge", json={}, headers=bearer("jyj.panxiaoyu"))
    assert clerk.status_code == 403 and "县大数据管理中心" in clerk.json()["detail"] and "第四条" in clerk.json()["detail"]
    nobody = await api.post("/v1/applicants/purge", json={})
    assert nobody.status_code == 401
    body = json.dumps({"as": "dsj.zhouwei"}).encode()
    ts = str(int(time.time()))
    signed = {"X-Pdw-Key": "erp", "X-Pdw-Timestamp": ts, "Content-Type": "application/json",
              "X-Pdw-Signature": auth.signature("erp-secret", "POST", "/v1/applicants/purge", ts, body)}
    system = await api.post("/v1/applicants/purge", content=body, headers=signed)
    assert system.status_code == 403 and "调用系统不能办理管理事项" in system.json()["detail"]
    assert len(purge_events()) == before  # nothing erased, nothing recorded


async def test_pipl_a_purged_case_still_reads_with_its_label_and_the_purge_is_audited(
    api: httpx.AsyncClient, env: WorkflowEnvironment, retention: Any
) -> None:
    retention(180)  # a case closed today is kept
    kept = await refused_application(api, env)
    assert (await api.post("/v1/applicants/purge", json={}, headers=bearer("dsj.zhouwei"))).status_code == 200
    with session() as s:
        row = s.get(OpenApplication, kept["case_id"])
        assert row is not None and row.purged_at is None and row.id_number == APPLICANT["id_number"]

    retention(0)  # past its period: erased
    purged = await api.post("/v1/applicants/purge", json={}, headers=bearer("dsj.zhouwei"))
    assert purged.status_code == 200, purged.text
    assert purged.json()["applications"] >= 1 and purged.json()["receipts"] >= 1 and "脱敏" in purged.json()["message"]
    with session() as s:
        row = s.get(OpenApplication, kept["case_id"])
        receipt = s.get(PublicReceipt, kept["receipt"])
        assert row is not None and receipt is not None
        assert (row.applicant_name, row.id_number, row.contact) == (None, None, None) and row.purged_at is not None
        assert row.applicant_label.startswith("孙*") and receipt.contact is None and receipt.purged_at is not None
        assert receipt.label == row.applicant_label and receipt.notify == "email"
        # Every request of the period is erased too (its name and contact), the count kept (person_key).
        assert not s.exec(select(OpenRequest).where(col(OpenRequest.purged_at).is_(None),
                                                    col(OpenRequest.review_case_id).is_(None))).all()

    # Still readable: the case for staff (pdw show), the receipt for the applicant.
    shown = await api.get(f"/v1/cases/{kept['case_id']}", headers=bearer("dsj.zhouwei"))
    assert shown.status_code == 200 and shown.json()["state"]["applicant_label"].startswith("孙*")
    view = await api.get(f"/v1/public/receipts/{kept['receipt']}", headers={"X-Receipt-Token": kept["receipt_token"]})
    assert view.status_code == 200, view.text
    assert view.json()["status_zh"] == "不予开放" and view.json()["purged"] is True
    assert view.json()["notify"] == "" and "已按保存期限删除" in view.json()["notify_zh"]  # nobody left to tell
    assert view.json()["applicant"] == receipt.label
    for text in (shown.text, view.text):
        assert APPLICANT["id_number"] not in text and APPLICANT["contact"] not in text

    # Recorded in the audit chain: who, how many (never what), and the chain holds.
    event = purge_events()[-1]
    assert event.person_id == "dsj.zhouwei" and event.detail["applications"] >= 1
    assert event.detail["retention_days"] == {"application": 0, "request": 0, "objection": 0}
    assert APPLICANT["id_number"] not in json.dumps(event.detail, ensure_ascii=False)
    verified = await api.get("/v1/audit/verify", headers=bearer("dsj.zhouwei"))
    assert verified.json()["holds"] is True

    # A notice still queued for a purged receipt is not sent anywhere: its contact is gone.
    with session() as s:
        insert_ignore(s, Notice, {
            "case_id": kept["case_id"], "step": "test.after_purge", "level": 0, "dept_code": "public",
            "role": "applicant", "person_id": kept["receipt"], "person_name": receipt.label, "channel": "email",
            "subject": "测试", "body": "测试", "case_time": receipt.created_at}, ["case_id", "step", "level",
                                                                                  "person_id", "channel"])
        notice = s.exec(select(Notice).where(Notice.step == "test.after_purge")).one()
    assert notice.id is not None and deliver_notice(notice.id) == "failed"
    with session() as s:
        failed = s.get(Notice, notice.id)
        assert failed is not None and failed.status == "failed" and "保存期限" in (failed.error or "")


async def test_pipl_the_daily_schedule_workflow_purges_and_is_audited_as_the_schedule(
    api: httpx.AsyncClient, env: WorkflowEnvironment, worker: str, retention: Any
) -> None:
    retention(0)
    answer = await refused_application(api, env)
    counts = await env.client.execute_workflow("ApplicantsPurge", id=f"purge-test-{answer['case_id']}",
                                               task_queue=worker)
    assert counts["applications"] >= 1
    assert purge_events()[-1].person_id == "pdw-applicants-purge"
    with session() as s:
        row = s.get(OpenApplication, answer["case_id"])
        assert row is not None and row.contact is None and row.applicant_label.startswith("孙*")


def test_pipl_an_application_whose_case_never_started_is_erased_after_its_period_from_when_it_was_made(
    retention: Any,
) -> None:
    """个人信息保护法: a start that failed and was never retried leaves an application that never
    closes; "never started" is read from the records (still opening, no open attribute read: the
    case's first activity records it), so its name, number and contact go after the period counted
    from when it was made, with its receipt, as does a receipt whose application row was never written."""
    import uuid

    from activities.applicants import purge_applicants
    from activities.receipts import mint_receipt

    retention(30)
    old, now = utcnow() - timedelta(days=31), utcnow()
    cases = {kind: f"open-test-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("orphan", "running", "recent", "unregistered")}
    receipts: dict[str, str] = {}
    with session() as s:
        for kind in ("orphan", "running", "recent"):
            s.add(OpenApplication(case_id=cases[kind], resource_id="RES-GAJ-001", applicant_name="孙琳",
                                  id_type="resident_id", id_number=APPLICANT["id_number"], contact=APPLICANT["contact"],
                                  applicant_label="孙*（居民身份证 ****1116）", scope="研究", purpose="研究",
                                  access_way="download", applied_at=now if kind == "recent" else old,
                                  # a case that did start: its first activity read the open attribute
                                  open_attribute="restricted" if kind == "running" else None,
                                  status="center_review" if kind == "running" else "opening"))
    for kind, case_id in cases.items():
        receipts[kind] = mint_receipt("application", resource_id="RES-GAJ-001", label="孙*", contact=APPLICANT["contact"],
                                      case_id=case_id)["receipt"]
    with session() as s:
        for number in receipts.values():
            row = s.get(PublicReceipt, number)
            assert row is not None
            row.created_at = old if number != receipts["recent"] else now
            s.add(row)

    counts = purge_applicants()
    assert counts["applications"] >= 1 and counts["receipts"] >= 2
    with session() as s:
        orphan, running, recent = (s.get(OpenApplication, cases[k]) for k in ("orphan", "running", "recent"))
        assert orphan is not None and running is not None and recent is not None
        assert (orphan.applicant_name, orphan.id_number, orphan.contact) == (None, None, None)
        assert orphan.purged_at is not None and orphan.applicant_label.startswith("孙*")
        assert running.purged_at is None and running.contact == APPLICANT["contact"]  # still under way
        assert recent.purged_at is None  # within its period
        gone = {k: s.get(PublicReceipt, n) for k, n in receipts.items()}
        assert all(r is not None for r in gone.values())
        assert [k for k, r in gone.items() if r is not None and r.purged_at is not None and r.contact is None] == [
            "orphan", "unregistered"]
