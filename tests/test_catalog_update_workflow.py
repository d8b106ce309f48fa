"""Time-skipping tests of the catalog-update process (Art. 10–12) and its deadline ladder, with the
real activities against PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from activities.calendar import SHANGHAI, load_calendar, start_of_day
from activities.store import session
from models import search
from models.calendar import Deadline
from models.cases import DeadlineMiss
from models.catalog import CatalogVersion
from tests.helpers import decision, decisions_of, notices_of, start_catalog_update, update_events, wait_status


def new_content() -> dict[str, str]:
    """A revised 数据内容 unlike any before it (the cases share one catalog)."""
    return {"content": f"学校名称、地址、办学类型、在校生数（口径 {uuid.uuid4().hex[:6]}）"}


async def test_art11_update_approved_publishes_new_version_and_keeps_old(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    revised = new_content()
    outcome = await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=revised))
    assert outcome["action"] == "submit"
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    result = await handle.result()
    assert result["status"] == "approved"

    with session() as s:
        versions = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == "RES-JYJ-001")
                          .order_by(CatalogVersion.version)).all()
    mine = [v for v in versions if v.case_id == handle.id]
    assert len(mine) == 1 and mine[0].is_current and mine[0].content == revised["content"]
    assert mine[0].version == result["approved_version"]
    assert [v.version for v in versions if v.is_current] == [mine[0].version]  # one current, older ones kept
    assert any(v.version == 1 and not v.is_current for v in versions)
    assert [d.action for d in decisions_of(handle.id)] == ["submit", "approve"]

    # A case finished early sends nothing, however long afterwards.
    await env.sleep(timedelta(days=40))
    # Each step's 待办 went to the party that owed it when it started; then no ladder notice at all.
    assert [(n.step, n.level, n.person_id) for n in notices_of(handle.id)] == [
        ("catalog_update.submit", 0, "jyj.panxiaoyu"), ("catalog_update.review", 0, "dsj.zhouwei"),
        ("catalog_update.approved", 0, "jyj.panxiaoyu")]
    assert notices_of(handle.id)[0].subject.startswith("待办") and "第十一条" in notices_of(handle.id)[0].body


async def test_art11_ladder_warns_urges_escalates_each_once_and_case_goes_on(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    state = await wait_status(handle, "awaiting_submission")
    deadline = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    assert deadline.statutory and deadline.working_days == 5 and deadline.article == "第十一条"

    await env.sleep(deadline.warn_at - await env.get_current_time() + timedelta(minutes=1))
    assert {n.level for n in notices_of(handle.id) if n.level} == {1}
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(days=10))

    notices = [n for n in notices_of(handle.id) if n.level]
    by_level = {level: [n for n in notices if n.level == level] for level in (1, 2, 3)}
    # Warning to the daily administrator, urging to the leader in charge, escalation to the first
    # responsible person and the center's leader (Art. 43): each exactly once.
    assert [(n.person_id, n.role) for n in by_level[1]] == [("jyj.panxiaoyu", "daily_admin")]
    assert [(n.person_id, n.role) for n in by_level[2]] == [("jyj.chenli", "leader_in_charge")]
    assert sorted(n.person_id for n in by_level[3]) == ["dsj.chenjianguo", "jyj.liuyang"]
    for level, at in ((1, deadline.warn_at), (2, deadline.due_at), (3, deadline.escalate_at)):
        assert all(abs(n.case_time - at) < timedelta(minutes=1) for n in by_level[level]), level
    assert "督办" in by_level[3][0].subject and handle.id in by_level[3][0].body

    desc = await handle.describe()
    assert desc.typed_search_attributes.get(search.ESCALATION) == 3
    assert desc.typed_search_attributes.get(search.STATUS) == "overdue"
    assert desc.typed_search_attributes.get(search.AWAITING) == "jyj"
    with session() as s:  # Art. 46: recorded against the department, once
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.dept_code, m.step, m.statutory) for m in misses] == [("jyj", "catalog_update.submit", True)]

    # A missed deadline does not end the case.
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    assert (await handle.result())["status"] == "approved"
    assert [n for n in notices_of(handle.id) if n.level] == notices  # no ladder notice sent twice


async def test_art11_days_with_the_center_are_not_charged_to_the_department(env, worker) -> None:
    """Submitted on day 1, returned by the center on day 8: the department has the 4 working days it
    had not used, from the return; no urging, escalation or miss for the days the center held it."""
    handle = await start_catalog_update(env, worker)
    state = await wait_status(handle, "awaiting_submission")
    first = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    next_day = load_calendar().nth_working_day_after(first.event_at.astimezone(SHANGHAI).date(), 1)
    await env.sleep(start_of_day(next_day) + timedelta(hours=10) - await env.get_current_time())
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
    await wait_status(handle, "under_review")
    # The center holds it past the department's original due date (and past its own review's). The
    # hour keeps the return off midnight, where the review's own escalation falls: a decision whose
    # workflow task is under way when a timer comes due hangs the time-skipping test server
    # (temporalio/sdk-java#2606), and the real time between the sleep's end and the decision is
    # about what separates the two.
    await env.sleep(first.escalate_at - await env.get_current_time() + timedelta(days=3, hours=1))
    await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons="编码格式应与实际交换格式一致"))
    state = await wait_status(handle, "awaiting_submission")
    second = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    assert state["used_working_days"] == 1 and state["rounds"] == 1
    assert second.working_days == 4 and second.statutory and second.key == "catalog_update.submit#2"
    returned_at = decisions_of(handle.id)[-1].decided_at
    assert second.due_date == load_calendar().nth_working_day_after(returned_at.astimezone(SHANGHAI).date(), 4)
    assert any("已用 1 个工作日，法定期限剩余 4 个" in t["text"] for t in state["timeline"])
    jyj = [n for n in notices_of(handle.id) if n.level and n.step.startswith("catalog_update.submit")]
    assert jyj == []  # the department was not urged for the center's days
    returned = [n for n in notices_of(handle.id) if n.step.startswith("catalog_update.returned")]
    assert returned and str(second.due_date.day) in returned[0].body and "原期限" not in returned[0].body
    with session() as s:  # the center's overdue review is the center's miss, not the department's
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert {(m.dept_code, m.step) for m in misses} == {("dsj", "catalog_update.review")}

    # Late with the resubmission: the miss is the department's, on its second period, statutory.
    await env.sleep(second.due_at - await env.get_current_time() + timedelta(hours=1))
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert ("jyj", "catalog_update.submit#2", True) in {(m.dept_code, m.step, m.statutory) for m in misses}
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data={"encoding_format": "JSON"}))
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    await handle.result()


async def test_art11_local_minimum_after_a_late_submission_is_a_local_period(env, worker) -> None:
    """Submitted on the 5th working day, returned: nothing statutory remains, the local minimum
    (2 working days) applies, and missing it is recorded as a local miss, not a statutory one."""
    handle = await start_catalog_update(env, worker)
    state = await wait_status(handle, "awaiting_submission")
    first = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    await env.sleep(start_of_day(first.due_date) + timedelta(hours=10) - await env.get_current_time())
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons="请补充统计口径"))
    state = await wait_status(handle, "awaiting_submission")
    second = Deadline.model_validate(state["deadlines"]["catalog_update.submit"])
    assert state["used_working_days"] == 5
    assert second.working_days == 2 and not second.statutory
    assert any("本地期限" in t["text"] for t in state["timeline"])
    await env.sleep(second.due_at - await env.get_current_time() + timedelta(hours=1))
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.dept_code, m.step, m.statutory) for m in misses] == [("jyj", "catalog_update.submit#2", False)]


async def test_art11_each_review_round_has_its_own_deadline_and_ladder(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons="请补充统计口径"))
    await wait_status(handle, "awaiting_submission")
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
    state = await wait_status(handle, "under_review")
    second = Deadline.model_validate(state["deadlines"]["catalog_update.review"])
    assert second.key == "catalog_update.review#2"
    await env.sleep(second.due_at - await env.get_current_time() + timedelta(hours=1))
    urged = [n for n in notices_of(handle.id) if n.level == 2]
    assert [(n.step, n.person_id) for n in urged] == [("catalog_update.review#2", "dsj.linxiaohong")]


@pytest.mark.parametrize(
    ("stage", "action", "person", "kw", "message"),
    [
        ("awaiting_submission", "submit", "gaj.zhangfang", {"data": new_content()}, "数源部门县教育局"),
        ("awaiting_submission", "submit", "jyj.panxiaoyu", {"data": {"name": ""}}, "数据名称（name）不能为空"),
        ("awaiting_submission", "submit", "jyj.panxiaoyu", {"data": {"share_attribute": "restricted"}},
         "第十五条"),
        ("awaiting_submission", "submit", "jyj.panxiaoyu", {"data": {"update_frequency": "sometimes"}},
         "更新频度（update_frequency）的值“sometimes”无效"),
        ("awaiting_submission", "submit", "jyj.panxiaoyu", {"data": {}}, "与现行版本相同"),
        ("awaiting_submission", "approve", "dsj.zhouwei", {}, "现在不能审核"),
        ("under_review", "submit", "jyj.panxiaoyu", {"data": new_content()}, "修订已提交"),
        ("under_review", "approve", "jyj.liuyang", {}, "由县大数据管理中心审核"),
        ("under_review", "return", "dsj.zhouwei", {}, "退回修改须写明理由"),
        ("under_review", "publish", "dsj.zhouwei", {}, "操作“publish”无效"),
    ],
)
async def test_art11_validator_rejects_bad_decisions_with_nothing_written(
    env, worker, stage, action, person, kw, message
) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    if stage == "under_review":
        await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data=new_content()))
        await wait_status(handle, "under_review")
    before_history = update_events(await handle.fetch_history())
    before = decisions_of(handle.id)

    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision(action, person, **kw))
    assert message in str(err.value.cause)

    assert update_events(await handle.fetch_history()) == before_history  # rejected before history
    assert decisions_of(handle.id) == before
    assert (await handle.query("state"))["status"] == stage


async def test_art11_unknown_provider_department_is_refused(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            "decide", decision("submit", "jyj.panxiaoyu", data={"provider_code": "nosuch"})
        )
    assert "部门代码“nosuch”不存在" in str(err.value.cause)
    assert decisions_of(handle.id) == []
    assert (await handle.query("state"))["status"] == "awaiting_submission"


async def test_unknown_resource_fails_the_case_without_retrying(env, worker) -> None:
    handle = await start_catalog_update(env, worker, resource="RES-NONE-999")
    with pytest.raises(Exception) as err:
        await handle.result()
    assert "数据资源“RES-NONE-999”不在目录中" in str(err.value.cause.cause)  # type: ignore[union-attr]
