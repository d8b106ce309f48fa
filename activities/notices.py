"""Notices: who hears of what, rendered from ``templates/`` and written to the outbox, then
delivered through each configured channel once.

Recipients are resolved when a notice is sent, from the people each department has registered
(Art. 43): by default warning (预警) the daily administrator, urging (催办) the leader in charge,
escalation (督办) the first responsible person and the leader of the center (for a dispute, of the
county government); the center's own overdue steps also reach 县大数据发展管理局, the department
above it (Art. 4). A role nobody holds is reported to the center, not skipped.
Every (case, step, level, person, channel) is one outbox row, written once; the log channel is
done on writing, email and webhook rows are delivered by a ``NoticeDelivery`` workflow each.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.calendar import SHANGHAI, compute_deadline, load_calendar
from activities.channels import ChannelError, send_email, send_sms, send_webhook
from activities.projection import close_rows_ended_outside, digest_lists
from activities.store import StoreError, dept_of_kind, get_department, holders, insert_ignore, session
from models.calendar import Deadline
from models.cases import LEVEL_ESCALATED, LEVEL_NONE, LEVEL_URGED, LEVEL_ZH
from models.departments import ROLE_ZH, Department, DeptKind, Person, PersonRole
from models.notices import CaseNotice, LadderNotice, Notice, StepOpening
from models.processes import CASE_TYPE_ZH
from models.receipts import APPLICANT_ROLE, PublicReceipt
from models.types import utcnow
from settings import get_settings

N = TypeVar("N", LadderNotice, CaseNotice)
log = structlog.get_logger("pdw.notices")

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
# Level 0 is the 待办 the department gets the moment a step starts; then the ladder's three rungs.
LADDER_TEMPLATES = {0: "ladder/todo.txt.j2", 1: "ladder/warning.txt.j2", 2: "ladder/urging.txt.j2",
                    3: "ladder/escalation.txt.j2"}


def day_zh(d: date) -> str:
    """A date in Chinese form: 2026年10月15日."""
    return f"{d.year}年{d.month}月{d.day}日"


def case_url(case_id: str) -> str:
    s = get_settings()
    return f"{s.ui_url.rstrip('/')}/namespaces/{quote(s.namespace)}/workflows/{quote(case_id)}"


def channels() -> list[str]:
    return get_settings().notice_channels or ["log"]


# ---- writing the outbox ----------------------------------------------------------------------------


def _write(
    s: Session, *, case_id: str, step: str, level: int, dept: Department, role: str, person: Person,
    subject: str, body: str, case_time: datetime, due_at: datetime | None = None,
) -> int:
    """One row per configured channel; the log channel is delivered on writing. Returns rows written."""
    written = 0
    for channel in channels():
        address = {"email": person.email, "webhook": person.mobile}.get(channel)
        row: dict[str, Any] = {
            "case_id": case_id, "step": step, "level": level, "dept_code": dept.code, "role": role,
            "person_id": person.id, "person_name": person.name, "channel": channel, "subject": subject,
            "body": body, "due_at": due_at, "case_time": case_time, "address": address,
        }
        if channel == "log":
            row.update(status="sent", sent_at=utcnow(), attempts=1)
        elif channel == "email" and not person.email:
            row.update(status="failed", error="未登记电子邮箱（第四十三条备案信息不全）")
        if insert_ignore(s, Notice, row, ["case_id", "step", "level", "person_id", "channel"]):
            written += 1
            event = "notice_sent" if channel == "log" else "notice_queued"
            log.info(event, case_id=case_id, step=step, level=level, person_id=person.id, channel=channel,
                     subject=subject)
    return written


def _people(s: Session, dept: Department, role: str, *, case_id: str, case_type: str, step: str,
            at: datetime) -> list[Person]:
    """Who holds the role now; a role nobody holds is reported to the center's administrator."""
    people = holders(s, dept.code, role)
    if not people:
        log.error("notice_role_vacant", case_id=case_id, dept=dept.code, role=role)
        the_center = dept_of_kind(s, "center")
        for admin in holders(s, the_center.code, PersonRole.daily_admin):
            body = TEMPLATES.get_template("role_vacant.txt.j2").render(
                dept_name=dept.name, role_zh=ROLE_ZH[PersonRole(role)], person_name=admin.name,
                dept_name_of_person=the_center.name, role_zh_of_person=ROLE_ZH[PersonRole.daily_admin],
                case_type_zh=CASE_TYPE_ZH.get(case_type, case_type), case_id=case_id, about=step,
                case_url=case_url(case_id),
            )
            _write(s, case_id=case_id, step=f"{step}:vacant:{dept.code}:{role}", level=0, dept=the_center,
                   role=PersonRole.daily_admin, person=admin, subject=body.splitlines()[0], body=body, case_time=at)
    return people


