"""Time-skipping tests of share approval (Art. 13–22) and dispute coordination (Art. 20 ¶2,
Art. 28 ¶3), with the real activities against PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from activities.catalog import current_version
from activities.share import check_share_request, list_grants, revoke_grant, write_grant
from activities.store import StoreError, insert_ignore, resolve_actor, session
from models.calendar import Deadline
from models.cases import DeadlineMiss
from models.catalog import CatalogVersion, DataResource
from models.dispute import OPEN_ATTRIBUTE, DisputeInput
from models.share import GrantRequest
from tests.helpers import (
    STARTED,
    decision,
    decisions_of,
    grant_of,
    notices_of,
    start_share,
    update_events,
    wait_status,
)

REFUSE = {"reasons": "申请用途超出本部门法定职责", "basis": "《中华人民共和国个人信息保护法》第三十四条"}


async def test_art20_unconditional_collected_data_is_approved_by_the_center(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-SCJGJ-001", items=["统一社会信用代码", "名称"],
                               by="gaj.zhangfang")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"center": "share.center_review"} and state["awaiting"] == ["dsj"]
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    result = await handle.result()
    assert result["status"] == "granted"
    grant = grant_of(handle.id)
    assert (grant.grantee_code, grant.source_code, grant.items, grant.mode) == (
        "gaj", "scjgj", ["统一社会信用代码", "名称"], "query")
    assert grant.id == result["grant_id"] and not grant.desensitised
    assert (grant.valid_until - grant.valid_from).days in range(365, 367)
    told = [n for n in notices_of(handle.id) if n.step == "share.granted"]
    assert [n.person_id for n in told] == ["gaj.zhangfang"] and "已同意共享" in told[0].subject
    assert f"共享授权 {grant.id}：统一社会信用代码、名称，" in told[0].body  # the number, written with the grant


@pytest.mark.parametrize("first", ["dsj.zhouwei", "gaj.lijun"])
async def test_art20_restricted_data_needs_joint_approval_in_either_order(env, worker, first) -> None:
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码", "车辆类型"], by="jyj.panxiaoyu")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"center": "share.center_review", "source": "share.source_review"}
    second = "gaj.lijun" if first == "dsj.zhouwei" else "dsj.zhouwei"
    await handle.execute_update("decide", decision("approve", first))
    state = await handle.query("state")
    assert state["status"] == "under_review" and grant_of(handle.id) is None  # one approval is not enough
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update("decide", decision("approve", first))
    assert "不能重复审批" in str(again.value.cause)
    await handle.execute_update("decide", decision("approve", second))
    assert (await handle.result())["status"] == "granted"
    assert [d["actor"]["person_id"] for d in (await handle.query("state"))["decisions"]] == [first, second]


async def test_art20_either_refusal_refuses_states_the_window_and_without_dispute_it_stands(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("refuse", "gaj.lijun", **REFUSE))
    state = await wait_status(handle, "refused")
    assert state["refusal_reasons"] == REFUSE["reasons"] and state["refusal_basis"] == REFUSE["basis"]
    assert state["awaiting"] == []  # the center's step ended with the refusal
    told = [n for n in notices_of(handle.id) if n.step == "share.refused"]
    assert len(told) == 1 and REFUSE["basis"] in told[0].body
    window = Deadline.model_validate(state["deadlines"]["share.dispute_window"])
    # Art. 20 ¶2 sets no time for asking: the local window is told with the refusal, not kept silent.
    day = window.due_date
    assert f"{day.year}年{day.month}月{day.day}日24时" in told[0].body and "逾期未申请的，拒绝决定生效" in told[0].body
    await env.sleep(window.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.result())["status"] == "refused_final"
    assert grant_of(handle.id) is None


@pytest.mark.parametrize(
    ("person", "kw", "message"),
    [
        ("dsj.zhouwei", {"reasons": "理由"}, "须说明理由（reasons）并提供依据（basis）"),
        ("dsj.zhouwei", {"basis": "依据"}, "须说明理由（reasons）并提供依据（basis）"),
        ("jyj.liuyang", REFUSE, "无权审批"),
    ],
)
async def test_art20_refusal_without_reasons_or_basis_or_by_the_wrong_role_is_rejected(
    env, worker, person, kw, message
) -> None:
    handle = await start_share(env, worker, resource="RES-SCJGJ-001", items=["名称"], by="gaj.zhangfang")
    await wait_status(handle, "under_review")
    history_before = update_events(await handle.fetch_history())
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", decision("refuse", person, **kw))
    assert message in str(err.value.cause)
    assert update_events(await handle.fetch_history()) == history_before  # nothing in history
    assert (await handle.query("state"))["decisions"] == []


async def test_art15_art17_non_shared_data_only_desensitised_with_legal_basis(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-ZRZYJ-001", items=["不动产单元号", "坐落"], by="zjj.lumei")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"source": "share.nonshared_review"}
    with pytest.raises(WorkflowUpdateFailedError) as plain:
        await handle.execute_update("decide", decision("approve", "zrzyj.xuli"))
    assert "只能经脱敏、脱密后提供" in str(plain.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as no_basis:
        await handle.execute_update("decide", decision("approve_desensitised", "zrzyj.xuli"))
    assert "须写明法律依据" in str(no_basis.value.cause)
    await handle.execute_update(
        "decide", decision("approve_desensitised", "zrzyj.xuli", basis="《不动产登记暂行条例》第二十七条；县脱敏规范")
    )
    assert (await handle.result())["status"] == "granted"
    assert grant_of(handle.id).desensitised


async def test_art20_uncollected_data_source_replies_within_7_working_days_under_the_ladder(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-ZJJ-001", items=["企业名称", "资质类别"], by="scjgj.jinlei")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"source": "share.source_reply"}
    deadline = Deadline.model_validate(state["deadlines"]["share.source_reply"])
    assert deadline.statutory and deadline.working_days == 7 and deadline.article == "第二十条"
    # Off midnight, where rungs fall (tests/test_catalog_update_workflow.py says why).
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(days=2, hours=1))
    notices = notices_of(handle.id)
    assert sorted((n.level, n.person_id) for n in notices) == [
        (0, "zjj.qianjun"), (1, "zjj.qianjun"), (2, "zjj.lumei"), (3, "dsj.chenjianguo"), (3, "zjj.pengcheng")]
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.dept_code, m.statutory, m.article) for m in misses] == [("zjj", True, "第二十条")]
    await handle.execute_update("decide", decision("approve", "zjj.pengcheng"))
    # Art. 20: agreeing means providing the data first (tests/test_grants.py); no grant before that.
    await wait_status(handle, "providing")
    assert grant_of(handle.id) is None


async def test_art21_batch_mode_needs_the_center_and_the_source(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-JYJ-001", items=["学校名称"], by="wjj.maqiang", mode="batch")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"center": "share.batch_center_review", "source": "share.batch_source_review"}
    assert state["deadlines"]["share.batch_center_review"]["article"] == "第二十一条"
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    assert (await handle.query("state"))["status"] == "under_review"
    await handle.execute_update("decide", decision("approve", "jyj.chenli"))
    assert (await handle.result())["status"] == "granted"


async def _refused_and_disputed(env, worker, by: str = "jyj.panxiaoyu"):  # type: ignore[no-untyped-def]
    """县教育局 asks 县公安局 for vehicle data; the source refuses and a department asks the center to
    coordinate (Art. 20 ¶2)."""
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("refuse", "gaj.lijun", **REFUSE))
    await wait_status(handle, "refused")
    with pytest.raises(WorkflowUpdateFailedError) as outsider:
        await handle.execute_update("decide", decision("dispute", "wjj.maqiang", reasons="无关部门"))
    assert "由使用部门或数源部门申请" in str(outsider.value.cause)
    await handle.execute_update("decide", decision("dispute", by, reasons="校车管理为本局法定职责"))
    await wait_status(handle, "in_dispute")
    dispute = _dispute_of(env, handle)
    await wait_status(dispute, "coordinating")
    return handle, dispute


def _dispute_of(env, handle):  # type: ignore[no-untyped-def]
    """The share case's dispute child; ended with the test's cases if left running (conftest)."""
    STARTED.append(f"dispute-{handle.id}")
    return env.client.get_workflow_handle(f"dispute-{handle.id}")


async def _rejected(handle, d, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", d)
    assert message in str(err.value.cause), str(err.value.cause)


PROPOSE = {"reasons": "双方同意仅提供号牌号码", "data": {"outcome": "share"}}


async def both_owe_an_answer(dispute):  # type: ignore[no-untyped-def]
    """The proposal's steps are under way: both departments awaited, each under its deadline."""
    for _ in range(100):
        state = await dispute.query("state")
        if state["status"] == "agreement" and len(state["awaiting"]) == 2:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {state['status']}, awaiting {state['awaiting']}")


