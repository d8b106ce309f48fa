"""Open scope (issue 12): data not yet opened (未开放) is not forbidden data (Art. 28 ¶4, Art. 29);
forbidden data always carries and cites its Art. 29 ground; refused applications for unopened data
and open requests count together toward the Art. 32 threshold, one per person (identity number);
the four ways of access of Art. 31, each through the restricted-open review."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select
from temporalio.client import WorkflowUpdateFailedError

from activities.catalog import current_version
from activities.open_data import count_refused_application, record_open_request
from activities.store import StoreError, resolve_actor, session
from commands.catalog import render_versions
from models.cases import DecisionInput
from models.catalog import CatalogVersion, DataResource
from models.departments import Actor
from models.dispute import OPEN_ATTRIBUTE, DisputeInput
from models.identity import resident_id_check
from models.open_data import ListingReview, OpenApplication, OpenRequest
from models.requests import OpenApplicationRequest, OpenAttributeDisputeRequest, OpenRequestRequest
from service import records, starts
from service.context import Services
from service.errors import ServiceError
from settings import get_settings
from tests.helpers import STARTED, decision, wait_status
from tests.test_commands import apdw, api_url, dev, home, one_error_line, track  # noqa: F401 - fixtures

PUBLIC = Actor(person_id="public", name="王*（居民身份证 ****5678）", dept_code="public", dept_name="公众",
               dept_kind="public")


def person(n: int) -> str:
    """A valid resident identity number (GB 11643) for the n-th test person."""
    first17 = f"33032419900101{n:03d}"
    return first17 + resident_id_check(first17)


def unopened_resource(prefix: str = "RES-RSJ-T") -> str:
    """A fresh entry of 县人力社保局 outside the open scope (未开放), so that no other test's requests
    (or listings of the demo entries) count toward it."""
    rid = f"{prefix}{uuid.uuid4().hex[:6].upper()}"
    items, modes = ["姓名", "参保险种", "参保状态"], ["verification", "query"]
    with session() as s:
        s.add(DataResource(id=rid, owner_code="rsj", current_version=1, collected=True, items=items, share_modes=modes))
        s.flush()
        s.add(CatalogVersion(resource_id=rid, version=1, is_current=True, name="参保状态信息（测试）",
                             content="、".join(items), encoding_format="JSON", provider_code="rsj",
                             share_attribute="restricted", open_attribute="unopened", update_frequency="monthly",
                             share_reason="含个人社保信息", share_basis="《社会保险法》第八十一条", items=items,
                             share_modes=modes, secrecy_reviewer="高峰", secrecy_reviewed_on=date(2026, 1, 5),
                             secrecy_conclusion="no_state_secret"))
    return rid


def services(queue: str, env: Any, threshold: int = 100) -> Services:
    return Services(get_settings().model_copy(update={"task_queue": queue, "open_request_threshold": threshold}),
                    client=env.client)


def application(rid: str, n: int, **kw: Any) -> OpenApplicationRequest:
    body = {"resource_id": rid, "name": f"申请人{n}", "id_type": "resident_id", "id_number": person(n),
            "contact": f"1390577{n:04d}", "scope": "学术研究", "purpose": "研究社会保障覆盖情况", "access_way": "download",
            **kw}
    return OpenApplicationRequest.model_validate(body)


def request(rid: str, n: int, **kw: Any) -> OpenRequestRequest:
    return OpenRequestRequest.model_validate({"resource_id": rid, "name": f"申请人{n}", "id_type": "resident_id",
                                              "id_number": person(n), "contact": f"1380577{n:04d}", **kw})


def requests_of(rid: str) -> list[OpenRequest]:
    with session() as s:
        return list(s.exec(select(OpenRequest).where(OpenRequest.resource_id == rid)).all())


def reviews_of(rid: str) -> list[ListingReview]:
    with session() as s:
        return list(s.exec(select(ListingReview).where(ListingReview.resource_id == rid)).all())


def reasons_of(case_id: str) -> str:
    with session() as s:
        row = s.get(OpenApplication, case_id)
    assert row is not None
    return row.reasons or ""


async def applied(svc: Services, env: Any, req: OpenApplicationRequest, given: str | None = None) -> dict[str, Any]:
    started = await starts.start_open_application(svc, req, given)
    STARTED.append(started["case_id"])
    if (started.get("listing") or {}).get("case_id"):
        STARTED.append(started["listing"]["case_id"])
    return started


# ---- Art. 28, 29: unopened is not forbidden; forbidden cites its ground ------------------------------


async def test_art29_a_refusal_of_forbidden_data_cites_the_ground_number(env, worker) -> None:
    svc = services(worker, env)
    for rid, ground in (("RES-GAJ-001", "第二十九条第一款第（三）项：涉及商业秘密、个人隐私的"),
                        ("RES-ZRZYJ-001", "第二十九条第一款第（五）项：法律、法规规定不得开放或者应当通过其他途径获取的")):
        started = await applied(svc, env, application(rid, 1))
        handle = env.client.get_workflow_handle(started["case_id"])
        assert (await handle.result())["outcome"] == "refused"
        assert f"禁止开放类数据不予开放（{ground}）" in reasons_of(started["case_id"])
        assert "listing" not in started  # forbidden data is not asked to be listed (Art. 32)
    assert not [r for r in requests_of("RES-GAJ-001") if r.application_case_id]


async def test_art28_art32_an_unopened_data_application_is_refused_without_being_called_forbidden(env, worker) -> None:
    rid = unopened_resource()
    started = await applied(services(worker, env), env, application(rid, 2))
    handle = env.client.get_workflow_handle(started["case_id"])
    assert (await handle.result())["outcome"] == "refused"
    reasons = reasons_of(started["case_id"])
    assert "禁止开放" not in reasons and "第二十九条" not in reasons
    assert "尚未列入开放目录" in reasons and "第三十二条" in reasons
    state = await handle.query("state")
    assert any("未开放（开放范围外）" in f for f in state["facts"])
    # Art. 32: the refused application stands as a request for the listing, linked to its case.
    assert started["listing"] == {"resource_id": rid, "count": 1, "case_id": None}
    [row] = requests_of(rid)
    assert row.application_case_id == started["case_id"] and row.person_key.startswith("h2-")
    assert person(2) not in row.person_key  # only the keyed hash is kept for counting


def test_art32_forbidden_data_is_not_counted_and_the_refusal_cites_the_ground() -> None:
    with pytest.raises(StoreError, match=r"禁止开放类数据，不予开放（第二十九条第一款第（五）项"):
        record_open_request("RES-ZRZYJ-001", "赵六", "resident_id", person(3), "13800000001")
    with session() as s:
        assert s.exec(select(func.count()).select_from(OpenRequest)
                      .where(OpenRequest.resource_id == "RES-ZRZYJ-001")).one() == 0


# ---- Art. 32: one per person -------------------------------------------------------------------------


async def test_art32_the_same_person_applying_twice_and_requesting_once_counts_once(env, worker) -> None:
    rid, svc = unopened_resource(), services(worker, env)
    first = await applied(svc, env, application(rid, 10))
    second = await applied(svc, env, application(rid, 10, contact="p10@example.com"))  # another contact, same person
    asked = await starts.record_public_request(svc, request(rid, 10, id_number=person(10).lower()))
    assert (first["listing"]["count"], second["listing"]["count"], asked["count"]) == (1, 1, 1)
    assert len(requests_of(rid)) == 2  # each application is on record with its case; the request adds no row
    # Two people count twice.
    assert (await starts.record_public_request(svc, request(rid, 11)))["count"] == 2
    assert (await applied(svc, env, application(rid, 12)))["listing"]["count"] == 3


async def test_art32_one_number_sent_as_resident_id_passport_and_other_counts_one_person(env, worker) -> None:
    """The key is the number alone: a passport or other number is checked only by its form, so the
    same 18-digit number under another id type is still one person (Art. 32)."""
    from activities.open_data import requester_key

    number = person(15)
    assert len({requester_key(t, number) for t in ("resident_id", "passport", "other")}) == 1
    assert requester_key("passport", number.lower()) == requester_key("resident_id", number)
    assert requester_key("resident_id", person(16)) != requester_key("resident_id", number)
    rid, svc = unopened_resource(), services(worker, env)
    assert (await starts.record_public_request(svc, request(rid, 15)))["count"] == 1
    for id_type in ("passport", "other"):
        assert (await starts.record_public_request(svc, request(rid, 15, id_type=id_type)))["count"] == 1
    assert (await applied(svc, env, application(rid, 15, id_type="passport")))["listing"]["count"] == 1
    assert (await starts.record_public_request(svc, request(rid, 16, id_type="passport")))["count"] == 2


async def test_art32_a_refused_application_is_counted_before_its_case_starts(env, worker, monkeypatch) -> None:
    """The API may die between counting and starting the case: the retry under the same
    Idempotency-Key would find the case started and repeat nothing, so the count comes first; a
    retry that does come back (the case never started) counts nothing twice."""
    rid, svc = unopened_resource(), services(worker, env, threshold=2)
    counted_before_start: list[int] = []
    real_start = starts.start_case

    async def dies_at_start(*args: Any, **kw: Any) -> None:
        counted_before_start.append(len(requests_of(rid)))
        raise RuntimeError("API died before the case started")

    monkeypatch.setattr(starts, "start_case", dies_at_start)
    given = f"open-test-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RuntimeError):
        await starts.start_open_application(svc, application(rid, 50), given)
    assert counted_before_start == [1] and len(requests_of(rid)) == 1
    monkeypatch.setattr(starts, "start_case", real_start)
    again = await applied(svc, env, application(rid, 50), given)  # the retry, same case id
    assert again["case_id"] == given and again["listing"]["count"] == 1 and len(requests_of(rid)) == 1
    assert (await env.client.get_workflow_handle(given).result())["outcome"] == "refused"
    # The threshold's review starts from the same shared path, before the second case starts.
    second = await applied(svc, env, application(rid, 51))
    assert second["listing"]["count"] == 2 and second["listing"]["case_id"].startswith("listing-")


async def test_art32_reaching_the_threshold_through_refused_applications_starts_one_listing_review(env, worker) -> None:
    rid, svc = unopened_resource(), services(worker, env, threshold=3)
    assert (await applied(svc, env, application(rid, 20)))["listing"]["case_id"] is None
    assert (await starts.record_public_request(svc, request(rid, 21)))["case_id"] is None
    again_20 = (await applied(svc, env, application(rid, 20)))["case_id"]  # the same person: still 2
    third = await applied(svc, env, application(rid, 22))
    review = third["listing"]["case_id"]
    assert review and review.startswith("listing-") and third["listing"]["count"] == 3
    handle = env.client.get_workflow_handle(review)
    state = await wait_status(handle, "source_review")
    assert state["request_count"] == 3 and any("公众申请 3 人" in f for f in state["facts"])
    # The same application started again (a retried start under the same case id) counts nothing
    # twice and starts no second review; later people join the review under way.
    again = await applied(svc, env, application(rid, 22), given=third["case_id"])
    assert again["listing"] == {"resource_id": rid, "count": 0, "case_id": review}
    assert count_refused_application(third["case_id"]) == (0, review)
    fourth = await applied(svc, env, application(rid, 23))
    assert fourth["listing"]["case_id"] == review
    assert len(reviews_of(rid)) == 1
    rows = requests_of(rid)
    assert {r.review_case_id for r in rows} == {review}
    assert again_20 in {r.application_case_id for r in rows}
    assert len([r for r in rows if r.application_case_id == third["case_id"]]) == 1


async def test_art32_bad_id_numbers_on_open_request_are_refused_naming_the_field_and_nothing_is_counted(
    env, worker
) -> None:
    rid, svc = unopened_resource(), services(worker, env)
    bad = person(30)[:-1] + ("0" if person(30)[-1] != "0" else "1")
    for body, says in ((request(rid, 30, id_number=bad), "证件号码（id_number）校验位不符"),
                       (request(rid, 30, id_number="33032419901301001X"), "证件号码（id_number）出生日期无效"),
                       (request(rid, 30, id_type="uscc", id_number="91330324MA2ABCDEI8"), "证件号码（id_number）格式不符"),
                       (request(rid, 30, id_type="martian"), "证件类型（id_type）“martian”无效"),
                       (request(rid, 30, id_number=" "), "证件号码（id_number）不能为空")):
        with pytest.raises(ServiceError) as refused:
            await starts.record_public_request(svc, body)
        assert says in refused.value.message
    assert requests_of(rid) == []
    # Through the API: the identity number is now required, and named when it is missing.
    from hook import create_app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)), base_url="http://pdw.test") as api:
        missing = await api.post("/v1/public/open-requests", json={"resource_id": rid, "name": "孙琳", "contact": "13600000000"})
        assert missing.status_code == 400 and "id_number" in missing.text
        wrong = await api.post("/v1/public/open-requests", json={"resource_id": rid, "name": "孙琳", "contact": "13600000000",
                                                                 "id_number": bad})
        assert wrong.status_code == 400 and "证件号码（id_number）校验位不符" in wrong.json()["detail"]
    assert requests_of(rid) == []


async def test_art32_the_count_does_not_depend_on_names_numbers_or_contacts_kept(env, worker) -> None:
    """Applicants' personal data is erased after its retention period; the count stays."""
    rid, svc = unopened_resource(), services(worker, env)
    await starts.record_public_request(svc, request(rid, 40))
    with session() as s:
        for row in s.exec(select(OpenRequest).where(OpenRequest.resource_id == rid)).all():
            row.requester_name, row.contact = "", ""
            s.add(row)
    assert (await starts.record_public_request(svc, request(rid, 40)))["count"] == 1
    assert (await starts.record_public_request(svc, request(rid, 41)))["count"] == 2


