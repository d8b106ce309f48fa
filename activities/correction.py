"""Store activities of data correction (Art. 23)."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.catalog import current_version, get_resource
from activities.store import StoreError, center, get_department, insert_ignore, session, update_case_record
from models.catalog import DataResource
from models.correction import CorrectionInput, CorrectionOpened, CorrectionReport, CorrectionUpdate
from models.departments import Actor, Department


def check_correction_report(
    s: Session, *, resource_id: str, items: list[str], found: str, expected: str, reporter: Actor
) -> tuple[DataResource, Department]:
    """Everything wrong with an error report, before anything is written (Art. 23)."""
    resource = get_resource(s, resource_id)
    source = get_department(s, resource.owner_code)
    if reporter.dept_code == source.code:
        raise StoreError(f"反馈部门不能是数源部门本身：{source.name}发现本部门数据有误应直接更正（第十九条）")
    if not items:
        raise StoreError("数据项（items）不能为空：须写明有疑义或错误的数据项（第二十三条）")
    unknown = [i for i in items if i not in resource.items]
    if unknown:
        raise StoreError(f"数据项（items）“{unknown[0]}”不在数据资源 {resource.id} 中，可选：{'、'.join(resource.items)}（第二十三条）")
    if not found.strip():
        raise StoreError("发现的问题（found）不能为空：须写明疑义或错误（第二十三条）")
    if not expected.strip():
        raise StoreError("期望的数据（expected）不能为空：须写明认为正确的数据（第二十三条）")
    return resource, source


@activity.defn
def open_correction_case(inp: CorrectionInput) -> CorrectionOpened:
    try:
        with session() as s:
            resource, source = check_correction_report(
                s, resource_id=inp.resource_id, items=inp.items, found=inp.found, expected=inp.expected,
                reporter=inp.reported_by,
            )
            the_center = center(s)
            insert_ignore(
                s,
                CorrectionReport,
                {
                    "case_id": inp.case_id, "resource_id": inp.resource_id, "reporter_code": inp.reported_by.dept_code,
                    "source_code": source.code, "items": inp.items, "found": inp.found, "expected": inp.expected,
                    "evidence": inp.evidence, "proof_provided": inp.proof_provided, "status": "awaiting_forward",
                },
                ["case_id"],
            )
            return CorrectionOpened(
                source_code=source.code, source_name=source.name, center_code=the_center.code,
                center_name=the_center.name, resource_name=current_version(s, inp.resource_id).name,
            )
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def update_correction_case(u: CorrectionUpdate) -> None:
    update_case_record(CorrectionReport, u.case_id, u.model_dump(exclude={"case_id"}))