async def test_art20_2_coordination_is_an_agreement_only_when_both_departments_agree(env, worker) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    await _rejected(dispute, decision("decide", "xzf.xujing", reasons="x", data={"outcome": "share"}), "现在不能作出决定")
    await _rejected(dispute, decision("agree", "jyj.panxiaoyu"), "现在不能同意协调意见")  # nothing proposed yet
    await _rejected(dispute, decision("propose", "gaj.lijun", **PROPOSE), "此步由县大数据管理中心作出")
    await dispute.execute_update("decide", decision("settle", "dsj.zhouwei", **PROPOSE))  # settle: the old name
    state = await both_owe_an_answer(dispute)
    assert sorted(state["awaiting"]) == ["gaj", "jyj"] and state["proposed_outcome"] == "share"
    assert {"dispute.requester_agreement", "dispute.source_agreement"} <= set(state["deadlines"])
    told = {(n.dept_code, n.step) for n in notices_of(dispute.id)}
    assert {("jyj", "dispute.proposal"), ("gaj", "dispute.proposal")} <= told
    # Only the two departments in dispute answer: not a third one, not the center for them.
    await _rejected(dispute, decision("agree", "wjj.maqiang"), "由争议双方（县教育局、县公安局）作出")
    await _rejected(dispute, decision("agree", "dsj.zhouwei"), "由争议双方")
    await dispute.execute_update("decide", decision("agree", "jyj.panxiaoyu"))
    await _rejected(dispute, decision("agree", "jyj.liuyang"), "县教育局已同意协调意见")
    # The center's proposal with one agreement decides nothing: no grant, the source still awaited.
    state = await dispute.query("state")
    assert state["status"] == "agreement" and state["awaiting"] == ["gaj"] and state["answers"] == {"jyj": "agree"}
    assert (await handle.query("state"))["status"] == "in_dispute" and grant_of(handle.id) is None
    await dispute.execute_update("decide", decision("agree", "gaj.lijun", reasons="同意仅提供号牌号码"))
    result = await dispute.result()
    assert (result["decided_by"], result["outcome"]) == ("center", "share")
    assert [(a["action"], a["actor"]["dept_code"]) for a in result["agreements"]] == [("agree", "jyj"), ("agree", "gaj")]
    assert (await handle.result())["status"] == "granted"
    # Art. 20 ¶2: the agreement stands in the share case too: the proposal and both departments' agreement.
    assert [(d.action, d.person_id) for d in decisions_of(handle.id)][-3:] == [
        ("propose", "dsj.zhouwei"), ("agree", "jyj.panxiaoyu"), ("agree", "gaj.lijun")]
    assert "协调一致" in (await dispute.query("state"))["timeline"][-1]["text"]