# ---- Art. 31: the four ways of access -----------------------------------------------------------------

WAYS = {"download": "下载数据", "api": "接口调用数据", "algorithm": "通过公共数据平台以算法模型获取结果数据",
        "other": "法律、法规、规章和国家规定的其他方式：经数据主体授权后由数源部门刻录光盘现场交付"}


@pytest.mark.parametrize("way", sorted(WAYS))
async def test_art31_each_way_of_access_through_the_restricted_open_review(env, worker, way: str) -> None:
    note = {"access_way_note": "经数据主体授权后由数源部门刻录光盘现场交付"} if way == "other" else {}
    started = await applied(services(worker, env), env, application("RES-MZJ-001", 50, access_way=way, **note))
    handle = env.client.get_workflow_handle(started["case_id"])
    state = await wait_status(handle, "center_review")
    assert any(f"获取方式：{WAYS[way]}（第三十一条）" in f for f in state["facts"])
    await handle.execute_update("decide", decision("report", "dsj.zhouwei", reasons="用途明确"))
    await wait_status(handle, "city_review")
    await handle.execute_update("decide", decision("approve", "wzdsj.hehao", data={"access_mode": "sandbox"}))
    assert (await handle.result())["outcome"] == "approved"
    reasons = reasons_of(started["case_id"])
    assert f"获取方式为{WAYS[way]}（第二十八条第二款、第三十一条）" in reasons
    with session() as s:
        row = s.get(OpenApplication, started["case_id"])
    assert row is not None and (row.access_way, row.access_way_note) == (way, note.get("access_way_note"))


