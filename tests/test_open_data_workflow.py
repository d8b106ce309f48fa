"""Time-skipping tests of restricted-open review (Art. 28–31) and the open-listing review with its
objection (Art. 32)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import delete, select
from temporalio.client import WorkflowUpdateFailedError

from activities.calendar import set_override
from activities.catalog import current_version
from activities.open_data import (
    check_applicant,
    record_objector,
    record_open_request,
    register_open_application,
)
from activities.store import StoreError, session
from models.calendar import OVERRIDE, CalendarChange, CalendarDay, Deadline
from models.cases import DecisionInput
from models.departments import Actor
from models.open_data import (
    ListingObjection,
    ListingReview,
    ListingReviewInput,
    OpenApplication,
    OpenApplyInput,
)
from tests.helpers import STARTED, decision, decisions_of, notices_of, wait_status

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
    assert "第二十九条第一款第（三）项：涉及商业秘密、个人隐私的" in application(handle.id).reasons


async def test_art28_unconditional_data_needs_no_review(env, worker) -> None:
    handle = await apply(env, worker, "RES-JYJ-001")
    assert (await handle.result())["outcome"] == "no_review"
    assert (await handle.query("state"))["decisions"] == []


async def test_art28_restricted_data_approved_by_the_center_then_the_city(env, worker) -> None:
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
    first, _ = record_open_request("RES-JYJ-002", "赵六", "resident_id", "330324199001015672", "13800000001")
    second, review = record_open_request("RES-JYJ-002", "钱七", "resident_id", ID_NUMBER, "13800000002")
    assert second == first + 1 and review is None
    with pytest.raises(StoreError, match="已列入开放目录"):
        record_open_request("RES-JYJ-001", "赵六", "resident_id", "330324199001015672", "13800000001")
    # Art. 29: forbidden data is refused citing its ground, not counted toward a listing.
    with pytest.raises(StoreError, match="禁止开放类数据.*第二十九条第一款第（三）项"):
        record_open_request("RES-GAJ-001", "赵六", "resident_id", "330324199001015672", "13800000001")
    with pytest.raises(StoreError, match="联系方式（contact）格式不符"):
        record_open_request("RES-JYJ-002", "孙八", "resident_id", "33032420000229105X", "138-0000-0003")
    third = record_open_request("RES-JYJ-002", "孙八", "resident_id", "33032420000229105X", "13800000003")[0]
    assert third == second + 1  # the bad one was not counted
    # Art. 32 counts people: one person asking again, even with another contact, adds nothing.
    assert record_open_request("RES-JYJ-002", "孙八", "resident_id", "33032420000229105x", "13800000009")[0] == third


def secrecy(**kw: str) -> dict[str, str]:
    """Art. 39: a 保密审查 record as the source sends it with a listing."""
    return {"secrecy_reviewer": "李军", "secrecy_reviewed_on": "2026-11-20", "secrecy_conclusion": "no_state_secret",
            **kw}


def objector(name: str) -> Actor:
    return PUBLIC.model_copy(update={"name": name})


async def object_to(handle, who: Actor = PUBLIC, reasons: str = "请复核", **data: str):  # type: ignore[no-untyped-def]
    return await handle.execute_update("decide", DecisionInput(action="object", actor=who, reasons=reasons, data=data))


async def refused(handle, d: DecisionInput) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", d)
    return str(err.value.cause)


def open_attribute_of(resource: str) -> str:
    with session() as s:
        return current_version(s, resource).open_attribute


def review_row(case_id: str) -> ListingReview:
    with session() as s:
        row = s.get(ListingReview, case_id)
    assert row is not None
    return row


def objection_rows(case_id: str) -> list[ListingObjection]:
    with session() as s:
        return list(s.exec(select(ListingObjection).where(ListingObjection.case_id == case_id)
                           .order_by(ListingObjection.seq)).all())  # type: ignore[arg-type]


async def declined(env, queue, resource: str = "RES-RSJ-001"):  # type: ignore[no-untyped-def]
    handle = await listing(env, queue, resource)
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng" if resource == "RES-RSJ-001" else "gaj.lijun",
                                                   reasons="含个人信息，依法不得开放"))
    await wait_status(handle, "answered")
    return handle


async def test_art39_art27_the_source_lists_after_its_secrecy_review_and_the_center_concurs(env, worker) -> None:
    handle = await listing(env, worker, "RES-GAJ-002")
    before = open_attribute_of("RES-GAJ-002")
    cause = await refused(handle, decision("list", "gaj.lijun", data={"open_attribute": "forbidden", **secrecy()}))
    assert "data.open_attribute" in cause and "unconditional 或 restricted" in cause
    # Art. 39: no listing without the source department's own confidentiality review, named field by field.
    cause = await refused(handle, decision("list", "gaj.lijun", data={"open_attribute": "restricted"}))
    assert "data.secrecy_reviewer" in cause and "第三十九条" in cause
    cause = await refused(handle, decision("list", "gaj.lijun", data={"open_attribute": "restricted",
                                                                        **secrecy(secrecy_reviewed_on="上周")}))
    assert "data.secrecy_reviewed_on" in cause
    # A day after the case's today (the time-skipping server's clock, which may be years ahead).
    tomorrow = (await env.get_current_time() + timedelta(days=2)).date().isoformat()
    cause = await refused(handle, decision("list", "gaj.lijun", data={"open_attribute": "restricted",
                                                                        **secrecy(secrecy_reviewed_on=tomorrow)}))
    assert "不能晚于今天" in cause
    cause = await refused(handle, decision("list", "gaj.lijun", data={"open_attribute": "restricted",
                                                                        **secrecy(secrecy_conclusion="state_secret")}))
    assert "不得在公共数据开放系统上发布" in cause and "第三十九条" in cause
    cause = await refused(handle, decision("list", "rsj.gaofeng", data={"open_attribute": "restricted", **secrecy()}))
    assert "由数源部门县公安局答复" in cause
    await handle.execute_update("decide", decision("list", "gaj.lijun", data={"open_attribute": "restricted", **secrecy()}))
    # Art. 27: the center concurs before anything is published.
    state = await wait_status(handle, "concurring")
    assert state["deadlines"]["open.listing_confirm"]["article"] == "第二十七条"
    assert not state["deadlines"]["open.listing_confirm"]["statutory"]
    assert open_attribute_of("RES-GAJ-002") == before
    cause = await refused(handle, decision("concur", "gaj.lijun"))
    assert "由县大数据管理中心会同确认" in cause and "第二十七条" in cause
    await handle.execute_update("decide", decision("concur", "dsj.zhouwei"))
    assert (await handle.result())["outcome"] == "listed"
    with session() as s:
        entry = current_version(s, "RES-GAJ-002")
    assert entry.open_attribute == "restricted" and entry.case_id == handle.id
    # Art. 39: the version that opens the data carries the source's 保密审查 record the listing rests on.
    assert (entry.secrecy_reviewer, entry.secrecy_reviewed_on, entry.secrecy_conclusion) == (
        "李军", date(2026, 11, 20), "no_state_secret")
    row = review_row(handle.id)
    assert (row.answer, row.listed_as, row.concurred_by) == ("listed", "restricted", "dsj.zhouwei")
    assert (row.secrecy_reviewer, row.secrecy_reviewed_on, row.secrecy_conclusion) == (
        "李军", date(2026, 11, 20), "no_state_secret")
    assert [d.action for d in decisions_of(handle.id)] == ["list", "concur"]
    state = await handle.query("state")
    assert state["secrecy_review"]["reviewer"] == "李军" and state["concurred_by"] == "周伟（县大数据管理中心）"


async def test_art32_objection_reviewed_by_the_center_within_3_working_days(env, worker) -> None:
    handle = await listing(env, worker)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("decide", decision("decline", "rsj.gaofeng"))  # no reasons
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="含个人社保信息，依法不得开放"))
    await wait_status(handle, "answered")
    outcome = await object_to(handle, reasons="可脱敏后按统计口径开放")
    assert "第 1 件复核申请" in outcome["message"] and "前反馈复核结果" in outcome["message"]
    with pytest.raises(StoreError, match="联系方式（contact）格式不符"):
        record_objector(handle.id, "1", "王五", "wangwu@example")
    with pytest.raises(StoreError, match="没有编号为“x”的复核申请"):
        record_objector(handle.id, "x", "王五", "0577-67221234")
    assert objection_rows(handle.id)[0].objector_contact is None
    record_objector(handle.id, "1", "王五", " 0577-67221234 ")
    assert objection_rows(handle.id)[0].objector_contact == "0577-67221234"
    state = await wait_status(handle, "objection_review")
    deadline = Deadline.model_validate(state["deadlines"]["open.objection_review"])
    assert deadline.statutory and deadline.working_days == 3 and deadline.article == "第三十二条"
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="个人社保明细不宜开放"))
    state = await wait_status(handle, "answered")
    window = Deadline.model_validate(state["deadlines"]["open.objection_window"])
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.result())["outcome"] == "declined"
    assert review_row(handle.id).answer == "declined"
    rows = objection_rows(handle.id)
    assert [(o.seq, o.answer, o.answer_reasons) for o in rows] == [(1, "upheld", "个人社保明细不宜开放")]
    assert rows[0].due_at == deadline.due_at and rows[0].objector_label == PUBLIC.name


async def test_art32_a_listing_begun_before_the_applicants_notices_replays_without_them(env, worker, monkeypatch) -> None:
    """Issue 12 added commands to OpenListingReview (the window's end on record, the requesters'
    and objectors' notices); they run under a patch (workflows/versions.py). A case whose history has none of them
    (run here with the patch off, as a case begun before the deploy) replays with today's code, and
    a new case records the patch marker."""
    from temporalio import workflow as temporal_workflow
    from temporalio.worker import Replayer

    from worker import WORKFLOWS
    from workflows.versions import RELEASES

    monkeypatch.setattr(temporal_workflow, "patched", lambda _id: False)
    handle = await declined(env, worker)
    await object_to(handle, reasons="可汇总后开放")
    await wait_status(handle, "objection_review")
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="个人社保明细不宜开放"))
    state = await wait_status(handle, "answered")
    window = Deadline.model_validate(state["deadlines"]["open.objection_window"])
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.result())["outcome"] == "declined"
    monkeypatch.undo()
    old = await handle.fetch_history()
    assert not [e for e in old.events if e.HasField("marker_recorded_event_attributes")]
    await Replayer(workflows=WORKFLOWS, data_converter=env.client.data_converter).replay_workflow(old)
    new = await declined(env, worker)
    markers = [e.marker_recorded_event_attributes for e in (await new.fetch_history()).events
               if e.HasField("marker_recorded_event_attributes")]
    assert [m for m in markers if RELEASES[-1].encode() in m.SerializeToString()]  # the release's marker implies them


async def test_art32_every_objector_objects_each_under_its_own_3_working_days(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle, objector("赵*（居民身份证 ****1111）"), "可按乡镇汇总后开放")
    first = Deadline.model_validate((await wait_status(handle, "objection_review"))["deadlines"]["open.objection_review"])
    await env.sleep(first.due_at - await env.get_current_time() + timedelta(hours=1))  # the first is now due
    # Art. 32: the second objector may object too (before, only the first of a case could).
    outcome = await object_to(handle, objector("钱*（居民身份证 ****2222）"), "社保参保率统计应当开放")
    assert "第 2 件复核申请" in outcome["message"]
    state = await handle.query("state")
    second = datetime.fromisoformat(state["objections"][1]["due_at"])
    assert second > first.due_at
    assert [o["seq"] for o in state["objections"]] == [1, 2]
    ladder = [(n.step, n.level) for n in notices_of(handle.id) if n.step.startswith("open.objection_review")]
    assert ("open.objection_review", 2) in ladder and ("open.objection_review#2", 0) in ladder
    assert not [level for step, level in ladder if step == "open.objection_review#2" and level]
    cause = await refused(handle, decision("uphold", "dsj.zhouwei", reasons="维持"))
    assert "data.objection" in cause and "第 1、2 件" in cause
    cause = await refused(handle, decision("uphold", "dsj.zhouwei", reasons="维持", data={"objection": 3}))
    assert "data.objection“3”" in cause
    cause = await refused(handle, decision("uphold", "rsj.gaofeng", reasons="维持", data={"objection": 1}))
    assert "由县大数据管理中心复核" in cause
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="个人明细不宜开放",
                                                   data={"objection": "1"}))
    state = await handle.query("state")
    assert state["status"] == "objection_review" and state["awaiting"] == ["dsj"]
    # The window ends; the case waits for the second answer, but takes no new objection.
    window = Deadline.model_validate(state["deadlines"]["open.objection_window"])
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    late = await refused(handle, DecisionInput(action="object", actor=objector("孙*（居民身份证 ****3333）"), reasons="迟到"))
    assert "现在不能提出复核申请" in late
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="统计口径亦可识别个人"))
    assert (await handle.result())["outcome"] == "declined"
    rows = objection_rows(handle.id)
    assert [(o.seq, o.answer) for o in rows] == [(1, "upheld"), (2, "upheld")]
    assert rows[0].due_at == first.due_at and rows[1].due_at == second


async def test_art32_a_calendar_change_moves_every_objection_under_review(env, worker) -> None:
    """A county holiday inside both objections' 3 working days moves each one's deadline, and the
    objection's own due date with it; the case goes on."""
    handle = await declined(env, worker)
    await object_to(handle)
    await object_to(handle, objector("钱*（居民身份证 ****2222）"))
    keys = ("open.objection_review", "open.objection_review#2")
    state = await handle.query("state")
    old = {k: Deadline.model_validate(state["deadlines"][k]) for k in keys}
    day = old["open.objection_review"].due_date
    set_override(day, False, "台风停工")
    try:
        await handle.signal("calendar_changed", CalendarChange(
            key=f"test-{uuid.uuid4().hex[:8]}", first=day, last=day, source_zh=f"县级调整：{day} 改为休息日",
            by="周伟（县大数据管理中心日常管理人员）"))
        for _ in range(100):
            state = await handle.query("state")
            new = {k: Deadline.model_validate(state["deadlines"][k]) for k in keys}
            if all(new[k] != old[k] for k in keys):
                break
            await asyncio.sleep(0.1)
        for k in keys:
            assert new[k].due_date > old[k].due_date and new[k].key == old[k].key, k
        due = [datetime.fromisoformat(o["due_at"]) for o in state["objections"]]
        assert due == [new[k].due_at for k in keys]
    finally:
        with session() as s:
            s.exec(delete(CalendarDay).where(CalendarDay.day == day, CalendarDay.source == OVERRIDE))  # type: ignore[arg-type]
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="维持", data={"objection": 2}))
    assert [o["answer"] for o in (await handle.query("state"))["objections"]] == [None, "upheld"]