async def test_art20_2_departments_may_answer_the_proposal_the_moment_it_is_made(env, worker) -> None:
    """No waiting for the case to catch up: a department that answers right after the center's
    proposal is heard (an answer refused as "too early" would leave coordination without it)."""
    handle, dispute = await _refused_and_disputed(env, worker)
    await dispute.execute_update("decide", decision("propose", "dsj.zhouwei", **PROPOSE))
    await dispute.execute_update("decide", decision("disagree", "gaj.lijun", reasons="仍涉及车主个人信息"))
    state = await wait_status(dispute, "reporting")
    assert state["answers"] == {"gaj": "disagree"} and state["awaiting"] == ["dsj"]
    # The department that answered at once is owed nothing more: its step is not awaited (above), and
    # at most the one 待办 of a step started while its answer was being recorded (a race the case
    # cannot see: its answer counts once recorded) has gone to it, never a reminder after.
    sent = [n for n in notices_of(dispute.id) if n.step.startswith("dispute.source_agreement")]
    assert [n.level for n in sent] in ([], [0]), sent

    handle, dispute = await _refused_and_disputed(env, worker)
    await dispute.execute_update("decide", decision("propose", "dsj.zhouwei", **PROPOSE))
    await dispute.execute_update("decide", decision("agree", "jyj.panxiaoyu"))
    await dispute.execute_update("decide", decision("agree", "gaj.lijun"))
    assert (await dispute.result())["decided_by"] == "center"
    assert (await handle.result())["status"] == "granted"


