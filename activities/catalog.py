"""Store activities of the catalog-update process (Art. 10–12)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import (
    NotFoundError,
    StoreError,
    center,
    get_department,
    insert_ignore,
    session,
    update_case_record,
)
from models.catalog import (
    CaseStatusUpdate,
    CatalogCaseOpened,
    CatalogElements,
    CatalogUpdateCase,
    CatalogUpdateInput,
    CatalogVersion,
    DataResource,
    PublishRequest,
)
from models.types import utcnow

log = structlog.get_logger("pdw.activities")


def get_resource(s: Session, resource_id: str) -> DataResource:
    resource = s.get(DataResource, resource_id)
    if resource is None:
        raise NotFoundError(f"数据资源“{resource_id}”不在目录中：resource_id 须为已编目的数据资源编号（pdw catalog list 查看）")
    return resource


def current_version(s: Session, resource_id: str) -> CatalogVersion:
    row = s.exec(
        select(CatalogVersion).where(CatalogVersion.resource_id == resource_id, CatalogVersion.is_current)
    ).one()
    return row


def check_elements_against_store(s: Session, elements: CatalogElements) -> None:
    """What only the store can tell: the providing unit (提供单位) is a registered department."""
    get_department(s, elements.provider_code)


def _non_retryable(err: StoreError) -> ApplicationError:
    return ApplicationError(str(err), type="BadInput", non_retryable=True)


def register_catalog_update(inp: CatalogUpdateInput, owner_code: str) -> str | None:
    """Art. 11: one open update per entry. Record the case before it starts, in the transaction
    that looks for another (the entry's row locked); returns that other open case instead, if any."""
    with session() as s:
        s.exec(select(DataResource).where(DataResource.id == inp.resource_id).with_for_update()).one()
        other = s.exec(select(CatalogUpdateCase.case_id).where(
            CatalogUpdateCase.resource_id == inp.resource_id, col(CatalogUpdateCase.closed_at).is_(None),
            CatalogUpdateCase.case_id != inp.case_id)).first()
        if other:
            return other
        record_catalog_update(s, inp, owner_code)
    return None


def record_catalog_update(s: Session, inp: CatalogUpdateInput, owner_code: str) -> None:
    """The case's record, once (keyed by case id)."""
    insert_ignore(s, CatalogUpdateCase, {
        "case_id": inp.case_id, "resource_id": inp.resource_id, "owner_code": owner_code,
        "status": "awaiting_submission", "changed_at": inp.changed_at, "change_note": inp.change_note,
        "started_by": inp.started_by.person_id}, ["case_id"])


def abandon_catalog_update(case_id: str) -> bool:
    """A recorded update whose workflow never ran or ended without closing no longer blocks the entry;
    one recorded within the last minute may still be starting, so it is left alone (False)."""
    with session() as s:
        row = s.get(CatalogUpdateCase, case_id)
        if row is None or row.started_at > utcnow() - timedelta(minutes=1):
            return False
        row.status, row.closed_at = "abandoned", utcnow()
        s.add(row)
    return True


@activity.defn
def open_catalog_update_case(inp: CatalogUpdateInput) -> CatalogCaseOpened:
    """Record the case (once) and read the entry as it stands."""
    try:
        with session() as s:
            resource = get_resource(s, inp.resource_id)
            owner = get_department(s, resource.owner_code)
            the_center = center(s)
            current = current_version(s, resource.id)
            record_catalog_update(s, inp, owner.code)  # already there when the API started it
            return CatalogCaseOpened(
                resource_id=resource.id,
                owner_code=owner.code,
                owner_name=owner.name,
                center_code=the_center.code,
                center_name=the_center.name,
                current_version=current.version,
                current=current.elements_only(),
            )
    except StoreError as err:
        raise _non_retryable(err) from err


@activity.defn
def check_catalog_elements(elements: CatalogElements) -> None:
    try:
        with session() as s:
            check_elements_against_store(s, elements)
    except StoreError as err:
        raise _non_retryable(err) from err


@activity.defn
def update_catalog_case(update: CaseStatusUpdate) -> None:
    update_case_record(CatalogUpdateCase, update.case_id, update.model_dump(exclude={"case_id"}))


def publish_version(s: Session, req: PublishRequest) -> int:
    """Art. 11: a new version of the entry becomes current; earlier ones are kept.
    Idempotent: a case publishes at most one version (unique case_id)."""
    done = s.exec(select(CatalogVersion).where(CatalogVersion.case_id == req.case_id)).first()
    if done is not None:
        return done.version
    resource = s.exec(select(DataResource).where(DataResource.id == req.resource_id).with_for_update()).one()
    previous = current_version(s, resource.id)
    previous.is_current = False
    s.add(previous)
    s.flush()
    # Validated, not copied: the changes come through the workflow as JSON (a 保密审查 date as text).
    elements = CatalogElements.model_validate({**previous.elements_only().model_dump(), **req.changes})
    if elements.open_attribute != "forbidden":  # Art. 29: a ground is kept only while the data is forbidden
        elements.forbidden_ground = None
    # Art. 10, 15, 39: whatever publishes (an approved update, a listing, a county decision), the new
    # version is a valid entry: no data is opened or shared without its source's 保密审查 record.
    if problems := elements.problems():
        raise ApplicationError(f"目录条目 {resource.id} 的新版本不能发布：{'；'.join(problems)}",
                               type="BadInput", non_retryable=True)
    version = CatalogVersion(
        **elements.model_dump(), resource_id=resource.id, version=previous.version + 1, is_current=True,
        approved_at=req.approved_at, case_id=req.case_id,
    )
    s.add(version)
    # What share and correction requests are checked against follows the entry in force (Art. 16, 20),
    # and so does who they go to: the owner is the 提供单位 (Art. 10). Cases already running stay with
    # the department that holds them unless the center transfers them (workflows/transfer.py).
    resource.current_version, resource.items, resource.share_modes = version.version, version.items, version.share_modes
    resource.owner_code = version.provider_code
    s.add(resource)
    log.info("catalog_version_published", case_id=req.case_id, resource=req.resource_id, version=version.version)
    return version.version


@activity.defn
def publish_catalog_changes(req: PublishRequest) -> int:
    """Art. 11 (an approved update), Art. 28 ¶3 and Art. 32 (a decided open attribute)."""
    with session() as s:
        return publish_version(s, req)
