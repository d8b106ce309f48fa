"""Store work of rectification orders (Art. 46): the checks of a proposal only the records can make
(the department, the ordering authority, the evidence cases), the case's row, and its updates."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import (
    StoreError,
    center,
    dept_of_kind,
    get_department,
    insert_ignore,
    session,
    update_case_record,
)
from models.access import MisuseCase
from models.cases import DeadlineMiss, Decision
from models.catalog import CatalogUpdateCase
from models.catalog_register import CatalogRegistrationCase
from models.correction import CorrectionReport
from models.departments import Department, DeptKind
from models.dispute import Dispute
from models.notices import Notice
from models.rectification import (
    AUTHORITY_KINDS,
    RectificationCase,
    RectificationInput,
    RectificationOpened,
    RectificationUpdate,
)
from models.share import ShareRequest

# Where a case id may be found in the records, with the columns naming the departments it concerns:
# a missed deadline (Art. 41, 46) or a decision names the department; a process's own row names its
# parties; a notice went to a department the case concerned.
EVIDENCE_SOURCES: tuple[tuple[type[SQLModel], tuple[str, ...]], ...] = (
    (DeadlineMiss, ("dept_code",)),
    (Decision, ("dept_code",)),
    (ShareRequest, ("requester_code", "source_code")),
    (CorrectionReport, ("reporter_code", "source_code")),
    (CatalogUpdateCase, ("owner_code",)),
    (CatalogRegistrationCase, ("owner_code",)),
    (MisuseCase, ("grantee_code", "source_code")),
    (RectificationCase, ("dept_code",)),
    (Notice, ("dept_code",)),
)


def check_target(s: Session, dept_code: str) -> Department:
    """Art. 46: the department ordered to correct is a 公共管理和服务机构 (kind department)."""
    dept = get_department(s, dept_code)
    if dept.kind != DeptKind.department:
        raise StoreError(f"部门（dept）“{dept_code}”是{dept.name}，不是公共管理和服务机构：责令改正只针对公共管理和"
                         "服务机构（第四十六条）")
    return dept


def check_authority(s: Session, code: str | None) -> Department:
    """Art. 46: 本级人民政府 (the default) or 上级主管部门 orders; not the center, which proposes."""
    dept = get_department(s, code) if code else dept_of_kind(s, "county_gov")
    if dept.kind not in AUTHORITY_KINDS:
        raise StoreError(f"责令改正机关（authority）“{code}”是{dept.name}：责令改正由本级人民政府（县人民政府）或上级主管"
                         "部门（县大数据发展管理局）作出，县大数据管理中心只能提出建议（第四十六条）")
    return dept


def departments_of_case(s: Session, case_id: str) -> set[str] | None:
    """Every department the records name for ``case_id``, or None when no record knows the case."""
    found: set[str] | None = None
    for model, columns in EVIDENCE_SOURCES:
        rows = s.exec(select(model).where(model.case_id == case_id)).all()  # type: ignore[attr-defined]
        for row in rows:
            found = found or set()
            found |= {str(getattr(row, column)) for column in columns if getattr(row, column, None)}
    for dispute in s.exec(select(Dispute).where(Dispute.case_id == case_id)).all():
        found = (found or set()) | set(dispute.parties)
    return found


def check_evidence_cases(s: Session, dept: Department, case_ids: list[str]) -> None:
    """Each evidence case must be in the records and concern the department (Art. 46: the facts)."""
    for case_id in case_ids:
        named = departments_of_case(s, case_id)
        if named is None:
            raise StoreError(f"证据案件（evidence_cases）“{case_id}”不在记录中：须为已有记录的案件编号（第四十六条）")
        if dept.code not in named:
            raise StoreError(f"证据案件（evidence_cases）“{case_id}”与{dept.name}（{dept.code}）无关：须为记录中涉及该部门的"
                             "案件，如其逾期记录或其为当事部门的案件（第四十六条）")


def check_proposal(dept_code: str, authority_code: str | None,
                   evidence_cases: list[str]) -> tuple[Department, Department]:
    """What only the records can tell about a proposal; returns the department and the authority."""
    with session() as s:
        dept = check_target(s, dept_code)
        authority = check_authority(s, authority_code)
        check_evidence_cases(s, dept, evidence_cases)
        return dept, authority


def _row(inp: RectificationInput) -> dict[str, Any]:
    return {"case_id": inp.case_id, "dept_code": inp.dept_code, "failings": inp.failings, "status": "proposed",
            "proposed_by": inp.proposed_by.person_id, "authority_code": inp.authority_code, "evidence": inp.evidence,
            "evidence_cases": inp.evidence_cases, "correct": inp.correct, "working_days": inp.working_days}


@activity.defn
def open_rectification_case(inp: RectificationInput) -> RectificationOpened:
    """Record the proposal (once) and name the parties."""
    try:
        with session() as s:
            dept = get_department(s, inp.dept_code)
            authority = get_department(s, inp.authority_code)
            the_center = center(s)
            insert_ignore(s, RectificationCase, _row(inp), ["case_id"])
            return RectificationOpened(dept_name=dept.name, center_code=the_center.code, center_name=the_center.name,
                                       authority_name=authority.name, authority_kind=authority.kind)
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def update_rectification_case(u: RectificationUpdate) -> None:
    update_case_record(RectificationCase, u.case_id, u.model_dump(exclude={"case_id"}))