async def test_art20_2_a_department_that_disagrees_ends_coordination_and_the_center_reports(env, worker) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    await dispute.execute_update("decide", decision("propose", "dsj.zhouwei", reasons="不予共享", data={"outcome": "refuse"}))
    await both_owe_an_answer(dispute)
    await dispute.execute_update("decide", decision("agree", "gaj.lijun"))
    await _rejected(dispute, decision("disagree", "jyj.panxiaoyu"), "不同意协调意见须写明理由（reasons）")
    await dispute.execute_update("decide", decision("disagree", "jyj.panxiaoyu", reasons="校车安全确需车辆信息"))
    state = await wait_status(dispute, "reporting")
    assert state["awaiting"] == ["dsj"] and state["deadlines"]["dispute.report"]["article"] == "第二十条"
    # Coordination has failed: no new proposal, no late agreement; only the center's report remains.
    await _rejected(dispute, decision("propose", "dsj.zhouwei", **PROPOSE), "现在不能提出协调意见")
    await _rejected(dispute, decision("escalate", "jyj.panxiaoyu", reasons="x"), "此步由县大数据管理中心作出")
    assert (await handle.query("state"))["status"] == "in_dispute" and grant_of(handle.id) is None
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="县教育局不同意协调意见"))
    await wait_status(dispute, "county_decision")
    sent = [n for n in notices_of(dispute.id) if n.step == "dispute.to_county"]
    assert sent and "县教育局不同意协调意见" in sent[0].body and "校车安全确需车辆信息" in sent[0].body
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="予以共享", data={"outcome": "share"}))
    assert (await dispute.result())["agreements"] == []  # one agreement is no agreement
    assert (await handle.result())["status"] == "granted"


async def test_art20_2_silence_is_not_consent_the_silent_department_climbs_the_ladder(env, worker) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    await dispute.execute_update("decide", decision("propose", "dsj.zhouwei", **PROPOSE))
    state = await both_owe_an_answer(dispute)
    await dispute.execute_update("decide", decision("agree", "jyj.panxiaoyu"))
    deadline = Deadline.model_validate(state["deadlines"]["dispute.source_agreement"])
    assert not deadline.statutory and deadline.article == "第二十条"  # a local default
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    state = await dispute.query("state")
    assert state["status"] == "agreement" and state["awaiting"] == ["gaj"] and state["escalation"] == 3
    assert grant_of(handle.id) is None and (await handle.query("state"))["status"] == "in_dispute"
    assert {n.person_id for n in notices_of(dispute.id) if n.level == 3} == {"gaj.wanghaitao", "xzf.huangzhiqiang"}
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == dispute.id)).all()
    assert [(m.dept_code, m.statutory) for m in misses] == [("gaj", False)]
    # The center may report a coordination that does not conclude.
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="县公安局逾期未表示意见"))
    await wait_status(dispute, "county_decision")


@pytest.mark.parametrize("asker", ["jyj.panxiaoyu", "gaj.lijun"])
async def test_art20_2_local_rule_either_department_may_ask_for_the_county(env, worker, asker) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    state = await dispute.query("state")
    assert any(f.startswith("本地规则") and "均可请求将争议报请县人民政府决定" in f for f in state["facts"])
    await _rejected(dispute, decision("ask_county", "wjj.maqiang", reasons="x"), "由争议双方")
    await _rejected(dispute, decision("ask_county", asker), "须写明理由（reasons）")
    await dispute.execute_update("decide", decision("ask_county", asker, reasons="分歧在于法定职责，请县政府决定"))
    state = await wait_status(dispute, "reporting")
    assert state["county_asked_by"] == asker.split(".")[0] and state["awaiting"] == ["dsj"]
    assert any("本地规则" in t["text"] for t in state["timeline"])
    await _rejected(dispute, decision("propose", "dsj.zhouwei", **PROPOSE), "现在不能提出协调意见")
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="应部门请求报请县政府决定"))
    await wait_status(dispute, "county_decision")
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="不予共享", data={"outcome": "refuse"}))
    assert (await handle.result())["status"] == "refused_final"


