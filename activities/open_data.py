"""Store activities and functions for opening data (Art. 28–32). Personal data of applicants is
written here and read nowhere else; nothing here logs it."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from datetime import date, datetime
from functools import lru_cache

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
from models.catalog import OPEN_ATTRIBUTES, DataResource, forbidden_ground_zh
from models.identity import contact_problem, id_number_problem, normalise_id_number
from models.open_data import (
    ACCESS_WAYS,
    ID_TYPES,
    OTHER_WAY,
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
from settings import get_settings

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


def check_access_way(access_way: str, note: str | None) -> str | None:
    """Art. 31: one of its four ways; the other way (（四）法律、法规、规章和国家规定的其他方式) must
    be described, and only it takes a description. Returns the description, trimmed."""
    if access_way not in ACCESS_WAYS:
        raise StoreError(
            f"获取方式（access_way）“{access_way}”无效，应为：{'、'.join(f'{k}（{v}）' for k, v in ACCESS_WAYS.items())}（第三十一条）"
        )
    note = (note or "").strip() or None
    if access_way == OTHER_WAY and note is None:
        raise StoreError("获取方式为 other（法律、法规、规章和国家规定的其他方式）时，须在获取方式说明（access_way_note）"
                         "中写明具体方式及其依据（第三十一条第（四）项）")
    if access_way != OTHER_WAY and note is not None:
        raise StoreError(f"获取方式说明（access_way_note）仅在获取方式为 other（其他方式）时填写；"
                         f"{access_way}（{ACCESS_WAYS[access_way]}）无须说明（第三十一条）")
    return note


def check_open_application(
    *, resource_id: str, name: str, id_type: str, id_number: str, contact: str, scope: str, purpose: str,
    access_way: str, access_way_note: str | None = None,
) -> tuple[str, str, str]:
    """Everything an application for open data is checked for, writing nothing: the start checks it
    before it takes a case number. Returns the name, identity number and contact, normalised."""
    name = _required(name, "name", "申请人名称", "第二十八条")
    id_number = _required(id_number, "id_number", "证件号码", "第二十八条")
    contact = _required(contact, "contact", "联系方式", "第二十八条")
    _required(scope, "scope", "使用范围", "第二十八条第二款")
    _required(purpose, "purpose", "使用用途", "第二十八条第二款")
    check_access_way(access_way, access_way_note)
    id_number, contact = check_applicant(id_type, id_number, contact)
    with session() as s:
        get_resource(s, resource_id)
    return name, id_number, contact


def register_open_application(
    case_id: str, *, resource_id: str, name: str, id_type: str, id_number: str, contact: str, scope: str,
    purpose: str, access_way: str, access_way_note: str | None = None,
) -> str:
    """Check and record an application for open data (Art. 28 ¶2, Art. 31); returns its masked label."""
    name, id_number, contact = check_open_application(
        resource_id=resource_id, name=name, id_type=id_type, id_number=id_number, contact=contact, scope=scope,
        purpose=purpose, access_way=access_way, access_way_note=access_way_note)
    scope, purpose, note = scope.strip(), purpose.strip(), check_access_way(access_way, access_way_note)
    label = masked(name, id_type, id_number)
    with session() as s:
        insert_ignore(
            s,
            OpenApplication,
            {"case_id": case_id, "resource_id": resource_id, "applicant_name": name, "id_type": id_type,
             "id_number": id_number, "contact": contact, "applicant_label": label, "scope": scope,
             "purpose": purpose, "access_way": access_way, "access_way_note": note},
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
        open_attribute=entry.open_attribute, forbidden_ground=entry.forbidden_ground, resource_name=entry.name, source_code=source.code,
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


@lru_cache
def _person_secret(configured: str | None, home: str) -> bytes:
    """PDW_PERSON_KEY, else the dev key file $PDW_HOME/person-key (written once, owner-only; two
    processes starting at once read the one that won)."""
    if configured:
        return configured.encode()
    path = os.path.join(home, "person-key")
    os.makedirs(home, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(os.urandom(32).hex())
    for _ in range(50):  # another process may have created the file and not yet written it
        with open(path, encoding="ascii") as key_file:
            secret = key_file.read().strip()
        if secret:
            break
        time.sleep(0.01)
    if not secret:
        raise StoreError(f"计数密钥文件 {path} 为空：请设置 PDW_PERSON_KEY 或删除该文件后重试")
    return secret.encode()


def requester_key(id_type: str, id_number: str) -> str:
    """Art. 32: who a person is when requests are counted, without keeping who: HMAC-SHA256 of the
    normalised number alone under this server's secret (a bare hash of an identity number is reversed
    by trying every birth date). The id type is left out, so one number sent as resident_id, passport
    or other counts once. Only a resident identity number (and a USCC) is checked against its check
    digit; a passport or other number is checked by form only, so it cannot prove a person, only keep
    one number from counting twice. Check the number first (check_applicant). "h2-": keys written
    before this (h1-, type included) are not recomputed: the number is not kept to do it."""
    settings = get_settings()
    message = normalise_id_number(id_type, id_number).encode()
    secret = _person_secret(settings.person_key, str(settings.home))
    return "h2-" + hmac.new(secret, message, hashlib.sha256).hexdigest()


def _waiting_people(s: Session, resource_id: str) -> int:
    """Art. 32: how many people asked for the data since its last review, each counted once."""
    return s.exec(select(func.count(func.distinct(OpenRequest.person_key))).where(
        OpenRequest.resource_id == resource_id, col(OpenRequest.review_case_id).is_(None))).one()


def _open_review(s: Session, resource_id: str) -> str | None:
    return s.exec(select(ListingReview.case_id).where(ListingReview.resource_id == resource_id,
                                                      col(ListingReview.closed_at).is_(None))).first()


def record_open_request(resource_id: str, name: str, id_type: str, id_number: str,
                        contact: str) -> tuple[int, str | None]:
    """Art. 32: count a public request for data not in the open catalog (未开放). Returns how many
    people wait for the source's review, and the review already under way for it, if any. The same
    person (identity number) asking again in the same round adds nothing; bad input writes nothing."""
    name = _required(name, "name", "申请人名称", "第三十二条")
    id_number = _required(id_number, "id_number", "证件号码", "第三十二条")
    _required(contact, "contact", "联系方式", "第三十二条")
    id_number, contact = check_applicant(id_type, id_number, contact)
    key = requester_key(id_type, id_number)
    with session() as s:
        entry = current_version(s, get_resource(s, resource_id).id)
        if entry.open_attribute == "forbidden":
            raise StoreError(f"数据资源 {resource_id} 为禁止开放类数据，不予开放（{forbidden_ground_zh(entry.forbidden_ground)}）")
        if entry.open_attribute != "unopened":
            raise StoreError(
                f"数据资源 {resource_id} 已列入开放目录（{OPEN_ATTRIBUTES[entry.open_attribute]}）："
                "受限开放的数据请用 pdw open apply 申请，无条件开放的可直接获取（第二十八条）"
            )
        open_review = _open_review(s, resource_id)
        again = s.exec(select(OpenRequest.id).where(
            OpenRequest.resource_id == resource_id, OpenRequest.person_key == key,
            col(OpenRequest.review_case_id).is_(None) if open_review is None
            else OpenRequest.review_case_id == open_review)).first()
        if again is None:
            s.add(OpenRequest(resource_id=resource_id, requester_name=name, contact=contact, person_key=key,
                              review_case_id=open_review))
            s.flush()
        return _waiting_people(s, resource_id), open_review


def count_refused_application(case_id: str) -> tuple[int, str | None] | None:
    """Art. 32: an application for data not yet in the open catalog (未开放) is refused (Art. 28) and
    stands as a request for the data's listing, counted with ``open request``s, one per person.
    Recorded once per application (keyed by its case id: a retried start counts nothing twice);
    None if the data is not unopened. Returns the waiting people and the review under way, if any."""
    with session() as s:
        app = s.get(OpenApplication, case_id)
        if app is None:
            raise NotFoundError(f"申请 {case_id} 未登记")
        if current_version(s, app.resource_id).open_attribute != "unopened":
            return None
        open_review = _open_review(s, app.resource_id)
        insert_ignore(s, OpenRequest, {
            "resource_id": app.resource_id, "requester_name": app.applicant_name, "contact": app.contact,
            "person_key": requester_key(app.id_type, app.id_number or ""), "review_case_id": open_review,
            "application_case_id": case_id, "requested_at": app.applied_at}, ["application_case_id"])
        return _waiting_people(s, app.resource_id), open_review


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