def ladder_recipients(s: Session, n: LadderNotice) -> list[tuple[Department, str]]:
    """(department, role) pairs a rung goes to, per PDW_NOTICE_ROLES (Art. 43, Art. 20 ¶2)."""
    dept = get_department(s, n.dept_code)
    pairs = [(dept, role) for role in get_settings().notice_roles.get(n.level, [])]
    if n.level == LEVEL_ESCALATED:
        for above in _above(s, dept, n):
            if above.code != dept.code and above.code not in [d.code for d, _ in pairs]:
                pairs.append((above, PersonRole.first_responsible))
    return pairs


def _above(s: Session, dept: Department, n: LadderNotice) -> list[Department]:
    """Whose leaders 督办 reaches besides the awaited department's: the process's overseer (the
    center; for a dispute the county government) and, when the center itself is late, the center's
    competent authority 县大数据发展管理局 (Art. 4): the center cannot only be urged by itself."""
    above = [dept_of_kind(s, n.escalate_to)]
    if dept.kind == "center":
        try:
            above.append(dept_of_kind(s, DeptKind.bureau))
        except StoreError:  # not registered (a county set up before it was modelled): say so, go on
            log.error("notice_bureau_missing", case_id=n.case_id, step=n.deadline.key)
    return above


def write_ladder_notices(n: LadderNotice) -> int:
    """The outbox rows of one ladder rung; returns how many this call wrote."""
    with session() as s:
        return _ladder_rows(s, n)


def _ladder_rows(s: Session, n: LadderNotice) -> int:
    written = 0
    days = (n.deadline.due_date - n.at.astimezone(SHANGHAI).date()).days
    awaited = get_department(s, n.dept_code)
    for dept, role in ladder_recipients(s, n):
        for person in _people(s, dept, role, case_id=n.case_id, case_type=n.case_type, step=n.deadline.key,
                              at=n.at):
            body = TEMPLATES.get_template(LADDER_TEMPLATES[n.level]).render(
                case_id=n.case_id, case_type_zh=CASE_TYPE_ZH.get(n.case_type, n.case_type),
                person_name=person.name, dept_name_of_person=dept.name, role_zh=ROLE_ZH[PersonRole(role)],
                dept_name=awaited.name, step_zh=n.step_zh, article=n.deadline.article,
                statutory=n.deadline.statutory, due_date_zh=day_zh(n.deadline.due_date),
                working_days=n.deadline.working_days, provisional=n.deadline.provisional,
                days_left=max(days, 0), days_over=max(-days, 0), case_url=case_url(n.case_id),
            )
            written += _write(s, case_id=n.case_id, step=n.deadline.key, level=n.level, dept=dept, role=role,
                              person=person, subject=body.splitlines()[0], body=body, case_time=n.at,
                              due_at=n.deadline.due_at)
    return written


def write_case_notices(n: CaseNotice) -> int:
    """A decision a department must hear of goes to its daily administrator (日常管理人员)."""
    with session() as s:
        return _case_rows(s, n)


