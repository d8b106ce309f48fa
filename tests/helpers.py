"""Small helpers the workflow and end-to-end tests share."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.store import resolve_actor, session
from models.cases import Decision, DecisionInput
from models.catalog import CatalogUpdateInput
from models.notices import Notice


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
