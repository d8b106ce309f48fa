"""Grants over time (Art. 22): each grantee hears, a number of working days before its grant
expires, that it will and how to renew it; once per grant. Started daily by the pdw-grant-expiry
Schedule (workflows/grant_expiry.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from sqlmodel import col, select
from temporalio import activity

from activities.calendar import SHANGHAI, load_calendar
from activities.notices import day_zh, start_deliveries, write_case_notices
from activities.store import session
from models.notices import CaseNotice, Notice
from models.share import SHARE_MODES, Grant
from settings import get_settings

log = structlog.get_logger("pdw.activities")


EXPIRY_STEP = "share.grant_expiring."


def expiry_key(grant_id: int) -> str:
    """The notice's key within the grant's case: one notice per grant, whoever holds the role."""
    return f"{EXPIRY_STEP}{grant_id}"


def expiring(at: datetime, working_days: int) -> list[tuple[Grant, int]]:
    """Grants in force whose last day is at most ``working_days`` working days after ``at``'s day
    and whose grantee has not yet been told, with the working days left. A day the schedule
    missed is caught up the next time it runs."""
    today = at.astimezone(SHANGHAI).date()
    cal = load_calendar()
    with session() as s:
        grants = s.exec(select(Grant).where(col(Grant.revoked_at).is_(None), Grant.valid_until > at)).all()
        told = set(s.exec(select(Notice.step).where(col(Notice.step).startswith(EXPIRY_STEP))).all())
    out = []
    for g in grants:
        assert g.id is not None
        left = cal.working_days_between(today, g.valid_until.astimezone(SHANGHAI).date())
        if left <= working_days and expiry_key(g.id) not in told:
            out.append((g, left))
    return out


def write_expiry_notices(at: datetime) -> tuple[int, list[tuple[str, str]]]:
    """Tell each grantee's daily administrator (write_case_notices); returns the rows written and
    the (case, key) pairs to deliver. On a day off nothing is sent: the next working day is."""
    if not load_calendar().is_working_day(at.astimezone(SHANGHAI).date()):
        return 0, []
    written, keys = 0, []
    for g, left in expiring(at, get_settings().grant_expiry_notice_working_days):
        assert g.id is not None
        until = day_zh(g.valid_until.astimezone(SHANGHAI).date())
        detail = (
            f"共享授权 {g.id}（{g.resource_id}：{'、'.join(g.items)}，{SHARE_MODES.get(g.mode, g.mode)}方式）"
            f"有效期至 {until}，还有 {left} 个工作日。到期后不得继续使用该共享数据（本地规定：共享授权按申请的"
            f"使用期限授予，到期失效）。如仍因履行本部门职责需要使用（第二十二条），请在到期前申请续期：pdw grant renew {g.id}"
            "（可加 --months 月数、--purpose 用途），续期申请按现行目录重新审批（第二十条）。"
        )
        written += write_case_notices(CaseNotice(
            case_id=g.case_id, case_type="share", key=expiry_key(g.id), kind="grant_expiring",
            dept_code=g.grantee_code, headline=f"共享授权 {g.id} 将于 {until} 到期", detail=detail,
            article="本地规定", at=at,
        ))
        keys.append((g.case_id, expiry_key(g.id)))
        log.info("grant_expiry_told", case_id=g.case_id, grant_id=g.id, grantee=g.grantee_code, working_days_left=left)
    return written, keys


def pending_expiry_notices() -> list[int]:
    """Expiry notices still to be delivered, whichever run wrote them."""
    with session() as s:
        ids = s.exec(select(Notice.id).where(Notice.status == "pending", col(Notice.step).startswith(EXPIRY_STEP))).all()
    return [i for i in ids if i is not None]


@activity.defn
async def send_grant_expiry_notices(at: datetime) -> int:
    """The outbox rows of the grants about to expire, then their delivery. A retry writes nothing
    twice, and still delivers what an interrupted attempt wrote but did not send."""
    written, _ = await asyncio.to_thread(write_expiry_notices, at)
    await start_deliveries(activity.client(), await asyncio.to_thread(pending_expiry_notices),
                           activity.info().task_queue)
    return written