async def test_art20_2_local_rule_a_dispute_over_the_centers_own_refusal_goes_straight_to_the_county(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("refuse", "dsj.zhouwei", **REFUSE))
    state = await wait_status(handle, "refused")
    assert state["refused_by"] == "dsj"
    told = [n for n in notices_of(handle.id) if n.step == "share.refused"]
    assert "直接报请县人民政府决定（本地规则" in told[0].body
    await handle.execute_update("decide", decision("dispute", "jyj.panxiaoyu", reasons="校车管理为本局法定职责"))
    state = await wait_status(handle, "in_dispute")
    assert any(f.startswith("本地规则：拒绝由县大数据管理中心作出") for f in state["facts"])
    dispute = _dispute_of(env, handle)
    state = await wait_status(dispute, "county_decision")
    assert state["awaiting"] == ["xzf"] and "dispute.coordinate" not in state["deadlines"]
    assert any(t["text"].startswith("本地规则") for t in state["timeline"])
    # The center cannot coordinate, nor report, a dispute over its own decision.
    for action in ("propose", "escalate"):
        await _rejected(dispute, decision(action, "dsj.zhouwei", **PROPOSE), "由县人民政府直接决定（本地规则")
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="予以共享", data={"outcome": "share"}))
    assert (await dispute.result())["decided_by"] == "county_gov"
    assert (await handle.result())["status"] == "granted"
    assert [d.action for d in decisions_of(handle.id)] == ["refuse", "dispute", "decide"]
    assert {n.dept_code for n in notices_of(dispute.id) if n.step == "dispute.outcome"} == {"jyj", "dsj"}


@pytest.mark.parametrize(("outcome", "status"), [("share", "granted"), ("refuse", "refused_final")])
async def test_art20_dispute_not_settled_goes_to_the_county_whose_decision_is_final(
    env, worker, outcome, status
) -> None:
    handle, dispute = await _refused_and_disputed(env, worker, by="gaj.zhangfang")
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei"))
    assert "须写明理由" in str(no_reason.value.cause)
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="双方意见分歧较大"))
    state = await wait_status(dispute, "county_decision")
    assert state["awaiting"] == ["xzf"]
    assert any(n.step == "dispute.to_county" and n.dept_code == "xzf" for n in notices_of(dispute.id))
    with pytest.raises(WorkflowUpdateFailedError) as not_county:
        await dispute.execute_update("decide", decision("decide", "dsj.zhouwei", reasons="x", data={"outcome": outcome}))
    assert "此步由县人民政府作出" in str(not_county.value.cause)
    await dispute.execute_update(
        "decide", decision("decide", "xzf.wuminghui", reasons="经研究决定", data={"outcome": outcome})
    )
    assert (await dispute.result())["decided_by"] == "county_gov"
    assert (await handle.result())["status"] == status
    assert (grant_of(handle.id) is not None) == (outcome == "share")
    # Art. 20 ¶2: the county's decision stands among the share case's decisions too.
    assert [(d.action, d.person_id, d.case_id) for d in decisions_of(handle.id)][-1] == (
        "decide", "xzf.wuminghui", handle.id)
    told = {(n.dept_code, n.step) for n in notices_of(dispute.id)}
    assert {("jyj", "dispute.outcome"), ("gaj", "dispute.outcome")} <= told


async def test_dispute_escalation_reaches_the_county_government_leaders(env, worker) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    await dispute.execute_update("decide", decision("escalate", "dsj.zhouwei", reasons="未能协调一致"))
    state = await wait_status(dispute, "county_decision")
    deadline = Deadline.model_validate(state["deadlines"]["dispute.county_decision"])
    assert not deadline.statutory  # a local default, not set by the measures
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    escalated = [n for n in notices_of(dispute.id) if n.level == 3]
    assert sorted(n.person_id for n in escalated) == ["xzf.huangzhiqiang"]  # the county's first responsible
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="决定", data={"outcome": "refuse"}))
    assert (await handle.result())["status"] == "refused_final"