def _case_rows(s: Session, n: CaseNotice) -> int:
    written = 0
    dept = get_department(s, n.dept_code)
    for person in _people(s, dept, PersonRole.daily_admin, case_id=n.case_id, case_type=n.case_type,
                          step=n.key, at=n.at):
        body = TEMPLATES.get_template(f"decision/{n.kind}.txt.j2").render(
            case_type_zh=CASE_TYPE_ZH.get(n.case_type, n.case_type), case_id=n.case_id, headline=n.headline,
            person_name=person.name, dept_name_of_person=dept.name,
            role_zh=ROLE_ZH[PersonRole.daily_admin], detail=n.detail, article=n.article,
            case_url=case_url(n.case_id),
        )
        written += _write(s, case_id=n.case_id, step=n.key, level=0, dept=dept, role=PersonRole.daily_admin,
                          person=person, subject=body.splitlines()[0], body=body, case_time=n.at)
    return written


def pending(case_id: str, step_prefix: str = "") -> list[int]:
    """Outbox rows of a case (of the steps starting with ``step_prefix``) still to be delivered."""
    with session() as s:
        return _pending(s, case_id, step_prefix)


def _pending(s: Session, case_id: str, step_prefix: str) -> list[int]:
    ids = s.exec(select(Notice.id).where(
        Notice.case_id == case_id, Notice.status == "pending", col(Notice.step).startswith(step_prefix)
    )).all()
    return [i for i in ids if i is not None]


def _written_and_pending(rows: Callable[[Session, N], int], n: N, case_id: str, step: str) -> tuple[int, list[int]]:
    """One transaction: the rows ``rows`` writes, then the case's rows of the step still to deliver
    (these and any left pending before)."""
    with session() as s:
        return rows(s, n), _pending(s, case_id, step)


async def start_deliveries(client: Client, ids: list[int], task_queue: str) -> None:
    """One NoticeDelivery workflow per row; its id makes a second start a no-op."""
    for notice_id in ids:
        try:
            await client.start_workflow("NoticeDelivery", notice_id, id=f"notice-{notice_id}", task_queue=task_queue)
        except WorkflowAlreadyStartedError:
            pass


def stale_pending(older_than_minutes: int) -> list[int]:
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    with session() as s:
        ids = s.exec(select(Notice.id).where(Notice.status == "pending", Notice.created_at < cutoff)).all()
    return [i for i in ids if i is not None]


async def resend_pending(client: Client, task_queue: str, older_than_minutes: int = 5) -> int:
    """Deliver rows left pending (their delivery never started): a second start of one under way
    is a no-op, so this may run at any time."""
    ids = await asyncio.to_thread(stale_pending, older_than_minutes)
    await start_deliveries(client, ids, task_queue)
    return len(ids)


@activity.defn
async def send_ladder_notice(n: LadderNotice) -> int:
    written, ids = await asyncio.to_thread(_written_and_pending, _ladder_rows, n, n.case_id, n.deadline.key)
    await start_deliveries(activity.client(), ids, activity.info().task_queue)
    return written


@activity.defn
async def open_step(o: StepOpening) -> Deadline:
    """A step begins: its deadline, computed here once (DESIGN.md §4), and the 待办 to the department
    that now owes it (PROCESSES.md, Time): one activity a step rather than two (issue 14)."""
    deadline, ids = await asyncio.to_thread(_step_opened, o)
    await start_deliveries(activity.client(), ids, activity.info().task_queue)
    return deadline


def _step_opened(o: StepOpening) -> tuple[Deadline, list[int]]:
    deadline = compute_deadline(o.request)
    if o.attempt:
        deadline = deadline.model_copy(update={"attempt": o.attempt})
    todo = LadderNotice(case_id=o.case_id, case_type=o.case_type, step_zh=o.step_zh, level=LEVEL_NONE,
                        dept_code=o.dept_code, deadline=deadline, at=o.at, escalate_to=o.escalate_to)
    _, ids = _written_and_pending(_ladder_rows, todo, o.case_id, deadline.key)
    return deadline, ids


