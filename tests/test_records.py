"""Records and activities: Art. 10/15 element rules, idempotent writes, Art. 43 people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from activities.catalog import publish_catalog_changes
from activities.notices import write_ladder_notices
from activities.store import StoreError, resolve_actor, session
from models.calendar import Deadline
from models.catalog import CatalogElements, CatalogVersion
from models.departments import RoleAssignment
from models.notices import LadderNotice, Notice

VALID = {
    "name": "中小学校基本信息",
    "content": "学校名称、地址",
    "encoding_format": "CSV",
    "provider_code": "jyj",
    "share_attribute": "unconditional",
    "open_attribute": "unconditional",
    "update_frequency": "yearly",
}
# Beyond the seven elements: the items requests are checked against, the share modes (Art. 16, 20)
# and the source's own 保密审查 record, required of data classed shareable or open (Art. 39).
VALID_ENTRY = {**VALID, "items": "学校名称、地址", "share_modes": "query,batch", "secrecy_reviewer": "潘晓雨",
               "secrecy_reviewed_on": "2026-11-02", "secrecy_conclusion": "no_state_secret"}


def test_art10_all_seven_elements_valid() -> None:
    elements, problems = CatalogElements.parse(VALID_ENTRY)
    assert problems == [] and elements is not None
    assert elements.items == ["学校名称", "地址"] and elements.share_modes == ["query", "batch"]


@pytest.mark.parametrize("field", list(VALID))
def test_art10_each_missing_element_is_named(field: str) -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, field: ""})
    assert len(problems) == 1 and f"（{field}）不能为空" in problems[0] and "第十条" in problems[0]


def test_art15_restricted_needs_reasons_and_legal_basis() -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, "share_attribute": "restricted", "share_reason": "含个人信息"})
    assert problems and "第十五条" in problems[0]
    _, ok = CatalogElements.parse(
        {**VALID_ENTRY, "share_attribute": "restricted", "share_reason": "含个人信息", "share_basis": "个人信息保护法"}
    )
    assert ok == []


def test_art15_non_shared_needs_legal_basis() -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, "share_attribute": "non_shared"})
    assert problems and "不予共享" in problems[0]


@pytest.mark.parametrize("field", ["secrecy_reviewer", "secrecy_reviewed_on", "secrecy_conclusion"])
def test_art39_shareable_or_open_data_needs_the_source_s_secrecy_review(field: str) -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, field: None})
    assert len(problems) == 1 and field in problems[0] and "第三十九条" in problems[0]
    _, secret = CatalogElements.parse({**VALID_ENTRY, "secrecy_conclusion": "state_secret"})
    assert secret and "不得在公共数据共享和开放系统上发布" in secret[0]
    # Neither shared nor opened: no record is asked for.
    closed = {**VALID_ENTRY, "share_attribute": "non_shared", "share_basis": "《不动产登记暂行条例》",
              "open_attribute": "unopened", field: None}
    assert CatalogElements.parse(closed)[1] == []


def test_art29_forbidden_data_names_its_ground_and_unopened_data_needs_none() -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, "open_attribute": "forbidden"})
    assert len(problems) == 1 and "forbidden_ground" in problems[0] and "第二十九条" in problems[0]
    elements, ok = CatalogElements.parse({**VALID_ENTRY, "open_attribute": "forbidden", "forbidden_ground": "law"})
    assert ok == [] and elements is not None and elements.forbidden_ground == "law"
    unopened, fine = CatalogElements.parse({**VALID_ENTRY, "open_attribute": "unopened", "forbidden_ground": "law"})
    assert fine == [] and unopened is not None and unopened.forbidden_ground is None  # kept only while forbidden


def test_art16_share_modes_are_checked() -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, "share_modes": "query,fax"})
    assert len(problems) == 1 and "fax" in problems[0] and "第十六条" in problems[0]
    _, none = CatalogElements.parse({**VALID_ENTRY, "share_modes": ""})
    assert len(none) == 1 and "share_modes" in none[0]


def test_unknown_element_is_refused() -> None:
    _, problems = CatalogElements.parse({**VALID_ENTRY, "colour": "red"})
    assert problems == ["未知的目录要素：colour（第十条）"]


def test_publishing_twice_writes_one_version() -> None:
    from models.catalog import PublishRequest

    req = PublishRequest(case_id="catalog-idem-1", resource_id="RES-JYJ-001", changes={"content": "学校名称、地址、校长"},
                         approved_at=datetime.now(UTC))
    first = publish_catalog_changes(req)
    assert publish_catalog_changes(req) == first
    with session() as s:
        rows = s.exec(select(CatalogVersion).where(CatalogVersion.case_id == "catalog-idem-1")).all()
        current = s.exec(select(CatalogVersion).where(CatalogVersion.resource_id == "RES-JYJ-001",
                                                      CatalogVersion.is_current)).all()
    assert len(rows) == 1 and [c.version for c in current] == [first]


def _rung(level: int) -> LadderNotice:
    now = datetime.now(UTC)
    deadline = Deadline(step="catalog_update.submit", article="第十一条", statutory=True, working_days=5,
                        event_at=now, due_date=now.date(), due_at=now, warn_at=now, escalate_at=now,
                        provisional=False)
    return LadderNotice(case_id="catalog-idem-2", case_type="catalog_update", step_zh="更新目录条目",
                        level=level, dept_code="gaj", deadline=deadline, at=now)


def test_a_retried_notice_is_written_once() -> None:
    assert write_ladder_notices(_rung(3)) == 2  # the first responsible person and the center's leader
    assert write_ladder_notices(_rung(3)) == 0
    with session() as s:
        rows = s.exec(select(Notice).where(Notice.case_id == "catalog-idem-2")).all()
    assert sorted(r.person_id for r in rows) == ["dsj.chenjianguo", "gaj.wanghaitao"]
    assert all("督办" in r.subject and "第十一条" in r.body for r in rows)


def test_art43_notices_go_to_whoever_holds_the_role_when_sent() -> None:
    with session() as s:
        current = s.exec(select(RoleAssignment).where(RoleAssignment.dept_code == "mzj",
                                                      RoleAssignment.role == "leader_in_charge")).one()
        current.until = datetime.now(UTC)
        s.add(current)
        s.add(RoleAssignment(dept_code="mzj", role="leader_in_charge", person_id="mzj.caibin", note="人员变更"))
    rung = _rung(2).model_copy(update={"dept_code": "mzj", "case_id": "catalog-idem-3"})
    assert write_ladder_notices(rung) == 1
    with session() as s:
        sent = s.exec(select(Notice).where(Notice.case_id == "catalog-idem-3")).one()
        kept = s.exec(select(RoleAssignment).where(RoleAssignment.dept_code == "mzj")).all()
    assert sent.person_id == "mzj.caibin"
    assert any(r.person_id == "mzj.yewen" and r.until is not None for r in kept)  # the change is kept
    from activities.store import assign_role

    assign_role("mzj", "leader_in_charge", "mzj.yewen", note="恢复原备案")  # the suite shares one county


def test_an_unknown_person_cannot_act() -> None:
    with pytest.raises(StoreError, match="人员“ghost”未登记"):
        resolve_actor("ghost")


def test_art43_a_role_changes_hands_and_the_change_is_kept() -> None:
    from activities.store import assign_role, holders

    assert assign_role("zjj", "daily_admin", "zjj.wangli", name="王丽", email="wangli@zjj.yongjia.example",
                       note="建人〔2026〕3号") == ("zjj.qianjun", "zjj.wangli")
    with session() as s:
        assert [p.id for p in holders(s, "zjj", "daily_admin")] == ["zjj.wangli"]
        history = s.exec(select(RoleAssignment).where(RoleAssignment.dept_code == "zjj",
                                                      RoleAssignment.role == "daily_admin")).all()
    assert sorted((r.person_id, r.until is None) for r in history) == [("zjj.qianjun", False), ("zjj.wangli", True)]
    from models.audit import AuditEvent

    with session() as s:
        kept = s.exec(select(AuditEvent).where(AuditEvent.case_id == "dept-zjj")).all()
    assert [(a.event, a.detail["person_id"], a.detail["replaced"]) for a in kept] == [
        ("role_assigned", "zjj.wangli", ["zjj.qianjun"])]
    assign_role("zjj", "daily_admin", "zjj.qianjun", note="恢复原备案")  # the suite shares one county
    with pytest.raises(StoreError, match="角色“boss”无效"):
        assign_role("zjj", "boss", "zjj.wangli", note="x")
    with pytest.raises(StoreError, match="须写明姓名（name）"):
        assign_role("zjj", "daily_admin", "zjj.nobody", note="x")


def test_the_migration_chain_matches_the_models(database_url: str) -> None:
    """Alembic's chain, as run for this suite, builds exactly the tables the models describe."""
    from alembic import command

    from activities.migrate import alembic_config
    from settings import get_settings

    command.check(alembic_config(get_settings().sqlalchemy_url))  # raises on any difference
