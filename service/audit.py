"""Whether the audit log's hash chain holds (``pdw audit verify``, GET /v1/audit/verify): every row's
hash is recomputed in id order and each row's prev_hash compared with the row before it."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from activities.store import session
from models.audit import GENESIS, AuditEvent, chain_hash
from models.departments import Actor
from service.auth import require_admin

PAGE = 1000  # rows read at a time: the table only grows


def _broken(row: AuditEvent, why: str) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "event": row.event, "why": why}


def verify_chain() -> dict[str, Any]:
    """``{holds, rows, last_id, head, broken, message}``: ``broken`` is the first row where the chain
    fails (its id, case, event and why), ``head`` the last row's hash (worth writing down elsewhere:
    a chain cut short at its end, or rewritten from some row on, is told only by an older head)."""
    prev, prev_id, count = GENESIS, None, 0
    broken: dict[str, Any] | None = None
    with session() as s:
        while broken is None:
            query = select(AuditEvent).order_by(col(AuditEvent.id)).limit(PAGE)
            if prev_id is not None:
                query = query.where(col(AuditEvent.id) > prev_id)
            rows = s.exec(query).all()
            for row in rows:
                if row.prev_hash != prev:
                    why = ("其前一条哈希与上一条记录不符：此前有记录被删除、插入或改动" if prev_id is not None
                           else "首条记录的前一条哈希不是起始值：此前有记录被删除")
                    broken = _broken(row, why)
                    break
                if chain_hash(row.model_dump(), row.prev_hash) != row.row_hash:
                    broken = _broken(row, "内容与其哈希不符：该记录被改动过")
                    break
                prev, prev_id, count = row.row_hash, row.id, count + 1
            if len(rows) < PAGE:
                break
    if broken:
        message = (f"审计链已断：第一处在记录 {broken['id']}（案件 {broken['case_id']}，事件 {broken['event']}）："
                   f"{broken['why']}")
    elif count:
        message = f"审计链完整：共 {count} 条记录，末条为记录 {prev_id}，末条哈希 {prev[:16]}…"
    else:
        message = "审计链完整：尚无审计记录"
    return {"holds": broken is None, "rows": count, "last_id": prev_id, "head": prev if count else None,
            "broken": broken, "message": message}


def verify(actor: Actor) -> dict[str, Any]:
    """The center's check of the audit log (Art. 4: administration is the center's)."""
    require_admin(actor, "audit.verify")
    return verify_chain()
