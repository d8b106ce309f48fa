"""The public hears back (issue 12): receipts for every application, request and objection, the
public status route read from the records (Art. 28 ¶2, 29, 32), rate limits kept in the database and
shared by API replicas, and applicants' notices by email (aiosmtpd) and SMS (a local gateway), under
the role ``applicant``, the outbox naming the receipt and the masked label, never the contact."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.catalog import current_version
from activities.channels import sms_sign
from activities.store import session
from models.catalog import CatalogVersion, DataResource
from models.notices import Notice
from models.open_data import ListingObjection, ListingReview
from models.receipts import PublicReceipt
from service import auth
from service.context import Services
from settings import get_settings
from tests.helpers import STARTED, notices_of, wait_status
from tests.pg import free_port
from tests.test_commands import api_url, dev, home  # noqa: F401 - fixtures of the pdw tests
from tests.test_e2e import stack  # noqa: F401 - the end-to-end stack (dev server, worker, API)
from tests.test_notices import Mailbox

SMS_SECRET = "sms-test-secret"
RECEIPT = r"^GK-\d{4}-\d{6}$"
APPLICANT = {"name": "孙琳", "id_type": "resident_id", "id_number": "330324197707071116"}


class Gateway:
    """An SMS gateway on a local port: records each POST's headers and JSON body."""

    def __init__(self) -> None:
        self.port, self.calls = free_port(), list[tuple[dict[str, str], bytes]]()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.calls.append((dict(self.headers), raw))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, Gateway]]:
    """The applicants' channels as a deployment configures them: SMTP and the SMS gateway webhook."""
    box, smtp_port, gateway = Mailbox(), free_port(), Gateway()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    monkeypatch.setenv("PDW_NOTICE_CHANNELS", json.dumps(["log", "email"]))
    monkeypatch.setenv("PDW_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("PDW_SMS_URL", f"http://127.0.0.1:{gateway.port}/sms/send")
    monkeypatch.setenv("PDW_SMS_SECRET", SMS_SECRET)
    get_settings.cache_clear()
    yield box, gateway
    controller.stop()
    gateway.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def app_client(env: WorkflowEnvironment, queue: str, **settings: Any) -> httpx.AsyncClient:
    from hook import create_app

    app = create_app(Services(get_settings().model_copy(update={"task_queue": queue, **settings}), client=env.client))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test", timeout=60)


@pytest.fixture
async def api(env: WorkflowEnvironment, worker: str, outside: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(env, worker, open_request_threshold=2) as client:
        yield client


def bearer(person: str) -> dict[str, str]:
    token = auth.issue_token(None, person, days=1, label="test", by="tests")["token"]
    return {"Authorization": f"Bearer {token}"}


def track(case_id: str) -> str:
    STARTED.append(case_id)
    return case_id


async def status(api: httpx.AsyncClient, number: str, token: str) -> httpx.Response:
    return await api.get(f"/v1/public/receipts/{number}", headers={"X-Receipt-Token": token})


async def settled(case_id: str, step: str, count: int, timeout: float = 30) -> list[Notice]:
    """The applicants' rows of one outcome, once delivered."""
    end = time.monotonic() + timeout
    while True:
        rows = [n for n in notices_of(case_id) if n.role == "applicant" and n.step == step]
        if len(rows) >= count and all(n.status != "pending" for n in rows):
            return rows
        assert time.monotonic() < end, [(n.step, n.status, n.error) for n in notices_of(case_id)]
        await asyncio.sleep(0.2)


def unopened_resource() -> str:
    """A fresh entry outside the open scope (未开放), so that no other test's requests count toward it."""
    rid = f"RES-JYJ-T{uuid.uuid4().hex[:6].upper()}"
    with session() as s:
        resource, entry = s.get(DataResource, "RES-JYJ-002"), current_version(s, "RES-JYJ-002")
        assert resource is not None and entry.open_attribute == "unopened"
        s.add(DataResource.model_validate({**resource.model_dump(), "id": rid}))
        s.flush()
        s.add(CatalogVersion.model_validate({**entry.model_dump(exclude={"id"}), "resource_id": rid}))
    return rid


def no_personal_data(text: str, *values: str) -> None:
    for value in values:
        assert value not in text, value


# ---- Art. 28, 29: applications ----------------------------------------------------------------------


async def test_art29_a_refused_application_reads_by_its_receipt_and_the_applicant_hears_by_email(
    api: httpx.AsyncClient, env: WorkflowEnvironment, outside: tuple[Mailbox, Gateway]
) -> None:
    mailbox, _ = outside
    body = {**APPLICANT, "resource_id": "RES-GAJ-001", "contact": "sunlin@example.com", "scope": "研究",
            "purpose": "人口结构研究", "access_way": "download"}
    started = await api.post("/v1/public/open-applications", json=body)
    assert started.status_code == 201, started.text
    answer = started.json()
    case_id, number, token = track(answer["case_id"]), answer["receipt"], answer["receipt_token"]
    assert re.match(RECEIPT, number) and len(token) >= 30 and answer["notify"] == "email"
    with session() as s:  # stored only as a hash
        row = s.get(PublicReceipt, number)
        assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in row.token_hash and row.label.startswith("孙*")
    await env.client.get_workflow_handle(case_id).result()

    read = await status(api, number, token)
    assert read.status_code == 200, read.text
    view = read.json()
    assert (view["kind_zh"], view["status"], view["status_zh"]) == ("受限开放数据申请", "refused", "不予开放")
    assert "第二十九条" in view["reasons"] and view["applicant"].startswith("孙*") and view["case_id"] == case_id
    # No review lies open against Art. 29: the next step says so, and where to ask, not the reason again.
    assert "未设复核申请" in view["next_step"] and "县大数据管理中心咨询" in view["next_step"]
    no_personal_data(read.text, "330324197707071116", "sunlin@example.com", "孙琳")

    # A wrong token and an unknown number answer alike: no one learns which numbers exist.
    wrong = await status(api, number, "rt_" + "x" * 32)
    unknown = await status(api, "GK-2026-999999", token)
    assert wrong.status_code == unknown.status_code == 404 and wrong.json()["detail"] == unknown.json()["detail"]
    no_token = await api.get(f"/v1/public/receipts/{number}")
    assert no_token.status_code == 400 and no_token.json()["detail"].startswith("回执令牌（X-Receipt-Token）")
    long_number = await status(api, "G" * 5000, token)  # named in Chinese, as every field
    assert long_number.status_code == 400 and long_number.json()["detail"].startswith("回执编号（number）")

    rows = await settled(case_id, "open.outcome", 1)
    assert [(n.channel, n.status, n.role, n.person_id, n.address) for n in rows] == [
        ("email", "sent", "applicant", number, None)]
    no_personal_data(rows[0].body + rows[0].subject + rows[0].person_name, "sunlin@example.com", "330324197707071116")
    mail = [m for m in mailbox.messages if number in str(m["Subject"])]
    assert len(mail) == 1 and mail[0]["To"] == "sunlin@example.com" and "不予开放" in mail[0].get_content()
    listed = await api.get("/v1/notices", params={"case": case_id}, headers=bearer("dsj.zhouwei"))
    applicant = [n for n in listed.json() if n["role"] == "applicant"]
    assert applicant and applicant[0]["role_zh"] == "申请人" and applicant[0]["person_name"].startswith("孙*")
    no_personal_data(listed.text, "sunlin@example.com")


async def test_art28_a_restricted_application_refused_by_the_city_reaches_the_applicant_by_sms(
    api: httpx.AsyncClient, env: WorkflowEnvironment, outside: tuple[Mailbox, Gateway]
) -> None:
    _, gateway = outside
    body = {**APPLICANT, "resource_id": "RES-MZJ-001", "contact": "13600000001", "scope": "研究",
            "purpose": "救助政策评估", "access_way": "api"}
    answer = (await api.post("/v1/public/open-applications", json=body)).json()
    case_id, number, token = track(answer["case_id"]), answer["receipt"], answer["receipt_token"]
    assert answer["notify"] == "sms" and answer["notify_zh"] == "短信"  # the gateway is configured here
    assert (await status(api, number, token)).json()["status_zh"] in ("受理中", "审核中")
    handle = env.client.get_workflow_handle(case_id)
    await wait_status(handle, "center_review")
    reported = await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "report", "reasons": "用途明确"},
                              headers=bearer("dsj.zhouwei"))
    assert reported.status_code == 200, reported.text
    await wait_status(handle, "city_review")
    assert (await status(api, number, token)).json()["status_zh"] == "审核中"
    refused = await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "refuse", "reasons": "使用范围过宽"},
                             headers=bearer("wzdsj.hehao"))
    assert refused.status_code == 200, refused.text
    await handle.result()

    view = (await status(api, number, token)).json()
    assert view["status_zh"] == "不予开放" and "使用范围过宽" in view["reasons"] and "重新申请" in view["next_step"]
    rows = await settled(case_id, "open.outcome", 1)
    assert [(n.channel, n.status, n.role, n.address) for n in rows] == [("sms", "sent", "applicant", None)]
    calls = [(h, raw) for h, raw in gateway.calls if number in json.loads(raw)["text"]]
    assert len(calls) == 1
    headers, raw = calls[0]
    sent = json.loads(raw)
    assert sent["mobile"] == "13600000001" and "不予开放" in sent["text"] and "使用范围过宽" in sent["text"]
    assert headers["X-Pdw-Signature"] == sms_sign(SMS_SECRET, headers["X-Pdw-Timestamp"], raw)
    no_personal_data(rows[0].body, "13600000001")


