"""Store work of a transfer (local rule): the target is the resource's current owner; the case's own
record names its new source department; the audit keeps who moved it, from whom, to whom, why."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.catalog import get_resource
from activities.store import StoreError, get_department, record_audit, session
from models.audit import AuditRecord
from models.catalog import CatalogUpdateCase
from models.correction import CorrectionReport
from models.share import ShareRequest
from models.transfer import TransferCheck, TransferRecord

log = structlog.get_logger("pdw.activities")
# Where each process's record names the department acting as source; open_listing keeps none.
SOURCE_FIELD: dict[str, tuple[Any, str]] = {
    "share": (ShareRequest, "source_code"),
    "correction": (CorrectionReport, "source_code"),
    "catalog_update": (CatalogUpdateCase, "owner_code"),
}


@activity.defn
def check_transfer(req: TransferCheck) -> str:
    """The department a case may move to is the one that provides the data now (提供单位, Art. 10):
    its name, or a refusal in Chinese."""
    try:
        with session() as s:
            resource = get_resource(s, req.resource_id)
            target = get_department(s, req.to)
            if resource.owner_code != target.code:
                owner = get_department(s, resource.owner_code)
                raise StoreError(f"不能移交给{target.name}：数据资源 {resource.id} 现在的提供单位是{owner.name}（{owner.code}），"
                                 "案件只能移交给现在的提供单位（移交部门 to，本地规定，第十条）")
            return target.name
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def record_transfer(rec: TransferRecord) -> None:
    """Once per transfer (the audit is keyed by case and decision number; the field is set, not added)."""
    with session() as s:
        if rec.case_type in SOURCE_FIELD:
            model, field = SOURCE_FIELD[rec.case_type]
            row = s.get(model, rec.case_id)
            if row is not None:
                setattr(row, field, rec.to_code)
                s.add(row)
        record_audit(s, AuditRecord(
            case_id=rec.case_id, key=f"transfer:{rec.seq}", event="case_transferred", person_id=rec.person_id,
            at=rec.at, detail={"from": rec.from_code, "to": rec.to_code, "reason": rec.reasons, "steps": rec.steps,
                               "due": {k: v.isoformat() for k, v in rec.fresh_due.items()}}))
    log.info("case_transferred", case_id=rec.case_id, from_dept=rec.from_code, to_dept=rec.to_code)
