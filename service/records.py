"""The county's records as staff read them: departments and their people (Art. 43), the catalog
and its versions (Art. 10), grants (Art. 22), the notices outbox and working-day look-ups. Each
function is blocking: the API runs it on a thread."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, or_, select

from activities.calendar import load_calendar
from activities.catalog import get_resource
from activities.share import list_grants
from activities.store import case_number_issued, get_department, holders, session
from models.access import OFFSET_MAX
from models.catalog import ELEMENT_ZH, CatalogVersion
from models.departments import ROLE_ZH, Department
from models.labels import KINDS, labelled, zh
from models.notices import Notice
from models.projection import CaseView
from models.steps import STEP_RULES
from models.types import utcnow
from service.auth import Principal, oversees, require_case_reader
from service.errors import bad_input, not_found

ROLES_ZH = dict(KINDS["role"])
# The elements whose values are codes, and their kinds (models/labels.py).
ELEMENT_KINDS = {"share_attribute": "share_attribute", "open_attribute": "open_attribute",
                 "update_frequency": "update_frequency", "forbidden_ground": "forbidden_ground"}


CONTACTS = {"email", "mobile", "dingtalk_id"}


def departments(principal: Principal) -> list[dict[str, Any]]:
    """Departments and their registered people; where notices go (contacts) only for the center."""
    hidden = set() if principal.person().dept_kind == "center" else CONTACTS
    rows = []
    with session() as s:
        for dept in s.exec(select(Department).order_by(Department.code)).all():  # type: ignore[arg-type]
            people = {role.value: [p.model_dump(exclude=hidden) for p in holders(s, dept.code, role)]
                      for role in ROLE_ZH}
            rows.append({"code": dept.code, "name": dept.name, "kind": dept.kind, "kind_zh": zh("dept_kind", dept.kind),
                         "people": people, "roles_zh": ROLES_ZH})
    return rows


def catalog() -> list[dict[str, Any]]:
    with session() as s:
        names = {d.code: d.name for d in s.exec(select(Department)).all()}
        rows = s.exec(select(CatalogVersion).where(CatalogVersion.is_current)
                      .order_by(CatalogVersion.resource_id)).all()  # type: ignore[arg-type]
        return [{**labelled(r.model_dump(mode="json"), **ELEMENT_KINDS),
                 "provider_name": names.get(r.provider_code, r.provider_code)} for r in rows]


def catalog_entry(resource_id: str) -> list[dict[str, Any]]:
    """Every version of one entry, each element with its Chinese name and label."""
    with session() as s:
        get_resource(s, resource_id)
        names = {d.code: d.name for d in s.exec(select(Department)).all()}
        versions = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == resource_id)
                          .order_by(CatalogVersion.version)).all()  # type: ignore[arg-type]
        out = []
        for v in versions:
            # Art. 29: the ground of forbidden data; Art. 16, 20: items and modes; Art. 39: the 保密审查 record.
            data = labelled(v.model_dump(mode="json"), forbidden_ground="forbidden_ground", share_modes="share_mode",
                            secrecy_conclusion="secrecy_conclusion")
            data["elements"] = [
                {"field": f, "zh": name, "value": data[f], "label": element_label(f, data[f], names)}
                for f, name in ELEMENT_ZH.items()
            ]
            out.append(data)
        return out


def element_label(field: str, value: Any, names: dict[str, str]) -> str:
    """A catalog element's value for people: a code's label, the providing unit's name (提供单位)."""
    if field == "provider_code":
        return names.get(value, "")
    return zh(ELEMENT_KINDS[field], value, "") if field in ELEMENT_KINDS else ""


def grants(principal: Principal, dept: str | None, resource: str | None, all_: bool) -> list[dict[str, Any]]:
    """Grants; a department other than the center and the county sees those it gives or holds."""
    actor = principal.person()
    with session() as s:
        if dept:
            get_department(s, dept)
        if resource:
            get_resource(s, resource)
        names = {d.code: d.name for d in s.exec(select(Department)).all()}
    rows = list_grants(dept, resource, active_only=not all_)
    if not oversees(actor):
        rows = [g for g in rows if actor.dept_code in (g.grantee_code, g.source_code)]
    now = utcnow()  # Art. 22: a grant past its valid_until is shown as expired
    return [labelled({**g.model_dump(mode="json"), "status": g.status(now), "grantee_name": names.get(g.grantee_code, ""),
                      "source_name": names.get(g.source_code, "")}, mode="share_mode", status="grant_status")
            for g in rows]


def notices(principal: Principal, case_id: str | None, failed: bool, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The outbox, newest first; a department other than the center and the county sees its own people's."""
    actor = principal.person()
    if not 1 <= limit <= 1000:
        raise bad_input("最多条数（limit）须为 1 至 1000", "limit")
    if not 0 <= offset <= OFFSET_MAX:
        raise bad_input(f"跳过的条数（offset）须为 0 至 {OFFSET_MAX}", "offset")
    q = select(Notice).order_by(Notice.id.desc()).limit(limit).offset(offset)  # type: ignore[union-attr]
    if case_id:
        q = q.where(Notice.case_id == case_id)
    if failed:
        q = q.where(Notice.status == "failed")
    if not oversees(actor):
        q = q.where(or_(Notice.dept_code == actor.dept_code, Notice.person_id == actor.person_id))
    with session() as s:
        rows = s.exec(q).all()
        if case_id and not rows and not _known_case(s, case_id):
            raise not_found(f"案件“{case_id}”不存在（案件编号见 pdw inbox、pdw show）")
    if case_id and rows:
        require_case_reader(principal, case_id, [n.dept_code for n in rows])
    hidden = {"body"} if actor.dept_kind == "center" else {"body", "address", "error"}
    return [_rung(labelled(n.model_dump(mode="json", exclude=hidden), status="notice_status", channel="channel",
                           level="rung", role="role")) for n in rows]


def _known_case(s: Session, case_id: str) -> bool:
    """A case whose number pdw has handed out (a dispute's ends in its share case's), or of which it
    has a row or a notice: a case just started, before its first row, is known too."""
    return (case_number_issued(s, case_id) or s.get(CaseView, case_id) is not None
            or s.exec(select(Notice.id).where(Notice.case_id == case_id).limit(1)).first() is not None)


def _rung(row: dict[str, Any]) -> dict[str, Any]:
    """Level 0 is a step's 待办 only when the row is about a step; a decision, an applicant's
    outcome or the digest is a plain notice (通知)."""
    if row.get("level") == 0 and row.get("step") not in STEP_RULES:
        row["level_zh"] = "通知"
    return row


def due(from_: str, working_days: int) -> dict[str, Any]:
    """The last working day of a period: counted from the day after the event (no credential)."""
    try:
        start = date.fromisoformat(from_)
    except ValueError as err:
        raise bad_input(f"起算日期（from）“{from_[:40]}”格式错误，应为 YYYY-MM-DD", "from") from err
    if not 1 <= working_days <= 1000:
        raise bad_input("工作日数（working_days）须为 1 至 1000 的整数", "working_days")
    if not 2000 <= start.year <= 2100:
        raise bad_input("起算日期（from）须在 2000 年至 2100 年之间", "from")
    day, provisional = load_calendar().due(start, working_days)
    return {"due": day.isoformat(), "provisional": provisional}