@activity.defn
async def send_case_notice(n: CaseNotice) -> int:
    written, ids = await asyncio.to_thread(case_notice_rows, n)
    await start_deliveries(activity.client(), ids, activity.info().task_queue)
    return written


def case_notice_rows(n: CaseNotice) -> tuple[int, list[int]]:
    """A decision's notice written (``write_case_notices``), and its rows still to deliver, which
    the caller starts delivering once this transaction is committed (``start_deliveries``)."""
    return _written_and_pending(_case_rows, n, n.case_id, n.key)


async def deliver_pending(case_id: str, step_prefix: str) -> None:
    """From inside an activity: start the delivery of the case's rows just written (and any left
    pending of the same step)."""
    ids = await asyncio.to_thread(pending, case_id, step_prefix)
    await start_deliveries(activity.client(), ids, activity.info().task_queue)


# ---- delivering ---------------------------------------------------------------------------------


@activity.defn
def deliver_notice(notice_id: int) -> str:
    """Send one outbox row through its channel; a row already sent is not sent again."""
    settings = get_settings()
    with session() as s:
        row = s.get(Notice, notice_id)
        if row is None or row.status == "sent":
            return "sent"
        channel, address, subject, body = row.channel, row.address, row.subject, row.body
        if row.role == APPLICANT_ROLE:  # the outbox names the receipt; the contact is looked up now
            receipt = s.get(PublicReceipt, row.person_id)
            address = receipt.contact if receipt is not None and receipt.purged_at is None else None
            if not address:  # erased after its retention period (个人信息保护法): nothing to send to
                row.status, row.error = "failed", "联系方式已按保存期限删除，未发送"
                s.add(row)
                return "failed"
    try:
        if channel == "email":
            send_email(settings, address or "", subject, body)
        elif channel == "webhook":
            send_webhook(settings, subject, body, [address] if address else [])
        elif channel == "sms":
            send_sms(settings, address or "", body)
    except Exception as err:
        with session() as s:
            row = s.get(Notice, notice_id)
            assert row is not None
            applicant = row.role == APPLICANT_ROLE
            # An applicant's contact never reaches the outbox: a message may quote it in any form
            # (the address, a display name, a reformatted number), so only its kind and code are kept.
            error = error_kind(err) if applicant else f"{type(err).__name__}: {err}"
            row.attempts, row.error = row.attempts + 1, error[:500]
            s.add(row)
        log.warning("notice_delivery_failed", case_id=row.case_id, notice_id=notice_id, channel=channel,
                    attempt=row.attempts, **({"error": error} if applicant else {}))
        if applicant:  # nor the activity's failure (history, worker log): the kind and code, no cause
            raise ChannelError(error[:500]) from None
        raise
    with session() as s:
        row = s.get(Notice, notice_id)
        assert row is not None
        row.status, row.sent_at, row.attempts, row.error = "sent", utcnow(), row.attempts + 1, None
        s.add(row)
    log.info("notice_sent", case_id=row.case_id, notice_id=notice_id, channel=channel, person_id=row.person_id)
    return "sent"


def error_kind(err: BaseException) -> str:
    """A delivery failure as an applicant's row keeps it: the exception types down its causes, with
    an SMTP reply code or an HTTP status where one is known, never a message."""
    parts: list[str] = []
    seen: BaseException | None = err
    while seen is not None and len(parts) < 4:
        codes: list[int] = []
        if isinstance(seen, smtplib.SMTPRecipientsRefused):
            codes = sorted({int(code) for code, _ in seen.recipients.values()})
        else:
            code = getattr(seen, "smtp_code", None) or getattr(seen, "code", None) or getattr(seen, "status", None)
            if isinstance(code, int) and not isinstance(code, bool):
                codes = [code]
        parts.append(type(seen).__name__ + "".join(f" {c}" for c in codes))
        seen = seen.__cause__
    return "投递失败：" + " ← ".join(parts)


