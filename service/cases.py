"""Deciding in a case and reading it: the ``decide`` update, the ``state`` query, and the case's
decisions and notices from the records, with the Chinese labels ``pdw`` prints."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.calendar import SHANGHAI
from activities.open_data import check_applicant, record_objector
from activities.store import session
from models import search
from models.cases import Decision, DecisionInput
from models.departments import Actor, Department
from models.labels import labelled, zh
from models.notices import Notice
from models.open_data import masked
from models.processes import DECIDE_UPDATE, END_ACTIONS, END_UPDATE, STATE_QUERY, process_of_case
from models.projection import CaseView
from models.requests import DecisionRequest, ObjectionRequest
from models.share import Grant
from service.auth import Principal, require_case_reader
from service.context import Services, db
from service.errors import (
    Kind,
    ServiceError,
    bad_input,
    conflict,
    forbidden,
    not_found,
    temporal_cause_zh,
    unavailable,
)

OPENING = "opening"
# ``workflow_status`` of a closed case whose workflow Temporal no longer keeps (its retention has
# ended): ``pdw show`` answers from the case projection, without the static summary.
GONE = "CLOSED"
# What a case's ``outcome`` field holds, by case type.
OUTCOME_KIND = {"share": "share_outcome", "correction": "correction_outcome", "dispute": "dispute_outcome",
                "rectification": "rectification_outcome", "review": "review_outcome"}


def temporal_error(case_id: str, err: RPCError) -> ServiceError:
    """One line for staff for what Temporal answered about a case."""
    if "already completed" in err.message.lower():  # NOT_FOUND too, for an update to a closed case
        return conflict(f"案件“{case_id}”已办结，不能再作决定")
    if err.status == RPCStatusCode.NOT_FOUND:
        return not_found(f"案件“{case_id}”不存在")
    if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return unavailable(f"案件“{case_id}”暂时无法办理：没有 worker 在运行（make dev 或 pdw-worker）")
    return unavailable(f"Temporal 暂时无法处理案件“{case_id}”：{temporal_cause_zh(err)}")



async def state_of(handle: WorkflowHandle[Any, Any], case_id: str) -> dict[str, Any]:
    try:
        return await handle.query(STATE_QUERY, rpc_timeout=timedelta(seconds=10))  # type: ignore[no-any-return]
    except RPCError as err:
        raise temporal_error(case_id, err) from err


async def opened_state(handle: WorkflowHandle[Any, Any], case_id: str, wait: float = 10) -> dict[str, Any]:
    """The case's state once it has opened: a decision sent right after a start waits for it."""
    loop = asyncio.get_running_loop()
    end = loop.time() + wait
    while True:
        state = await state_of(handle, case_id)
        if state.get("status") != OPENING or loop.time() > end:
            return state
        await asyncio.sleep(0.1)


async def decide(services: Services, actor: Actor, case_id: str, req: DecisionRequest) -> dict[str, Any]:
    """One decision; the workflow's validator says whether this person may take it now. Its id
    (the caller's, or a new one) is the Temporal update id: the same decision sent again with the
    same id is the same update, never a second decision."""
    handle = (await services.temporal()).get_workflow_handle(case_id)
    try:
        before = await db(projected_version, case_id)
    except ServiceError:  # the database down: the case still decides (Temporal only), as before
        before = None
    if before is None:  # projected once opened: no query (no replay) then
        await opened_state(handle, case_id)
    else:  # one describe (no replay): a Temporal that is down is said so, not "submitted"
        await execution_status(await services.temporal(), case_id)
    answer = await send_decision(handle, case_id, DecisionInput(
        action=req.action, actor=actor, reasons=req.reasons, basis=req.basis, data=req.data),
        req.decision_id or new_decision_id())
    if before is not None and answer.get("confirmed"):
        try:
            await caught_up(case_id, before)
        except ServiceError:  # the decision is taken: a database gone meanwhile only delays pdw show
            pass
    return answer


async def caught_up(case_id: str, version: int, wait: float = 3) -> None:
    """Until the case's projection is newer than ``version``, so that ``pdw show`` right after ``pdw
    decide`` shows the decision; at most ``wait`` s. A case begun before pdw-2026.12 writes it just
    after answering (a regular activity); one begun since, before (workflows/projector.py): the
    first read finds it."""
    loop = asyncio.get_running_loop()
    end = loop.time() + wait
    while loop.time() < end and (await db(projected_version, case_id) or 0) <= version:
        await asyncio.sleep(0.05)


