"""Who is acting, known from a credential: a person's token or a system's signed key bound to its
departments (docs/api.md). Also what each administrative action needs, who may read a case, and
the dev tokens of ``pdw dev``. Blocking functions here run on a thread (``service.context.db``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from activities.store import StoreError, insert_ignore, record_audit, resolve_actor, session
from models.audit import AuditRecord
from models.auth import ApiToken, HookSignature
from models.departments import ROLE_ZH, Actor, PersonRole, RoleAssignment
from models.types import utcnow
from service.errors import Kind, ServiceError, bad_input, forbidden, not_found
from settings import HookKey, Settings

ALL_ROLES = frozenset(r.value for r in PersonRole)
LEADERS = frozenset({PersonRole.first_responsible.value, PersonRole.leader_in_charge.value})
# Administration is the center's (Art. 4); each action names the roles that may take it.
ADMIN_ROLES: dict[str, frozenset[str]] = {
    "dept.assign": ALL_ROLES,  # Art. 43 ¶2: routine records, reported in writing
    "token.issue": ALL_ROLES,
    "token.revoke": ALL_ROLES,
    "token.list": ALL_ROLES,
    "notices.retry": ALL_ROLES,
    "notices.digest": ALL_ROLES,
    "calendar.override": LEADERS,  # these move statutory deadlines
    "calendar.load": LEADERS,
    "grant.revoke": LEADERS,  # Art. 22: stops a department's use of data at once
    "applicants.purge": ALL_ROLES,  # 个人信息保护法: erasure past the retention period (audited)
    "audit.verify": ALL_ROLES,  # reads no one's data: it says whether the audit log was altered
    "report.draft": ALL_ROLES,  # Art. 41: a draft is refreshed from the records, published by no one
    "report.publish": LEADERS,  # Art. 41: the yearly report, public and permanent, in the center's name
}
ACTION_ZH = {
    "dept.assign": "登记备案人员变更", "token.issue": "签发令牌", "token.revoke": "吊销令牌", "token.list": "查看令牌",
    "notices.retry": "重新投递通知", "notices.digest": "发送领导日报", "calendar.override": "县级调整工作日",
    "calendar.load": "载入全年节假日安排", "grant.revoke": "撤销共享授权", "audit.verify": "核验审计链",
    "applicants.purge": "删除超过保存期限的申请人个人信息",
    "report.draft": "起草评估报告", "report.publish": "发布评估报告",
}
# Who sees every case and every list: the center, the county government and 县大数据发展管理局
# (which supervises the center and hears of its overdue steps).
OVERSEERS = frozenset({"center", "county_gov", "bureau"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (by token, or vouched for by a system's key), or the public."""

    actor: Actor | None
    key_id: str | None = None

    def person(self) -> Actor:
        if self.actor is None:
            raise ServiceError(Kind.unauthenticated, "须登录：请用 pdw login 登录，或在请求中提供个人令牌")
        return self.actor

    def audit(self) -> dict[str, str]:
        return {"key_id": self.key_id} if self.key_id else {}


PUBLIC = Principal(actor=None)


# ---- personal tokens -----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for_token(token: str) -> Actor:
    """The person a valid token was issued to, with the roles they hold now."""
    now = utcnow()
    with session() as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        why = "已吊销" if row and row.revoked_at else "已过期" if row else "无效"
        raise ServiceError(Kind.unauthenticated, f"个人令牌{why}：请向县大数据管理中心申领新令牌后用 pdw login 登录")
    try:
        return resolve_actor(row.person_id)
    except StoreError as err:  # no longer holds a role (Art. 43 ¶2): the token is spent
        raise ServiceError(Kind.unauthenticated, f"个人令牌的持有人已不担任备案角色：{err}") from err


def require_admin(actor: Actor, action: str) -> None:
    """Administration is the center's; each action needs one of the roles ADMIN_ROLES gives it."""
    allowed = ADMIN_ROLES[action]
    if actor.dept_kind != "center" or not allowed & set(actor.roles):
        who = "、".join(ROLE_ZH[PersonRole(r)] for r in sorted(allowed))
        raise forbidden(f"{actor.label()}无权{ACTION_ZH[action]}：须由县大数据管理中心的{who}办理（第四条）")


def weighty(person: Actor) -> bool:
    """Whose credentials or role carry more than routine work: any leader, and everyone of the
    center, the county government, the city bureau and the expert committee."""
    return bool(LEADERS & set(person.roles)) or person.dept_kind != "department"


def require_not_beyond(issuer: Actor, person: Actor, what: str) -> None:
    """A token or a role is never handed out beyond the giver's own authority: for a weighty person
    (``weighty``) it takes a leader of the center; and nobody hands one to themselves."""
    if issuer.person_id == person.person_id and what == "dept.assign":
        raise forbidden(f"{issuer.label()}不能为本人登记备案角色：须由县大数据管理中心的其他人员办理（第四十三条）")
    if weighty(person) and not LEADERS & set(issuer.roles):
        raise forbidden(f"{issuer.label()}无权为{person.label()}{ACTION_ZH[what]}：涉及领导或中心、县政府等单位人员的，"
                        "须由县大数据管理中心的分管领导或主要负责人办理（第四条）")


