"""Nothing stuck unseen (issue 11): bad data fails an activity at once in Chinese, and a case whose
step keeps failing is marked ``PdwStuck``, says why in its state and timeline, and goes on by
itself once mended. A purpose with NUL is refused at both doors, with nothing started."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import func, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import BAD_DATA, bad_data
from activities.store import StoreError, resolve_actor, session
from models import search
from models.cases import CaseCounter
from models.share import ShareRequest, ShareRequestInput
from tests.conftest import settle
from tests.helpers import STARTED
from tests.test_api import SHARE, api, bearer, signed, token_for  # noqa: F401 - api: the fixture
from tests.test_e2e import Stack, _wait, stack  # noqa: F401 - stack: the fixture


async def _wait_state(handle: WorkflowHandle[Any, Any], check: Any, what: str, timeout: float = 30) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        state = await handle.query("state")
        if check(state):
            return state
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}: {state.get('status')} {state.get('timeline')}")
        await asyncio.sleep(0.2)


async def _attribute(env: WorkflowEnvironment, case_id: str, name: str) -> Any:
    """A search attribute, read raw (the time-skipping server's datetimes would not decode)."""
    raw = await env.client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
        namespace=env.client.namespace, execution=WorkflowExecution(workflow_id=case_id)))
    field = raw.workflow_execution_info.search_attributes.indexed_fields.get(name)
    return json.loads(field.data) if field is not None else None


def test_bad_data_is_non_retryable_and_chinese_without_the_row() -> None:
    store = bad_data(StoreError("部门代码“xyz”不存在"))
    assert isinstance(store, ApplicationError) and store.non_retryable and store.type == BAD_DATA
    db = bad_data(DataError("INSERT … VALUES ('吴敏\x00')", {}, Exception("NUL")))
    assert db is not None and db.non_retryable and "NUL" in db.message and "吴敏" not in db.message
    assert bad_data(ConnectionError("down")) is None  # a database that is down is retried


async def test_a_case_whose_first_row_postgresql_refuses_is_marked_stuck_and_says_why(
    env: WorkflowEnvironment, worker: str
) -> None:
    """The issue's case: a purpose with NUL reached the worker (here past the API, which now refuses
    it); PostgreSQL refused the first row. Before: retried for ever in 登记中, seen by nobody."""
    case_id = f"share-test-{uuid.uuid4().hex[:8]}"
    inp = ShareRequestInput(case_id=case_id, resource_id="RES-SCJGJ-001", items=["名称"], purpose="核验\x00身份",
                            scope="窗口", mode="query", months=6, requested_by=resolve_actor("gaj.zhangfang"))
    STARTED.append(case_id)
    handle = await env.client.start_workflow("ShareApproval", inp, id=case_id, task_queue=worker)
    state = await _wait_state(handle, lambda st: st.get("stuck_zh"), "the stuck mark")
    assert state["status"] == "opening"
    assert state["stuck_zh"].startswith("【卡住】open_share_case 失败：数据库拒绝保存本案的数据"), state["stuck_zh"]
    assert "30 分钟后自动重试" in state["stuck_zh"]
    assert any(t["text"] == state["stuck_zh"] for t in state["timeline"])  # noted once, in Chinese
    assert await _attribute(env, case_id, search.STUCK.name) is True
    assert await _attribute(env, case_id, search.CASE_TYPE.name) == "share"  # pdw stuck's query finds it
    history = await handle.fetch_history()
    # A local activity's failure is its marker's (workflows/deadline.py LOCAL_PATCH); a regular one's, its own event.
    failed = [e for e in history.events if e.HasField("activity_task_failed_event_attributes")
              or e.marker_recorded_event_attributes.HasField("failure")]
    assert len(failed) == 1  # failed at once, not retried for ever
    assert "核验" not in str(failed[0])  # the database's message (with the row) stayed in the worker's log
    with session() as s:
        assert s.get(ShareRequest, case_id) is None
    await settle(env.client, case_id)