def new_decision_id() -> str:
    return f"d-{secrets.token_hex(8)}"


def check_command(case_id: str, decision_id: str) -> str:
    return f"pdw show {case_id} --decision {decision_id}"


def submitted(case_id: str, action: str, decision_id: str) -> dict[str, Any]:
    """The answer did not come in time: the case may still take the decision (a worker coming back,
    a server that had accepted it before restarting), or refuse it. Not a failure."""
    return {"case_id": case_id, "action": action, "decision_id": decision_id, "status": SUBMITTED,
            "confirmed": False, "check": check_command(case_id, decision_id),
            "message": f"已提交，尚未确认（可能仍会被拒绝）：用 {check_command(case_id, decision_id)} 查看结果；"
                       "重新提交须用同一决定编号（decision_id）"}


# An answer lost on the way (a timeout, a server restarting): the update may have been accepted.
MAYBE_ACCEPTED = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE,
                  RPCStatusCode.UNKNOWN, RPCStatusCode.INTERNAL, RPCStatusCode.ABORTED}
SUBMITTED = "submitted"
DECISION_WAIT = timedelta(seconds=30)  # then "submitted, not confirmed": the case may take it later


async def send_decision(handle: WorkflowHandle[Any, Any], case_id: str, decision: DecisionInput,
                        decision_id: str, update: str | None = None) -> dict[str, Any]:
    try:
        # withdraw, cancel: any case; another update (the center's transfer) when the caller names it
        update = update or (END_UPDATE if decision.action in END_ACTIONS else DECIDE_UPDATE)
        outcome = await handle.execute_update(update, decision, id=decision_id, rpc_timeout=DECISION_WAIT)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return submitted(case_id, decision.action, decision_id)
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from err
    except RPCError as err:
        if err.status in MAYBE_ACCEPTED and "already completed" not in err.message.lower():
            return submitted(case_id, decision.action, decision_id)
        raise temporal_error(case_id, err) from err
    return confirmed(outcome, decision_id)


def confirmed(outcome: Any, decision_id: str) -> dict[str, Any]:
    answer = outcome if isinstance(outcome, dict) else outcome.model_dump(mode="json")
    return {**answer, "decision_id": decision_id, "confirmed": True}


def refusal(err: WorkflowUpdateFailedError) -> ServiceError:
    """The case refused the decision: the innermost failure says why, in Chinese."""
    cause: Any = err.cause
    while getattr(cause, "cause", None) is not None:
        cause = cause.cause
    message = getattr(cause, "message", None) or str(cause)
    if getattr(cause, "type", None) in ("Forbidden", "PermissionError"):  # not this person's to decide
        return forbidden(message)
    return bad_input(message)


async def decision_status(services: Services, principal: Principal, case_id: str, decision_id: str) -> dict[str, Any]:
    """Where a decision sent earlier stands, by its id (``result``): ``confirmed`` (with the
    ``outcome``), ``refused`` (with the ``reason``), ``submitted`` (not yet taken: no worker has
    answered), or ``not_found`` (the case never accepted it: refused by its checks, or lost before
    it reached the case)."""
    client = await services.temporal()
    handle = client.get_workflow_handle(case_id)
    # The parties from visibility, not the state query: this check must answer with no worker running.
    require_case_reader(principal, case_id, await departments_of(client, case_id))
    base = {"case_id": case_id, "decision_id": decision_id, "check": check_command(case_id, decision_id)}
    try:
        # result() polls until an outcome: ask briefly, and say "not yet" rather than wait on.
        outcome = await asyncio.wait_for(handle.get_update_handle(decision_id).result(
            rpc_timeout=timedelta(seconds=5)), timeout=6)
    except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
        return {**base, "result": SUBMITTED, "confirmed": False,
                "message": "已提交，尚未确认（可能仍会被拒绝）：案件尚未处理该决定，请稍后再查"}
    except WorkflowUpdateFailedError as err:
        reason = refusal(err).message
        return {**base, "result": "refused", "confirmed": False, "reason": reason, "message": f"未被采纳：{reason}"}
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and "update" in err.message.lower():
            return {**base, "result": "not_found", "confirmed": False,
                    "message": "案件中没有这项决定：它未被受理（被案件的检查拒绝，或在送达前丢失）；"
                               "可用同一决定编号重新提交，以得知结果"}
        raise temporal_error(case_id, err) from err
    answer = confirmed(outcome, decision_id)
    return {**base, "result": "confirmed", "confirmed": True, "outcome": answer,
            "message": f"已确认：{answer.get('message', '')}"}


