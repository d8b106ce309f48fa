"""Store activities and functions for opening data (Art. 28–32). Personal data of applicants is
written here and read nowhere else; nothing here logs it."""

from __future__ import annotations

from datetime import date, datetime

import structlog
from sqlmodel import Session, SQLModel, col, func, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.catalog import current_version, get_resource
from activities.store import (
    NotFoundError,
    StoreError,
    dept_of_kind,
    get_department,
    insert_ignore,
    session,
    update_case_record,
)
from models.catalog import OPEN_ATTRIBUTES, DataResource
from models.identity import contact_problem, id_number_problem, normalise_id_number
from models.open_data import (
    ACCESS_WAYS,
    ID_TYPES,
    ListingObjection,
    ListingReview,
    ListingReviewInput,
    ObjectionRecord,
    OpenApplication,
    OpenApplyInput,
    OpenCaseOpened,
    OpenCaseUpdate,
    OpenRequest,
    masked,
)

log = structlog.get_logger("pdw.activities")
TABLES: dict[str, type[SQLModel]] = {"open_application": OpenApplication, "listing_review": ListingReview}


def _required(value: str, field: str, zh: str, article: str) -> str:
    if not (value or "").strip():
        raise StoreError(f"{zh}（{field}）不能为空（{article}）")
    return value.strip()


def _valid_contact(contact: str) -> str:
    if problem := contact_problem(contact):
        raise StoreError(problem)
    return contact.strip()


def check_applicant(id_type: str, id_number: str, contact: str) -> tuple[str, str]:
    """The identity number (normalised: a lower-case x check digit made upper-case) and contact of an
    applicant or objector, or StoreError naming what is wrong with them. id_type must be known
    (ID_TYPES). Call it before sending anything that acts on the applicant's behalf."""
    if id_type not in ID_TYPES:
        raise StoreError(f"证件类型（id_type）“{id_type}”无效，应为：{'、'.join(f'{k}（{v}）' for k, v in ID_TYPES.items())}")
    if problem := id_number_problem(id_type, id_number):
        raise StoreError(problem)
    return normalise_id_number(id_type, id_number), _valid_contact(contact)


def check_open_application(
    *, resource_id: str, name: str, id_type: str, id_number: str, contact: str, scope: str, purpose: str,
    access_way: str,
) -> tuple[str, str, str]:
    """Everything an application for open data is checked for, writing nothing: the start checks it
    before it takes a case number. Returns the name, identity number and contact, normalised."""
    name = _required(name, "name", "申请人名称", "第二十八条")
    id_number = _required(id_number, "id_number", "证件号码", "第二十八条")
    contact = _required(contact, "contact", "联系方式", "第二十八条")
    _required(scope, "scope", "使用范围", "第二十八条第二款")
    _required(purpose, "purpose", "使用用途", "第二十八条第二款")
    if access_way not in ACCESS_WAYS:
        raise StoreError(
            f"获取方式（access_way）“{access_way}”无效，应为：{'、'.join(f'{k}（{v}）' for k, v in ACCESS_WAYS.items())}（第三十一条）"
        )
    id_number, contact = check_applicant(id_type, id_number, contact)
    with session() as s:
        get_resource(s, resource_id)
    return name, id_number, contact


def register_open_application(
    case_id: str, *, resource_id: str, name: str, id_type: str, id_number: str, contact: str, scope: str,
    purpose: str, access_way: str,
) -> str:
    """Check and record an application for open data (Art. 28 ¶2, Art. 31); returns its masked label."""
    name, id_number, contact = check_open_application(
        resource_id=resource_id, name=name, id_type=id_type, id_number=id_number, contact=contact, scope=scope,
        purpose=purpose, access_way=access_way)
    scope, purpose = scope.strip(), purpose.strip()
    label = masked(name, id_type, id_number)
    with session() as s:
        insert_ignore(
            s,
            OpenApplication,
            {"case_id": case_id, "resource_id": resource_id, "applicant_name": name, "id_type": id_type,
             "id_number": id_number, "contact": contact, "applicant_label": label, "scope": scope,
             "purpose": purpose, "access_way": access_way},
            ["case_id"],
        )
    return label


def _parties(s: Session, resource_id: str, *, with_city: bool = True) -> OpenCaseOpened:
    resource = get_resource(s, resource_id)
    source = get_department(s, resource.owner_code)
    the_center = dept_of_kind(s, "center")
    city = dept_of_kind(s, "city_bureau") if with_city else None
    entry = current_version(s, resource_id)
    return OpenCaseOpened(
        open_attribute=entry.open_attribute, resource_name=entry.name, source_code=source.code,
        source_name=source.name, center_code=the_center.code, center_name=the_center.name,
        city_code=city.code if city else "", city_name=city.name if city else "",
    )