async def test_art28_a_repeated_start_names_the_same_receipt_and_a_fixed_line_hears_nothing(
    api: httpx.AsyncClient, env: WorkflowEnvironment
) -> None:
    body = {**APPLICANT, "resource_id": "RES-GAJ-001", "contact": "0577-67221234", "scope": "研究", "purpose": "研究"}
    key = {"Idempotency-Key": f"apply-{uuid.uuid4().hex}"}
    first = await api.post("/v1/public/open-applications", json=body, headers=key)
    again = await api.post("/v1/public/open-applications", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    # The repeat (a lost answer retried) names the same receipt with a fresh token; the first stops.
    assert again.json()["receipt"] == first.json()["receipt"] and again.json()["token_rotated"] is True
    assert again.json()["receipt_token"] != first.json()["receipt_token"] and "不再有效" in again.json()["receipt_zh"]
    assert first.json()["notify"] == "" and "固定电话" in first.json()["notify_zh"]
    case_id = track(first.json()["case_id"])
    with session() as s:
        assert len(s.exec(select(PublicReceipt).where(PublicReceipt.case_id == case_id)).all()) == 1
    await env.client.get_workflow_handle(case_id).result()
    assert (await status(api, first.json()["receipt"], first.json()["receipt_token"])).status_code == 404
    view = (await status(api, again.json()["receipt"], again.json()["receipt_token"])).json()
    assert view["status_zh"] == "不予开放" and "固定电话" in view["notify_zh"]
    await asyncio.sleep(1)
    assert [n for n in notices_of(case_id) if n.role == "applicant"] == []


async def test_art28_art31_an_approved_application_tells_the_way_of_access(
    api: httpx.AsyncClient, env: WorkflowEnvironment, outside: tuple[Mailbox, Gateway]
) -> None:
    mailbox, _ = outside
    body = {**APPLICANT, "resource_id": "RES-MZJ-001", "contact": "approved@example.com", "scope": "研究",
            "purpose": "救助政策评估", "access_way": "algorithm"}
    answer = (await api.post("/v1/public/open-applications", json=body)).json()
    case_id, number, token = track(answer["case_id"]), answer["receipt"], answer["receipt_token"]
    handle = env.client.get_workflow_handle(case_id)
    await wait_status(handle, "center_review")
    await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "report", "reasons": "用途明确"},
                   headers=bearer("dsj.zhouwei"))
    await wait_status(handle, "city_review")
    approved = await api.post(f"/v1/cases/{case_id}/decisions", headers=bearer("wzdsj.hehao"),
                              json={"action": "approve", "data": {"access_mode": "sandbox"}})
    assert approved.status_code == 200, approved.text
    await handle.result()
    view = (await status(api, number, token)).json()
    assert view["status_zh"] == "已同意开放" and "沙箱" in view["reasons"] and "算法模型" in view["reasons"]
    assert "第三十一条" in view["next_step"]
    await settled(case_id, "open.outcome", 1)
    mail = [m for m in mailbox.messages if number in str(m["Subject"])]
    assert len(mail) == 1 and "沙箱" in mail[0].get_content() and mail[0]["To"] == "approved@example.com"