async def test_a_stuck_case_goes_on_by_itself_once_mended(env: WorkflowEnvironment, worker: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A step still failing after its bounded attempts (here: the database down for longer than
    they last), then mended: the mark is cleared, the timeline says so, and the case opens."""
    import activities.share as share_activities
    from activities.store import get_department

    mended = False

    def department_until_mended(s: Any, code: str) -> Any:
        if not mended:  # the database refusing connections, as while PostgreSQL is stopped
            raise OperationalError("SELECT department", {}, ConnectionRefusedError("connection refused"))
        return get_department(s, code)

    monkeypatch.setattr(share_activities, "get_department", department_until_mended)
    case_id = f"share-test-{uuid.uuid4().hex[:8]}"
    inp = ShareRequestInput(case_id=case_id, resource_id="RES-SCJGJ-001", items=["名称"], purpose="核验身份",
                            scope="窗口", mode="query", months=6, requested_by=resolve_actor("gaj.zhangfang"))
    STARTED.append(case_id)
    handle = await env.client.start_workflow("ShareApproval", inp, id=case_id, task_queue=worker)
    await env.sleep(10 * 60)  # the activity's own retries (about 5 minutes), skipped
    state = await _wait_state(handle, lambda st: st.get("stuck_zh"), "the stuck mark")
    assert state["stuck_zh"].startswith("【卡住】open_share_case 失败：已连续失败 10 次（"), state["stuck_zh"]
    mended = True
    await env.sleep(31 * 60)  # the retry timer (30 minutes), skipped
    state = await _wait_state(handle, lambda st: st["status"] != "opening", "the case to open")
    assert state.get("stuck_zh") is None
    assert any(t["text"] == "open_share_case 已恢复，案件继续办理" for t in state["timeline"])
    assert await _attribute(env, case_id, search.STUCK.name) is False
    await settle(env.client, case_id)


def _counts() -> tuple[int, int]:
    with session() as s:
        return (s.exec(select(func.count()).select_from(ShareRequest)).one(),
                s.exec(select(func.coalesce(func.sum(CaseCounter.last), 0))).one())


@pytest.mark.parametrize("door", ["token", "signed"])
async def test_a_purpose_with_nul_is_refused_with_one_chinese_line_and_nothing_started(
    api: httpx.AsyncClient, door: str  # noqa: F811 - the imported fixture
) -> None:
    before = _counts()
    body = {**SHARE, "purpose": "核验\u0000身份"}
    if door == "token":
        got = await api.post("/v1/cases/share", json=body, headers=bearer(token_for("gaj.zhangfang")))
    else:  # a system's signed request for a person of its department
        headers, data = signed("POST", "/v1/cases/share", {**body, "as": "jyj.panxiaoyu"})
        got = await api.post("/v1/cases/share", content=data, headers=headers)
    assert got.status_code == 400, got.text
    problem = got.json()
    assert "\n" not in problem["detail"] and "用途（purpose）" in problem["detail"], problem
    assert "控制字符" in problem["detail"]
    assert _counts() == before  # no case, no case number used


def test_a_case_made_to_stick_shows_in_pdw_stuck_with_its_reason(stack: Stack) -> None:  # noqa: F811 - the fixture
    """Done means (issue 11): on the dev server (the time-skipping one lists nothing), a case whose
    first row PostgreSQL refuses is listed by ``pdw stuck`` — first, with the Chinese reason."""
    from runtime import connect
    from settings import get_settings

    case_id = f"share-stuck-{uuid.uuid4().hex[:8]}"

    async def start() -> None:
        client = await connect(get_settings().model_copy(update={"temporal_address": stack.address}))
        inp = ShareRequestInput(case_id=case_id, resource_id="RES-SCJGJ-001", items=["名称"], purpose="核验\x00身份",
                                scope="窗口", mode="query", months=6, requested_by=resolve_actor("gaj.zhangfang"))
        await client.start_workflow("ShareApproval", inp, id=case_id, task_queue=stack.env["PDW_TASK_QUEUE"])

    asyncio.run(start())
    listed = _wait(lambda: [c for c in json.loads(stack.pdw("stuck", "--json").stdout) if c["case_id"] == case_id],
                   "the stuck case in pdw stuck")
    assert listed[0]["why"].startswith("【卡住】open_share_case 失败：数据库拒绝保存本案的数据"), listed
    text = stack.pdw("stuck").stdout
    assert case_id in text and "数据库拒绝保存本案的数据" in text
    stack.temporal("workflow", "terminate", "--workflow-id", case_id, "--reason", "test over")