async def test_art31_the_other_way_needs_its_description_and_only_it_takes_one(env, worker) -> None:
    svc = services(worker, env)
    with session() as s:
        before = s.exec(select(func.count()).select_from(OpenApplication)).one()
    cases = (({"access_way": "other"}, "获取方式说明（access_way_note）"),
             ({"access_way": "other", "access_way_note": "  "}, "获取方式说明（access_way_note）"),
             ({"access_way": "api", "access_way_note": "光盘"}, "仅在获取方式为 other"))
    for kw, says in cases:
        with pytest.raises(ServiceError) as refused:
            await starts.start_open_application(svc, application("RES-MZJ-001", 51, **kw))
        assert says in refused.value.message and "第三十一条" in refused.value.message
    with session() as s:
        assert s.exec(select(func.count()).select_from(OpenApplication)).one() == before


# ---- Art. 28 ¶3, 29: classing data forbidden needs a ground -----------------------------------------


async def test_art29_an_open_attribute_dispute_that_would_class_data_forbidden_names_a_ground(env, worker) -> None:
    svc, center = services(worker, env), resolve_actor("dsj.zhouwei")
    rid = unopened_resource("RES-RSJ-D")
    with pytest.raises(ServiceError) as no_ground:
        await starts.start_open_attribute_dispute(svc, center, OpenAttributeDisputeRequest(
            resource_id=rid, open_attribute="forbidden", reason="含个人社保信息"))
    assert "forbidden_ground" in no_ground.value.message and "第二十九条" in no_ground.value.message
    case_id = f"dispute-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    await env.client.start_workflow(
        "Dispute", DisputeInput(case_id=case_id, kind=OPEN_ATTRIBUTE, resource_id=rid, raised_by=center,
                                parties=["dsj", "rsj"], claim="含个人社保信息，建议禁止开放",
                                proposed_open_attribute="forbidden", proposed_forbidden_ground="secret_or_privacy"),
        id=case_id, task_queue=worker)
    dispute = env.client.get_workflow_handle(case_id)
    state = await wait_status(dispute, "expert_review")
    assert any("现为未开放（开放范围外），中心建议改为禁止开放（第二十九条第一款第（三）项" in f for f in state["facts"])
    await dispute.execute_update("decide", decision("opinion", "zjwyh.luoqing", reasons="涉及个人隐私"))
    await wait_status(dispute, "county_decision")
    with pytest.raises(WorkflowUpdateFailedError) as no_ground_decided:
        await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳",
                                                        data={"open_attribute": "forbidden"}))
    assert "data.forbidden_ground" in str(no_ground_decided.value.cause)
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳专家意见",
                                                    data={"open_attribute": "forbidden",
                                                          "forbidden_ground": "secret_or_privacy"}))
    result = await dispute.result()
    assert (result["outcome"], result["forbidden_ground"]) == ("forbidden", "secret_or_privacy")
    with session() as s:
        entry = current_version(s, rid)
    assert (entry.open_attribute, entry.forbidden_ground, entry.case_id) == ("forbidden", "secret_or_privacy", case_id)
    # `pdw catalog show` names the ground of the version in force, and none on the one before.
    shown = render_versions(records.catalog_entry(rid))
    assert "禁止开放情形：第二十九条第一款（三）涉及商业秘密、个人隐私的" in shown
    assert shown.count("禁止开放情形") == 1