# ---- Art. 32: requests, the source's answer, objections ---------------------------------------------------


async def test_art32_an_application_refused_as_unopened_follows_the_listing_review_it_counted_toward(
    api: httpx.AsyncClient, env: WorkflowEnvironment
) -> None:
    rid = unopened_resource()
    applied = (await api.post("/v1/public/open-applications", json={
        **APPLICANT, "resource_id": rid, "contact": "13600000003", "scope": "研究", "purpose": "研究"})).json()
    track(applied["case_id"])
    await env.client.get_workflow_handle(applied["case_id"]).result()
    view = (await status(api, applied["receipt"], applied["receipt_token"])).json()
    assert view["status_zh"] == "不予开放" and "计入列入开放目录的申请人数" in view["next_step"]
    asked = (await api.post("/v1/public/open-requests", json={
        "resource_id": rid, "name": "赵六", "id_type": "resident_id", "id_number": "330324199001015672",
        "contact": "zhaoliu@example.com"})).json()
    case_id = track(asked["case_id"])
    assert case_id.startswith("listing-")
    view = (await status(api, applied["receipt"], applied["receipt_token"])).json()
    assert view["listing_case_id"] == case_id and view["outcome_zh"] == "列入开放目录审核：审核中"
    handle = env.client.get_workflow_handle(case_id)
    await wait_status(handle, "source_review")
    await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "decline", "reasons": "含学生个人信息"},
                   headers=bearer("jyj.panxiaoyu"))
    rows = await settled(case_id, "listing.answer", 2)
    assert {n.person_id for n in rows} == {applied["receipt"], asked["receipt"]}
    view = (await status(api, applied["receipt"], applied["receipt_token"])).json()
    assert "申请复核" in view["next_step"] and case_id in view["next_step"]




