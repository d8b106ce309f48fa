"""The working-day calendar: 工作日 per the State Council's yearly notice, counted from the day after
the event, ending 24:00 Asia/Shanghai (PROCESSES.md, Time)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import delete

from activities.calendar import (
    SHANGHAI,
    WorkingCalendar,
    load_calendar,
    load_year_file,
    set_override,
)
from activities.store import StoreError, session
from models.calendar import OVERRIDE, CalendarDay, CalendarYear

LIBRARY = WorkingCalendar()  # the holidays package alone, no county records


# 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）：
# 春节 2月15日至23日放假调休，共9天；2月14日（周六）、2月28日（周六）上班。
# 中秋节 9月25日（周五）放假；国庆节 10月1日至7日放假调休，共7天；9月20日（周日）、10月10日（周六）上班。
@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday made a working day (调休)
        (date(2026, 2, 15), False),
        (date(2026, 2, 20), False),  # a Friday inside the holiday
        (date(2026, 2, 23), False),  # Monday, last day of the holiday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday made a working day (调休)
        (date(2026, 9, 20), True),  # Sunday made a working day (调休)
        (date(2026, 9, 25), False),  # 中秋节
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday made a working day (调休)
        (date(2026, 10, 11), False),  # an ordinary Sunday
    ],
)
def test_2026_state_council_schedule(day: date, working: bool) -> None:
    assert LIBRARY.is_working_day(day) is working


def test_art11_five_working_days_across_2026_spring_festival() -> None:
    # Changed Thursday 12 February: Fri 13, Sat 14 (调休), then the holiday to 23rd, Tue 24, Wed 25, Thu 26.
    assert LIBRARY.due(date(2026, 2, 12), 5) == (date(2026, 2, 26), False)


def test_art11_five_working_days_across_2026_national_day() -> None:
    # Changed Monday 28 September: 29, 30, then 8, 9 and Saturday 10 October (调休).
    assert LIBRARY.due(date(2026, 9, 28), 5) == (date(2026, 10, 10), False)


def test_art20_seven_working_days_across_the_sunday_made_working_and_mid_autumn() -> None:
    # Changed Friday 18 September: Sunday 20 (调休) counts, 21–24, Friday 25 is 中秋节, then 28, 29.
    assert LIBRARY.due(date(2026, 9, 18), 7) == (date(2026, 9, 29), False)


def test_counting_starts_the_day_after_the_event_and_ends_at_2400_shanghai() -> None:
    late_monday = datetime(2026, 3, 2, 23, 59, tzinfo=SHANGHAI)
    early_tuesday = datetime(2026, 3, 3, 0, 1, tzinfo=SHANGHAI)
    monday = LIBRARY.deadline("catalog_update.submit", late_monday.astimezone(UTC), 1, 1)
    tuesday = LIBRARY.deadline("catalog_update.submit", early_tuesday.astimezone(UTC), 1, 1)
    assert monday.due_date == date(2026, 3, 9)  # Tue 3 … Mon 9
    assert tuesday.due_date == date(2026, 3, 10)
    assert monday.due_at == datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI)
    assert monday.due_at.astimezone(UTC) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    # The ladder's rungs: warning at the start of the last working day, escalation a working day late.
    assert monday.warn_at == datetime(2026, 3, 9, 0, 0, tzinfo=SHANGHAI)
    assert monday.escalate_at == datetime(2026, 3, 11, 0, 0, tzinfo=SHANGHAI)


def test_an_event_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert LIBRARY.due(date(2026, 10, 3), 1) == (date(2026, 10, 8), False)


def test_2027_is_provisional_until_its_official_schedule_is_known() -> None:
    due, provisional = LIBRARY.due(date(2026, 12, 28), 5)
    assert provisional and due == date(2027, 1, 5)  # 29, 30, 31, (1 Jan off), 4, 5
    assert LIBRARY.due(date(2026, 12, 1), 5) == (date(2026, 12, 8), False)


@pytest.fixture
def clean_calendar():  # type: ignore[no-untyped-def]
    """County records are shared by the whole suite: remove what a test adds."""
    yield
    with session() as s:
        s.exec(delete(CalendarDay).where(CalendarDay.day >= date(2027, 1, 1)))  # type: ignore[arg-type]
        s.exec(delete(CalendarYear).where(CalendarYear.year >= 2027))  # type: ignore[arg-type]


SAMPLE_2027 = {
    # Not the State Council's notice (not published when this was written): a sample of its shape.
    "year": 2027,
    "title": "示例：2027年部分节假日安排（测试用）",
    "holidays": [
        {"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"},
        {"from": "2027-02-05", "to": "2027-02-13", "name": "春节"},
    ],
    "workdays": [{"date": "2027-02-14", "name": "春节调休上班"}, {"date": "2027-01-30", "name": "调休上班"}],
}


def test_loading_a_2027_file_makes_dates_final_and_changes_the_answer(tmp_path: Path, clean_calendar) -> None:
    before = load_calendar().due(date(2027, 2, 3), 5)
    # The library's guess, without 调休: Thu 4, (5–10 off), 11, 12, 15, 16.
    assert before == (date(2027, 2, 16), True)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(SAMPLE_2027, ensure_ascii=False), encoding="utf-8")
    assert load_year_file(path) == (2027, 12, 2)
    after = load_calendar().due(date(2027, 2, 3), 5)
    # Thu 4, (5–13 off), Sun 14 worked (调休), 15, 16, 17.
    assert after == (date(2027, 2, 17), False)
    # Loading it again replaces, not doubles, the year.
    assert load_year_file(path) == (2027, 12, 2)
    assert load_calendar().due(date(2027, 1, 28), 2) == (date(2027, 1, 30), False)  # Sat 30 worked


def test_county_override_takes_precedence(clean_calendar) -> None:
    assert load_calendar().due(date(2027, 3, 1), 1) == (date(2027, 3, 2), True)
    set_override(date(2027, 3, 2), False, "县政府决定因台风停工一天")
    assert load_calendar().due(date(2027, 3, 1), 1) == (date(2027, 3, 3), True)
    set_override(date(2027, 3, 6), True, "县级补班")
    assert load_calendar().is_working_day(date(2027, 3, 6))
    with session() as s:
        assert s.get(CalendarDay, (date(2027, 3, 2), OVERRIDE)).note == "县政府决定因台风停工一天"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"title": "x"}, "year"),
        ({"year": 2027, "title": "x", "holidays": [{"from": "2027-13-01"}]}, "holidays[0].from"),
        ({"year": 2027, "title": "x", "workdays": [{"date": "2028-01-02"}]}, "其他年份"),
        ({"year": 2027, "title": "x", "holidays": [{"from": "2027-02-05", "to": "2027-02-01"}]}, "结束日期早于开始日期"),
    ],
)
def test_a_bad_year_file_is_refused_and_writes_nothing(tmp_path: Path, doc: dict, message: str, clean_calendar) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(StoreError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_year_file(path)
    assert 2027 not in load_calendar().loaded_years


def test_an_override_needs_a_note() -> None:
    with pytest.raises(StoreError, match="依据（note）"):
        set_override(date(2027, 3, 2), False, " ")


def test_deadline_rungs_for_a_local_default_step_can_be_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from settings import get_settings

    event = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    assert LIBRARY.deadline("catalog_update.review", event, 1, 1).due_date == date(2026, 3, 9)
    monkeypatch.setenv("PDW_LOCAL_DEADLINE_DAYS", '{"catalog_update.review": 2, "catalog_update.submit": 9}')
    get_settings.cache_clear()
    try:
        assert LIBRARY.deadline("catalog_update.review", event, 1, 1).due_date == date(2026, 3, 4)
        # A statutory limit (Art. 11: 5 working days) is not a setting.
        assert LIBRARY.deadline("catalog_update.submit", event, 1, 1).due_date == date(2026, 3, 9)
    finally:
        monkeypatch.delenv("PDW_LOCAL_DEADLINE_DAYS")
        get_settings.cache_clear()
    assert timedelta(0) < LIBRARY.deadline("catalog_update.submit", event, 2, 1).due_at - event
