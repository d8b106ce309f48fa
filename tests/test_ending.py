"""Withdrawing and cancelling a case (local rule; issue 10, no dead ends): time-skipping tests of who
may end a case, when, and that every ladder stops and every party hears of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.store import session
from models.catalog import CatalogUpdateCase
from models.correction import CorrectionReport
from tests.helpers import (
    decision,
    decisions_of,
    grant_of,
    notices_of,
    start_catalog_update,
    start_share,
    wait_status,
)
from tests.test_correction_workflow import start_correction
from tests.test_open_data_workflow import application, apply
from tests.test_share_workflow import _refused_and_disputed


async def refused(handle, d, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("end", d)
    assert message in str(err.value.cause)


async def test_starter_withdraws_a_mistaken_catalog_update_and_its_ladder_stops(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    # Another department may not withdraw it; nor anyone without reasons.
    await refused(handle, decision("withdraw", "gaj.zhangfang", reasons="误登记"), "只有提出本案的部门可以撤回")
    await refused(handle, decision("withdraw", "jyj.panxiaoyu"), "须写明理由（reasons）")
    await handle.execute_update("end", decision("withdraw", "jyj.panxiaoyu", reasons="误登记：要素未变化"))
    result = await handle.result()
    assert result["status"] == "withdrawn"
    state = await handle.query("state")
    assert state["status_zh"] == "已撤回" and state["awaiting"] == []
    assert [d.action for d in decisions_of(handle.id)] == ["withdraw"]
    with session() as s:
        row = s.exec(select(CatalogUpdateCase).where(CatalogUpdateCase.case_id == handle.id)).one()
    assert row.status == "withdrawn" and row.closed_at is not None
    told = {n.dept_code for n in notices_of(handle.id) if n.step == "catalog_update.withdrawn"}
    assert told == {"jyj", "dsj"}
    # No warning, urging or escalation ever follows.
    await env.sleep(timedelta(days=30))
    assert [n for n in notices_of(handle.id) if n.level] == []


async def test_no_withdrawal_once_the_center_has_decided_but_the_center_may_cancel(env, worker) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    await handle.execute_update("decide", decision("submit", "jyj.panxiaoyu", data={"encoding_format": "XML"}))
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons="请补充统计口径"))
    await wait_status(handle, "awaiting_submission")
    await refused(handle, decision("withdraw", "jyj.panxiaoyu", reasons="不改了"), "已有其他部门作出决定，不能撤回")
    # The center's clerk may not cancel; its leader may.
    await refused(handle, decision("cancel", "dsj.zhouwei", reasons="重复登记"), "主要负责人或分管领导")
    await refused(handle, decision("cancel", "jyj.chenli", reasons="重复登记"), "须由县大数据管理中心")
    await handle.execute_update("end", decision("cancel", "dsj.linxiaohong", reasons="与 catalog-2026-000003 重复登记"))
    assert (await handle.result())["status"] == "cancelled"
    with pytest.raises(RPCError):  # a closed case takes no update (the API says it has ended)
        await handle.execute_update("end", decision("cancel", "dsj.linxiaohong", reasons="再撤一次"))


async def test_art23_center_cancels_a_correction_under_verification_and_every_party_hears(env, worker) -> None:
    handle, _state = await start_correction(env, worker)
    # The reporter may not withdraw once the center has forwarded it.
    await refused(handle, decision("withdraw", "gaj.zhangfang", reasons="误报"), "已有其他部门作出决定")
    await handle.execute_update("end", decision("cancel", "dsj.chenjianguo", reasons="反馈的数据资源有误，重新登记"))
    assert (await handle.result())["outcome"] == "cancelled"
    with session() as s:
        row = s.exec(select(CorrectionReport).where(CorrectionReport.case_id == handle.id)).one()
    assert row.status == "cancelled"
    assert {n.dept_code for n in notices_of(handle.id) if n.step == "correction.cancelled"} == {"gaj", "scjgj", "dsj"}
    await env.sleep(timedelta(days=30))
    assert [n for n in notices_of(handle.id) if n.level] == []


async def test_art20_requester_withdraws_a_share_request_until_an_approver_decides(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    await refused(handle, decision("withdraw", "gaj.zhangfang", reasons="不需要"), "只有提出本案的部门可以撤回")
    # An action the process does not know names its own, and the two that end a case.
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await handle.execute_update("decide", decision("fly", "jyj.panxiaoyu"))
    assert "共享申请的操作为 approve" in str(unknown.value.cause) and "另可 withdraw（提出部门撤回）、cancel" in str(unknown.value.cause)
    await handle.execute_update("end", decision("withdraw", "jyj.panxiaoyu", reasons="申请的数据项有误，重新申请"))
    assert (await handle.result())["status"] == "withdrawn"
    assert grant_of(handle.id) is None

    other = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(other, "under_review")
    await other.execute_update("decide", decision("approve", "dsj.zhouwei"))
    await refused(other, decision("withdraw", "jyj.panxiaoyu", reasons="不需要了"), "已有其他部门作出决定")


async def test_art20_2_no_cancelling_while_the_dispute_is_before_the_center_or_the_county(env, worker) -> None:
    handle, _dispute = await _refused_and_disputed(env, worker)
    await refused(handle, decision("cancel", "dsj.linxiaohong", reasons="重复申请"), "争议正在协调")
    # A dispute case follows its share case: it is never ended on its own.
    await refused(_dispute, decision("cancel", "dsj.linxiaohong", reasons="重复申请"), "不能撤回或撤销")
    with pytest.raises(WorkflowUpdateFailedError) as unknown:  # so its unknown actions do not offer it
        await _dispute.execute_update("decide", decision("fly", "dsj.zhouwei"))
    assert "争议案件的操作为" in str(unknown.value.cause) and "withdraw" not in str(unknown.value.cause)


async def test_art28_no_cancelling_an_application_before_the_city_bureau(env, worker) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    await wait_status(handle, "center_review")
    await handle.execute_update("decide", decision("report", "dsj.zhouwei", reasons="材料齐全，建议同意"))
    await wait_status(handle, "city_review")
    await refused(handle, decision("cancel", "dsj.linxiaohong", reasons="误登记"), "已报市大数据发展管理局审核")
    # Nobody withdraws a public application through pdw: the applicant has no credential here.
    await refused(handle, decision("withdraw", "dsj.zhouwei", reasons="误登记"), "只有提出本案的部门可以撤回")


async def test_art28_center_cancels_an_application_under_its_own_review(env, worker) -> None:
    handle = await apply(env, worker, "RES-MZJ-001")
    await wait_status(handle, "center_review")
    await handle.execute_update("end", decision("cancel", "dsj.linxiaohong", reasons="申请人重复提交"))
    assert (await handle.result())["outcome"] == "cancelled"
    assert application(handle.id).status == "cancelled"