async def test_art32_center_only_proposes_it_cannot_list_over_the_source(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle, objector("赵*（居民身份证 ****1111）"), "可按乡镇汇总后开放")
    await object_to(handle, objector("钱*（居民身份证 ****2222）"), "汇总数据不涉及个人")
    await wait_status(handle, "objection_review")
    before = open_attribute_of("RES-RSJ-001")
    # Art. 28 ¶3: the center may propose, not publish.
    cause = await refused(handle, decision("overturn", "dsj.zhouwei", reasons="应当开放",
                                           data={"open_attribute": "restricted", "objection": 1}))
    assert "不能直接列入开放目录" in cause and "第二十八条第三款" in cause
    cause = await refused(handle, decision("suggest", "dsj.zhouwei", reasons="应当开放", data={"objection": 1}))
    assert "data.open_attribute" in cause
    await handle.execute_update("decide", decision("suggest", "dsj.zhouwei", reasons="按乡镇汇总后可受限开放",
                                                   data={"open_attribute": "restricted", "objection": 1}))
    state = await wait_status(handle, "proposal")
    assert state["proposal"]["open_attribute"] == "restricted" and state["proposal"]["objections"] == [1]
    deadline = state["deadlines"]["open.proposal_answer"]
    assert not deadline["statutory"] and deadline["article"] == "第二十八条"
    assert sorted(state["awaiting"]) == ["dsj", "rsj"]  # the source's answer and the second objection's review
    assert open_attribute_of("RES-RSJ-001") == before
    # Only the source answers the proposal, and accepting it is a listing: its 保密审查 first (Art. 39).
    for person in ("dsj.zhouwei", "gaj.lijun"):
        cause = await refused(handle, decision("accept", person, data=secrecy()))
        assert "由数源部门县人力资源和社会保障局答复" in cause and "第二十八条第三款" in cause
    cause = await refused(handle, decision("accept", "rsj.gaofeng"))
    assert "data.secrecy_reviewer" in cause
    cause = await refused(handle, decision("suggest", "dsj.zhouwei", reasons="可无条件开放",
                                           data={"open_attribute": "unconditional", "objection": 2}))
    assert "本案只有一项建议" in cause
    await handle.execute_update("decide", decision("accept", "rsj.gaofeng", data=secrecy(secrecy_reviewer="朱红")))
    await wait_status(handle, "concurring")
    assert open_attribute_of("RES-RSJ-001") == before  # Art. 27: not before the center concurs
    await handle.execute_update("decide", decision("concur", "dsj.linxiaohong", reasons="同意列入"))
    assert (await handle.result())["outcome"] == "listed"
    assert open_attribute_of("RES-RSJ-001") == "restricted"
    row = review_row(handle.id)
    assert (row.proposed_open_attribute, row.proposal_answer, row.secrecy_reviewer, row.concurred_by) == (
        "restricted", "accepted", "朱红", "dsj.linxiaohong")
    # The second objection, still unanswered, is answered by the listing (Art. 32: every objector hears).
    rows = objection_rows(handle.id)
    assert [(o.seq, o.answer) for o in rows] == [(1, "suggested"), (2, "resolved")]
    assert "列入开放目录" in (rows[1].answer_reasons or "")
    assert [d.action for d in decisions_of(handle.id)] == ["decline", "object", "object", "suggest", "accept", "concur"]


