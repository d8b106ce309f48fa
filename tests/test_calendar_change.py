"""Running cases follow a change of the working-day calendar (PROCESSES.md, Time; Art. 11, 23):
time-skipping tests of what one case does when told of a change. The fan-out to every running case
pages through visibility, which only the dev server has: tests/test_e2e.py runs it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import delete

from activities.calendar import SHANGHAI, load_calendar, set_override
from activities.store import session
from models import search
from models.calendar import OVERRIDE, CalendarChange, CalendarDay, Deadline
from tests.helpers import notices_of, start_catalog_update, wait_status

SUBMIT = "catalog_update.submit"


@pytest.fixture
def overrides() -> Iterator[list[date]]:
    """The days a test overrides, removed afterwards: the calendar is shared by the whole suite."""
    days: list[date] = []
    yield days
    with session() as s:
        for day in days:
            s.exec(delete(CalendarDay).where(CalendarDay.day == day, CalendarDay.source == OVERRIDE))  # type: ignore[arg-type]


def holiday(days: list[date], day: date) -> CalendarChange:
    days.append(day)
    set_override(day, False, "台风停工")
    return CalendarChange(key=f"test-{uuid.uuid4().hex[:8]}", first=day, last=day,
                          source_zh=f"县级调整：{day} 改为休息日，依据：台风停工", by="周伟（县大数据管理中心日常管理人员）")


async def deadline_of(handle, step: str = SUBMIT) -> Deadline:  # type: ignore[no-untyped-def]
    return Deadline.model_validate((await handle.query("state"))["deadlines"][step])


async def moved(handle, old: Deadline) -> Deadline:  # type: ignore[no-untyped-def]
    for _ in range(100):
        new = await deadline_of(handle)
        if new != old:
            return new
        await asyncio.sleep(0.1)
    raise AssertionError("the deadline did not move")


async def test_art11_a_county_holiday_inside_the_period_moves_the_running_deadline(env, worker, overrides) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    old = await deadline_of(handle)
    inside = load_calendar().nth_working_day_after(old.event_at.astimezone(SHANGHAI).date(), 2)
    change = holiday(overrides, inside)
    await handle.signal("calendar_changed", change)
    new = await moved(handle, old)
    assert new.due_date == load_calendar().nth_working_day_after(old.due_date, 1)
    assert new.working_days == old.working_days and new.key == old.key
    state = await handle.query("state")
    notes = [t["text"] for t in state["timeline"] if "工作日历变更" in t["text"]]
    assert len(notes) == 1 and "台风停工" in notes[0] and "周伟" in notes[0] and str(new.due_date) in notes[0]
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(search.DUE_AT) == new.due_at
    # The same change told again (a fan-out resumed after a crash) moves nothing twice.
    await handle.signal("calendar_changed", change)
    await asyncio.sleep(0.5)
    state = await handle.query("state")
    assert await deadline_of(handle) == new
    assert len([t for t in state["timeline"] if "工作日历变更" in t["text"]]) == 1


async def test_art11_a_change_outside_every_period_moves_nothing(env, worker, overrides) -> None:
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    old = await deadline_of(handle)
    later = load_calendar().nth_working_day_after(old.escalate_at.astimezone(SHANGHAI).date(), 5)
    await handle.signal("calendar_changed", holiday(overrides, later))
    await asyncio.sleep(0.5)
    state = await handle.query("state")
    assert await deadline_of(handle) == old
    assert not [t for t in state["timeline"] if "工作日历变更" in t["text"]]


async def test_art11_a_calendar_change_never_lowers_a_rung_already_reached(env, worker, overrides) -> None:
    """Urged at the due date, then a county holiday inside the period moves the due date a day
    later: the case stays 催办 (and in the overdue lists), nothing is sent again, and the 督办 comes
    at the moved escalation time, not the old one."""
    handle = await start_catalog_update(env, worker)
    await wait_status(handle, "awaiting_submission")
    old = await deadline_of(handle)
    await env.sleep(old.due_at - await env.get_current_time() + timedelta(hours=1))
    assert (await handle.describe()).typed_search_attributes.get(search.ESCALATION) == 2
    sent = [(n.step, n.level) for n in notices_of(handle.id)]
    inside = load_calendar().nth_working_day_after(old.event_at.astimezone(SHANGHAI).date(), 1)
    await handle.signal("calendar_changed", holiday(overrides, inside))
    new = await moved(handle, old)
    assert new.due_at > await env.get_current_time() and new.escalate_at > old.escalate_at
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(search.ESCALATION) == 2
    assert desc.typed_search_attributes.get(search.STATUS) == "overdue"
    assert [(n.step, n.level) for n in notices_of(handle.id)] == sent
    await env.sleep(old.escalate_at - await env.get_current_time() + timedelta(hours=1))
    assert not [n for n in notices_of(handle.id) if n.level == 3]
    await env.sleep(new.escalate_at - await env.get_current_time() + timedelta(hours=1))
    assert {n.step for n in notices_of(handle.id) if n.level == 3} == {SUBMIT}