async def test_art28_open_attribute_dispute_takes_the_expert_opinion_then_the_county_decides(env, worker) -> None:
    case_id = "dispute-test-open-1"
    STARTED.append(case_id)
    await env.client.start_workflow(
        "Dispute",
        DisputeInput(case_id=case_id, kind=OPEN_ATTRIBUTE, resource_id="RES-SCJGJ-002",
                     raised_by=resolve_actor("dsj.zhouwei"), parties=["dsj", "scjgj"],
                     claim="食品经营许可信息不涉及个人隐私，建议无条件开放", proposed_open_attribute="unconditional"),
        id=case_id, task_queue=worker,
    )
    dispute = env.client.get_workflow_handle(case_id)
    await wait_status(dispute, "expert_review")
    with pytest.raises(WorkflowUpdateFailedError) as county_first:
        await dispute.execute_update(
            "decide", decision("decide", "xzf.wuminghui", reasons="x", data={"open_attribute": "unconditional"}))
    assert "现在不能作出决定" in str(county_first.value.cause)
    await dispute.execute_update("decide", decision("opinion", "zjwyh.luoqing", reasons="建议无条件开放，许可证编号保留"))
    await wait_status(dispute, "county_decision")
    await dispute.execute_update(
        "decide", decision("decide", "xzf.wuminghui", reasons="采纳专家意见", data={"open_attribute": "unconditional"})
    )
    result = await dispute.result()
    assert result["outcome"] == "unconditional"
    with session() as s:
        entry = current_version(s, "RES-SCJGJ-002")
    assert entry.open_attribute == "unconditional" and entry.case_id == case_id
    assert (await dispute.query("state"))["expert_opinion"] == "建议无条件开放，许可证编号保留"


async def test_art22_the_center_revokes_a_grant_at_once(env, worker) -> None:
    handle = await start_share(env, worker, resource="RES-WJJ-001", items=["机构名称"], by="mzj.caibin")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    grant_id = (await handle.result())["grant_id"]
    assert grant_id in [g.id for g in list_grants(dept="mzj")]
    with pytest.raises(StoreError, match="由县大数据管理中心撤销"):
        revoke_grant(grant_id, resolve_actor("wjj.maqiang"), "滥用")
    with pytest.raises(StoreError, match="理由（reason）"):
        revoke_grant(grant_id, resolve_actor("dsj.zhouwei"), " ")
    revoked, to_deliver = revoke_grant(grant_id, resolve_actor("dsj.zhouwei"), "将共享数据对外提供（第二十二条）")
    assert to_deliver == []  # the log channel only: delivered on writing
    assert revoked.revoked_at is not None and revoked.revoked_by == "dsj.zhouwei"
    from models.audit import AuditEvent

    with session() as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.case_id == handle.id)).one()
    assert (audit.event, audit.person_id, audit.detail["reason"]) == ("grant_revoked", "dsj.zhouwei",
                                                                       "将共享数据对外提供（第二十二条）")
    assert grant_id not in [g.id for g in list_grants(dept="mzj")]
    assert grant_id in [g.id for g in list_grants(dept="mzj", active_only=False)]
    told = {n.dept_code for n in notices_of(handle.id) if n.step == f"share.grant_revoked.{grant_id}"}
    assert told == {"mzj", "wjj"}


def test_art22_an_expired_grant_is_not_active() -> None:
    past = datetime(2025, 1, 1, tzinfo=UTC)
    gid = write_grant(GrantRequest(case_id="share-expired-1", grantee_code="jyj", resource_id="RES-WJJ-001",
                                   source_code="wjj", items=["机构名称"], purpose="p", scope="s", mode="query",
                                   desensitised=False, valid_from=past, valid_until=past + timedelta(days=30)))
    assert gid not in [g.id for g in list_grants(resource="RES-WJJ-001")]
    assert gid in [g.id for g in list_grants(resource="RES-WJJ-001", active_only=False)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"resource_id": "RES-NONE-1"}, "不在目录中"),
        ({"items": ["身高"]}, "数据项（items）“身高”不在数据资源 RES-SCJGJ-001 中"),
        ({"items": []}, "数据项（items）不能为空"),
        ({"purpose": " "}, "共享用途（purpose）不能为空"),
        ({"scope": ""}, "使用范围（scope）不能为空"),
        ({"mode": "download"}, "没有“download”这种共享方式（mode），可选："),
        ({"resource_id": "RES-GAJ-001", "items": ["姓名"], "mode": "batch", "requester": "jyj.panxiaoyu"}, "不提供批量方式"),
        ({"months": 0}, "使用期限（months）"),
        ({"requester": "scjgj.jinlei"}, "不能是数源部门本身"),
    ],
)
def test_art13_art16_art20_bad_requests_are_refused_in_chinese(fields: dict, message: str) -> None:
    request = {"resource_id": "RES-SCJGJ-001", "items": ["名称"], "purpose": "核验", "scope": "窗口", "mode": "query",
               "months": 12, "requester": "gaj.zhangfang", **fields}
    requester = resolve_actor(request.pop("requester"))
    with session() as s, pytest.raises(StoreError, match=message.replace("（", ".").replace("）", ".")):
        check_share_request(s, requester=requester, **request)