def test_art29_a_ground_is_kept_only_while_the_data_is_forbidden() -> None:
    from activities.catalog import publish_catalog_changes
    from models.catalog import PublishRequest
    from models.types import utcnow

    rid = unopened_resource("RES-RSJ-G")
    publish_catalog_changes(PublishRequest(case_id=f"t-{rid}-1", resource_id=rid, approved_at=utcnow(),
                                           changes={"open_attribute": "forbidden", "forbidden_ground": "law"}))
    publish_catalog_changes(PublishRequest(case_id=f"t-{rid}-2", resource_id=rid, approved_at=utcnow(),
                                           changes={"open_attribute": "unopened"}))
    with session() as s:
        versions = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == rid)
                          .order_by(col(CatalogVersion.version))).all()
    assert [(v.open_attribute, v.forbidden_ground) for v in versions] == [
        ("unopened", None), ("forbidden", "law"), ("unopened", None)]


def closed_resource(prefix: str = "RES-RSJ-C") -> str:
    """An entry neither shared nor opened: it needs, and has, no 保密审查 record (Art. 39)."""
    rid = unopened_resource(prefix)
    with session() as s:
        v = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == rid)).one()
        v.share_attribute, v.share_basis, v.share_modes = "non_shared", "《社会保险法》第八十一条", []
        v.secrecy_reviewer, v.secrecy_reviewed_on, v.secrecy_conclusion = None, None, None
        s.add(v)
    return rid


