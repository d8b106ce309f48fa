"""Who is acting (Art. 43): a decision sent straight to Temporal is checked against the records, so a
payload naming an unregistered person, a role not held or another department writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.cases import verify_actor
from activities.store import resolve_actor
from models.cases import DecisionInput
from models.correction import CorrectionInput
from models.departments import Actor
from tests.helpers import STARTED, decision, decisions_of, grant_of, start_share, wait_status

MALLORY = Actor(person_id="mallory", name="Mallory", dept_code="dsj", dept_name="县大数据管理中心",
                dept_kind="center", roles=["daily_admin"])
PUBLIC = Actor(person_id="public", name="王*（居民身份证 ****5678）", dept_code="public", dept_name="公众",
               dept_kind="public")


def innermost(err: BaseException) -> BaseException:
    """Temporal's failures chain through ``cause``; the last one is what the activity raised."""
    while (cause := getattr(err, "cause", None) or err.__cause__) is not None:
        err = cause
    return err


async def refused(handle: WorkflowHandle[Any, Any], d: DecisionInput) -> str:
    """Send ``d`` and expect the update to fail as Forbidden; the innermost message."""
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("decide", d)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "Forbidden"
    return str(innermost(err.value))


async def unconditional_share(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    handle = await start_share(env, queue, resource="RES-SCJGJ-001", items=["名称"], by="gaj.zhangfang")
    await wait_status(handle, "under_review")
    return handle


# ---- the activity alone ----------------------------------------------------------------------------


def posing_as_center() -> Actor:
    return resolve_actor("gaj.lijun").model_copy(update={"dept_code": "dsj", "dept_kind": "center"})


def claiming_the_head() -> Actor:
    # 金磊 is scjgj's daily administrator, not its head (主要负责人).
    return resolve_actor("scjgj.jinlei").model_copy(update={"roles": ["daily_admin", "first_responsible"]})


# The actors are built when the test runs: resolving needs the database the fixtures make.
@pytest.mark.parametrize(
    ("action", "actor", "message"),
    [
        ("approve", lambda: MALLORY, "未登记"),
        ("extend", claiming_the_head, "须按备案角色办理"),
        ("approve", lambda: resolve_actor("dsj.zhouwei").model_copy(update={"roles": []}), "须按备案角色办理"),
        ("approve", lambda: resolve_actor("dsj.zhouwei").model_copy(update={"name": "冒名"}), "备案姓名"),
        ("approve", posing_as_center, "不能以“dsj”的名义"),
        ("approve", lambda: PUBLIC, "公众只能"),
    ],
    ids=["unregistered", "role_not_held", "roles_left_out", "another_name", "other_department", "public_approves"],
)
def test_art43_verify_actor_refuses_what_the_records_do_not_say(
    action: str, actor: Callable[[], Actor], message: str
) -> None:
    with pytest.raises(ApplicationError) as err:
        verify_actor(DecisionInput(action=action, actor=actor()))
    assert err.value.type == "Forbidden" and err.value.non_retryable
    assert message in err.value.message and "第四十三条" in err.value.message


def test_art43_verify_actor_accepts_a_registered_person_and_an_art32_objection() -> None:
    verify_actor(decision("approve", "dsj.zhouwei"))
    verify_actor(DecisionInput(action="object", actor=PUBLIC, reasons="请复核"))


# ---- through the workflows -------------------------------------------------------------------------


async def test_art43_update_naming_an_unregistered_person_is_refused_and_writes_nothing(env, worker) -> None:
    handle = await unconditional_share(env, worker)
    message = await refused(handle, DecisionInput(action="approve", actor=MALLORY))
    assert "未登记" in message and "第四十三条" in message
    state = await handle.query("state")
    assert state["status"] == "under_review" and state["decisions"] == [] and state["approvals"] == {}
    assert decisions_of(handle.id) == [] and grant_of(handle.id) is None


async def test_art43_a_genuine_decision_right_after_a_refused_one_succeeds(env, worker) -> None:
    handle = await unconditional_share(env, worker)
    await refused(handle, DecisionInput(action="approve", actor=MALLORY))
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))  # busy was reset
    assert (await handle.result())["status"] == "granted"
    assert [d.person_id for d in decisions_of(handle.id)] == ["dsj.zhouwei"]


async def test_art43_claiming_another_departments_code_is_refused(env, worker) -> None:
    handle = await unconditional_share(env, worker)
    message = await refused(handle, DecisionInput(action="approve", actor=posing_as_center()))
    assert "不能以“dsj”的名义" in message and "第四十三条" in message
    assert decisions_of(handle.id) == [] and grant_of(handle.id) is None


async def test_art43_art32_a_member_of_the_public_cannot_approve(env, worker) -> None:
    # Restricted data: the source approves, so a "public" actor naming the source passes the validator.
    handle = await start_share(env, worker, resource="RES-GAJ-002", items=["号牌号码"], by="jyj.panxiaoyu")
    await wait_status(handle, "under_review")
    public = PUBLIC.model_copy(update={"dept_code": "gaj"})
    message = await refused(handle, DecisionInput(action="approve", actor=public))
    assert "公众只能" in message and "第三十二条" in message
    assert (await handle.query("state"))["approvals"] == {} and decisions_of(handle.id) == []


async def test_art43_art23_claiming_the_heads_role_to_extend_is_refused(env, worker) -> None:
    case_id = f"correction-test-{uuid.uuid4().hex[:8]}"
    STARTED.append(case_id)
    handle = await env.client.start_workflow(
        "DataCorrection",
        CorrectionInput(case_id=case_id, resource_id="RES-SCJGJ-001", items=["住所"], found="住所仍为旧地址",
                        expected="新地址", evidence="营业执照副本", reported_by=resolve_actor("gaj.zhangfang")),
        id=case_id, task_queue=worker,
    )
    await wait_status(handle, "awaiting_forward")
    await handle.execute_update("decide", decision("forward", "dsj.zhouwei"))
    await wait_status(handle, "verifying")
    # Only the source's head consents to an extension (Art. 23); claiming the role is not holding it.
    message = await refused(handle, DecisionInput(action="extend", actor=claiming_the_head(), reasons="需调取档案",
                                                  data={"working_days": 10}))
    assert "须按备案角色办理" in message and "第四十三条" in message
    state = await handle.query("state")
    assert state["extension_days"] == 0 and [d["action"] for d in state["decisions"]] == ["forward"]
    assert [d.action for d in decisions_of(handle.id)] == ["forward"]
    await handle.execute_update("decide", decision("extend", "scjgj.yangguang", reasons="需调取档案",
                                                   data={"working_days": 10}))
    assert (await handle.query("state"))["extension_days"] == 10
