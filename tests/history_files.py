"""Histories kept across releases (tests/histories/README.md): the suite saves every history its
time-skipping server holds when PDW_SAVE_HISTORIES names a directory; ``pick`` keeps one history per
workflow type and path, gzip'd, for tests/histories/<version>/; ``load`` reads them for the replay
test (tests/test_replay.py).

    python -m tests.history_files pick <saved dir> tests/histories/<version>
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    ListClosedWorkflowExecutionsRequest,
    ListOpenWorkflowExecutionsRequest,
)
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner


async def server_histories(client: Client) -> list[tuple[str, WorkflowHistory]]:
    """(file name, history) of every execution, open or closed, the server knows. The time-skipping
    server has no ListWorkflowExecutions: the older open/closed lists it has."""
    executions: list[tuple[str, str]] = []
    for request_type in (ListOpenWorkflowExecutionsRequest, ListClosedWorkflowExecutionsRequest):
        token = b""
        while True:
            request = request_type(namespace=client.namespace, maximum_page_size=1000, next_page_token=token)
            if request_type is ListOpenWorkflowExecutionsRequest:
                page = await client.workflow_service.list_open_workflow_executions(request)
            else:
                page = await client.workflow_service.list_closed_workflow_executions(request)
            executions += [(e.execution.workflow_id, e.execution.run_id) for e in page.executions]
            token = page.next_page_token
            if not token:
                break
    return [(file_name(workflow_id, run_id, ".json"),
             await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history())
            for workflow_id, run_id in executions]


def save_histories(histories: list[tuple[str, WorkflowHistory]], directory: Path) -> int:
    """Write each (file name, history) as JSON into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, history in histories:
        (directory / name).write_text(history.to_json(), encoding="utf-8")
    return len(histories)


def file_name(workflow_id: str, run_id: str, suffix: str) -> str:
    """``<workflow id>__<run id's first 8>``: ids repeat across runs and across pytest -n processes."""
    return f"{workflow_id.replace('/', '_')}__{run_id[:8]}{suffix}"


def load(directory: Path) -> list[tuple[str, WorkflowHistory]]:
    """(file name, history) for every ``.json`` or ``.json.gz`` in ``directory``, by name."""
    histories = []
    for path in sorted(directory.glob("*.json*")):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        workflow_id = path.name.removesuffix(".gz").removesuffix(".json").rpartition("__")[0]
        histories.append((path.name, WorkflowHistory.from_json(workflow_id, raw.decode("utf-8"))))
    return histories


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def _step(event: HistoryEvent) -> str | None:
    """What an event says about the path the workflow took; None for bookkeeping events."""
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    if kind.startswith("WORKFLOW_TASK") or kind == "MARKER_RECORDED":
        return None
    names = {
        "ACTIVITY_TASK_SCHEDULED": lambda: event.activity_task_scheduled_event_attributes.activity_type.name,
        "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            lambda: event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name,
        "WORKFLOW_EXECUTION_SIGNALED": lambda: event.workflow_execution_signaled_event_attributes.signal_name,
        "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
            lambda: event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name,
    }
    return f"{kind}:{names[kind]()}" if kind in names else kind


def path_of(history: WorkflowHistory) -> tuple[str, ...]:
    """The workflow's path: its commands, updates and signals in order, repeats folded (a ladder
    that urged twice takes the same path as one that urged once)."""
    steps: list[str] = []
    for event in history.events:
        step = _step(event)
        if step is not None and (not steps or steps[-1] != step):
            steps.append(step)
    return (workflow_type(history), *steps)


def sandboxed_replayer() -> Replayer:
    """Today's workflow code, inside the SDK's sandbox. The worker runs cases outside it (worker.py),
    so this is where a workflow reaching for the clock, randomness, the environment or I/O, or
    behaving differently for state another run left behind, fails: its replay here differs, or is
    refused by the sandbox's restrictions."""
    import base64

    from codec import data_converter
    from settings import CodecKey, get_settings
    from tests.helpers import ROTATION_KEYS
    from worker import WORKFLOWS

    settings = get_settings()
    rotated = {k.id: CodecKey(key=base64.b64encode(k.secret).decode(), cipher=k.cipher) for k in ROTATION_KEYS}
    settings = settings.model_copy(update={"codec_keys": {**rotated, **settings.codec_keys}})
    return Replayer(workflows=WORKFLOWS, data_converter=data_converter(settings), workflow_runner=SandboxedWorkflowRunner())


async def replay_failures(histories: list[WorkflowHistory]) -> list[tuple[str, str]]:
    """(workflow id, error) for each history that this checkout's workflow code does not replay."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = sandboxed_replayer()
    failures = []
    async with replayer.workflow_replay_iterator(each()) as results:
        async for result in results:
            if result.replay_failure is not None:
                text = str(result.replay_failure)  # the core's message inside its Failure { … } dump
                found = re.search(r'message: "(.*?)", source', text)
                failures.append((result.history.workflow_id, found.group(1) if found else text.splitlines()[0]))
    return failures


def pick(source: Path, destination: Path) -> Counter[str]:
    """Copy one history per distinct path (the smallest) from ``source`` to ``destination``, gzip'd;
    return how many per workflow type. Histories the code that wrote them cannot replay are left
    out and named (a test's own codec keys, as in test_codec's rotation)."""
    saved = load(source)
    unreadable = dict(asyncio.run(replay_failures([history for _, history in saved])))
    for workflow_id, error in unreadable.items():
        print(f"略过 {workflow_id}：{error[:200]}", file=sys.stderr)
    best: dict[tuple[str, ...], tuple[int, str, WorkflowHistory]] = {}
    for name, history in saved:
        if history.workflow_id in unreadable:
            continue
        size = len(history.to_json())
        path = path_of(history)
        if path not in best or size < best[path][0]:
            best[path] = (size, name.removesuffix(".gz").removesuffix(".json"), history)
    destination.mkdir(parents=True, exist_ok=True)
    kept: Counter[str] = Counter()
    for _, stem, history in best.values():
        # A fixed mtime, so the same history gzip'd again is the same bytes.
        data = gzip.compress(history.to_json().encode("utf-8"), mtime=0)
        (destination / f"{stem}.json.gz").write_bytes(data)
        kept[workflow_type(history)] += 1
    return kept


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "pick":
        raise SystemExit("用法：python -m tests.history_files pick <保存的目录> tests/histories/<版本>")
    from tests.conftest import TEST_CODEC_KEYS  # the keys the suite encrypted them with

    os.environ.update(PDW_CODEC_KEYS=json.dumps(TEST_CODEC_KEYS), PDW_CODEC_KEY_ID="test-aes")
    counts = pick(Path(sys.argv[2]), Path(sys.argv[3]))
    print(json.dumps(dict(sorted(counts.items())), ensure_ascii=False), sum(counts.values()))
