"""The service layer directly: the administration table, the errors it gives for a database that is
not migrated or not there, and starts that write nothing on bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from activities.store import engine_for, resolve_actor, session
from models.departments import Actor
from models.requests import ShareStartRequest
from models.share import ShareRequest
from service import auth, records, starts
from service.context import Services, db
from service.errors import Kind, ServiceError
from settings import get_settings
from tests.pg import fresh_database


@pytest.mark.parametrize("action", sorted(auth.ADMIN_ROLES))
def test_art4_administration_is_the_centers_and_needs_the_role_the_table_gives(action: str) -> None:
    clerk, leader = resolve_actor("dsj.zhouwei"), resolve_actor("dsj.linxiaohong")
    outsider_head = resolve_actor("jyj.chenli")  # a department's first responsible person
    with pytest.raises(ServiceError) as refused:
        auth.require_admin(outsider_head, action)
    assert refused.value.kind == Kind.forbidden and "县大数据管理中心" in refused.value.message
    auth.require_admin(leader, action)
    if action in ("calendar.override", "calendar.load", "grant.revoke", "report.publish"):
        with pytest.raises(ServiceError, match="分管领导"):
            auth.require_admin(clerk, action)
    else:
        auth.require_admin(clerk, action)


@pytest.fixture
def empty_database() -> Iterator[None]:
    """The settings pointed at a database that exists but was never migrated."""
    settings = get_settings()
    previous = settings.database_url
    with fresh_database() as url:
        settings.database_url = url
        engine_url = settings.sqlalchemy_url
        try:
            yield
        finally:
            settings.database_url = previous
            engine_for(engine_url).dispose()  # before the database is dropped


async def test_a_database_not_yet_migrated_says_to_run_pdw_setup(empty_database: None) -> None:
    with pytest.raises(ServiceError) as err:
        clerk = Actor(person_id="dsj.zhouwei", name="周伟", dept_code="dsj", dept_name="县大数据管理中心",
                      dept_kind="center", roles=["daily_admin"])
        await db(records.departments, auth.Principal(actor=clerk))
    assert err.value.kind == Kind.unavailable and err.value.message == "数据库尚未迁移到当前版本：请先运行 pdw setup"


async def test_art13_a_start_refused_by_the_records_writes_nothing_and_starts_nothing() -> None:
    services = Services(get_settings())  # no Temporal is reached: the records refuse first
    with session() as s:
        before = s.exec(select(func.count()).select_from(ShareRequest)).one()
    request = ShareStartRequest(resource_id="RES-GAJ-002", items=["号牌号码"], purpose="履职", scope="本局",
                                mode="query", months=6)
    with pytest.raises(ServiceError) as own:
        await starts.start_share_request(services, resolve_actor("gaj.zhangfang"), request)
    assert own.value.kind == Kind.bad_input and "不能是数源部门本身" in own.value.message
    with pytest.raises(ServiceError) as missing:
        await starts.start_share_request(services, resolve_actor("jyj.panxiaoyu"),
                                         request.model_copy(update={"resource_id": "RES-NONE-9"}))
    assert missing.value.kind == Kind.not_found
    with session() as s:
        assert s.exec(select(func.count()).select_from(ShareRequest)).one() == before
    assert services.client is None and not services._clients


async def test_temporal_down_is_one_line_and_tried_again_next_call() -> None:
    services = Services(get_settings().model_copy(update={"temporal_address": "127.0.0.1:1"}))
    for _ in range(2):
        with pytest.raises(ServiceError) as err:
            await services.temporal()
        assert err.value.kind == Kind.unavailable and "127.0.0.1:1" in err.value.message
        assert "\n" not in err.value.message