async def departments_of(client: Client, case_id: str) -> list[str]:
    """The case's departments (``PdwDepartments``), read raw: search attributes pass no codec."""
    try:
        raw = await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id)))
    except RPCError as err:
        raise temporal_error(case_id, err) from err
    field = raw.workflow_execution_info.search_attributes.indexed_fields.get(search.DEPARTMENTS.name)
    return [str(code) for code in json.loads(field.data)] if field is not None and field.data else []


async def object_to_answer(services: Services, req: ObjectionRequest, ref: str | None = None) -> dict[str, Any]:
    """Art. 32: anyone may object to the source's answer; the center reviews each objection within
    3 working days of its receipt."""
    process = process_of_case(req.case_id)
    if process is None or process.route != "open-listing":  # the public learns nothing of other cases
        raise not_found(f"开放目录审核案件“{req.case_id}”不存在（第三十二条）")
    if not (req.name.strip() and req.id_number.strip() and req.contact.strip()):
        raise bad_input("须写明申请人名称（name）、证件号码（id_number）和联系方式（contact）（第三十二条）")
    id_number, contact = await db(check_applicant, req.id_type, req.id_number, req.contact)
    public = Actor(person_id="public", name=masked(req.name, req.id_type, id_number), dept_code="public",
                   dept_name="公众", dept_kind="public")
    handle = (await services.temporal()).get_workflow_handle(req.case_id)
    # Every objector may object, each answered on its own (Art. 32): the case keeps a random
    # reference for this objection, by which its row gets the name and contact the case never holds
    # (taken from the caller's idempotency key when given: a retry is then the same update id).
    ref = ref or secrets.token_hex(8)
    outcome = await send_decision(handle, req.case_id, DecisionInput(
        action="object", actor=public, reasons=req.reason, data={"ref": ref}), f"objection-{ref}")
    await db(record_objector, req.case_id, ref, req.name, contact)
    return outcome


async def show(services: Services, principal: Principal, case_id: str) -> dict[str, Any]:
    """The whole story of a case, for its parties, the center and the county government."""
    client = await services.temporal()
    handle = client.get_workflow_handle(case_id)
    # The look-ups are independent: ask them at once (pdw show's time is their slowest). The state
    # comes from the case projection (no query, so no replay of a case not in the worker's cache);
    # the workflow is asked only for a case not projected yet (just started, or started before it).
    described, projected, records = await asyncio.gather(
        execution_status(client, case_id), db(projected_state, case_id), db(_records_of, case_id),
        return_exceptions=True)
    if isinstance(projected, BaseException):
        raise projected
    if isinstance(records, BaseException):
        raise records
    if isinstance(described, ServiceError) and described.kind == Kind.not_found and projected is not None:
        # Temporal's retention has ended (or the execution was deleted): the projection still has it.
        described = (GONE, None)
    if isinstance(described, BaseException):
        raise described
    (status, summary), (decisions, notices, after, names) = described, records
    if projected is not None and status not in ("RUNNING", GONE) and not projected[1]:
        projected = None  # ended without its closing snapshot (terminated, or the write failed): ask it
    state = projected[0] if projected is not None else await opened_state(handle, case_id)
    require_case_reader(principal, case_id, list(state.get("parties", {})))
    if after:  # the workflow has closed; the records say what came after
        state = {**state, "facts": [*state.get("facts", []), *after],
                 "status_zh": f"{state.get('status_zh', '')}；授权已撤销"}
    names = {**names, **state.get("parties", {})}
    return {
        "case_id": case_id,
        "workflow_status": status,
        "summary": summary,
        "state": labelled_state(state, names),
        "decisions": [labelled_decision(d, names) for d in decisions],
        "notices": [labelled_notice(n, names) for n in notices],
    }


def projected_version(case_id: str) -> int | None:
    """The version of the case's projection; None when not projected, or projected before it opened."""
    with session() as s:
        row = s.execute(select(col(CaseView.version), col(CaseView.status)).where(
            col(CaseView.case_id) == case_id)).first()
    return None if row is None or row.status == OPENING else int(row.version)