def test_art39_publishing_refuses_a_version_that_opens_data_without_its_secrecy_record() -> None:
    from temporalio.exceptions import ApplicationError

    from activities.catalog import publish_catalog_changes
    from models.catalog import PublishRequest
    from models.types import utcnow

    rid = closed_resource()
    with pytest.raises(ApplicationError) as refused:
        publish_catalog_changes(PublishRequest(case_id=f"t-{rid}-open", resource_id=rid, approved_at=utcnow(),
                                               changes={"open_attribute": "unconditional"}))
    assert refused.value.type == "BadInput" and refused.value.non_retryable
    assert "secrecy_reviewer" in refused.value.message and "第三十九条" in refused.value.message
    with session() as s:
        assert current_version(s, rid).version == 1  # nothing published, the version in force unchanged
    version = publish_catalog_changes(PublishRequest(
        case_id=f"t-{rid}-open2", resource_id=rid, approved_at=utcnow(),
        changes={"open_attribute": "unconditional", "secrecy_reviewer": "高峰", "secrecy_reviewed_on": "2026-11-20",
                 "secrecy_conclusion": "no_state_secret"}))
    with session() as s:
        entry = current_version(s, rid)
    assert (version, entry.open_attribute, entry.secrecy_reviewer) == (2, "unconditional", "高峰")


