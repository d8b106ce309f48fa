"""Renewing a grant (Art. 22): a new share request prefilled from the grant (resource, items,
purpose, scope, mode, months), started through ``start_share_request`` so that every check runs
against the catalog as it stands now (Art. 13, 16, 20). Only the grantee department asks: shared
data serves only its own duties (Art. 22), and the using department states the need (Art. 13)."""

from __future__ import annotations

from typing import Any

from activities.calendar import SHANGHAI
from activities.store import NotFoundError, get_department, session
from models.catalog import DataResource
from models.departments import Actor
from models.requests import GrantRenewRequest, ShareStartRequest
from models.share import Grant, ShareRequest
from service.context import Services, db
from service.errors import bad_input, conflict, forbidden
from service.starts import renewal_running, running_renewal, start_share_request


def _load(grant_id: int) -> tuple[Grant, ShareRequest | None, DataResource | None, str, str | None]:
    """The grant, its request, its resource, the grantee's name and the renewal of it still running."""
    with session() as s:
        grant = s.get(Grant, grant_id)
        if grant is None:
            raise NotFoundError(f"共享授权“{grant_id}”不存在（pdw grant list --all 查看）")
        running = running_renewal(s, grant_id)
        return (grant, s.get(ShareRequest, grant.case_id), s.get(DataResource, grant.resource_id),
                get_department(s, grant.grantee_code).name, running)


def _months(grant: Grant, request: ShareRequest | None) -> int:
    """The original request's months; for a grant without its request, the months it ran."""
    if request is not None:
        return request.months
    start, end = grant.valid_from, grant.valid_until
    return max(1, min(60, (end.year - start.year) * 12 + end.month - start.month))


async def renew(
    services: Services, actor: Actor, grant_id: int, req: GrantRenewRequest, given_id: str | None = None
) -> dict[str, Any]:
    grant, request, resource, grantee, running = await db(_load, grant_id)
    if actor.dept_code != grant.grantee_code:
        raise forbidden(f"{actor.label()}无权续期共享授权 {grant_id}：续期由获授权的使用部门{grantee}申请"
                        "（第二十二条：共享数据只能用于本部门履行职责需要；第十三条：由使用部门提出共享需求）")
    if grant.revoked_at is not None:
        raise conflict(f"共享授权 {grant_id} 已于 {grant.revoked_at.astimezone(SHANGHAI):%Y-%m-%d} 撤销"
                       f"（{grant.revoke_reason or ''}），不能续期：撤销是因滥用或违规使用而取消共享（第二十二条）；"
                       "确因履行职责需要的，须重新提出共享申请（第十三条、第二十条）")
    if running is not None and running != given_id:  # a retried start under its Idempotency-Key goes on
        raise renewal_running(grant_id, running)  # checked again, race-free, as the case starts
    if resource is not None:
        gone = [i for i in grant.items if i not in resource.items]
        if gone:
            raise bad_input(f"共享授权 {grant_id} 的数据项（items）“{gone[0]}”已不在数据资源 {grant.resource_id} 的现行目录中"
                            f"（现有数据项：{'、'.join(resource.items)}），不能按原授权续期：请用 pdw share request "
                            "按现行目录重新申请（第十条、第二十条）", "items")
    purpose = req.purpose if req.purpose is not None else grant.purpose
    if not purpose.strip():
        raise bad_input("共享用途（purpose）不能为空：使用部门须提出明确的共享需求和用途（第十三条、第二十条）", "purpose")
    share = ShareStartRequest.model_validate({
        "resource_id": grant.resource_id, "items": grant.items, "purpose": purpose, "scope": grant.scope,
        "mode": grant.mode, "months": req.months or _months(grant, request),
    })
    return await start_share_request(services, actor, share, given_id, renews_grant_id=grant.id)