@activity.defn
def open_open_application(inp: OpenApplyInput) -> OpenCaseOpened:
    """Read the data's open attribute as it stands when the application arrives (Art. 28)."""
    try:
        with session() as s:
            opened = _parties(s, inp.resource_id)
            row = s.get(OpenApplication, inp.case_id)
            if row is None:
                raise StoreError(f"申请 {inp.case_id} 未登记")
            row.open_attribute = opened.open_attribute
            s.add(row)
            return opened
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def open_listing_review(inp: ListingReviewInput) -> OpenCaseOpened:
    try:
        with session() as s:
            opened = _parties(s, inp.resource_id, with_city=False)
            insert_ignore(
                s, ListingReview,
                {"case_id": inp.case_id, "resource_id": inp.resource_id, "request_count": inp.request_count,
                 "status": "source_review"},
                ["case_id"],
            )
            return opened
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def update_open_case(u: OpenCaseUpdate) -> None:
    fields = {k: _when(k, v) for k, v in u.fields.items()}
    update_case_record(TABLES[u.table], u.case_id, fields)


def _when(key: str, value: str | int | None) -> object:
    """Times (``*_at``) and days (``*_on``) travel as ISO text through the workflow."""
    if isinstance(value, str) and key.endswith("_at"):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and key.endswith("_on"):
        return date.fromisoformat(value)
    return value


@activity.defn
def save_listing_objection(o: ObjectionRecord) -> None:
    """Art. 32: an objection and, once given, the center's answer to it; keyed by case and number,
    so a retry writes nothing twice. The objector's name and contact are not the workflow's to write."""
    values = o.model_dump(exclude={"case_id", "seq", "ref", "objector_label", "objection", "received_at"})
    with session() as s:
        insert_ignore(s, ListingObjection, o.model_dump(exclude_none=True), ["case_id", "seq"])
        row = s.get(ListingObjection, (o.case_id, o.seq))
        assert row is not None
        for field, value in values.items():
            if value is not None:
                setattr(row, field, value)
        s.add(row)


def record_open_request(resource_id: str, name: str, contact: str) -> tuple[int, str | None]:
    """Art. 32: count a public request for data not in the open catalog. Returns how many requests
    wait for the source's review, and the review already under way for it, if any."""
    _required(name, "name", "申请人名称", "第三十二条")
    _valid_contact(_required(contact, "contact", "联系方式", "第三十二条"))
    with session() as s:
        entry = current_version(s, get_resource(s, resource_id).id)
        if entry.open_attribute != "forbidden":
            raise StoreError(
                f"数据资源 {resource_id} 已列入开放目录（{OPEN_ATTRIBUTES[entry.open_attribute]}）："
                "受限开放的数据请用 pdw open apply 申请，无条件开放的可直接获取（第二十八条）"
            )
        open_review = s.exec(
            select(ListingReview.case_id).where(ListingReview.resource_id == resource_id,
                                                ListingReview.closed_at.is_(None))  # type: ignore[union-attr]
        ).first()
        # Art. 32 counts the public's requests: the same person asking again is not another request.
        again = s.exec(select(OpenRequest.id).where(
            OpenRequest.resource_id == resource_id, OpenRequest.contact == contact.strip(),
            col(OpenRequest.review_case_id).is_(None) if open_review is None
            else OpenRequest.review_case_id == open_review)).first()
        if again is None:
            s.add(OpenRequest(resource_id=resource_id, requester_name=name.strip(), contact=contact.strip(),
                              review_case_id=open_review))
            s.flush()
        waiting = s.exec(
            select(func.count()).select_from(OpenRequest).where(
                OpenRequest.resource_id == resource_id, OpenRequest.review_case_id.is_(None))  # type: ignore[union-attr]
        ).one()
    return waiting, open_review


def begin_listing_review(resource_id: str, case_id: str, count: int) -> bool:
    """Record the source's review and the requests it answers in one transaction, before the case
    starts; False if another request began a review for the data meanwhile (Art. 32)."""
    with session() as s:
        s.exec(select(DataResource).where(DataResource.id == resource_id).with_for_update()).one()
        if s.exec(select(ListingReview).where(ListingReview.resource_id == resource_id,
                                              ListingReview.closed_at.is_(None))).first():  # type: ignore[union-attr]
            return False
        s.add(ListingReview(case_id=case_id, resource_id=resource_id, request_count=count, status="source_review"))
        for row in s.exec(select(OpenRequest).where(OpenRequest.resource_id == resource_id,
                                                    OpenRequest.review_case_id.is_(None))).all():  # type: ignore[union-attr]
            row.review_case_id = case_id
            s.add(row)
    return True


def undo_listing_review(case_id: str) -> None:
    """The case could not start: its requests count again."""
    with session() as s:
        for row in s.exec(select(OpenRequest).where(OpenRequest.review_case_id == case_id)).all():
            row.review_case_id = None
            s.add(row)
        review = s.get(ListingReview, case_id)
        if review is not None:
            s.delete(review)


def record_objector(case_id: str, ref: str, name: str, contact: str) -> None:
    """Keep who objected to the source's answer (Art. 32), on the row the case wrote for the
    objection ``ref``. The objector's identity number is not stored; check it with check_applicant
    before the objection is sent."""
    name = _required(name, "name", "申请人名称", "第三十二条")
    contact = _valid_contact(_required(contact, "contact", "联系方式", "第三十二条"))
    with session() as s:
        row = s.exec(select(ListingObjection).where(ListingObjection.case_id == case_id,
                                                    ListingObjection.ref == ref)).first()
        if row is None:
            raise NotFoundError(f"案件“{case_id}”没有编号为“{ref}”的复核申请")
        row.objector_name, row.objector_contact = name, contact
        s.add(row)