@activity.defn
def mark_notice_failed(notice_id: int) -> None:
    """The channel kept failing: the row stays listed as failed (pdw notices list --failed)."""
    with session() as s:
        row = s.get(Notice, notice_id)
        if row is not None and row.status != "sent":
            row.status = "failed"
            s.add(row)
            log.error("notice_failed", case_id=row.case_id, notice_id=notice_id, channel=row.channel)


# ---- the leaders' daily digest ------------------------------------------------------------------------


async def send_digest(client: Client, today: date, task_queue: str, *, force: bool = False) -> int:
    """On working days, each leader hears of the overdue cases that concern them: a department's
    first responsible person and leader in charge of its own, the center's leader of all (Art. 41).
    First, every day, the rows of cases ended outside pdw are closed (activities/projection.py)."""
    try:
        await close_rows_ended_outside(client, utcnow())
    except Exception as err:  # noqa: BLE001 - housekeeping: the digest goes out without it
        log.warning("projection_close_ended_outside_failed", error=f"{type(err).__name__}: {err}"[:300])
    if not force and not await asyncio.to_thread(lambda: load_calendar().is_working_day(today)):
        return 0
    # From the case projection (indexed), not visibility: each department hears of its own overdue
    # steps only, not of another's in a joint approval; a step that keeps failing (PdwStuck) needs a
    # person: the center's leader hears of it too.
    overdue, stuck = await asyncio.to_thread(digest_lists, LEVEL_URGED)
    if not overdue and not stuck:
        return 0
    written = await asyncio.to_thread(_write_digest, today, overdue, stuck)
    await start_deliveries(client, await asyncio.to_thread(pending, f"digest-{today.isoformat()}"), task_queue)
    return written


def _write_digest(today: date, overdue: list[dict[str, Any]], stuck: list[dict[str, Any]] | None = None) -> int:
    case_id, written, at = f"digest-{today.isoformat()}", 0, utcnow()
    stuck = [{**c, "case_type_zh": CASE_TYPE_ZH.get(c["case_type"], ""), "url": case_url(c["case_id"])}
             for c in sorted(stuck or [], key=lambda c: c["case_id"])]
    with session() as s:
        the_center = dept_of_kind(s, "center")
        names = {c["dept"]: get_department(s, c["dept"]).name for c in overdue if c["dept"]}
        lines = [
            {**c, "dept_name": names.get(c["dept"], c["dept"]), "case_type_zh": CASE_TYPE_ZH.get(c["case_type"], ""),
             "due_zh": day_zh(c["due"].astimezone(SHANGHAI).date()) if c["due"] else "—",
             "level_zh": LEVEL_ZH.get(c["level"], ""), "url": case_url(c["case_id"])}
            for c in sorted(overdue, key=lambda c: (c["dept"], c["case_id"]))
        ]
        readers: list[tuple[Department, str, list[dict[str, Any]], list[dict[str, Any]]]] = [
            (the_center, PersonRole.first_responsible, lines, stuck)
        ]
        for code in sorted(names):
            dept = get_department(s, code)
            mine = [c for c in lines if c["dept"] == code]
            readers += [(dept, PersonRole.first_responsible, mine, []), (dept, PersonRole.leader_in_charge, mine, [])]
        for dept, role, cases, stuck_cases in readers:
            for person in holders(s, dept.code, role):
                body = TEMPLATES.get_template("digest.txt.j2").render(
                    day_zh=day_zh(today), cases=cases, stuck=stuck_cases, person_name=person.name,
                    dept_name_of_person=dept.name, role_zh=ROLE_ZH[PersonRole(role)],
                )
                written += _write(s, case_id=case_id, step="digest", level=0, dept=dept, role=role, person=person,
                                  subject=body.splitlines()[0], body=body, case_time=at)
    return written


@activity.defn
async def daily_digest() -> int:
    today = datetime.now(SHANGHAI).date()
    await resend_pending(activity.client(), activity.info().task_queue, 30)  # nothing stays pending for good
    return await send_digest(activity.client(), today, activity.info().task_queue)