async def test_art39_a_county_decision_opening_data_without_a_secrecy_record_carries_the_sources(env, worker) -> None:
    """A standalone open-attribute dispute (Art. 28 ¶3): the county's decision to open an entry that
    has no 保密审查 record is refused until it carries the source's (data.secrecy_*), so the case
    never gets stuck at publishing; with it, the record is published with the attribute."""
    center, rid = resolve_actor("dsj.zhouwei"), closed_resource("RES-RSJ-S")
    case_id = f"dispute-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    await env.client.start_workflow(
        "Dispute", DisputeInput(case_id=case_id, kind=OPEN_ATTRIBUTE, resource_id=rid, raised_by=center,
                                parties=["dsj", "rsj"], claim="汇总统计数据可开放", proposed_open_attribute="unconditional"),
        id=case_id, task_queue=worker)
    dispute = env.client.get_workflow_handle(case_id)
    await wait_status(dispute, "expert_review")
    await dispute.execute_update("decide", decision("opinion", "zjwyh.luoqing", reasons="汇总后可开放"))
    await wait_status(dispute, "county_decision")
    data: dict[str, Any] = {"open_attribute": "unconditional"}
    for missing, field in ((data, "data.secrecy_reviewer"),
                           ({**data, "secrecy_reviewer": "高峰", "secrecy_reviewed_on": "2026-11-20",
                             "secrecy_conclusion": "state_secret"}, "国家秘密")):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳", data=missing))
        assert field in str(refused.value.cause) and "第三十九条" in str(refused.value.cause)
    assert (await dispute.query("state"))["status"] == "county_decision"
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳专家意见", data={
        **data, "secrecy_reviewer": "高峰", "secrecy_reviewed_on": "2026-11-20", "secrecy_conclusion": "declassified"}))
    assert (await dispute.result())["outcome"] == "unconditional"
    with session() as s:
        entry = current_version(s, rid)
    assert (entry.open_attribute, entry.secrecy_reviewer, entry.secrecy_conclusion, entry.case_id) == (
        "unconditional", "高峰", "declassified", case_id)


