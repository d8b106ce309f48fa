"""Notices of the deadline ladder: recipients resolved when sent (Art. 43), rendered from
``templates/``, written to the outbox once per (case, step, level, person, channel), and logged."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from temporalio import activity

from activities.calendar import SHANGHAI
from activities.store import dept_of_kind, get_department, holders, insert_ignore, session
from models.cases import LEVEL_ESCALATED, LEVEL_URGED, LEVEL_WARNED, LEVEL_ZH
from models.departments import ROLE_ZH, PersonRole
from models.notices import CaseNotice, LadderNotice, Notice
from settings import get_settings

log = structlog.get_logger("pdw.notices")

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
CASE_TYPE_ZH = {"catalog_update": "目录更新", "share": "共享申请", "dispute": "争议协调", "correction": "数据纠错",
                "open_review": "受限开放申请", "open_listing": "开放目录申请复核"}
CHANNEL = "log"  # issue 5 brings email and webhook; the outbox row is written for every channel


def day_zh(d: date) -> str:
    """A date in Chinese form: 2026年10月15日."""
    return f"{d.year}年{d.month}月{d.day}日"


def case_url(case_id: str) -> str:
    s = get_settings()
    return f"{s.ui_url.rstrip('/')}/namespaces/{quote(s.namespace)}/workflows/{quote(case_id)}"


def _recipients(n: LadderNotice) -> list[tuple[str, str]]:
    """(department, role) pairs a rung goes to: warning the administrator, urging the leader in
    charge, escalation the first responsible person and the leader of the center (or, for a
    dispute, of the county government) (Art. 43, Art. 20 ¶2)."""
    if n.level == LEVEL_WARNED:
        return [(n.dept_code, PersonRole.daily_admin)]
    if n.level == LEVEL_URGED:
        return [(n.dept_code, PersonRole.leader_in_charge)]
    with session() as s:
        above = dept_of_kind(s, n.escalate_to).code
    pairs = [(n.dept_code, PersonRole.first_responsible)]
    if above != n.dept_code:
        pairs.append((above, PersonRole.first_responsible))
    return pairs


@activity.defn
def send_ladder_notice(n: LadderNotice) -> int:
    """Write (and log) the notices of one ladder rung; returns how many this call wrote."""
    assert n.level in (LEVEL_WARNED, LEVEL_URGED, LEVEL_ESCALATED)
    written = 0
    days_over = (n.at.astimezone(SHANGHAI).date() - n.deadline.due_date).days
    with session() as s:
        dept = get_department(s, n.dept_code)
        for dept_code, role in _recipients(n):
            people = holders(s, dept_code, role)
            if not people:
                log.error("notice_role_vacant", case_id=n.case_id, dept=dept_code, role=role)
            for person in people:
                body = TEMPLATES.get_template("ladder.txt.j2").render(
                    level=n.level,
                    level_zh=LEVEL_ZH[n.level],
                    case_id=n.case_id,
                    case_type_zh=CASE_TYPE_ZH.get(n.case_type, n.case_type),
                    person_name=person.name,
                    role_zh=ROLE_ZH[PersonRole(role)],
                    dept_name=dept.name,
                    step_zh=n.step_zh,
                    article=n.deadline.article,
                    statutory=n.deadline.statutory,
                    due_date_zh=day_zh(n.deadline.due_date),
                    working_days=n.deadline.working_days,
                    provisional=n.deadline.provisional,
                    days_over=max(days_over, 0),
                    case_url=case_url(n.case_id),
                )
                subject = body.splitlines()[0]
                inserted = insert_ignore(
                    s,
                    Notice,
                    {
                        "case_id": n.case_id,
                        "step": n.deadline.key,
                        "level": n.level,
                        "dept_code": dept_code,
                        "role": role,
                        "person_id": person.id,
                        "person_name": person.name,
                        "channel": CHANNEL,
                        "subject": subject,
                        "body": body,
                        "due_at": n.deadline.due_at,
                        "case_time": n.at,
                    },
                    ["case_id", "step", "level", "person_id", "channel"],
                )
                if inserted:
                    written += 1
                    log.info("notice_sent", case_id=n.case_id, step=n.deadline.key, level=n.level,
                             person_id=person.id, channel=CHANNEL, subject=subject)
    return written


@activity.defn
def send_case_notice(n: CaseNotice) -> int:
    """Tell a department of a decision: its daily administrator (日常管理人员, Art. 43) hears of it,
    once per (case, key, person, channel)."""
    written = 0
    with session() as s:
        dept = get_department(s, n.dept_code)
        people = holders(s, n.dept_code, PersonRole.daily_admin)
        if not people:
            log.error("notice_role_vacant", case_id=n.case_id, dept=n.dept_code, role=PersonRole.daily_admin)
        for person in people:
            body = TEMPLATES.get_template("decision.txt.j2").render(
                case_type_zh=CASE_TYPE_ZH.get(n.case_type, n.case_type),
                case_id=n.case_id,
                headline=n.headline,
                person_name=person.name,
                role_zh=ROLE_ZH[PersonRole.daily_admin],
                dept_name=dept.name,
                detail=n.detail,
                article=n.article,
                case_url=case_url(n.case_id),
            )
            subject = body.splitlines()[0]
            if insert_ignore(
                s,
                Notice,
                {
                    "case_id": n.case_id, "step": n.key, "level": 0, "dept_code": n.dept_code,
                    "role": PersonRole.daily_admin, "person_id": person.id, "person_name": person.name,
                    "channel": CHANNEL, "subject": subject, "body": body, "case_time": n.at,
                },
                ["case_id", "step", "level", "person_id", "channel"],
            ):
                written += 1
                log.info("notice_sent", case_id=n.case_id, key=n.key, person_id=person.id, channel=CHANNEL,
                         subject=subject)
    return written
