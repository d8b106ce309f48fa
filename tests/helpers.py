"""Small helpers the workflow and end-to-end tests share."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.store import resolve_actor, session
from codec import Key
from models.cases import Decision, DecisionInput
from models.catalog import CatalogUpdateInput
from models.notices import Notice

# Cases the tests started; the worker fixture ends any left running, since a running case whose
# worker is gone holds the time-skipping server's clock.
STARTED: list[str] = []

# The keys tests/test_codec.py rotates between; the session's replay in the sandbox (conftest's env
# fixture) holds them too, so it reads the cases that test ran.
ROTATION_KEYS = (Key("k-aes", "aes-256-gcm", bytes(range(32))), Key("k-sm4", "sm4-gcm", bytes(range(16))))


def decision(action: str, person: str, **kw: Any) -> DecisionInput:
    return DecisionInput(action=action, actor=resolve_actor(person), **kw)


async def start_catalog_update(
    env: WorkflowEnvironment, queue: str, *, resource: str = "RES-JYJ-001",
    changed_at: datetime | None = None, by: str = "jyj.panxiaoyu",
) -> WorkflowHandle[Any, Any]:
    """Start a case as if an element changed at ``changed_at`` (default: the test server's now)."""
    case_id = f"catalog-test-{uuid.uuid4().hex[:8]}"
    now = changed_at or await env.get_current_time()
    inp = CatalogUpdateInput(
        case_id=case_id, resource_id=resource, changed_at=now, change_note="在校生数统计口径调整",
        changed_elements=["content"], started_by=resolve_actor(by),
    )
    STARTED.append(case_id)
    return await env.client.start_workflow("CatalogUpdate", inp, id=case_id, task_queue=queue)


async def wait_status(handle: WorkflowHandle[Any, Any], status: str, timeout: float = 20) -> dict[str, Any]:
    """Poll the ``state`` query until the case reaches ``status``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        state = await handle.query("state")
        if state["status"] == status:
            return state
        if loop.time() > end:
            raise AssertionError(f"case stayed {state['status']!r}, expected {status!r}")
        await asyncio.sleep(0.1)


def notices_of(case_id: str) -> list[Notice]:
    with session() as s:
        return list(s.exec(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)).all())


def decisions_of(case_id: str) -> list[Decision]:
    with session() as s:
        return list(s.exec(select(Decision).where(Decision.case_id == case_id).order_by(Decision.seq)).all())


async def start_share(
    env: WorkflowEnvironment, queue: str, *, resource: str, items: list[str], by: str, mode: str = "query",
    months: int = 12,
) -> WorkflowHandle[Any, Any]:
    from models.share import ShareRequestInput

    case_id = f"share-test-{uuid.uuid4().hex[:8]}"
    inp = ShareRequestInput(
        case_id=case_id, resource_id=resource, items=items, purpose="办理企业开办登记时核验身份",
        scope="本部门行政审批窗口", mode=mode, months=months, requested_by=resolve_actor(by),
    )
    STARTED.append(case_id)
    return await env.client.start_workflow("ShareApproval", inp, id=case_id, task_queue=queue)


def grant_of(case_id: str) -> Any:
    from models.share import Grant

    with session() as s:
        return s.exec(select(Grant).where(Grant.case_id == case_id)).first()


def update_events(history: WorkflowHistory) -> int:
    """Updates the server admitted or accepted: a validator's rejection leaves none."""
    kinds = (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED)
    return sum(1 for e in history.events if e.event_type in kinds)


def fresh_resource(owner: str = "zjj", *, collected: bool = False, share_attribute: str = "unconditional",
                   items: tuple[str, ...] = ("企业名称", "资质类别")) -> str:
    """A catalog entry of its own for one test (Art. 10), so that what a test does to it (Art. 20:
    providing uncollected data marks it collected) reaches no other test."""
    from models.catalog import CatalogVersion, DataResource

    rid = f"RES-T-{uuid.uuid4().hex[:8].upper()}"
    modes = ["verification", "query", "batch"]
    with session() as s:
        s.add(DataResource(id=rid, owner_code=owner, current_version=1, collected=collected, items=list(items),
                           share_modes=modes))
        s.flush()
        s.add(CatalogVersion(resource_id=rid, version=1, is_current=True, name="测试数据资源", content="、".join(items),
                             encoding_format="JSON", provider_code=owner, share_attribute=share_attribute,
                             open_attribute="unopened", update_frequency="monthly", items=list(items),
                             share_modes=modes, share_reason="测试", share_basis="测试依据"))
    return rid