def issue_token(issuer: Actor | None, person_id: str, *, days: int, label: str = "", by: str = "") -> dict[str, Any]:
    """A new token for ``person_id``, shown once; ``issuer`` None is the local ``pdw setup``."""
    if not 1 <= days <= 366:
        raise bad_input("有效天数（days）须为 1 至 366", "days")
    person = resolve_actor(person_id)  # a registered person holding a role (Art. 43)
    if issuer is not None:
        require_admin(issuer, "token.issue")
        require_not_beyond(issuer, person, "token.issue")
    token = "pdw_" + secrets.token_urlsafe(32)
    now = utcnow()
    issued_by = issuer.person_id if issuer else by or "pdw setup"
    with session() as s:
        row = ApiToken(person_id=person.person_id, token_hash=hash_token(token), label=label, issued_by=issued_by,
                       created_at=now, expires_at=now + timedelta(days=days))
        s.add(row)
        s.flush()
        record_audit(s, AuditRecord(case_id=f"token-{row.id}", key="issued", event="token_issued", person_id=issued_by,
                                    at=now, detail={"person_id": person.person_id, "label": label}))
    return {**token_view(row), "token": token}


def token_view(row: ApiToken) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"token_hash"})


def list_tokens(actor: Actor) -> list[dict[str, Any]]:
    require_admin(actor, "token.list")
    with session() as s:
        return [token_view(t) for t in s.exec(select(ApiToken).order_by(ApiToken.id)).all()]  # type: ignore[arg-type]


def revoke_token(actor: Actor, token_id: int, reason: str = "") -> dict[str, Any]:
    require_admin(actor, "token.revoke")
    now = utcnow()
    with session() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise not_found(f"令牌“{token_id}”不存在（pdw token list 查看）")
        if row.revoked_at is None:
            row.revoked_at = now
            s.add(row)
            record_audit(s, AuditRecord(case_id=f"token-{token_id}", key="revoked", event="token_revoked",
                                        person_id=actor.person_id, at=now, detail={"reason": reason}))
        return token_view(row)


def dev_tokens(home: Path, days: int = 30) -> Path:
    """``pdw dev``: a token for every registered person in ``$PDW_HOME/dev-tokens.json`` (mode 600),
    so ``pdw --as PERSON`` works in the walk-throughs. Tokens still valid are kept."""
    path = home / "dev-tokens.json"
    try:
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    with session() as s:
        people = sorted({r.person_id for r in s.exec(select(RoleAssignment).where(
            RoleAssignment.until.is_(None))).all()})  # type: ignore[union-attr]
        valid = {t.token_hash for t in s.exec(select(ApiToken).where(
            ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())).all()}  # type: ignore[union-attr]
    tokens = {p: kept[p] for p in people if p in kept and hash_token(kept[p]) in valid}
    for person in people:
        if person not in tokens:
            tokens[person] = issue_token(None, person, days=days, label="开发令牌", by="pdw dev")["token"]
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(tokens, f, ensure_ascii=False, indent=1)
    os.chmod(path, 0o600)
    return path


# ---- systems: signed keys bound to departments ---------------------------------------------------------


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes, idempotency_key: str = "") -> str:
    """The hex HMAC-SHA256 a calling system sends as ``X-Pdw-Signature``."""
    message = f"{method}\n{path}\n{timestamp}\n{idempotency_key}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def key_for(settings: Settings, key_id: str) -> HookKey | None:
    return settings.hook_keys.get(key_id)


def remember_signature(key_id: str, given: str, window_seconds: int) -> None:
    """Refuse a signature already used (the memory is in the database, shared by API replicas)."""
    now = utcnow()
    with session() as s:
        fresh = insert_ignore(s, HookSignature, {"key_id": key_id, "signature": given, "seen_at": now},
                              ["key_id", "signature"])
        # Forget what the window already refuses by its timestamp.
        s.exec(delete(HookSignature).where(HookSignature.seen_at < now - timedelta(seconds=2 * window_seconds)))  # type: ignore[call-overload, arg-type]
    if not fresh:
        raise ServiceError(Kind.unauthenticated, "该签名已使用过：请求被重放")


def system_actor(key_id: str, key: HookKey, person_id: str | None) -> Principal:
    """The person a system acts for: registered, and of a department the key is bound to."""
    if not person_id:
        raise bad_input("须用 as 写明代表哪位已备案人员办理（第四十三条）", "as")
    actor = resolve_actor(person_id)
    if actor.dept_code not in key.departments:
        bound = "、".join(key.departments) or "（无）"
        raise forbidden(f"调用系统“{key_id}”只能代表其绑定部门（{bound}）的人员办理，{actor.label()}不在其中")
    return Principal(actor=actor, key_id=key_id)


def require_key_action(principal: Principal, key: HookKey | None, action: str) -> None:
    if key is not None and key.actions is not None and action not in key.actions:
        raise forbidden(f"调用系统“{principal.key_id}”未获准进行“{action}”")


# ---- who may read ------------------------------------------------------------------------------


def oversees(actor: Actor) -> bool:
    return actor.dept_kind in OVERSEERS


def require_case_reader(principal: Principal, case_id: str, parties: list[str]) -> None:
    """A case is visible to its parties and the overseers (the center, the county government, 县大数据发展管理局)."""
    actor = principal.person()
    if not oversees(actor) and actor.dept_code not in parties:
        raise forbidden(f"{actor.label()}不是案件“{case_id}”的当事部门，无权查看")


def require_dept_reader(principal: Principal, dept: str) -> None:
    """A department's inbox: the department itself, the center and the county government."""
    actor = principal.person()
    if not oversees(actor) and actor.dept_code != dept:
        raise forbidden(f"{actor.label()}无权查看其他部门（{dept}）的待办")
