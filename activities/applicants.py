"""Applicants, requesters and objectors hear of outcomes (Art. 28 ¶2, 29, 32 "反馈复核结果"), and
their personal data is erased once no longer needed (个人信息保护法).

Notices go through the outbox under the role ``applicant``: one row per receipt, key and channel,
naming the receipt number and the masked label, never the contact (the row's address stays empty;
delivery looks the contact up on the receipt). Email through SMTP, a mobile by the SMS gateway;
a channel not configured leaves a ``log`` row marked ``not_sent`` (未发送（无可用渠道）: nobody was
told, and the front desk sees it in ``pdw notices list``); a fixed line gets none."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlmodel import Session, col, or_, select
from temporalio import activity

from activities.cases import PUBLIC
from activities.notices import TEMPLATES, deliver_pending
from activities.receipts import channel_for, view_of
from activities.store import insert_ignore, record_audit, session
from models.audit import AuditRecord
from models.notices import Notice
from models.open_data import ListingObjection, ListingReview, OpenApplication, OpenRequest
from models.receipts import APPLICANT_ROLE, RECEIPT_KINDS, ApplicantNotice, PublicReceipt
from models.types import utcnow
from settings import get_settings

log = structlog.get_logger("pdw.applicants")
NOT_SENT = "not_sent"  # a log row of an applicant's notice: no channel configured, nobody was told


def _receipts(s: Session, n: ApplicantNotice) -> list[PublicReceipt]:
    """The receipts a notice is for: the application's, the requests the review answers, the objectors'."""
    q = select(PublicReceipt).where(col(PublicReceipt.purged_at).is_(None))
    if n.who == "application":
        return list(s.exec(q.where(PublicReceipt.kind == "application", PublicReceipt.case_id == n.case_id)).all())
    found: list[PublicReceipt] = []
    if n.who in ("requesters", "all"):
        asked = select(OpenRequest.id).where(OpenRequest.review_case_id == n.case_id)
        found += s.exec(q.where(PublicReceipt.kind == "request", or_(
            col(PublicReceipt.request_id).in_(asked), PublicReceipt.case_id == n.case_id))).all()
        # Art. 32: applications refused as unopened counted toward this review: their applicants too.
        refused = select(OpenRequest.application_case_id).where(OpenRequest.review_case_id == n.case_id,
                                                                col(OpenRequest.application_case_id).is_not(None))
        found += s.exec(q.where(PublicReceipt.kind == "application", col(PublicReceipt.case_id).in_(refused))).all()
    if n.who in ("objectors", "all"):
        objectors = q.where(PublicReceipt.kind == "objection", PublicReceipt.case_id == n.case_id)
        if n.objection_ref:
            objectors = objectors.where(PublicReceipt.objection_ref == n.objection_ref)
        found += s.exec(objectors).all()
    return found


def write_applicant_notices(n: ApplicantNotice) -> int:
    """The outbox rows of one outcome; returns how many this call wrote (a retry writes none)."""
    written = 0
    threshold = get_settings().open_request_threshold
    with session() as s:
        for receipt in _receipts(s, n):
            channel = channel_for(receipt.notify)
            if channel is None:
                continue
            view = view_of(s, receipt, threshold)
            body = TEMPLATES.get_template("applicant/outcome.txt.j2").render(
                kind_zh=RECEIPT_KINDS[receipt.kind], headline=n.headline, receipt=receipt.number,
                applicant=receipt.label, resource_id=receipt.resource_id, text=n.text,
                next_step=view.get("next_step"), article=n.article)
            row: dict[str, Any] = {
                "case_id": n.case_id, "step": n.key, "level": 0, "dept_code": PUBLIC, "role": APPLICANT_ROLE,
                "person_id": receipt.number, "person_name": receipt.label, "channel": channel,
                "subject": body.splitlines()[0], "body": body, "case_time": n.at, "address": None,
            }
            if channel == "log":  # recorded, not sent: the applicant's channel is not configured
                row.update(status=NOT_SENT)
            if insert_ignore(s, Notice, row, ["case_id", "step", "level", "person_id", "channel"]):
                written += 1
                log.info("applicant_notice_not_sent" if channel == "log" else "applicant_notice_queued",
                         case_id=n.case_id, step=n.key, receipt=receipt.number, channel=channel)
    return written


@activity.defn
async def tell_applicants(n: ApplicantNotice) -> int:
    """Write the applicants' notices of one outcome and deliver them, once per receipt, key and channel."""
    written = await asyncio.to_thread(write_applicant_notices, n)
    await deliver_pending(n.case_id, n.key)
    return written


