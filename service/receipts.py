"""The public hears back (Art. 28, 32): receipts for requests and objections, the status a receipt's
holder reads, the rate limits of the public routes (shared by API replicas through the database),
and the center's purge of applicants' personal data (个人信息保护法)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from activities.applicants import purge_applicants
from activities.ratelimit import hit, window_of
from activities.receipts import mint_receipt, receipt_status, request_row_of, rotate_of_case, rotate_of_idem
from models.departments import Actor
from models.identity import normalise_id_number
from models.open_data import masked
from models.requests import ObjectionRequest, OpenRequestRequest
from models.types import utcnow
from service import cases, starts
from service.auth import require_admin
from service.context import Services, db
from service.errors import RateLimited, not_found


async def check_rate(services: Services, client: str, group: str) -> None:
    """Count this request of ``client`` in the current window; over the limit, 429 with Retry-After."""
    settings = services.settings
    # Reading (a receipt, a published report) counts apart from submitting: a portal that shows the
    # reports does not use up the applications of the citizens behind the same address.
    reading = group in ("receipt", "reading")
    limit = settings.receipt_rate_limit if reading else settings.public_rate_limit
    window = max(settings.public_rate_window_seconds, 1)
    now = utcnow()
    start = window_of(now, window)
    if await db(hit, f"{group}:{client}", start) > limit:
        retry = max(1, int((start + timedelta(seconds=window) - now).total_seconds()) + 1)
        raise RateLimited(f"请求过于频繁：同一地址每 {window} 秒最多{'查询' if reading else '提交'} {limit} 次，"
                          f"请 {retry} 秒后再试", retry)


def objection_ref_of(idem: str) -> str:
    """An objection's reference taken from its idempotency key, so that a retry sends the same
    decision id (``objection-<ref>``) and Temporal's update id makes it one objection."""
    return hashlib.sha256(f"objection\n{idem}".encode()).hexdigest()[:16]


async def public_request(services: Services, req: OpenRequestRequest, idem: str | None) -> dict[str, Any]:
    """Art. 32: the request is counted (starts.record_public_request, one per person) and gets a
    receipt of its own, whoever asked before (the answer never tells whether this person did); only a
    retry under the same key names the same receipt, with a fresh token."""
    if idem and (seen := await db(rotate_of_idem, idem)):
        return {"resource_id": req.resource_id, **seen, "repeated": True}
    result = await starts.record_public_request(services, req)
    request_id = await db(request_row_of, req.resource_id, req.id_type, req.id_number)
    label = masked(req.name, req.id_type, normalise_id_number(req.id_type, req.id_number))
    minted = await db(mint_receipt, "request", resource_id=req.resource_id, label=label, contact=req.contact,
                      case_id=result.get("case_id"), request_id=request_id, idem=idem)
    return {**result, **minted}


async def repeated_application(case_id: str) -> dict[str, Any]:
    """The receipt of an application an earlier start under the same key opened, with a fresh token
    (the lost answer carried the first; it stops working)."""
    return await db(rotate_of_case, case_id) or {}


async def public_objection(services: Services, req: ObjectionRequest, idem: str | None) -> dict[str, Any]:
    """Art. 32: the objection goes to the case (cases.object_to_answer) and gets its receipt, by which
    the objector reads the center's review result. Under a key the objection's reference comes from
    the key, so a retry after a failure between the case and the receipt is not a second objection."""
    if idem and (seen := await db(rotate_of_idem, idem)):
        return {"case_id": req.case_id, **seen, "repeated": True}
    outcome = await cases.object_to_answer(services, req, ref=objection_ref_of(idem) if idem else None)
    ref = str(outcome.get("decision_id", "")).removeprefix("objection-")  # the case's reference for it
    label = masked(req.name, req.id_type, normalise_id_number(req.id_type, req.id_number))
    resource_id = str((await db(_resource_of_listing, req.case_id)) or "")
    minted = await db(mint_receipt, "objection", resource_id=resource_id, label=label, contact=req.contact,
                      case_id=req.case_id, objection_ref=ref, idem=idem)
    return {**outcome, **minted}


def _resource_of_listing(case_id: str) -> str | None:
    from activities.store import session
    from models.open_data import ListingReview

    with session() as s:
        review = s.get(ListingReview, case_id)
        return review.resource_id if review else None


async def status(services: Services, number: str, token: str) -> dict[str, Any]:
    """A receipt as its holder reads it. An unknown number and a wrong token answer alike."""
    view = await db(receipt_status, number, token, services.settings.open_request_threshold)
    if view is None:
        raise not_found("回执编号或回执令牌不正确（回执令牌在受理时显示一次）")
    return view


async def purge(services: Services, actor: Actor) -> dict[str, Any]:
    """个人信息保护法: the center erases applicants' personal data past its retention period now
    (the daily Schedule does the same); recorded in the audit chain with who and how many."""
    require_admin(actor, "applicants.purge")
    counts = await db(purge_applicants, by=actor.person_id)
    return {**counts, "message": (f"已删除超过保存期限的申请人个人信息：受限开放申请 {counts['applications']} 件、"
                                  f"列入开放目录申请 {counts['requests']} 件、复核申请 {counts['objections']} 件、"
                                  f"回执 {counts['receipts']} 张（保留脱敏标识）")}
