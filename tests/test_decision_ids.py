"""Decisions that say what really happened (issue 11): every decision carries an id, the Temporal
update id. An answer that does not come in time is "submitted, not confirmed" with the command that
checks it, never a failure; the same id sent again is the same decision, never a second one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from service.context import Services
from settings import get_settings
from tests.conftest import settle
from tests.helpers import decisions_of
from tests.test_api import SHARE, bearer, token_for
from tests.test_commands import apdw, api_url, dev, home, one_error_line, track  # noqa: F401 - fixtures

CHECK = "已提交，尚未确认（可能仍会被拒绝）"


@pytest.fixture
async def queue_api(env: WorkflowEnvironment) -> AsyncIterator[tuple[httpx.AsyncClient, WorkflowEnvironment, str]]:
    """The API on a time-skipping server of its own (a case whose worker goes away and comes back
    can leave a server's clock held: the suite's is not risked), on a queue whose worker the test
    starts and stops."""
    from devstack import register_search_attributes
    from hook import create_app
    from tests.conftest import venv_binary

    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=env.client.data_converter, test_server_existing_path=venv_binary("temporal-test-server"),
    ) as own:
        await register_search_attributes(own.client, "default")
        queue = f"pdw-test-{uuid.uuid4().hex[:8]}"
        app = create_app(Services(get_settings().model_copy(update={"task_queue": queue}), client=own.client))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdw.test",
                                     timeout=60) as client:
            yield client, own, queue


def _unsticky_worker(env: WorkflowEnvironment, queue: str, executor: ThreadPoolExecutor) -> Worker:
    """worker.py's worker without a workflow cache: a task for a case whose worker is gone goes to
    the queue at once (the time-skipping server never moves it off a dead worker's sticky queue)."""
    from worker import build_worker

    return build_worker(env.client, queue, executor, max_cached_workflows=0)


async def _opened(api: httpx.AsyncClient, case_id: str, token: str) -> dict[str, Any]:
    for _ in range(100):
        shown = await api.get(f"/v1/cases/{case_id}", headers=bearer(token))
        if shown.status_code == 200 and shown.json()["state"]["status"] != "opening":
            return shown.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the case did not open")


async def test_a_decision_no_worker_answers_is_submitted_then_confirmed_by_its_id_and_never_doubled(
    queue_api: tuple[httpx.AsyncClient, WorkflowEnvironment, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: 没有 worker 响应, yet applied ten minutes later when a worker came back."""
    import service.cases

    api, env, queue = queue_api
    gaj, dsj = token_for("gaj.zhangfang"), token_for("dsj.zhouwei")
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with _unsticky_worker(env, queue, executor):
            started = await api.post("/v1/cases/share", json=SHARE, headers=bearer(gaj))
            assert started.status_code == 201, started.text
            case_id = started.json()["case_id"]
            await _opened(api, case_id, dsj)
            await settle(env.client, case_id)
        # The worker is gone after the API saw the case open: the decision reaches Temporal, no answer comes.
        monkeypatch.setattr(service.cases, "DECISION_WAIT", service.cases.timedelta(seconds=2))
        monkeypatch.setattr(service.cases, "opened_state", lambda *_a, **_k: asyncio.sleep(0, {"status": "open"}))
        decision_id = f"d-{uuid.uuid4().hex[:16]}"
        body = {"action": "approve", "decision_id": decision_id}
        sent = await api.post(f"/v1/cases/{case_id}/decisions", json=body, headers=bearer(dsj))
        assert sent.status_code == 202, sent.text
        answer = sent.json()
        check = f"pdw show {case_id} --decision {decision_id}"
        assert answer["confirmed"] is False and answer["status"] == "submitted" and answer["decision_id"] == decision_id
        assert answer["check"] == check and answer["message"].startswith(CHECK) and check in answer["message"]
        pending = await api.get(f"/v1/cases/{case_id}/decisions/{decision_id}", headers=bearer(gaj))
        assert pending.status_code == 200, pending.text
        assert pending.json()["result"] == "submitted" and pending.json()["message"].startswith(CHECK)
        assert decisions_of(case_id) == []

        async with _unsticky_worker(env, queue, executor):  # the worker comes back
            for _ in range(20):
                status = (await api.get(f"/v1/cases/{case_id}/decisions/{decision_id}", headers=bearer(gaj))).json()
                if status["result"] != "submitted":
                    break
            assert status["result"] == "confirmed", status
            assert status["outcome"]["action"] == "approve" and status["message"].startswith("已确认")
            # Staff, told only "submitted", send it again with the same id: the same decision, not a second.
            again = await api.post(f"/v1/cases/{case_id}/decisions", json=body, headers=bearer(dsj))
            assert again.status_code == 200 and again.json()["confirmed"] is True, again.text
            assert again.json()["decision_id"] == decision_id
            assert [d.action for d in decisions_of(case_id)] == ["approve"]
            unknown = await api.get(f"/v1/cases/{case_id}/decisions/d-never-sent-0001", headers=bearer(gaj))
            assert unknown.json()["result"] == "not_found", unknown.text
            outsider = await api.get(f"/v1/cases/{case_id}/decisions/{decision_id}",
                                     headers=bearer(token_for("jyj.panxiaoyu")))
            assert outsider.status_code == 403  # only the case's readers learn of its decisions
            await settle(env.client, case_id)  # the grant's activities done before the worker goes


async def test_a_bad_decision_id_is_refused_naming_the_field(
    queue_api: tuple[httpx.AsyncClient, WorkflowEnvironment, str],
) -> None:
    api = queue_api[0]
    got = await api.post("/v1/cases/share-2026-000001/decisions", json={"action": "approve", "decision_id": "x y"},
                         headers=bearer(token_for("dsj.zhouwei")))
    assert got.status_code == 400 and "决定编号（decision_id）" in got.json()["detail"], got.text


async def test_pdw_decide_prints_the_check_command_when_not_confirmed_and_the_retry_is_the_same_decision(
    dev: dict[str, str | None], monkeypatch: pytest.MonkeyPatch  # noqa: F811 - the imported fixture
) -> None:
    import service.cases

    started = await apdw(dev, "share", "request", "--resource", "RES-SCJGJ-001", "--item", "名称", "--purpose",
                         "企业开办核验", "--scope", "窗口", "--mode", "query", "--as", "gaj.zhangfang")
    assert started.exit_code == 0, started.stderr
    case_id = track(started.stdout.split()[0])
    shown = await apdw(dev, "show", case_id, "--as", "dsj.zhouwei")  # opened before it is decided
    assert shown.exit_code == 0, shown.stderr
    # No answer in time (an RPC deadline too short for any worker): submitted, with the command that checks it.
    monkeypatch.setattr(service.cases, "DECISION_WAIT", service.cases.timedelta(microseconds=1))
    sent = await apdw(dev, "decide", case_id, "approve", "--as", "dsj.zhouwei", "--decision-id", "d-cli-0000000001")
    assert sent.exit_code == 0, sent.stderr  # not a failure
    assert sent.stdout.strip() == (f"{case_id}：{CHECK}：用 pdw show {case_id} --decision d-cli-0000000001 查看结果；"
                                   "重新提交须用同一决定编号（decision_id）")
    monkeypatch.setattr(service.cases, "DECISION_WAIT", service.cases.timedelta(seconds=30))
    again = await apdw(dev, "decide", case_id, "approve", "--as", "dsj.zhouwei", "--decision-id", "d-cli-0000000001")
    assert again.exit_code == 0 and CHECK not in again.stdout, (again.stdout, again.stderr)
    checked = await apdw(dev, "show", case_id, "--decision", "d-cli-0000000001", "--as", "dsj.zhouwei")
    assert checked.exit_code == 0 and checked.stdout.startswith(f"{case_id} 决定 d-cli-0000000001：已确认"), checked.stdout
    assert [d.action for d in decisions_of(case_id)] == ["approve"]


async def test_pdw_share_request_input_with_nul_is_refused_in_one_chinese_line(
    dev: dict[str, str | None], tmp_path: Path  # noqa: F811 - the imported fixture
) -> None:
    import json

    from tests.test_stuck import _counts

    before = _counts()
    request = tmp_path / "share.json"
    request.write_text(json.dumps({**SHARE, "purpose": "核验\u0000身份"}), encoding="utf-8")
    done = await apdw(dev, "share", "request", "--input", str(request), "--as", "gaj.zhangfang")
    line = one_error_line(done)
    assert "用途（purpose）" in line and "控制字符" in line, line
    assert _counts() == before  # nothing started, no case number used
