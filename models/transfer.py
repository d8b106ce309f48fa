"""Moving a running case's source role (数源部门) to a resource's new providing unit: a local rule
for what Art. 11 leaves open when the 提供单位 of an entry changes (workflows/case.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TransferCheck(BaseModel):
    """Is ``to`` the resource's current owner? The answer is its name."""

    resource_id: str
    to: str


class TransferRecord(BaseModel):
    """What a transfer writes besides the decision: the case's own record follows, and the audit."""

    case_id: str
    case_type: str
    seq: int  # the transfer's decision number in the case: the audit's key
    from_code: str
    to_code: str
    person_id: str
    reasons: str
    at: datetime
    steps: list[str] = []
    fresh_due: dict[str, datetime] = {}
