"""Time-skipping tests of data correction and review (Art. 23)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from activities.store import resolve_actor, session
from models.calendar import Deadline
from models.cases import DeadlineMiss
from models.correction import PROCEED_NOTICE, CorrectionInput, CorrectionReport
from tests.helpers import STARTED, decision, notices_of, update_events, wait_status

VERIFY = "correction.verify"


async def start_correction(env, queue, *, proof: bool = False):  # type: ignore[no-untyped-def]
    case_id = f"correction-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    inp = CorrectionInput(
        case_id=case_id, resource_id="RES-SCJGJ-001", items=["住所"], found="某企业住所仍为迁出前地址",
        expected="瓯北街道新地址", evidence="营业执照副本（2026年10月换发）", proof_provided=proof,
        reported_by=resolve_actor("gaj.zhangfang"),
    )
    handle = await env.client.start_workflow("DataCorrection", inp, id=case_id, task_queue=queue)
    await wait_status(handle, "awaiting_forward")
    await handle.execute_update("decide", decision("forward", "dsj.zhouwei"))
    state = await wait_status(handle, "verifying")
    return handle, state


async def test_art23_correction_on_time_goes_back_through_the_center(env, worker) -> None:
    handle, state = await start_correction(env, worker)
    deadline = Deadline.model_validate(state["deadlines"][VERIFY])
    assert deadline.statutory and deadline.working_days == 5 and deadline.article == "第二十三条"
    assert state["received_at"] is not None and state["awaiting"] == ["scjgj"]
    await handle.execute_update("decide", decision("correct", "scjgj.jinlei", data={"changes": "住所更正为瓯北街道新地址"}))
    assert (await handle.result())["outcome"] == "corrected"
    with session() as s:
        row = s.get(CorrectionReport, handle.id)
    assert row.outcome == "corrected" and row.corrected_at is not None and row.outcome_text == "住所更正为瓯北街道新地址"
    told = {n.dept_code for n in notices_of(handle.id) if n.step == "correction.outcome"}
    assert told == {"dsj", "gaj"}
    assert not [n for n in notices_of(handle.id) if n.level > 0]  # on time: no ladder notices


async def test_art23_a_reasoned_confirmation_that_the_data_is_right(env, worker) -> None:
    handle, _ = await start_correction(env, worker)
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await handle.execute_update("decide", decision("confirm", "scjgj.jinlei"))
    assert "须说明理由" in str(no_reason.value.cause)
    await handle.execute_update("decide", decision("confirm", "scjgj.jinlei", reasons="经核对登记档案，住所未变更"))
    assert (await handle.result())["outcome"] == "confirmed"


async def test_art23_overdue_verification_climbs_the_ladder(env, worker) -> None:
    handle, state = await start_correction(env, worker)
    deadline = Deadline.model_validate(state["deadlines"][VERIFY])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=2))
    levels = sorted((n.level, n.person_id) for n in notices_of(handle.id) if n.level)
    assert levels == [(1, "scjgj.jinlei"), (2, "scjgj.zhaomin"), (3, "dsj.chenjianguo"), (3, "scjgj.yangguang")]
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.dept_code, m.step, m.statutory) for m in misses] == [("scjgj", VERIFY, True)]


async def test_art23_extension_within_15_working_days_moves_the_deadline_and_the_ladder(env, worker) -> None:
    handle, state = await start_correction(env, worker)
    original = Deadline.model_validate(state["deadlines"][VERIFY])
    await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="需调取档案",
                                                   data={"working_days": 10}))
    state = await handle.query("state")
    extended = Deadline.model_validate(state["deadlines"][VERIFY])
    assert extended.extended_by == 10 and extended.due_date > original.due_date
    await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="档案在市局",
                                                   data={"working_days": 5}))
    state = await handle.query("state")
    assert state["extension_days"] == 15
    final = Deadline.model_validate(state["deadlines"][VERIFY])
    # Past the original deadline nothing is urged: the extension moved it.
    await env.sleep(original.escalate_at - await env.get_current_time() + timedelta(hours=1))
    assert not [n for n in notices_of(handle.id) if n.level >= 2]
    # The extended deadline runs the ladder in its turn.
    await env.sleep(final.due_at - await env.get_current_time() + timedelta(hours=1))
    urged = [n for n in notices_of(handle.id) if n.level == 2]
    assert [n.step for n in urged] == [f"{VERIFY}+15"] and abs(urged[0].case_time - final.due_at) < timedelta(hours=2)
    await handle.execute_update("decide", decision("correct", "scjgj.jinlei", data={"changes": "已更正住所"}))
    assert (await handle.result())["outcome"] == "corrected"


@pytest.mark.parametrize(
    ("person", "days", "message"),
    [
        ("scjgj.jinlei", 5, "须经数源部门负责人同意"),  # the daily administrator is not the head
        ("scjgj.yangguang", 16, "最长不得超过 15 个工作日"),
        ("gaj.wanghaitao", 5, "由数源部门县市场监督管理局校核"),
        ("scjgj.yangguang", 0, "data.working_days"),
    ],
)
async def test_art23_extension_without_the_heads_consent_or_over_15_days_is_rejected(
    env, worker, person, days, message
) -> None:
    handle, _ = await start_correction(env, worker)
    before = update_events(await handle.fetch_history())
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision("extend", person, reasons="需要更多时间",
                                                       data={"working_days": days}))
    assert message in str(err.value.cause)
    assert update_events(await handle.fetch_history()) == before
    assert (await handle.query("state"))["extension_days"] == 0


async def test_art23_second_extension_past_the_total_is_rejected(env, worker) -> None:
    handle, _ = await start_correction(env, worker)
    await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="调档", data={"working_days": 12}))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="再调档",
                                                       data={"working_days": 4}))
    assert "至多还可延长 3 个" in str(err.value.cause)


async def test_art23_para2_proof_provided_says_the_matter_goes_ahead(env, worker) -> None:
    handle, state = await start_correction(env, worker, proof=True)
    assert state["must_proceed"] == PROCEED_NOTICE and PROCEED_NOTICE in state["facts"]
    handle2, state2 = await start_correction(env, worker, proof=False)
    assert state2["must_proceed"] is None


async def test_art23_only_the_center_forwards(env, worker) -> None:
    case_id = f"correction-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    inp = CorrectionInput(case_id=case_id, resource_id="RES-SCJGJ-001", items=["名称"], found="名称有误",
                          expected="正确名称", evidence="", reported_by=resolve_actor("gaj.zhangfang"))
    handle = await env.client.start_workflow("DataCorrection", inp, id=case_id, task_queue=worker)
    await wait_status(handle, "awaiting_forward")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision("forward", "scjgj.jinlei"))
    assert "经县大数据管理中心转交" in str(err.value.cause)


async def test_art23_the_leader_in_charge_is_a_source_head_too_and_the_record_says_who(env, worker) -> None:
    handle, _ = await start_correction(env, worker)
    await handle.execute_update("decide", decision("extend", "scjgj.zhaomin", reasons="需调取档案",
                                                   data={"working_days": 3}))
    state = await handle.query("state")
    assert state["extension_days"] == 3
    consent = [d for d in state["decisions"] if d["action"] == "extend"]
    assert [(d["actor"]["person_id"], d["role"]) for d in consent] == [("scjgj.zhaomin", "leader_in_charge")]


async def test_art23_no_extension_once_the_period_has_ended(env, worker) -> None:
    handle, state = await start_correction(env, worker)
    deadline = Deadline.model_validate(state["deadlines"][VERIFY])
    await env.sleep(deadline.due_at - await env.get_current_time() + timedelta(hours=2))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="来不及了",
                                                       data={"working_days": 5}))
    assert "届满" in str(err.value.cause) and "第二十三条" in str(err.value.cause)
    state = await handle.query("state")
    assert state["extension_days"] == 0 and state["escalation"] >= 2  # still urged: nothing was reset


async def test_art23_an_extension_never_lowers_the_escalation_reached(env, worker) -> None:
    handle, state = await start_correction(env, worker)
    deadline = Deadline.model_validate(state["deadlines"][VERIFY])
    await env.sleep(deadline.warn_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.query("state"))["escalation"] == 1  # warned, the period still running
    await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="需调取档案",
                                                   data={"working_days": 5}))
    state = await handle.query("state")
    assert state["escalation"] == 1
    final = Deadline.model_validate(state["deadlines"][VERIFY])
    await env.sleep(final.due_at - await env.get_current_time() + timedelta(hours=1))
    levels = [n.level for n in notices_of(handle.id) if n.level and n.person_id == "scjgj.jinlei"]
    assert levels == [1]  # the warning went once; the urging at the new deadline reaches the leader
    assert [n.level for n in notices_of(handle.id) if n.level == 2]