async def test_art20_joint_approval_keeps_each_awaited_department_with_its_own_level(env, worker) -> None:
    """Art. 20 联合审批: both departments are findable while both owe their step, and the one still
    awaited past its deadline is the only one marked late: nobody is listed for another's delay."""
    from models import search

    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    state = await wait_status(handle, "under_review")
    sa = (await handle.describe()).typed_search_attributes
    assert sorted(sa.get(search.AWAITING_ALL) or []) == ["dsj", "gaj"]
    assert search.awaited_levels(sa.get(search.AWAITING_LEVELS)) == {"dsj": 0, "gaj": 0}
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    source = Deadline.model_validate(state["deadlines"]["share.source_review"])
    await env.sleep(source.escalate_at - await env.get_current_time() + timedelta(hours=1))
    sa = (await handle.describe()).typed_search_attributes
    assert sa.get(search.AWAITING_ALL) == ["gaj"]
    assert search.awaited_levels(sa.get(search.AWAITING_LEVELS)) == {"gaj": 3}
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [m.dept_code for m in misses] == ["gaj"]  # the center acted in time


def _center_owned_resource() -> str:
    """A restricted resource the center itself owns (Art. 7: the center builds base databases)."""
    rid = "RES-DSJ-T01"
    with session() as s:
        if insert_ignore(s, DataResource, {"id": rid, "owner_code": "dsj", "current_version": 1, "collected": True,
                                           "items": ["证照名称", "证照编号", "持证主体"],
                                           "share_modes": ["verification", "query", "batch"]}, ["id"]):
            s.add(CatalogVersion(resource_id=rid, version=1, is_current=True, name="电子证照归集信息",
                                 content="证照名称、证照编号、持证主体", encoding_format="JSON", provider_code="dsj",
                                 share_attribute="restricted", open_attribute="forbidden", update_frequency="daily",
                                 share_reason="含持证主体身份信息", share_basis="《中华人民共和国个人信息保护法》"))
    return rid


@pytest.mark.parametrize("action", ["approve", "refuse"])
async def test_art20_restricted_data_the_center_owns_is_decided_by_the_center_in_both_capacities(
    env, worker, action
) -> None:
    """No dead end (issue 10 item 9): the center as 数源部门 decides once, as the center and as the source."""
    handle = await start_share(env, worker, resource=_center_owned_resource(), items=["证照编号"], by="jyj.panxiaoyu")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"source": "share.source_review"} and state["awaiting"] == ["dsj"]
    assert any("既是审批单位又是数源部门" in f for f in state["facts"])
    await _rejected(handle, decision("approve", "gaj.lijun"), "无权审批：本申请由县大数据管理中心审批")
    await handle.execute_update("decide", decision(action, "dsj.zhouwei", **(REFUSE if action == "refuse" else {})))
    if action == "approve":
        assert (await handle.result())["status"] == "granted"
        return
    # Its refusal is the center's own: a dispute over it goes straight to the county (local rule).
    await wait_status(handle, "refused")
    await handle.execute_update("decide", decision("dispute", "jyj.panxiaoyu", reasons="证照核验为本局法定职责"))
    await wait_status(handle, "in_dispute")
    dispute = _dispute_of(env, handle)
    await wait_status(dispute, "county_decision")
    await dispute.execute_update("decide", decision("decide", "xzf.wuminghui", reasons="不予共享", data={"outcome": "refuse"}))
    assert (await handle.result())["status"] == "refused_final"


async def test_art4_escalation_of_the_centers_overdue_step_reaches_the_big_data_bureau(env, worker) -> None:
    """Art. 4: 县大数据发展管理局 is the center's competent authority; the center's own overdue step
    is escalated (督办) to its leader, not only to the center's."""
    handle = await start_share(env, worker, resource="RES-SCJGJ-001", items=["名称"], by="gaj.zhangfang")
    state = await wait_status(handle, "under_review")
    deadline = Deadline.model_validate(state["deadlines"]["share.center_review"])
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(hours=1))
    escalated = [n for n in notices_of(handle.id) if n.level == 3]
    assert sorted(n.person_id for n in escalated) == ["dsj.chenjianguo", "dsjj.shaojun"]
    to_bureau = next(n for n in escalated if n.person_id == "dsjj.shaojun")
    assert to_bureau.dept_code == "dsjj" and "请责成县大数据管理中心立即办理" in to_bureau.body
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    assert (await handle.result())["status"] == "granted"