async def test_art32_requesters_hear_the_answer_and_by_when_to_object_and_the_objector_the_review(
    api: httpx.AsyncClient, env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = unopened_resource()
    first_body = {"resource_id": rid, "name": "赵六", "id_type": "resident_id", "id_number": "330324199001015672",
                  "contact": "zhaoliu@example.com"}
    first = (await api.post("/v1/public/open-requests", json=first_body)).json()
    view = (await status(api, first["receipt"], first["receipt_token"])).json()
    assert (view["kind_zh"], view["status_zh"]) == ("列入开放目录申请", "受理中") and "2 人" in view["next_step"]
    # The same person again (or anyone who knows the identity number): a receipt of its own, in the
    # same shape as a first one; nothing tells that this person asked before (Art. 32 counts once).
    repeated = (await api.post("/v1/public/open-requests", json=first_body)).json()
    assert repeated["receipt"] != first["receipt"] and repeated["receipt_token"] and repeated["new"] is True
    assert set(repeated) == set(first) and "此前" not in json.dumps(repeated, ensure_ascii=False)
    assert repeated["count"] == first["count"] == 1
    second = (await api.post("/v1/public/open-requests", json={
        "resource_id": rid, "name": "钱七", "id_type": "resident_id", "id_number": "330324197707071116",
        "contact": "13600000002"})).json()
    case_id = track(second["case_id"])
    assert case_id.startswith("listing-") and second["notify"] == "sms"
    assert (await status(api, first["receipt"], first["receipt_token"])).json()["status_zh"] == "审核中"

    handle = env.client.get_workflow_handle(case_id)
    await wait_status(handle, "source_review")
    declined = await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "decline", "reasons": "含学生个人信息"},
                              headers=bearer("jyj.panxiaoyu"))
    assert declined.status_code == 200, declined.text
    await wait_status(handle, "answered")
    answer_rows = await settled(case_id, "listing.answer", 3)
    assert {n.person_id for n in answer_rows} == {first["receipt"], repeated["receipt"], second["receipt"]}
    assert {n.channel for n in answer_rows} == {"email", "sms"} and all(n.address is None for n in answer_rows)
    view = (await status(api, first["receipt"], first["receipt_token"])).json()
    assert view["status_zh"] == "数源部门不予列入开放目录" and view["reasons"] == "含学生个人信息"
    with session() as s:
        review = s.get(ListingReview, case_id)
        assert review is not None and review.objection_ends_at is not None
    assert "24时前向县大数据管理中心申请复核" in view["next_step"] and case_id in view["next_step"]
    assert "前向县大数据管理中心申请复核" in answer_rows[0].body

    objection = {"case_id": case_id, "name": "李四", "id_type": "resident_id", "id_number": "330324199001011233",
                 "contact": "lisi@example.com", "reason": "可汇总后开放"}
    key = {"Idempotency-Key": f"object-{uuid.uuid4().hex}"}
    # The objection reaches the case, then the receipt fails (the database drops): the retry under
    # the same key sends the same decision id (its reference comes from the key), so the case keeps
    # one objection, and the retry mints the receipt.
    from service import receipts as service_receipts
    from service.errors import Kind, ServiceError

    def down(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ServiceError(Kind.unavailable, "数据库暂不可用，请稍后再试")

    with monkeypatch.context() as patched:  # not monkeypatch.undo(): the channels' settings stay
        patched.setattr(service_receipts, "mint_receipt", down)
        failed = await api.post("/v1/public/objections", json=objection, headers=key)
    assert failed.status_code == 503, failed.text
    objected = await api.post("/v1/public/objections", json=objection, headers=key)
    assert objected.status_code == 200, objected.text
    assert objected.json()["new"] is True and "token_rotated" not in objected.json()
    again = (await api.post("/v1/public/objections", json=objection, headers=key)).json()
    assert again["receipt"] == objected.json()["receipt"] and again["repeated"] is True and again["token_rotated"]
    with session() as s:
        assert len(s.exec(select(ListingObjection).where(ListingObjection.case_id == case_id)).all()) == 1
    assert (await status(api, again["receipt"], objected.json()["receipt_token"])).status_code == 404
    number, token = again["receipt"], again["receipt_token"]
    view = (await status(api, number, token)).json()
    assert view["status_zh"] == "复核中" and "3 个工作日" in view["next_step"] and view["applicant"].startswith("李*")

    upheld = await api.post(f"/v1/cases/{case_id}/decisions", json={"action": "uphold", "reasons": "学籍信息不宜开放"},
                            headers=bearer("dsj.zhouwei"))
    assert upheld.status_code == 200, upheld.text
    view = (await status(api, number, token)).json()
    assert view["status_zh"] == "复核维持数源部门答复" and view["reasons"] == "学籍信息不宜开放"
    told = await settled(case_id, "listing.objection.1", 1)
    assert [(n.person_id, n.channel, n.address) for n in told] == [(number, "email", None)]
    assert "复核维持数源部门答复" in told[0].subject
    no_personal_data(json.dumps([n.model_dump(mode="json") for n in notices_of(case_id)], ensure_ascii=False),
                     "zhaoliu@example.com", "13600000002", "lisi@example.com", "330324199001011233")


def test_art32_telling_applicants_twice_writes_each_row_once_and_a_fixed_line_none() -> None:
    from activities.applicants import write_applicant_notices
    from activities.receipts import mint_receipt
    from models.receipts import ApplicantNotice

    case_id = f"open-test-{uuid.uuid4().hex[:8]}"
    mobile = mint_receipt("application", resource_id="RES-MZJ-001", label="孙*", contact="13600000009", case_id=case_id)
    mint_receipt("objection", resource_id="RES-MZJ-001", label="钱*", contact="0577-67221234", case_id=case_id,
                 objection_ref="r1")
    told = ApplicantNotice(case_id=case_id, key="open.outcome", headline="不予开放", text="理由：测试",
                           article="第二十八条", who="application", at=datetime.now(UTC))
    assert write_applicant_notices(told) == 1 and write_applicant_notices(told) == 0  # a retried activity
    fixed = told.model_copy(update={"key": "listing.objection.1", "who": "objectors", "objection_ref": "r1"})
    assert write_applicant_notices(fixed) == 0  # a fixed line hears nothing
    rows = notices_of(case_id)
    assert [(n.person_id, n.role, n.address) for n in rows] == [(mobile["receipt"], "applicant", None)]
    # No SMS gateway configured: the row is kept, but nobody was told, and it says so (not "sent").
    from models.labels import labelled

    assert [(n.channel, n.status, n.sent_at) for n in rows] == [("log", "not_sent", None)]
    assert labelled({"status": rows[0].status}, status="notice_status")["status_zh"] == "未发送（无可用渠道）"


def test_art32_a_receipt_per_submission_and_two_calls_under_one_key_share_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two submissions, one receipt each; two calls under one key at once: the one that loses the
    race on the key's unique index answers with the same receipt (a fresh token), not a 500."""
    from activities import receipts
    from activities.receipts import hash_receipt_token, mint_receipt

    case_id, idem = f"listing-test-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    one = mint_receipt("request", resource_id="RES-JYJ-002", label="赵*", contact="13600000010", case_id=case_id)
    two = mint_receipt("request", resource_id="RES-JYJ-002", label="赵*", contact="13600000010", case_id=case_id)
    assert one["receipt"] != two["receipt"] and set(one) == set(two) and two["new"] is True
    first = mint_receipt("objection", resource_id="RES-JYJ-002", label="李*", contact="lisi@example.com",
                         case_id=case_id, objection_ref="r1", idem=idem)
    real, calls = receipts._rotate, []

    def late(*args: Any, **kwargs: Any) -> dict[str, Any] | None:  # the other call had not committed yet
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(receipts, "_rotate", late)
    raced = mint_receipt("objection", resource_id="RES-JYJ-002", label="李*", contact="lisi@example.com",
                         case_id=case_id, objection_ref="r1", idem=idem)
    assert len(calls) == 2 and raced["receipt"] == first["receipt"] and raced["token_rotated"] is True
    with session() as s:
        row = s.get(PublicReceipt, first["receipt"])
        assert row is not None and row.token_hash == hash_receipt_token(raced["receipt_token"])
        assert len(s.exec(select(PublicReceipt).where(PublicReceipt.idem == idem)).all()) == 1


def test_art32_the_objection_window_s_last_day_reads_as_the_day_before_the_stored_midnight() -> None:
    from activities.receipts import last_day_zh

    assert last_day_zh(datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) == "2026年12月1日"  # 24:00 Asia/Shanghai
    assert last_day_zh(None) == "—"


def test_pipl_a_failed_delivery_to_an_applicant_keeps_the_error_s_kind_and_code_never_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """个人信息保护法: a gateway's or SMTP server's message may quote the contact in any form."""
    import smtplib
    import urllib.error

    from activities import notices
    from activities.channels import ChannelError
    from activities.receipts import mint_receipt
    from activities.store import insert_ignore

    case_id, mobile = f"open-test-{uuid.uuid4().hex[:8]}", "13600000011"
    number = mint_receipt("application", resource_id="RES-MZJ-001", label="孙*", contact=mobile,
                          case_id=case_id)["receipt"]

    def refused(settings: Any, to: str, text: str) -> None:
        http = urllib.error.HTTPError("http://sms.test", 502, f"bad number 136-0000-0011 ({to[:3]} {to[3:]})",
                                      None, None)  # type: ignore[arg-type]
        raise ChannelError(f"sms gateway refused: +86 {to[:3]} {to[3:7]} {to[7:]}") from http

    monkeypatch.setattr(notices, "send_sms", refused)
    with session() as s:
        insert_ignore(s, Notice, {
            "case_id": case_id, "step": "open.outcome", "level": 0, "dept_code": "public", "role": "applicant",
            "person_id": number, "person_name": "孙*", "channel": "sms", "subject": "测试", "body": "测试",
            "case_time": datetime.now(UTC)}, ["case_id", "step", "level", "person_id", "channel"])
        notice_id = s.exec(select(Notice.id).where(Notice.case_id == case_id)).one()
    assert notice_id is not None
    with pytest.raises(ChannelError) as raised:
        notices.deliver_notice(notice_id)
    row = notices_of(case_id)[0]
    assert row.error == str(raised.value) == "投递失败：ChannelError ← HTTPError 502"
    assert raised.value.__cause__ is None and "0011" not in (row.error or "")
    refused_smtp = smtplib.SMTPRecipientsRefused({"sunlin@example.com": (550, b"<sunlin@example.com> unknown")})
    assert notices.error_kind(refused_smtp) == "投递失败：SMTPRecipientsRefused 550"


# ---- rate limits in the database ----------------------------------------------------------------------------


async def test_the_public_routes_limit_is_shared_by_two_api_instances_on_one_database(
    env: WorkflowEnvironment, worker: str
) -> None:
    limits = {"public_rate_limit": 3, "public_rate_window_seconds": 3600, "public_client_header": "X-Forwarded-For"}
    now = datetime.now(UTC)
    if 3600 - (now.minute * 60 + now.second) < 10:  # not across a window's end
        await asyncio.sleep(12)
    # The proxy appends the address it saw: the right-most; what is left of it the client wrote.
    client = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    address = {"X-Forwarded-For": f"10.0.0.{uuid.uuid4().int % 250}, {client}"}
    async with app_client(env, worker, **limits) as one, app_client(env, worker, **limits) as two:
        answers = [await one.post("/v1/public/open-requests", json={}, headers=address),
                   await two.post("/v1/public/open-requests", json={}, headers=address),
                   await one.post("/v1/public/open-requests", json={}, headers=address)]
        assert [a.status_code for a in answers] == [400, 400, 400]  # counted, though refused
        over = await two.post("/v1/public/open-requests", json={}, headers=address)
        assert over.status_code == 429 and over.headers["content-type"] == "application/problem+json"
        assert int(over.headers["Retry-After"]) >= 1 and "请求过于频繁" in over.json()["detail"]
        assert (await one.post("/v1/public/objections", json={}, headers=address)).status_code == 429
        # A client writing another address of its own in front does not get a fresh bucket.
        spoofed = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250}, {client}"}
        assert (await one.post("/v1/public/open-requests", json={}, headers=spoofed)).status_code == 429
        other = {"X-Forwarded-For": "203.0.113.7"}
        assert (await one.post("/v1/public/open-requests", json={}, headers=other)).status_code == 400
        # Receipt reads are counted apart from submissions.
        assert (await two.get("/v1/public/receipts/GK-2026-999999", headers={**address, "X-Receipt-Token": "x"})
                ).status_code == 404


