"""Store activities of share approval (Art. 13–22): checking a request, grants, revocation."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from sqlmodel import Session, or_, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar import SHANGHAI
from activities.catalog import current_version, get_resource
from activities.notices import case_notice_rows, pending, start_deliveries, write_case_notices
from activities.store import (
    NotFoundError,
    StoreError,
    center,
    get_department,
    insert_ignore,
    record_audit,
    session,
    update_case_record,
)
from models.audit import AuditRecord
from models.catalog import CatalogVersion, DataResource
from models.departments import Actor, Department
from models.notices import CaseNotice
from models.share import (
    GRANT_ID_SLOT,
    MAX_MONTHS,
    SHARE_MODES,
    Grant,
    GrantRequest,
    Provision,
    ShareCaseOpened,
    ShareClosing,
    ShareGranted,
    ShareRequest,
    ShareRequestInput,
)
from models.types import utcnow

log = structlog.get_logger("pdw.activities")


def check_share_request(
    s: Session, *, resource_id: str, items: list[str], purpose: str, scope: str, mode: str, months: int,
    requester: Actor,
) -> tuple[DataResource, CatalogVersion, Department]:
    """Everything wrong with a share request, found before anything is written (Art. 13, 16, 20)."""
    resource = get_resource(s, resource_id)
    entry = current_version(s, resource.id)
    source = get_department(s, resource.owner_code)
    if requester.dept_code == source.code:
        raise StoreError(f"申请部门不能是数源部门本身：{source.name}无须申请共享自己的数据（第十三条）")
    if not items:
        raise StoreError("数据项（items）不能为空：须写明申请的数据项内容（第二十条）")
    unknown = [i for i in items if i not in resource.items]
    if unknown:
        raise StoreError(
            f"数据项（items）“{unknown[0]}”不在数据资源 {resource.id} 中，可申请的数据项：{'、'.join(resource.items)}（第二十条）"
        )
    if not purpose.strip():
        raise StoreError("共享用途（purpose）不能为空：使用部门须提出明确的共享需求和用途（第十三条、第二十条）")
    if not scope.strip():
        raise StoreError("使用范围（scope）不能为空：须说明使用范围（第二十条）")
    if mode not in SHARE_MODES or mode not in resource.share_modes:
        offered = "、".join(f"{m}（{SHARE_MODES[m]}）" for m in resource.share_modes)
        what = f"不提供{SHARE_MODES[mode]}方式" if mode in SHARE_MODES else f"没有“{mode}”这种共享方式"
        raise StoreError(f"数据资源 {resource.id} {what}（mode），可选：{offered or '无'}（第十六条）")
    if not 1 <= months <= MAX_MONTHS:
        raise StoreError(f"使用期限（months）须为 1 至 {MAX_MONTHS} 个月")
    return resource, entry, source


def _bad_input(err: StoreError) -> ApplicationError:
    return ApplicationError(str(err), type="BadInput", non_retryable=True)


@activity.defn
def open_share_case(inp: ShareRequestInput) -> ShareCaseOpened:
    """Check the request, record it once, and read the resource's share attribute and collection
    state as they stand now (Art. 15, 20)."""
    try:
        with session() as s:
            resource, entry, source = check_share_request(
                s, resource_id=inp.resource_id, items=inp.items, purpose=inp.purpose, scope=inp.scope,
                mode=inp.mode, months=inp.months, requester=inp.requested_by,
            )
            the_center = center(s)
            insert_ignore(
                s,
                ShareRequest,
                {
                    "case_id": inp.case_id, "resource_id": resource.id, "requester_code": inp.requested_by.dept_code,
                    "source_code": source.code, "items": inp.items, "purpose": inp.purpose, "scope": inp.scope,
                    "mode": inp.mode, "months": inp.months, "share_attribute": entry.share_attribute,
                    "collected": resource.collected, "status": "under_review",
                    "renews_grant_id": inp.renews_grant_id,
                },
                ["case_id"],
            )
            return ShareCaseOpened(
                source_code=source.code, source_name=source.name, center_code=the_center.code,
                center_name=the_center.name, share_attribute=entry.share_attribute,
                collected=resource.collected, resource_name=entry.name,
            )
    except StoreError as err:
        raise _bad_input(err) from err


@activity.defn
def write_grant(req: GrantRequest) -> int:
    """An approval creates a grant (Art. 20, 22); a case writes at most one."""
    with session() as s:
        insert_ignore(s, Grant, req.model_dump(), ["case_id"])
        grant = s.exec(select(Grant).where(Grant.case_id == req.case_id)).one()
    log.info("grant_written", case_id=req.case_id, grant_id=grant.id, grantee=req.grantee_code)
    assert grant.id is not None
    return grant.id


@activity.defn
async def grant_and_close(g: ShareGranted) -> int:
    """Art. 20, 22: the approval's grant written and the request closed as granted, and (since
    pdw-2026.12.3) the requester told, in one activity (issue 14: one local activity, not three);
    each write is idempotent, so a retry doubles nothing."""
    grant_id, ids = await asyncio.to_thread(_granted, g)
    await start_deliveries(activity.client(), ids, activity.info().task_queue)
    return grant_id


def _granted(g: ShareGranted) -> tuple[int, list[int]]:
    grant_id = write_grant(g.grant)
    close_share_case(g.closing)
    if g.notice is None:  # a case begun under pdw-2026.12.2 tells the requester in an activity of its own
        return grant_id, []
    notice = g.notice.model_copy(update={"detail": g.notice.detail.replace(GRANT_ID_SLOT, str(grant_id), 1)})
    return grant_id, case_notice_rows(notice)[1]


@activity.defn
def record_provision(p: Provision) -> None:
    """Art. 20: the source provided the data it agreed to provide; from now on the resource counts
    as collected (归集), so later requests for it are approved as collected data. A retry, or a
    resource another case already marked, changes nothing."""
    with session() as s:
        resource = s.get(DataResource, p.resource_id)
        if resource is None:
            raise ApplicationError(f"数据资源 {p.resource_id} 不在目录中", type="BadInput", non_retryable=True)
        if not resource.collected:
            resource.collected = True
            s.add(resource)
            log.info("resource_collected", case_id=p.case_id, resource_id=p.resource_id, by=p.person_id)
    update_case_record(ShareRequest, p.case_id, {"provided_at": p.provided_at})


@activity.defn
def close_share_case(c: ShareClosing) -> None:
    update_case_record(ShareRequest, c.case_id, c.model_dump(exclude={"case_id"}))


# ---- grants, from the command line ------------------------------------------------------------------


def list_grants(dept: str | None = None, resource: str | None = None, active_only: bool = True) -> list[Grant]:
    """Grants, newest first; active ones only unless asked: not revoked, not expired (Art. 22)."""
    now = utcnow()
    q = select(Grant).order_by(Grant.id.desc())  # type: ignore[union-attr]
    if dept:
        q = q.where(or_(Grant.grantee_code == dept, Grant.source_code == dept))
    if resource:
        q = q.where(Grant.resource_id == resource)
    if active_only:
        q = q.where(Grant.revoked_at.is_(None), Grant.valid_until > now)  # type: ignore[union-attr]
    with session() as s:
        return list(s.exec(q).all())


def revoke_grant(grant_id: int, actor: Actor, reason: str, at: datetime | None = None) -> tuple[Grant, list[int]]:
    """Art. 22: shared data used beyond the grantee's duties loses its grant at once. Only the
    center revokes, with the reason; the grantee and the source are told (returns the notices to
    deliver)."""
    if actor.dept_kind != "center":
        raise StoreError(f"{actor.label()}无权撤销：共享授权由县大数据管理中心撤销（第二十二条）")
    if not reason.strip():
        raise StoreError("理由（reason）不能为空：撤销共享授权须写明滥用或违规使用的情形（第二十二条）")
    at = at or utcnow()
    with session() as s:
        grant = s.get(Grant, grant_id)
        if grant is None:
            raise NotFoundError(f"共享授权“{grant_id}”不存在（pdw grant list 查看）")
        if grant.revoked_at is not None:
            raise StoreError(f"共享授权 {grant_id} 已于 {grant.revoked_at.astimezone(SHANGHAI):%Y-%m-%d} 撤销")
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = at, actor.person_id, reason.strip()
        s.add(grant)
        record_audit(s, AuditRecord(case_id=grant.case_id, key=f"grant_revoked:{grant_id}", event="grant_revoked",
                                    person_id=actor.person_id, at=at, detail={"reason": reason.strip()}))
    log.warning("grant_revoked", case_id=grant.case_id, grant_id=grant_id, by=actor.person_id)
    return grant, tell_revoked(grant, reason.strip(), at)


def tell_revoked(grant: Grant, reason: str, at: datetime) -> list[int]:
    """The grantee and the source hear of a revocation (once: the outbox is keyed); returns the
    notices still to deliver."""
    for dept in (grant.grantee_code, grant.source_code):
        write_case_notices(
            CaseNotice(
                case_id=grant.case_id, case_type="share", key=f"share.grant_revoked.{grant.id}", kind="grant_revoked",
                dept_code=dept, headline=f"共享授权 {grant.id} 已撤销",
                detail=f"撤销理由：{reason}。共享数据只能用于本部门履行职责需要，自即日起停止使用。",
                article="第二十二条", at=at,
            )
        )
    return pending(grant.case_id, f"share.grant_revoked.{grant.id}")
