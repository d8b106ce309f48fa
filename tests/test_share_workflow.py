"""Time-skipping tests of share approval (Art. 13–22) and dispute coordination (Art. 20 ¶2,
Art. 28 ¶3), with the real activities against PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from activities.catalog import current_version
from activities.share import check_share_request, list_grants, revoke_grant, write_grant
from activities.store import StoreError, resolve_actor, session
from models.calendar import Deadline
from models.cases import DeadlineMiss
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


async def test_art20_unconditional_collected_data_is_approved_by_the_center(env, worker, histories) -> None:
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
    histories.append(await handle.fetch_history())


@pytest.mark.parametrize("first", ["dsj.zhouwei", "gaj.lijun"])
async def test_art20_restricted_data_needs_joint_approval_in_either_order(env, worker, first) -> None:
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码", "车辆类型"], by="jyj.panxiaoyu")
    state = await wait_status(handle, "under_review")
    assert state["approvers"] == {"center": "share.center_review", "source": "share.source_review"}
    second = "gaj.lijun" if first == "dsj.zhouwei" else "dsj.zhouwei"
    await handle.execute_update("decide", decision("approve", first))
    state = await handle.query("state")
    assert state["status"] == "under_review" and grant_of(handle.id) is None  # one approval is not enough
    with pytest.raises(WorkflowUpdateFailedError, match="") as again:
        await handle.execute_update("decide", decision("approve", first))
    assert "不能重复审批" in str(again.value.cause)
    await handle.execute_update("decide", decision("approve", second))
    assert (await handle.result())["status"] == "granted"
    assert [d["actor"]["person_id"] for d in (await handle.query("state"))["decisions"]] == [first, second]


async def test_art20_either_refusal_refuses_states_the_window_and_without_dispute_it_stands(env, worker, histories) -> None:
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
    histories.append(await handle.fetch_history())


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
    await env.sleep(deadline.escalate_at - await env.get_current_time() + timedelta(days=2))
    notices = notices_of(handle.id)
    assert sorted((n.level, n.person_id) for n in notices) == [
        (0, "zjj.qianjun"), (1, "zjj.qianjun"), (2, "zjj.lumei"), (3, "dsj.chenjianguo"), (3, "zjj.pengcheng")]
    with session() as s:
        misses = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == handle.id)).all()
    assert [(m.dept_code, m.statutory, m.article) for m in misses] == [("zjj", True, "第二十条")]
    await handle.execute_update("decide", decision("approve", "zjj.pengcheng"))
    assert (await handle.result())["status"] == "granted"


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
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("refuse", "dsj.zhouwei", **REFUSE))
    await wait_status(handle, "refused")
    with pytest.raises(WorkflowUpdateFailedError) as outsider:
        await handle.execute_update("decide", decision("dispute", "wjj.maqiang", reasons="无关部门"))
    assert "由使用部门或数源部门申请" in str(outsider.value.cause)
    await handle.execute_update("decide", decision("dispute", by, reasons="校车管理为本局法定职责"))
    await wait_status(handle, "in_dispute")
    dispute = env.client.get_workflow_handle(f"dispute-{handle.id}")
    await wait_status(dispute, "coordinating")
    return handle, dispute


async def test_art20_dispute_settled_by_the_center_grants(env, worker, histories) -> None:
    handle, dispute = await _refused_and_disputed(env, worker)
    with pytest.raises(WorkflowUpdateFailedError) as county_too_early:
        await dispute.execute_update("decide", decision("decide", "xzf.xujing", reasons="x", data={"outcome": "share"}))
    assert "现在不能作出决定" in str(county_too_early.value.cause)
    await dispute.execute_update(
        "decide", decision("settle", "dsj.zhouwei", reasons="双方同意仅提供号牌号码", data={"outcome": "share"})
    )
    assert (await dispute.result())["decided_by"] == "center"
    assert (await handle.result())["status"] == "granted"
    histories += [await handle.fetch_history(), await dispute.fetch_history()]


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
        ({"mode": "download"}, "共享方式（mode）“download”无效"),
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