async def test_art28_silence_on_the_center_proposal_is_not_consent(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle)
    await wait_status(handle, "objection_review")
    await handle.execute_update("decide", decision("suggest", "dsj.zhouwei", reasons="可受限开放",
                                                   data={"open_attribute": "restricted"}))
    state = await wait_status(handle, "proposal")
    before = open_attribute_of("RES-RSJ-001")
    deadline = Deadline.model_validate(state["deadlines"]["open.proposal_answer"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    ladder = sorted((n.level, n.person_id) for n in notices_of(handle.id) if n.step == "open.proposal_answer")
    assert ladder == [(0, "rsj.gaofeng"), (1, "rsj.gaofeng"), (2, "rsj.zhuhong"), (3, "dsj.chenjianguo"),
                      (3, "rsj.huxiaodong")]
    state = await handle.query("state")
    assert state["status"] == "proposal" and state["escalation"] == 3 and state["awaiting"] == ["rsj"]
    assert open_attribute_of("RES-RSJ-001") == before  # nothing published for the silence
    described = await handle.describe()
    assert described.status is not None and described.status.name == "RUNNING"


async def test_art28_para3_a_source_that_rejects_the_proposal_goes_to_experts_then_the_county(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle)
    await wait_status(handle, "objection_review")
    await handle.execute_update("decide", decision("suggest", "dsj.zhouwei", reasons="参保统计数据可无条件开放",
                                                   data={"open_attribute": "unconditional"}))
    await wait_status(handle, "proposal")
    cause = await refused(handle, decision("reject", "rsj.gaofeng"))
    assert "reasons" in cause and "第二十八条第三款" in cause
    before = open_attribute_of("RES-RSJ-001")
    await handle.execute_update("decide", decision("reject", "rsj.gaofeng", reasons="统计口径过细可识别个人"))
    state = await wait_status(handle, "in_dispute")
    dispute = env.client.get_workflow_handle(state["dispute_case_id"])
    STARTED.append(dispute.id)
    with pytest.raises(WorkflowUpdateFailedError) as blocked:  # local rule: not while before the county
        await handle.execute_update("end", decision("cancel", "dsj.linxiaohong", reasons="误登记"))
    assert "开放属性争议" in str(blocked.value.cause)
    dispute_state = await wait_status(dispute, "expert_review")
    assert dispute_state["parent_case_id"] == handle.id and dispute_state["proposed_open_attribute"] == "unconditional"
    assert sorted(dispute_state["parties"]) == ["dsj", "rsj", "xzf", "zjwyh"]
    await dispute.execute_update("decide", decision("opinion", "zjwyh.luoqing", reasons="按乡镇汇总后受限开放为宜"))
    await wait_status(dispute, "county_decision")
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="采纳专家意见",
                                                    data={"open_attribute": "restricted"}))
    # The county decides the attribute; the listing still needs the source's 保密审查 (Art. 39) and the
    # center's concurrence (Art. 27): nothing is published before both.
    await wait_status(handle, "secrecy_record")
    assert open_attribute_of("RES-RSJ-001") == before
    cause = await refused(handle, decision("list", "rsj.gaofeng", data={"open_attribute": "unconditional", **secrecy()}))
    assert "县人民政府已决定列为" in cause
    cause = await refused(handle, decision("list", "dsj.zhouwei", data={"open_attribute": "restricted", **secrecy()}))
    assert "由数源部门" in cause
    await handle.execute_update("decide", decision("list", "rsj.gaofeng", data={"open_attribute": "restricted", **secrecy()}))
    await wait_status(handle, "concurring")
    assert open_attribute_of("RES-RSJ-001") == before
    await handle.execute_update("decide", decision("concur", "dsj.zhouwei"))
    assert (await handle.result())["outcome"] == "listed"
    assert open_attribute_of("RES-RSJ-001") == "restricted"
    # The county's decision stands among this case's decisions too.
    county = [d for d in decisions_of(handle.id) if d.action == "decide"]
    assert [(d.dept_code, d.person_id, d.reasons) for d in county] == [("xzf", "xzf.wuminghui", "采纳专家意见")]
    row = review_row(handle.id)
    assert (row.proposal_answer, row.dispute_case_id, row.listed_as) == ("rejected", dispute.id, "restricted")