async def test_art32_a_signing_system_skips_the_limit_only_on_the_public_routes_its_key_allows(
    env: WorkflowEnvironment, worker: str
) -> None:
    from settings import HookKey

    keys = {"kiosk": HookKey(secret="kiosk-secret", actions=["open-request"]),
            "other": HookKey(secret="other-secret", actions=["share"])}
    limits = {"public_rate_limit": 1, "public_rate_window_seconds": 3600, "hook_keys": keys}

    def signed(key: str, path: str, body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        return {"X-Pdw-Key": key, "X-Pdw-Timestamp": ts, "Content-Type": "application/json",
                "X-Pdw-Signature": auth.signature(f"{key}-secret", "POST", path, ts, body)}

    async with app_client(env, worker, **limits) as api:
        for n in range(3):  # above the limit of 1: held to its key, not to an address (bad body: 400)
            body = json.dumps({"resource_id": f"RES-NONE-{n}"}).encode()  # a signature is used once
            answer = await api.post("/v1/public/open-requests", content=body,
                                    headers=signed("kiosk", "/v1/public/open-requests", body))
            assert answer.status_code == 400, answer.text
        for path in ("/v1/public/objections", "/v1/public/open-applications"):
            refused = await api.post(path, content=b"{}", headers=signed("kiosk", path, b"{}"))
            assert refused.status_code == 403 and "未获准" in refused.json()["detail"], refused.text
        for path in ("/v1/public/open-requests", "/v1/public/objections"):
            refused = await api.post(path, content=b"{}", headers=signed("other", path, b"{}"))
            assert refused.status_code == 403 and "未获准" in refused.json()["detail"], refused.text


# ---- the same through pdw ------------------------------------------------------------------------------------


async def test_art29_pdw_open_status_reads_a_receipt_and_pdw_applicants_purge_is_the_centers(
    dev: dict[str, str | None], env: WorkflowEnvironment,  # noqa: F811 - the fixture imported above
) -> None:
    from tests.test_commands import apdw, one_error_line

    applied = await apdw(dev, "open", "apply", "--resource", "RES-GAJ-001", "--name", "孙琳", "--id-number",
                         APPLICANT["id_number"], "--contact", "0577-67221234", "--scope", "研究", "--purpose", "研究",
                         "--json")
    assert applied.exit_code == 0, applied.stderr
    answer = json.loads(applied.stdout)
    track(answer["case_id"])
    await env.client.get_workflow_handle(answer["case_id"]).result()
    shown = await apdw(dev, "open", "status", answer["receipt"], "--token", answer["receipt_token"])
    assert shown.exit_code == 0, shown.stderr
    assert "状态：不予开放" in shown.stdout and "第二十九条" in shown.stdout and "孙*" in shown.stdout
    assert "不发送通知（固定电话）" in shown.stdout and APPLICANT["id_number"] not in shown.stdout
    # The token kept off the command line (shell history, ps): from PDW_RECEIPT_TOKEN, or a prompt.
    by_env = await apdw({**dev, "PDW_RECEIPT_TOKEN": answer["receipt_token"]}, "open", "status", answer["receipt"])
    assert by_env.exit_code == 0 and "状态：不予开放" in by_env.stdout, by_env.stderr
    prompted = await apdw({**dev, "PDW_RECEIPT_TOKEN": None}, "open", "status", answer["receipt"],
                          input=answer["receipt_token"] + "\n")
    assert prompted.exit_code == 0 and "状态：不予开放" in prompted.stdout, prompted.stderr
    assert answer["receipt_token"] not in prompted.stdout  # not echoed
    wrong = await apdw(dev, "open", "status", answer["receipt"], "--token", "rt_wrong-token-000000")
    assert "回执编号或回执令牌不正确" in one_error_line(wrong)
    refused = await apdw(dev, "applicants", "purge", "--as", "jyj.panxiaoyu")
    assert "无权" in one_error_line(refused) and "第四条" in refused.stderr
    done = await apdw(dev, "applicants", "purge", "--as", "dsj.zhouwei")
    assert done.exit_code == 0 and "已删除超过保存期限的申请人个人信息" in done.stdout, done.stderr


# ---- end to end, as with make dev: the dev server, pdw-worker, pdw hook and pdw as subprocesses ------------


def test_art28_refused_by_the_city_the_applicant_row_and_the_public_status_through_pdw(
    stack: Any,  # noqa: F811 - the fixture imported above
) -> None:
    from tests.test_e2e import _wait

    def status_of(case_id: str) -> str:
        return str(json.loads(stack.pdw("show", case_id, "--json").stdout)["state"]["status"])

    applied = json.loads(stack.pdw("open", "apply", "--resource", "RES-MZJ-001", "--name", "孙琳", "--id-number",
                                   APPLICANT["id_number"], "--contact", "sunlin.e2e@example.com", "--scope", "学术研究",
                                   "--purpose", "救助政策评估", "--json", anonymous=True).stdout)
    case_id, number, token = applied["case_id"], applied["receipt"], applied["receipt_token"]
    _wait(lambda: status_of(case_id) == "center_review", "the center")
    stack.pdw("decide", case_id, "report", "--as", "dsj.zhouwei", "--reason", "用途明确")
    _wait(lambda: status_of(case_id) == "city_review", "the city")
    stack.pdw("decide", case_id, "refuse", "--as", "wzdsj.hehao", "--reason", "涉及救助对象隐私，范围过宽")
    _wait(lambda: status_of(case_id) == "refused", "the refusal")
    listed = _wait(lambda: [line for line in stack.pdw("notices", "list", "--case", case_id).stdout.splitlines()
                            if "申请人 孙*" in line], "the applicant's outbox row")
    assert f"回执 {number}" in listed[0] and "sunlin.e2e@example.com" not in listed[0]
    rows = json.loads(stack.pdw("notices", "list", "--case", case_id, "--json").stdout)
    mine = [n for n in rows if n["role"] == "applicant"]
    assert len(mine) == 1 and mine[0]["address"] is None and mine[0]["person_id"] == number
    shown = stack.pdw("open", "status", number, "--token", token, anonymous=True).stdout
    assert "状态：不予开放" in shown and "涉及救助对象隐私，范围过宽" in shown and "下一步：" in shown
    # The daily purge is a Schedule beside the digest's (个人信息保护法).
    schedule = stack.temporal("schedule", "describe", "--schedule-id", "pdw-applicants-purge")
    assert "ApplicantsPurge" in json.dumps(schedule)
    hook_log = stack.hook_log.read_text(encoding="utf-8")  # no log line holds the applicant's data
    assert "sunlin.e2e@example.com" not in hook_log and APPLICANT["id_number"] not in hook_log


def test_an_applicant_is_not_promised_a_message_no_channel_will_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from activities.receipts import notify_zh

    monkeypatch.delenv("PDW_SMS_URL", raising=False)
    monkeypatch.setenv("PDW_NOTICE_CHANNELS", json.dumps(["log"]))
    get_settings.cache_clear()
    try:
        for notify, name in (("sms", "短信"), ("email", "电子邮件")):
            assert notify_zh(notify) == f"{name}（本系统暂未开通该渠道，暂不发送：请凭回执编号查询办理情况）"
        assert notify_zh("") == "不发送通知（固定电话）"
        monkeypatch.setenv("PDW_NOTICE_CHANNELS", json.dumps(["log", "email"]))
        monkeypatch.setenv("PDW_SMS_URL", "http://127.0.0.1:9/sms")
        get_settings.cache_clear()
        assert (notify_zh("sms"), notify_zh("email")) == ("短信", "电子邮件")
    finally:
        get_settings.cache_clear()
