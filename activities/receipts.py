"""The public's receipts (Art. 28, 32): minted when an application, a request or an objection is
received, and read back by number and token from the records the workflows keep current (never by
asking Temporal: fast, and it works for closed cases). The token is shown once and stored as a hash;
the contact kept here serves notices only and is erased by the purge. Nothing here logs either."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from activities.calendar import SHANGHAI
from activities.notices import channels, day_zh
from activities.store import allocate_case_id, session
from models.catalog import OPEN_ATTRIBUTES
from models.identity import contact_problem
from models.open_data import ListingObjection, ListingReview, OpenApplication, OpenRequest
from models.receipts import NOTIFY_ZH, RECEIPT_KINDS, RECEIPT_PREFIX, PublicReceipt
from models.types import utcnow
from settings import get_settings

ENDED = {"withdrawn": "已撤回", "cancelled": "已撤销"}


def hash_receipt_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def notify_by(contact: str | None) -> str:
    """How an applicant hears of outcomes: email, SMS to a mobile, none for a fixed line."""
    value = (contact or "").strip()
    if not value or contact_problem(value):
        return ""
    if "@" in value:
        return "email"
    return "sms" if len(value) == 11 and value.startswith("1") else ""


def _new_token() -> tuple[str, str]:
    token = "rt_" + secrets.token_urlsafe(24)  # 192 bits
    return token, hash_receipt_token(token)


def mint_receipt(
    kind: str, *, resource_id: str, label: str, contact: str | None, case_id: str | None = None,
    request_id: int | None = None, objection_ref: str | None = None, idem: str | None = None,
) -> dict[str, Any]:
    """A receipt for one submission: ``{receipt, receipt_token, notify, new}``. Every submission gets
    a receipt of its own (a new number and token), linked to what it counted toward: whether anyone
    asked before is never told (Art. 32 counts people; the answer does not name them). Only the same
    submission again names the same receipt: a retry under the same idempotency key, or a retried
    start of the same application case (its case id is the key's). That repeat gets a fresh token,
    since the lost answer carried the first, and the old one stops working (``token_rotated``)."""
    if (again := _rotate(kind, case_id=case_id, idem=idem)) is not None:
        return again
    try:
        with session() as s:
            token, digest = _new_token()
            number = allocate_case_id(s, RECEIPT_PREFIX, datetime.now(SHANGHAI).year)
            row = PublicReceipt(number=number, token_hash=digest, kind=kind, resource_id=resource_id,
                                case_id=case_id, request_id=request_id, objection_ref=objection_ref, label=label,
                                contact=(contact or "").strip() or None, notify=notify_by(contact), idem=idem)
            s.add(row)
            minted = _minted(row, token, new=True)
    except IntegrityError:
        # Two calls under one key at once: the other minted it; this one is its repeat.
        if (again := _rotate(kind, case_id=case_id, idem=idem)) is None:
            raise
        return again
    return minted


def _rotate(kind: str, *, case_id: str | None, idem: str | None) -> dict[str, Any] | None:
    """The receipt this submission already has, with a fresh token (its hash replaces the old one)."""
    with session() as s:
        row = s.exec(select(PublicReceipt).where(PublicReceipt.idem == idem)).first() if idem else None
        if row is None and kind == "application" and case_id:
            row = s.exec(select(PublicReceipt).where(PublicReceipt.kind == kind,
                                                     PublicReceipt.case_id == case_id)).first()
        if row is None:
            return None
        token, row.token_hash = _new_token()
        s.add(row)
        return _minted(row, token, new=False)


def channel_for(notify: str) -> str | None:
    """The channel an applicant's notice takes: theirs if configured, else the log; none for a fixed line."""
    settings = get_settings()
    if notify == "email":
        return "email" if "email" in channels() else "log"
    if notify == "sms":
        return "sms" if settings.sms_url else "log"
    return None


def notify_zh(notify: str) -> str:
    """How the applicant will hear of the outcome: by their channel only where pdw has it configured
    (``channel_for``); otherwise they are told so, not promised a message that never comes."""
    if notify and channel_for(notify) != notify:
        return f"{NOTIFY_ZH[notify]}（本系统暂未开通该渠道，暂不发送：请凭回执编号查询办理情况）"
    return NOTIFY_ZH[notify]


def _minted(row: PublicReceipt, token: str, *, new: bool) -> dict[str, Any]:
    query = f"凭编号和令牌查询办理结果（pdw open status {row.number}，令牌从环境变量 PDW_RECEIPT_TOKEN 读取或按提示输入）"
    out: dict[str, Any] = {"receipt": row.number, "receipt_token": token, "notify": row.notify,
                           "notify_zh": notify_zh(row.notify), "new": new}
    if new:
        out["receipt_zh"] = f"回执编号 {row.number}；回执令牌只显示这一次，请妥善保存：{query}"
    else:
        out["token_rotated"] = True
        out["receipt_zh"] = (f"回执编号 {row.number}（同一 Idempotency-Key 的重复提交）：已换发新的回执令牌，"
                             f"此前的回执令牌不再有效；新令牌只显示这一次，请妥善保存：{query}")
    return out


def rotate_of_idem(idem: str) -> dict[str, Any] | None:
    """A submission repeated under its idempotency key: its receipt, with a fresh token."""
    return _rotate("", case_id=None, idem=idem)


def rotate_of_case(case_id: str) -> dict[str, Any] | None:
    """An application start repeated under its key (the case it opened): its receipt, with a fresh token."""
    return _rotate("application", case_id=case_id, idem=None)


def request_row_of(resource_id: str, id_type: str, id_number: str) -> int | None:
    """The request row counting this person (Art. 32: one identity number), to link the receipt to:
    the same person asking again in the same round gets a receipt of its own, linked to the same row."""
    from activities.open_data import requester_key

    key = requester_key(id_type, id_number)
    with session() as s:
        return s.exec(select(OpenRequest.id).where(OpenRequest.resource_id == resource_id, OpenRequest.person_key == key)
                      .order_by(col(OpenRequest.id).desc())).first()


# ---- the public status ----------------------------------------------------------------------------


def last_day_zh(moment: datetime | None) -> str:
    """The last day of a period ending at 24:00 Asia/Shanghai (stored as the next midnight), in Chinese."""
    if moment is None:
        return "—"
    return day_zh((moment.astimezone(SHANGHAI) - timedelta(microseconds=1)).date())


def receipt_status(number: str, token: str, threshold: int) -> dict[str, Any] | None:
    """What the holder of a receipt may know, or None when the number is unknown or the token wrong
    (the caller answers both alike: no one learns which numbers exist)."""
    with session() as s:
        row = s.get(PublicReceipt, number)
        if row is None or not hmac.compare_digest(row.token_hash, hash_receipt_token(token or "")):
            return None
        return view_of(s, row, threshold)


def view_of(s: Session, row: PublicReceipt, threshold: int) -> dict[str, Any]:
    """A receipt as its holder reads it (and as the applicant's notices end: the next step)."""
    if row.kind == "application":
        view = _application(s, row)
    elif row.kind == "request":
        view = _request(s, row, threshold)
    else:
        view = _objection(s, row)
    return {"receipt": row.number, "kind": row.kind, "kind_zh": RECEIPT_KINDS[row.kind],
            "resource_id": row.resource_id, "applicant": row.label, "received_at": row.created_at.isoformat(),
            # After the purge no contact is left to tell: the receipt says so, not the channel it had.
            "notify": "" if row.purged_at else row.notify,
            "notify_zh": "联系方式已按保存期限删除，不再通知" if row.purged_at else notify_zh(row.notify),
            "purged": row.purged_at is not None,
            "reasons": None, "next_step": None, **view}


def _application(s: Session, row: PublicReceipt) -> dict[str, Any]:
    """Art. 28 ¶2, 29, 31: the restricted-open application as open_application says."""
    a = s.get(OpenApplication, row.case_id or "")
    # The open attribute as the case read it when the application arrived (Art. 28): an application
    # is one for restricted-open data only where the data is restricted.
    attribute = OPEN_ATTRIBUTES.get(a.open_attribute or "") if a is not None else None
    asked = (f"申请获取数据资源 {row.resource_id}（{attribute or '开放数据'}，第二十八条）" if attribute != "受限开放"
             else f"申请获取数据资源 {row.resource_id}（受限开放数据，第二十八条第二款）")
    base = {"case_id": row.case_id, "asked": asked}
    if a is None or a.closed_at is None:
        received = a is None or a.open_attribute is None
        return {**base, "status": "received" if received else "in_review", "status_zh": "受理中" if received else "审核中",
                "next_step": "县大数据管理中心审核后报市大数据发展管理局审核同意（第二十八条第二款）；有结果时按您留下的联系方式通知"}
    status = a.outcome or a.status
    if status == "approved":
        return {**base, "status": status, "status_zh": "已同意开放", "reasons": a.reasons,
                "next_step": "请按上述获取方式经省市公共数据平台开放域获取数据（第二十八条第二款、第三十一条）"}
    if status == "refused":
        if a.open_attribute == "unopened":
            # Art. 32: the refusal counts as a request for the data's listing; once the source
            # reviews it, the applicant follows that review.
            review = _listing(s, s.exec(select(OpenRequest.review_case_id).where(
                OpenRequest.application_case_id == a.case_id)).first())
            if review is not None:
                listing = _listing_view(review)
                return {**base, "status": status, "status_zh": "不予开放", "reasons": a.reasons,
                        "listing_case_id": review.case_id, "outcome_zh": f"列入开放目录审核：{listing['status_zh']}",
                        "next_step": listing.get("next_step")}
            step = "该数据尚未列入开放目录：本申请已计入列入开放目录的申请人数，达到规定人数即转数源部门审核（第三十二条）"
        elif a.open_attribute == "forbidden":
            # The measures give no review of a refusal under Art. 29 (Art. 32's is for data not yet
            # listed): say so, and where to ask, rather than leave the applicant looking for one.
            step = ("禁止开放类数据依第二十九条不予开放，本办法对此未设复核申请（第三十二条的复核适用于尚未列入开放目录的数据）；"
                    "对该数据的开放属性有疑问的，可向县大数据管理中心咨询")
        else:
            step = "可针对不予同意的理由，调整使用范围、用途或获取方式后重新申请（第二十八条第二款）"
        return {**base, "status": status, "status_zh": "不予开放", "reasons": a.reasons, "next_step": step}
    if status == "returned":
        return {**base, "status": status, "status_zh": "已退回补正", "reasons": a.reasons,
                "next_step": "请按退回理由补正后重新申请（第二十八条第二款）"}
    if status == "no_review":
        return {**base, "status": status, "status_zh": "无需审核（无条件开放）", "reasons": a.reasons,
                "next_step": "可直接从公共数据开放系统获取（第二十八条第二款）"}
    return {**base, "status": status, "status_zh": ENDED.get(status, status), "reasons": a.reasons}


def _listing(s: Session, case_id: str | None) -> ListingReview | None:
    return s.get(ListingReview, case_id) if case_id else None


def _listing_view(review: ListingReview) -> dict[str, Any]:
    """Art. 32 (with 27, 28 ¶3, 39): where the source's review of the data's listing stands."""
    base = {"case_id": review.case_id}
    if review.status == "listed":
        what = OPEN_ATTRIBUTES.get(review.listed_as or "", review.listed_as or "")
        return {**base, "status": "listed", "status_zh": "已列入开放目录", "reasons": f"列为{what}（第三十二条）",
                "next_step": "可从公共数据开放系统获取；受限开放的数据须另行申请（第二十八条第二款）"}
    if review.status == "declined":
        return {**base, "status": "declined", "status_zh": "数源部门不予列入开放目录（已办结）",
                "reasons": review.answer_reasons, "next_step": "本案已办结"}
    if review.status in ENDED:
        return {**base, "status": review.status, "status_zh": ENDED[review.status]}
    if review.answer == "declined":
        ends = review.objection_ends_at
        if ends is not None and utcnow() < ends:
            step = (f"如有异议，可于{last_day_zh(ends)}24时前向县大数据管理中心申请复核（pdw open object {review.case_id}），"
                    "中心自收到之日起 3 个工作日内反馈复核结果（第三十二条）")
        else:
            step = "复核申请期间已届满；已提出的复核申请由县大数据管理中心答复（第三十二条）"
        return {**base, "status": "declined_by_source", "status_zh": "数源部门不予列入开放目录",
                "reasons": review.answer_reasons, "next_step": step}
    if review.answer == "listed":
        return {**base, "status": "in_review", "status_zh": "审核中",
                "next_step": "数源部门同意列入，待县大数据管理中心会同确认后发布（第二十七条、第三十九条）"}
    return {**base, "status": "in_review", "status_zh": "审核中",
            "next_step": "数源部门审核是否列入开放目录，不列入的须说明理由（第三十二条）"}


def _request(s: Session, row: PublicReceipt, threshold: int) -> dict[str, Any]:
    asked = f"申请将数据资源 {row.resource_id} 列入开放目录（第三十二条）"
    request = s.get(OpenRequest, row.request_id) if row.request_id is not None else None
    review = _listing(s, request.review_case_id if request is not None else row.case_id)
    if review is None:
        return {"asked": asked, "case_id": None, "status": "received", "status_zh": "受理中",
                "next_step": f"已登记；申请人数达到 {threshold} 人即转数源部门审核（同一证件号码只计一人，第三十二条）"}
    return {"asked": asked, **_listing_view(review)}


def _objection(s: Session, row: PublicReceipt) -> dict[str, Any]:
    asked = f"对数源部门就数据资源 {row.resource_id} 不列入开放目录的答复申请复核（第三十二条）"
    objection = s.exec(select(ListingObjection).where(ListingObjection.case_id == row.case_id,
                                                      ListingObjection.ref == row.objection_ref)).first()
    review = _listing(s, row.case_id)
    base = {"asked": asked, "case_id": row.case_id}
    if objection is None or objection.answer is None:
        due = last_day_zh(objection.due_at) if objection is not None else "—"
        return {**base, "status": "in_review", "status_zh": "复核中",
                "next_step": f"县大数据管理中心应于{due}24时前反馈复核结果（3 个工作日，第三十二条）"}
    final = _listing_view(review) if review is not None and review.closed_at is not None else None
    if objection.answer == "upheld":
        view = {"status": "upheld", "status_zh": "复核维持数源部门答复", "reasons": objection.answer_reasons}
    elif objection.answer == "suggested":
        what = OPEN_ATTRIBUTES.get(objection.proposed_open_attribute or "", "")
        view = {"status": "suggested", "status_zh": f"县大数据管理中心建议数源部门列入开放目录（{what}）",
                "reasons": objection.answer_reasons,
                "next_step": "待数源部门答复；不采纳的，征求专家委员会意见后报县人民政府决定（第二十八条第三款）"}
    else:
        view = {"status": "resolved", "status_zh": "随案件结果答复", "reasons": objection.answer_reasons}
    if final is not None:
        view["outcome_zh"] = final["status_zh"]
        view["next_step"] = final.get("next_step") or "本案已办结"
    return {**base, **view}