async def test_art32_a_cancelled_listing_case_answers_its_objectors_and_its_ladders_stop(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle)
    await wait_status(handle, "objection_review")
    await handle.execute_update("end", decision("cancel", "dsj.linxiaohong", reasons="重复登记"))
    assert (await handle.result())["outcome"] == "cancelled"
    assert [(o.answer, o.answer_reasons) for o in objection_rows(handle.id)] == [("resolved", "案件已撤销")]
    assert review_row(handle.id).status == "cancelled"
    await env.sleep(timedelta(days=30))
    assert [n for n in notices_of(handle.id) if n.level] == []


async def test_art32_overdue_objection_review_climbs_the_ladder(env, worker) -> None:
    handle = await declined(env, worker)
    await object_to(handle)
    state = await wait_status(handle, "objection_review")
    deadline = Deadline.model_validate(state["deadlines"]["open.objection_review"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    levels = sorted((n.level, n.person_id) for n in notices_of(handle.id) if n.level and n.dept_code == "dsj")
    assert levels == [(1, "dsj.zhouwei"), (2, "dsj.linxiaohong"), (3, "dsj.chenjianguo")]
    await handle.execute_update("decide", decision("uphold", "dsj.zhouwei", reasons="维持"))
    await wait_status(handle, "answered")


async def test_art32_without_objection_the_answer_stands(env, worker) -> None:
    handle = await listing(env, worker)
    await handle.execute_update("decide", decision("decline", "rsj.gaofeng", reasons="依法不得开放"))
    state = await wait_status(handle, "answered")
    window = Deadline.model_validate(state["deadlines"]["open.objection_window"])
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.result())["outcome"] == "declined"