# ---- 个人信息保护法: erasure after the retention period -----------------------------------------------


def purge_applicants(now: datetime | None = None, *, by: str = "pdw-applicants-purge") -> dict[str, int]:
    """Erase names, identity numbers and contacts kept longer than their retention period (days after
    the case closed, per kind); the masked labels stay, so every case and receipt still reads. The
    purge is recorded in the audit chain with its counts (never what was erased).

    An application whose case never started (its start failed and was not retried) never closes: it
    is erased once the period has passed since it was made. "Never started" is read from the records:
    still ``opening`` with no open attribute read, which the case's first activity
    (open_open_application) records; a receipt whose application row does not exist likewise."""
    now = now or utcnow()
    settings = get_settings()
    cut_app = now - timedelta(days=settings.retention_application_days)
    cut_req = now - timedelta(days=settings.retention_request_days)
    cut_obj = now - timedelta(days=settings.retention_objection_days)
    counts = {"applications": 0, "requests": 0, "objections": 0, "receipts": 0}
    with session() as s:
        never_started = (col(OpenApplication.closed_at).is_(None) & (OpenApplication.status == "opening")
                         & col(OpenApplication.open_attribute).is_(None) & (col(OpenApplication.applied_at) < cut_app))
        apps = s.exec(select(OpenApplication).where(col(OpenApplication.purged_at).is_(None), or_(
            col(OpenApplication.closed_at) < cut_app, never_started))).all()
        for a in apps:
            a.applicant_name = a.id_number = a.contact = None
            a.purged_at = now
            s.add(a)
        counts["applications"] = len(apps)

        closed_req = select(ListingReview.case_id).where(col(ListingReview.closed_at) < cut_req)
        requests = s.exec(select(OpenRequest).where(col(OpenRequest.purged_at).is_(None), or_(
            col(OpenRequest.review_case_id).in_(closed_req),
            # Never reviewed (below the threshold): kept for the period from the request itself.
            (col(OpenRequest.review_case_id).is_(None)) & (col(OpenRequest.requested_at) < cut_req)))).all()
        for r in requests:
            r.requester_name = r.contact = None  # the identity number is kept only as person_key
            r.purged_at = now
            s.add(r)
        counts["requests"] = len(requests)

        closed_obj = select(ListingReview.case_id).where(col(ListingReview.closed_at) < cut_obj)
        objections = s.exec(select(ListingObjection).where(col(ListingObjection.purged_at).is_(None),
                                                           col(ListingObjection.case_id).in_(closed_obj))).all()
        for o in objections:
            o.objector_name = o.objector_contact = None
            o.purged_at = now
            s.add(o)
        counts["objections"] = len(objections)

        app_cases = {a.case_id for a in apps}
        # Receipts of applications that were never registered (nothing else would ever erase them).
        app_cases |= {c for c in s.exec(select(PublicReceipt.case_id).where(
            PublicReceipt.kind == "application", col(PublicReceipt.purged_at).is_(None),
            col(PublicReceipt.created_at) < cut_app,
            col(PublicReceipt.case_id).not_in(select(OpenApplication.case_id)))).all() if c}
        request_ids = {r.id for r in requests}
        objection_keys = {(o.case_id, o.ref) for o in objections}
        for receipt in s.exec(select(PublicReceipt).where(col(PublicReceipt.purged_at).is_(None))).all():
            if ((receipt.kind == "application" and receipt.case_id in app_cases)
                    or (receipt.kind == "request" and _request_gone(receipt, request_ids, cut_req))
                    or (receipt.kind == "objection" and (receipt.case_id, receipt.objection_ref) in objection_keys)):
                receipt.contact, receipt.purged_at = None, now
                s.add(receipt)
                counts["receipts"] += 1
        record_audit(s, AuditRecord(case_id="applicants", key=f"applicants_purged:{now.isoformat()}",
                                    event="applicants_purged", person_id=by, at=now,
                                    detail={**counts, "retention_days": {
                                        "application": settings.retention_application_days,
                                        "request": settings.retention_request_days,
                                        "objection": settings.retention_objection_days}}))
    log.info("applicants_purged", by=by, **counts)
    return counts


def _request_gone(receipt: PublicReceipt, request_ids: set[int | None], cut: datetime) -> bool:
    if receipt.request_id is not None:
        return receipt.request_id in request_ids
    return receipt.created_at < cut  # not linked to a counted request: its own period


@activity.defn
def purge_applicants_daily() -> dict[str, int]:
    """The daily Schedule's purge (pdw-applicants-purge); old rate-limit windows go too."""
    from activities.ratelimit import forget_windows

    forget_windows()
    return purge_applicants()
