"""Store work of registering a new catalog entry (Art. 10–11): the checks the service makes before
anything is written, the case's record, and publishing an approved entry as version 1."""

from __future__ import annotations

import re

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import StoreError, center, get_department, insert_ignore, session, update_case_record
from models.catalog import CatalogElements, CatalogVersion, DataResource
from models.catalog_register import (
    CatalogRegisterInput,
    CatalogRegisterOpened,
    CatalogRegistrationCase,
    NewEntry,
    RegistrationUpdate,
)
from models.departments import Actor, Department

log = structlog.get_logger("pdw.activities")


class TakenError(StoreError):
    """The resource id is already an entry, or reserved by an open registration."""


def check_registration(s: Session, elements: CatalogElements, resource_id: str | None) -> Department:
    """What only the store can tell (Art. 10): the providing unit is a registered department and the
    resource id, if given, is free. Returns the providing unit."""
    provider = get_department(s, elements.provider_code)
    if resource_id:
        check_free(s, resource_id)
    return provider


def check_free(s: Session, resource_id: str, case_id: str | None = None) -> None:
    if s.get(DataResource, resource_id) is not None:
        raise TakenError(f"数据资源编号（resource_id）“{resource_id}”已在目录中：新编目录条目须用未使用的编号（第十条）")
    other = s.exec(select(CatalogRegistrationCase.case_id).where(
        CatalogRegistrationCase.resource_id == resource_id, col(CatalogRegistrationCase.closed_at).is_(None),
        CatalogRegistrationCase.case_id != (case_id or ""))).first()
    if other:
        raise TakenError(f"数据资源编号（resource_id）“{resource_id}”已由进行中的编目案件 {other} 使用（第十条）")


def next_resource_id(s: Session, owner_code: str) -> str:
    """RES-<OWNER>-<nnn>: one past the highest number any entry or registration of the owner used."""
    prefix = f"RES-{owner_code.upper()}-"
    taken = [*s.exec(select(DataResource.id).where(col(DataResource.id).startswith(prefix))).all(),
             *s.exec(select(CatalogRegistrationCase.resource_id)
                     .where(col(CatalogRegistrationCase.resource_id).startswith(prefix))).all()]
    numbers = [int(m.group(1)) for rid in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", rid))]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def reserve_registration(case_id: str, actor: Actor, elements: CatalogElements, resource_id: str | None,
                         collected: bool) -> str:
    """Record the case before it starts, with its resource id (given, or the next free one): the
    partial unique index keeps two open registrations off one id. A retried start (same case id)
    gets the id it reserved the first time. Returns the resource id."""
    rid = resource_id
    try:
        with session() as s:
            done = s.get(CatalogRegistrationCase, case_id)
            if done is not None:
                return done.resource_id
            rid = resource_id or next_resource_id(s, elements.provider_code)
            check_free(s, rid, case_id)
            insert_ignore(s, CatalogRegistrationCase, {
                "case_id": case_id, "resource_id": rid, "owner_code": elements.provider_code, "name": elements.name,
                "status": "under_review", "elements": elements.model_dump(mode="json"), "collected": collected,
                "started_by": actor.person_id}, ["case_id"])
            return rid
    except IntegrityError as err:  # another start took the same id at the same moment
        what = f"数据资源编号（resource_id）“{resource_id}”" if resource_id else f"自动编出的数据资源编号“{rid or ''}”"
        raise TakenError(f"{what}刚被另一编目案件使用，请重试（第十条）") from err


def release_registration(case_id: str) -> None:
    """The case could not be started: its reservation goes."""
    with session() as s:
        row = s.get(CatalogRegistrationCase, case_id)
        if row is not None and row.closed_at is None and row.status == "under_review":
            s.delete(row)


@activity.defn
def open_catalog_registration(inp: CatalogRegisterInput) -> CatalogRegisterOpened:
    """Record the case (once: already there when the API started it) and name its parties."""
    try:
        with session() as s:
            owner = get_department(s, inp.elements.provider_code)
            the_center = center(s)
            insert_ignore(s, CatalogRegistrationCase, {
                "case_id": inp.case_id, "resource_id": inp.resource_id, "owner_code": owner.code,
                "name": inp.elements.name, "status": "under_review", "elements": inp.elements.model_dump(mode="json"),
                "collected": inp.collected, "started_by": inp.started_by.person_id}, ["case_id"])
            return CatalogRegisterOpened(owner_code=owner.code, owner_name=owner.name, center_code=the_center.code,
                                         center_name=the_center.name)
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def update_catalog_registration(u: RegistrationUpdate) -> None:
    update_case_record(CatalogRegistrationCase, u.case_id, u.model_dump(exclude={"case_id"}))


@activity.defn
def publish_new_entry(req: NewEntry) -> int:
    """Art. 11: the approved entry is published: the data resource (owned by its providing unit) and
    its catalog version 1, current. Idempotent: a case publishes once (unique case_id)."""
    with session() as s:
        done = s.exec(select(CatalogVersion).where(CatalogVersion.case_id == req.case_id)).first()
        if done is not None:
            return done.version
        if s.get(DataResource, req.resource_id) is not None:  # reserved while open: never, unless by hand
            raise ApplicationError(f"数据资源编号“{req.resource_id}”已在目录中，不能再发布（第十条）",
                                   type="BadInput", non_retryable=True)
        el = req.elements
        s.add(DataResource(id=req.resource_id, owner_code=el.provider_code, current_version=1, collected=req.collected,
                           items=list(el.items), share_modes=list(el.share_modes)))
        s.flush()
        s.add(CatalogVersion(**el.model_dump(), resource_id=req.resource_id, version=1, is_current=True,
                             approved_at=req.approved_at, case_id=req.case_id))
    log.info("catalog_entry_published", case_id=req.case_id, resource=req.resource_id)
    return 1