@pytest.mark.parametrize("decided", ["forbidden", "unopened"])
async def test_art28_art29_a_listing_the_county_declines_classes_data_forbidden_only_on_a_ground(
    env, worker, decided: str
) -> None:
    """Art. 32 → 28 ¶3: the source rejects the center's proposal, the county decides. Forbidden is
    published with its Art. 29 ground; unopened leaves the entry as it was (not forbidden)."""
    from models.open_data import ListingReviewInput

    rid = unopened_resource("RES-RSJ-L")
    case_id = f"listing-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    handle = await env.client.start_workflow(
        "OpenListingReview", ListingReviewInput(case_id=case_id, resource_id=rid, request_count=5),
        id=case_id, task_queue=worker)
    state = await wait_status(handle, "source_review")
    assert any("未开放（开放范围外）" in f for f in state["facts"])
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="含个人社保信息"))
    await wait_status(handle, "answered")
    await handle.execute_update("decide", DecisionInput(action="object", actor=PUBLIC, reasons="可汇总后开放"))
    await wait_status(handle, "objection_review")
    await handle.execute_update("decide", decision("suggest", "dsj.zhouwei", reasons="汇总统计数据可开放",
                                                   data={"open_attribute": "restricted"}))
    await wait_status(handle, "proposal")
    await handle.execute_update("decide", decision("reject", "rsj.gaofeng", reasons="可识别个人"))
    dispute = env.client.get_workflow_handle((await wait_status(handle, "in_dispute"))["dispute_case_id"])
    STARTED.append(dispute.id)
    await wait_status(dispute, "expert_review")
    await dispute.execute_update("decide", decision("opinion", "zjwyh.luoqing", reasons="涉及个人隐私"))
    await wait_status(dispute, "county_decision")
    data: dict[str, Any] = {"open_attribute": decided}
    if decided == "forbidden":
        with pytest.raises(WorkflowUpdateFailedError) as no_ground:
            await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳", data=data))
        assert "data.forbidden_ground" in str(no_ground.value.cause) and "第二十九条" in str(no_ground.value.cause)
        data["forbidden_ground"] = "secret_or_privacy"
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳专家意见", data=data))
    assert (await handle.result())["outcome"] == "declined"
    text = (await handle.query("state"))["timeline"][-1]["text"]
    with session() as s:
        entry = current_version(s, rid)
        review = s.get(ListingReview, case_id)
    assert review is not None and review.status == "declined"
    if decided == "forbidden":
        assert (entry.open_attribute, entry.forbidden_ground, entry.case_id) == ("forbidden", "secret_or_privacy", case_id)
        assert "列为禁止开放（第二十九条第一款第（三）项：涉及商业秘密、个人隐私的）" in text
    else:
        assert (entry.open_attribute, entry.forbidden_ground, entry.version) == ("unopened", None, 1)
        assert "目录条目开放属性不变（未开放（开放范围外））" in text and "禁止开放" not in text


# ---- through pdw ----------------------------------------------------------------------------------------


async def test_art31_art32_art29_through_pdw(dev: dict[str, str | None]) -> None:  # noqa: F811 - the imported fixture
    other = await apdw(dev, "open", "apply", "--resource", "RES-MZJ-001", "--name", "张三", "--id-number", person(60),
                       "--contact", "13905770060", "--scope", "学术研究", "--purpose", "研究救助政策",
                       "--access-way", "other", "--access-note", "依规定由数源部门现场交付")
    assert other.exit_code == 0, other.stderr
    case_id = track(other.stdout.splitlines()[0])
    with session() as s:
        row = s.get(OpenApplication, case_id)
    assert row is not None and (row.access_way, row.access_way_note) == ("other", "依规定由数源部门现场交付")
    no_note = await apdw(dev, "open", "apply", "--resource", "RES-MZJ-001", "--name", "张三", "--id-number", person(60),
                         "--contact", "13905770060", "--scope", "学术研究", "--purpose", "研究救助政策",
                         "--access-way", "other")
    assert "获取方式说明（access_way_note）" in one_error_line(no_note)

    rid = unopened_resource()
    bad = await apdw(dev, "open", "request", "--resource", rid, "--name", "赵六", "--id-number", "330324199001015673",
                     "--contact", "13800000001")
    assert "证件号码（id_number）校验位不符" in one_error_line(bad)
    assert requests_of(rid) == []
    asked = await apdw(dev, "open", "request", "--resource", rid, "--name", "赵六", "--id-number", person(61),
                       "--contact", "13800000001")
    assert asked.exit_code == 0 and "待审核的申请人 1 人" in asked.stdout, asked.stderr
    refused = await apdw(dev, "open", "apply", "--resource", rid, "--name", "赵六", "--id-number", person(61),
                         "--contact", "13800000001", "--scope", "研究", "--purpose", "研究")
    assert refused.exit_code == 0 and "待审核的申请人 1 人（第三十二条）" in refused.stdout, refused.stderr
    track(refused.stdout.splitlines()[0])

    shown = await apdw(dev, "catalog", "show", "RES-GAJ-001", "--as", "gaj.lijun")
    assert "禁止开放情形：第二十九条第一款（三）涉及商业秘密、个人隐私的" in shown.stdout, shown.stderr
    listed = await apdw(dev, "catalog", "list", "--as", "gaj.lijun")
    line = next(x for x in listed.stdout.splitlines() if x.startswith("RES-JYJ-002"))
    assert line.endswith("未开放（开放范围外））")
