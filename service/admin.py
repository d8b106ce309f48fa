"""Administration, the center's (Art. 4): changes of registered people (Art. 43 ¶2), the calendar,
revocation of grants (Art. 22), notices. Each action needs the roles ``service.auth.ADMIN_ROLES``
gives it and is written to the audit log with who took it."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import structlog
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.calendar import SHANGHAI, load_calendar, load_year, set_override
from activities.notices import resend_pending, send_digest, start_deliveries
from activities.share import revoke_grant
from activities.store import assign_role, get_department, record_audit, session
from models.audit import AuditRecord
from models.calendar import CalendarChange
from models.departments import Actor
from models.requests import OverrideRequest, RevokeRequest, RoleAssignRequest, YearRequest
from models.types import utcnow
from service.auth import require_admin, require_not_beyond
from service.context import Services, db
from service.errors import ServiceError, bad_input
from workflows.calendar_change import CalendarFanOut

log = structlog.get_logger("pdw.admin")


def dept_kind(code: str) -> str:
    with session() as s:
        return get_department(s, code).kind


def audit(actor: Actor, subject: str, event: str, detail: dict[str, Any]) -> str:
    """An administrative action, once (keyed by subject, event and time); returns its key."""
    now = utcnow()
    key = f"{event}:{now.isoformat()}"
    with session() as s:
        record_audit(s, AuditRecord(case_id=subject, key=key, event=event, person_id=actor.person_id, at=now,
                                    detail=detail))
    return key


async def tell_running_cases(services: Services, change: CalendarChange) -> dict[str, Any]:
    """Every running case counts its deadlines again on the changed calendar (CalendarChange
    workflow). The change already stands; if Temporal is down, staff are told to run it again."""
    try:
        client = await services.temporal()
        handle = await client.start_workflow(
            "CalendarChange", CalendarFanOut(change=change), id=f"calendar-change-{change.key}",
            task_queue=services.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except (ServiceError, RPCError) as err:
        log.warning("calendar_change_not_told", key=change.key, error=str(err))
        return {"recount": "not_started", "recount_zh": "日历已保存，但 Temporal 暂时无法连接，在办案件的期限尚未重算："
                "请在 Temporal 恢复后再执行一次本命令"}
    try:
        told = await asyncio.wait_for(handle.result(), timeout=10)
    except TimeoutError:
        return {"recount": "running", "recount_zh": f"在办案件的期限正在后台重算（{handle.id}）"}
    except WorkflowFailureError as err:
        log.error("calendar_change_failed", key=change.key, error=str(err.cause))
        return {"recount": "failed", "recount_zh": f"日历已保存，但在办案件的期限未能重算（{handle.id}）：请联系管理员"}
    return {"recount": "done", "cases_told": told, "recount_zh": f"已通知 {told} 件在办案件按新日历重算期限"}


async def assign(services: Services, actor: Actor, dept: str, req: RoleAssignRequest) -> dict[str, Any]:
    """Art. 43 ¶2. A leader's role, or any role of the center, county government, city bureau or
    experts, is a leader of the center's to record; nobody records their own."""
    require_admin(actor, "dept.assign")
    kind = await db(dept_kind, dept)
    incoming = Actor(person_id=req.person_id, name=req.name or req.person_id, dept_code=dept, dept_name=dept,
                     dept_kind=kind, roles=[req.role])
    require_not_beyond(actor, incoming, "dept.assign")
    before, after = await db(assign_role, dept, req.role, req.person_id, name=req.name, email=req.email,
                             mobile=req.mobile, dingtalk_id=req.dingtalk, note=req.note, by=actor.person_id)
    return {"dept": dept, "role": req.role, "before": before, "after": after}


async def override_day(services: Services, actor: Actor, req: OverrideRequest) -> dict[str, Any]:
    """A county override of one day (a typhoon day off, a working Saturday)."""
    require_admin(actor, "calendar.override")
    try:
        day = date.fromisoformat(req.day)
    except ValueError as err:
        raise bad_input(f"日期（day）“{req.day}”格式错误，应为 YYYY-MM-DD", "day") from err
    await db(set_override, day, req.workday, req.note)
    key = await db(audit, actor, f"calendar-{day.isoformat()}", "calendar_override",
                   {"workday": req.workday, "note": req.note})
    what = "工作日" if req.workday else "休息日"
    change = CalendarChange(key=key, first=day, last=day, source_zh=f"县级调整：{day} 改为{what}，依据：{req.note}",
                            by=actor.label())
    return {"day": day.isoformat(), "workday": req.workday, "note": req.note,
            **await tell_running_cases(services, change)}


async def load_official_year(services: Services, actor: Actor, req: YearRequest) -> dict[str, Any]:
    """A year's official schedule of the State Council: that year's dates are no longer provisional."""
    require_admin(actor, "calendar.load")
    doc = req.model_dump(by_alias=True, exclude={"as_"}, exclude_none=True)
    year, off, on = await db(load_year, doc)
    key = await db(audit, actor, f"calendar-{year}", "calendar_year_loaded", {"title": req.title})
    change = CalendarChange(key=key, first=date(year, 1, 1), last=date(year, 12, 31),
                            source_zh=f"载入 {year} 年国务院安排：{req.title}", by=actor.label())
    return {"year": year, "holidays": off, "workdays": on, **await tell_running_cases(services, change)}


async def revoke(services: Services, actor: Actor, grant_id: int, req: RevokeRequest) -> dict[str, Any]:
    """Art. 22: revoked at once; the notices go out now, or later by retry if Temporal is down."""
    require_admin(actor, "grant.revoke")
    grant, notices = await db(revoke_grant, grant_id, actor, req.reason)
    try:
        await start_deliveries(await services.temporal(), notices, services.task_queue)
    except Exception:  # noqa: BLE001 - the revocation stands; pdw notices retry sends them
        pass
    return grant.model_dump(mode="json")


async def retry_notices(services: Services, actor: Actor, older_than_minutes: int) -> dict[str, Any]:
    require_admin(actor, "notices.retry")
    count = await resend_pending(await services.temporal(), services.task_queue, older_than_minutes)
    await db(audit, actor, "notices", "notices_retried", {"restarted": count})
    return {"restarted": count}


async def digest(services: Services, actor: Actor, force: bool) -> dict[str, Any]:
    require_admin(actor, "notices.digest")
    today = datetime.now(SHANGHAI).date()
    # Sent on working days only unless forced: the answer says which, not "0 notices" as if nothing
    # were overdue. The day is checked here, once (send_digest is then told to send).
    working_day = force or await db(lambda: load_calendar().is_working_day(today))
    sent = await send_digest(await services.temporal(), today, services.task_queue, force=True) if working_day else 0
    await db(audit, actor, "notices", "digest_sent", {"notices": sent, "force": force})
    return {"notices": sent, "working_day": working_day}
