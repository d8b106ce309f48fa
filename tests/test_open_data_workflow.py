"""Time-skipping tests of restricted-open review (Art. 28–31) and the open-listing review with its
objection (Art. 32)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from activities.catalog import current_version
from activities.open_data import (
    check_applicant,
    record_objector,
    record_open_request,
    register_open_application,
)
from activities.store import StoreError, session
from models.calendar import Deadline
from models.departments import Actor
from models.open_data import ListingReview, ListingReviewInput, OpenApplication, OpenApplyInput
from tests.helpers import STARTED, decision, notices_of, wait_status

ID_NUMBER = "330324199001011233"


async def apply(env, queue, resource: str):  # type: ignore[no-untyped-def]
    case_id = f"open-test-{uuid.uuid4().hex[:8]}"
    label = register_open_application(
        case_id, resource_id=resource, name="张三丰", id_type="resident_id", id_number=ID_NUMBER,
        contact="13905770000", scope="学术研究", purpose="研究县域市场主体分布", access_way="api",
    )
    STARTED.append(case_id)
    inp = OpenApplyInput(case_id=case_id, resource_id=resource, applicant_label=label, scope="学术研究",
                         purpose="研究县域市场主体分布", access_way="api")
    return await env.client.start_workflow("RestrictedOpenReview", inp, id=case_id, task_queue=queue)


def application(case_id: str) -> OpenApplication:
    with session() as s:
        row = s.get(OpenApplication, case_id)
    assert row is not None
    return row


async def test_art29_forbidden_data_is_refused_at_once(env, worker) -> None:
    handle = await apply(env, worker, "RES-GAJ-001")
    assert (await handle.result())["outcome"] == "refused"
    assert "第二十九条" in application(handle.id).reasons


async def test_art28_unconditional_data_needs_no_review(env, worker) -> None:
    handle = await apply(env, worker, "RES-JYJ-001")
    assert (await handle.result())["outcome"] == "no_review"
    assert (await handle.query("state"))["decisions"] == []


async def test_art28_restricted_data_approved_by_the_center_then_the_city(env, worker, histories) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    state = await wait_status(handle, "center_review")
    assert state["applicant_label"] == "张**（居民身份证 ****1233）"
    with pytest.raises(WorkflowUpdateFailedError) as city_first:
        await handle.execute_update("decide", decision("approve", "wzdsj.hehao", data={"access_mode": "sandbox"}))
    assert "此步由县大数据管理中心审核" in str(city_first.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as center_decides:  # Art. 28 ¶2: the city approves
        await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    assert "report" in str(center_decides.value.cause)
    await handle.execute_update("decide", decision("report", "dsj.zhouwei", reasons="用途明确，建议以沙箱方式开放"))
    state = await wait_status(handle, "city_review")
    assert state["center_opinion"] == "用途明确，建议以沙箱方式开放"
    with pytest.raises(WorkflowUpdateFailedError) as no_mode:
        await handle.execute_update("decide", decision("approve", "wzdsj.hehao"))
    assert "access_mode" in str(no_mode.value.cause)
    await handle.execute_update("decide", decision("approve", "wzdsj.hehao", data={"access_mode": "sandbox"}))
    assert (await handle.result())["outcome"] == "approved"
    row = application(handle.id)
    assert (row.outcome, row.access_mode) == ("approved", "sandbox")
    assert any(n.dept_code == "mzj" and n.step == "open.approved" for n in notices_of(handle.id))
    history = await handle.fetch_history()
    assert ID_NUMBER not in str(history.to_json()) and "13905770000" not in str(history.to_json())
    histories.append(history)


async def test_art28_para2_only_the_city_refuses(env, worker) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    await wait_status(handle, "center_review")
    with pytest.raises(WorkflowUpdateFailedError) as center_refuses:
        await handle.execute_update("decide", decision("refuse", "dsj.zhouwei", reasons="不宜开放"))
    assert "report" in str(center_refuses.value.cause) and "第二十八条第二款" in str(center_refuses.value.cause)
    await handle.execute_update("decide", decision("report", "dsj.zhouwei"))
    await wait_status(handle, "city_review")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("decide", decision("refuse", "wzdsj.hehao"))  # no reasons
    await handle.execute_update("decide", decision("refuse", "wzdsj.hehao", reasons="涉及困难群众个人信息，用途不足以支持开放"))
    assert (await handle.result())["outcome"] == "refused"
    assert "用途不足以支持开放" in application(handle.id).reasons


async def test_art28_para2_the_center_returns_an_incomplete_application_for_supplement(env, worker) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    await wait_status(handle, "center_review")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("decide", decision("return", "dsj.zhouwei"))  # what to supplement
    await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons="请补充研究项目批准文件"))
    assert (await handle.result())["outcome"] == "returned"
    assert "请补充研究项目批准文件" in application(handle.id).reasons


async def test_art28_city_review_overdue_escalates_to_the_city_and_center_leaders(env, worker) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    await wait_status(handle, "center_review")
    await handle.execute_update("decide", decision("report", "dsj.zhouwei"))
    state = await wait_status(handle, "city_review")
    deadline = Deadline.model_validate(state["deadlines"]["open.city_review"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    escalated = sorted(n.person_id for n in notices_of(handle.id) if n.level == 3)
    assert escalated == ["dsj.chenjianguo", "wzdsj.zhengkai"]


def test_open_application_bad_input_is_refused_and_writes_nothing() -> None:
    with pytest.raises(StoreError, match="获取方式（access_way）“fax”无效"):
        register_open_application("open-bad-1", resource_id="RES-MZJ-001", name="李四", id_type="resident_id",
                                  id_number="1", contact="x", scope="s", purpose="p", access_way="fax")
    with pytest.raises(StoreError, match="使用用途（purpose）不能为空"):
        register_open_application("open-bad-2", resource_id="RES-MZJ-001", name="李四", id_type="resident_id",
                                  id_number="1", contact="x", scope="s", purpose=" ", access_way="api")
    with pytest.raises(StoreError, match="证件号码（id_number）校验位不符"):
        register_open_application("open-bad-3", resource_id="RES-MZJ-001", name="李四", id_type="resident_id",
                                  id_number="330324199001011234", contact="13905770000", scope="s", purpose="p",
                                  access_way="api")
    with pytest.raises(StoreError, match="联系方式（contact）格式不符"):
        register_open_application("open-bad-4", resource_id="RES-MZJ-001", name="李四", id_type="resident_id",
                                  id_number=ID_NUMBER, contact="1390577000", scope="s", purpose="p",
                                  access_way="api")
    with pytest.raises(StoreError, match="证件号码（id_number）格式不符：统一社会信用代码"):
        register_open_application("open-bad-5", resource_id="RES-MZJ-001", name="某公司", id_type="uscc",
                                  id_number="91330324MA2ABCDEI8", contact="0577-67221234", scope="s", purpose="p",
                                  access_way="api")
    with session() as s:
        for n in range(1, 6):
            assert s.get(OpenApplication, f"open-bad-{n}") is None


def test_objectors_are_checked_before_their_objection_is_sent() -> None:
    assert check_applicant("resident_id", "33032420000229105x", " 13905770000") == ("33032420000229105X",
                                                                                   "13905770000")
    with pytest.raises(StoreError, match="证件号码（id_number）出生日期无效"):
        check_applicant("resident_id", "330324199002301238", "13905770000")
    with pytest.raises(StoreError, match="证件类型（id_type）“driving_licence”无效"):
        check_applicant("driving_licence", "E12345678", "13905770000")


def test_open_application_stores_the_normalised_number() -> None:
    label = register_open_application(
        "open-lower-x", resource_id="RES-MZJ-001", name="某某", id_type="resident_id",
        id_number=" 33032420000229105x ", contact="li.si@example.com", scope="s", purpose="p", access_way="api",
    )
    assert label == "某*（居民身份证 ****105X）"
    row = application("open-lower-x")
    assert (row.id_number, row.contact) == ("33032420000229105X", "li.si@example.com")


# ---- Art. 32 -------------------------------------------------------------------------------------

PUBLIC = Actor(person_id="public", name="王*（居民身份证 ****5678）", dept_code="public", dept_name="公众",
               dept_kind="public")


async def listing(env, queue, resource: str = "RES-RSJ-001"):  # type: ignore[no-untyped-def]
    case_id = f"listing-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    handle = await env.client.start_workflow(
        "OpenListingReview", ListingReviewInput(case_id=case_id, resource_id=resource, request_count=5),
        id=case_id, task_queue=queue,
    )
    await wait_status(handle, "source_review")
    return handle


def test_art32_public_requests_are_counted_only_for_data_not_in_the_open_catalog() -> None:
    first, _ = record_open_request("RES-JYJ-002", "赵六", "13800000001")
    second, review = record_open_request("RES-JYJ-002", "钱七", "13800000002")
    assert second == first + 1 and review is None
    with pytest.raises(StoreError, match="已列入开放目录"):
        record_open_request("RES-JYJ-001", "赵六", "13800000001")
    with pytest.raises(StoreError, match="联系方式（contact）格式不符"):
        record_open_request("RES-JYJ-002", "孙八", "138-0000-0003")
    assert record_open_request("RES-JYJ-002", "孙八", "13800000003")[0] == second + 1  # the bad one was not counted
    # Art. 32 counts requests from the public: one person asking again adds nothing.
    assert record_open_request("RES-JYJ-002", "孙八", "13800000003")[0] == second + 1


async def test_art32_source_lists_the_data_through_a_catalog_revision(env, worker) -> None:
    handle = await listing(env, worker, "RES-GAJ-002")
    with pytest.raises(WorkflowUpdateFailedError) as bad:
        await handle.execute_update("decide", decision("list", "gaj.lijun", data={"open_attribute": "forbidden"}))
    assert "data.open_attribute" in str(bad.value.cause) and "unconditional 或 restricted" in str(bad.value.cause)
    await handle.execute_update("decide", decision("list", "gaj.lijun", data={"open_attribute": "restricted"}))
    assert (await handle.result())["outcome"] == "listed"
    with session() as s:
        entry = current_version(s, "RES-GAJ-002")
    assert entry.open_attribute == "restricted" and entry.case_id == handle.id


async def test_art32_objection_reviewed_by_the_center_within_3_working_days(env, worker, histories) -> None:
    handle = await listing(env, worker)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("decide", decision("decline", "rsj.gaofeng"))  # no reasons
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="含个人社保信息，依法不得开放"))
    await wait_status(handle, "answered")
    from models.cases import DecisionInput

    await handle.execute_update("decide", DecisionInput(action="object", actor=PUBLIC, reasons="可脱敏后按统计口径开放"))
    with pytest.raises(StoreError, match="联系方式（contact）格式不符"):
        record_objector(handle.id, "王五", "wangwu@example", "可脱敏后按统计口径开放")
    with session() as s:
        assert s.get(ListingReview, handle.id).objector_contact is None
    record_objector(handle.id, "王五", " 0577-67221234 ", "可脱敏后按统计口径开放")
    with session() as s:
        assert s.get(ListingReview, handle.id).objector_contact == "0577-67221234"
    state = await wait_status(handle, "objection_review")
    deadline = Deadline.model_validate(state["deadlines"]["open.objection_review"])
    assert deadline.statutory and deadline.working_days == 3 and deadline.article == "第三十二条"
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="个人社保明细不宜开放"))
    assert (await handle.result())["outcome"] == "declined"
    with session() as s:
        row = s.get(ListingReview, handle.id)
    assert (row.answer, row.review_outcome) == ("declined", "upheld")
    histories.append(await handle.fetch_history())


async def test_art32_overdue_objection_review_climbs_the_ladder(env, worker) -> None:
    handle = await listing(env, worker)
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="依法不得开放"))
    await wait_status(handle, "answered")
    from models.cases import DecisionInput

    await handle.execute_update("decide", DecisionInput(action="object", actor=PUBLIC, reasons="请复核"))
    state = await wait_status(handle, "objection_review")
    deadline = Deadline.model_validate(state["deadlines"]["open.objection_review"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    levels = sorted((n.level, n.person_id) for n in notices_of(handle.id) if n.level)
    assert levels == [(1, "dsj.zhouwei"), (2, "dsj.linxiaohong"), (3, "dsj.chenjianguo")]
    await handle.execute_update("decide", decision("overturn", "dsj.zhouwei", reasons="可按统计口径开放",
                                                   data={"open_attribute": "restricted"}))
    assert (await handle.result())["outcome"] == "listed"


async def test_art32_without_objection_the_answer_stands(env, worker) -> None:
    handle = await listing(env, worker)
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="依法不得开放"))
    state = await wait_status(handle, "answered")
    window = Deadline.model_validate(state["deadlines"]["open.objection_window"])
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.result())["outcome"] == "declined"
