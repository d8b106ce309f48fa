"""What a case begun under this release records (workflows/versions.py, issue 14): one patch marker;
the store's work local; in an update, the actor's check through the server before anything is
written (an update is durable only once its acceptance is committed); the projection current by
the time the decision's answer comes back."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from tests.helpers import decision, start_share, wait_status
from tests.test_projection import rows
from workflows.versions import RELEASES

UNCONDITIONAL = {"resource": "RES-SCJGJ-001", "items": ["统一社会信用代码", "名称"], "by": "gaj.zhangfang"}
JOINT = {"resource": "RES-GAJ-002", "items": ["号牌号码"], "by": "jyj.panxiaoyu"}  # the center and the source


async def test_a_new_case_records_one_release_marker_and_its_update_commits_before_it_writes(env, worker) -> None:
    handle = await start_share(env, worker, **UNCONDITIONAL)
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei", reasons="符合无条件共享条件"))
    assert (await handle.result())["status"] == "granted"
    events = list((await handle.fetch_history()).events)

    patches = [e for e in events if e.marker_recorded_event_attributes.marker_name == "core_patch"]
    assert len(patches) == 1 and RELEASES[-1].encode() in patches[0].SerializeToString()
    regular = [e.activity_task_scheduled_event_attributes.activity_type.name for e in events
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    assert regular == ["verify_actor"], regular  # open, deadline, 待办, decision, grant, close, notices: local
    # pdw-2026.12.2: the step's deadline and its 待办 are one local activity.
    local = [e.SerializeToString() for e in events if e.marker_recorded_event_attributes.marker_name == "core_local_activity"]
    assert sum(b"open_step" in m for m in local) == 1
    assert not any(b"compute_deadline" in m or b"send_ladder_notice" in m for m in local)
    # …and the grant and the request's closing are one too.
    assert sum(b"grant_and_close" in m for m in local) == 1
    assert not any(b"write_grant" in m or b"close_share_case" in m for m in local)
    # pdw-2026.12.3: the requester's notice goes with the grant and the closing; the projection is
    # written twice: at the opening, and once for the decision, the grant and the closing, which one
    # workflow task runs (pdw-2026.12.2 wrote the decision apart).
    assert not any(b"send_case_notice" in m for m in local)
    assert sum(b"project_case" in m for m in local) == 2
    view, steps = rows(handle.id)
    assert view is not None and view.status == "granted" and view.closed_at is not None and steps == []
    assert [d["action"] for d in view.state["decisions"]] == ["approve"]

    # The acceptance and the check's scheduling are committed together; no local activity (a write)
    # runs until the check has come back, in a later workflow task.
    kinds = [e.event_type for e in events]
    accepted = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    checked = kinds.index(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    assert kinds[accepted + 1] == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    assert EventType.EVENT_TYPE_MARKER_RECORDED not in kinds[accepted:checked]


async def test_the_projection_shows_a_decision_when_its_answer_comes_back(env, worker) -> None:
    """``pdw show`` right after ``pdw decide`` reads the row: it is written in the workflow task that
    answers the update, before the answer leaves (no polling here)."""
    handle = await start_share(env, worker, **JOINT)
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
    view, steps = rows(handle.id)
    assert view is not None and [d["action"] for d in view.state["decisions"]] == ["approve"]
    assert [s.dept_code for s in steps] == ["gaj"]  # only the source's approval is still awaited
    # Its version counts from the history's length: a workflow task lost after its write (kill -9) and
    # run again writes a newer one (workflows/projector.py, _next_version).
    length = len((await handle.fetch_history()).events)
    assert 1000 <= view.version < (length + 1) * 1000


async def test_a_case_begun_under_pdw_2026_12_2_keeps_its_notice_activity_and_its_three_writes(env, worker,
                                                                                            monkeypatch) -> None:
    """A case whose history has pdw-2026.12.2's marker (run here with pdw-2026.12.3 answered False, as
    a case begun before the deploy) takes that release's path to the end: the grant and closing
    without the notice, the requester's notice in an activity of its own, the decision written apart."""
    from temporalio import workflow as temporal_workflow

    from tests.helpers import grant_of, notices_of
    from workflows.versions import R2026_12_3

    patched = temporal_workflow.patched
    monkeypatch.setattr(temporal_workflow, "patched", lambda patch_id: patch_id != R2026_12_3 and patched(patch_id))
    handle = await start_share(env, worker, **UNCONDITIONAL)
    await wait_status(handle, "under_review")
    await handle.execute_update("decide", decision("approve", "dsj.zhouwei", reasons="符合无条件共享条件"))
    result = await handle.result()
    monkeypatch.undo()
    assert result["status"] == "granted"
    events = list((await handle.fetch_history()).events)
    patches = [e.SerializeToString() for e in events if e.marker_recorded_event_attributes.marker_name == "core_patch"]
    assert len(patches) == 1 and b"pdw-2026.12.2" in patches[0]
    local = [e.SerializeToString() for e in events if e.marker_recorded_event_attributes.marker_name == "core_local_activity"]
    assert [sum(name in m for m in local) for name in (b"grant_and_close", b"send_case_notice", b"project_case")] == [1, 1, 3]
    grant = grant_of(handle.id)
    told = [n for n in notices_of(handle.id) if n.step == "share.granted"]
    assert grant is not None and [n.person_id for n in told] == ["gaj.zhangfang"]
    assert f"共享授权 {grant.id}：" in told[0].body
    view, _ = rows(handle.id)
    assert view is not None and view.status == "granted" and view.state["grant_id"] == grant.id
