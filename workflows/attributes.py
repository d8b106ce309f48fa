"""A case's search-attribute upserts, coalesced (issue 14).

``CaseWorkflow.refresh`` runs several times in one activation (a status set, then a step awaited,
each a full set of attributes): every upsert is an event in history and a write to visibility. Here
the updates of one activation wait until it has nothing else to run and go as one upsert, with only
the attributes whose value differs from the one last sent. ``close`` sends at once: the run returns
right after it. A case started before this version upserts as before (workflows/versions.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows.versions import LOCAL_ACTIVITIES, has


class Attributes:
    def __init__(self) -> None:
        self.pending: dict[str, SearchAttributeUpdate[Any]] = {}
        self.sent: dict[str, Any] = {}
        self.running = False

    def upsert(self, updates: Sequence[SearchAttributeUpdate[Any]], *, now: bool = False) -> None:
        if not has(LOCAL_ACTIVITIES):
            workflow.upsert_search_attributes(list(updates))
            return
        for update in updates:
            self.pending[update.key.name] = update
        if now:
            self._send()
        elif not self.running:
            self.running = True
            asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            # Conditions are checked once the activation has nothing else ready to run.
            await workflow.wait_condition(lambda: bool(self.pending))
            self._send()

    def _send(self) -> None:
        changed = [u for name, u in self.pending.items() if name not in self.sent or self.sent[name] != u.value]
        self.pending.clear()
        if changed:
            workflow.upsert_search_attributes(changed)
            self.sent.update((u.key.name, u.value) for u in changed)