def projected_state(case_id: str) -> tuple[dict[str, Any], bool] | None:
    """The case's state as its projection holds it, and whether it is closed; None when not
    projected, or projected before it opened (then ``opened_state`` waits for it)."""
    with session() as s:
        view = s.get(CaseView, case_id)
    if view is None or view.status == OPENING:
        return None
    return view.state, view.closed_at is not None


async def execution_status(client: Client, case_id: str) -> tuple[str, str | None]:
    """The execution's status and static summary, read raw: search attributes are not decoded
    (one RPC, and the time-skipping server's datetimes would not decode)."""
    try:
        raw = await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id)))
    except RPCError as err:
        raise temporal_error(case_id, err) from err
    status = WorkflowExecutionStatus(raw.workflow_execution_info.status).name
    payload = raw.execution_config.user_metadata.summary
    # Through the codec too (the summary is encrypted like every payload), then the payload converter.
    summary = (await client.data_converter.decode([payload]))[0] if payload.data else None
    return status, summary


def _records_of(case_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], dict[str, str]]:
    """The case's decisions and notices, what happened to it outside its workflow (Art. 22: a grant
    revoked after the case closed), and every department's name (a decision adopted from another
    case may name one that is no party here)."""
    with session() as s:
        names = {d.code: d.name for d in s.exec(select(Department)).all()}
        decisions = s.exec(select(Decision).where(Decision.case_id == case_id).order_by(Decision.seq)).all()  # type: ignore[arg-type]
        notices = s.exec(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)).all()  # type: ignore[arg-type]
        revoked = s.exec(select(Grant).where(Grant.case_id == case_id, col(Grant.revoked_at).is_not(None))).all()
        after = [f"共享授权 {g.id} 已于 {g.revoked_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 撤销：{g.revoke_reason}（第二十二条）"
                 for g in revoked if g.revoked_at]
        return ([d.model_dump(mode="json") for d in decisions],
                [n.model_dump(mode="json", exclude={"body", "address", "error"}) for n in notices], after, names)


def labelled_state(state: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The state with a Chinese label beside every coded value staff may read (models/labels.py)."""
    # A deadline's key may carry a round or an extension ("…#2", "…+5"): its step names it.
    deadlines = {key: {**d, "step_zh": zh("step", d.get("step", key))} for key, d in state.get("deadlines", {}).items()}
    case_type = state.get("case_type", "")
    out = labelled(state, case_type="case_type", mode="share_mode", share_attribute="share_attribute",
                   open_attribute="open_attribute", proposed_open_attribute="open_attribute",
                   access_way="access_way", access_mode="access_mode", decided_by="decided_by",
                   answer="listing_answer", forbidden_ground="forbidden_ground",
                   proposed_forbidden_ground="forbidden_ground",
                   **({"outcome": OUTCOME_KIND[case_type]} if case_type in OUTCOME_KIND else {}),
                   **({"kind": "dispute_kind"} if case_type == "dispute" else {}),
                   **({"failings": "rectification_failing", "finding": "rectification_finding"}
                      if case_type == "rectification" else {}))
    if state.get("objections"):
        out["objections"] = [labelled(o, answer="objection_answer") for o in state["objections"]]
    if state.get("proposal"):
        out["proposal"] = labelled(state["proposal"], answer="proposal_answer", open_attribute="open_attribute")
    if state.get("secrecy_review"):
        out["secrecy_review"] = labelled(state["secrecy_review"], conclusion="secrecy_conclusion")
    return {**out, "deadlines": deadlines, "level_zh": zh("level", state.get("escalation", 0), ""),
            "awaiting_names": [names.get(code, code) for code in state.get("awaiting", [])]}


def labelled_decision(d: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    roles = [r for r in d.get("role", "").split(",") if r]
    return {
        **d,
        "action_zh": zh("action", d["action"]),
        "step_zh": zh("step", d.get("step"), ""),
        "roles_zh": "、".join(zh("role", r) for r in roles),
        "dept_name": names.get(d["dept_code"], "公众" if d["dept_code"] == "public" else d["dept_code"]),
    }


def labelled_notice(n: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {**labelled(n, status="notice_status", channel="channel", level="rung", role="role"),
            "dept_name": names.get(n.get("dept_code", ""), "公众" if n.get("dept_code") == "public" else n.get("dept_code", ""))}
