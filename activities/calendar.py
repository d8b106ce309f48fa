"""The working-day calendar (DESIGN.md §7) and the deadline activity built on it.

A 工作日 is Monday to Friday, minus the State Council's public holidays, plus the weekend days it
turns into working days (调休). The source is the ``holidays`` package's China calendar; county
overrides and whole official years loaded from a file (both in the database) take precedence.
A year whose 调休 the library does not know and no file has given is *provisional*.

Counting starts the day after the event; a deadline ends at 24:00 Asia/Shanghai of its last
working day (PROCESSES.md, Time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlmodel import Session, col, delete, select
from temporalio import activity

from activities.store import StoreError, insert_ignore, session
from models.calendar import (
    OVERRIDE,
    YEAR_FILE,
    CalendarDay,
    CalendarYear,
    Deadline,
    DeadlineRequest,
    ExtensionRequest,
    RecomputeRequest,
    WorkingDaysRequest,
)
from models.steps import step_rule
from settings import get_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
# No deadline in the measures runs past a few months; this bounds a search gone wrong.
_MAX_SCAN_DAYS = 3660


@lru_cache(maxsize=64)
def _library_year(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="zh_CN")


def library_has_official_year(year: int) -> bool:
    """The library knows a year's official schedule when it has its 调休 working weekend days;
    for years the State Council has not yet published it guesses holidays without them."""
    cal = _library_year(year)
    return any(d.year == year for d in cal.weekend_workdays)


@dataclass
class WorkingCalendar:
    overrides: dict[date, bool] = field(default_factory=dict)
    year_days: dict[date, bool] = field(default_factory=dict)
    loaded_years: set[int] = field(default_factory=set)

    @classmethod
    def from_store(cls, s: Session) -> WorkingCalendar:
        cal = cls(loaded_years=set(s.exec(select(CalendarYear.year)).all()))
        for row in s.exec(select(CalendarDay)).all():
            (cal.overrides if row.source == OVERRIDE else cal.year_days)[row.day] = row.is_workday
        return cal

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.loaded_years:
            return self.year_days.get(day, day.weekday() < 5)
        return _library_year(day.year).is_working_day(day)

    def is_provisional(self, day: date) -> bool:
        return day.year not in self.loaded_years and not library_has_official_year(day.year)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` itself is not counted); n=0 is ``day``."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        for _ in range(_MAX_SCAN_DAYS):
            if n == 0:
                return current
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        raise ValueError(f"no {n} working days within {_MAX_SCAN_DAYS} days of {day}")

    def due(self, day: date, working_days: int) -> tuple[date, bool]:
        """The last working day of a limit counted from the event day, and whether it is provisional."""
        last = self.nth_working_day_after(day, working_days)
        provisional = any(
            self.is_provisional(day + timedelta(days=i)) for i in range(1, (last - day).days + 1)
        )
        return last, provisional

    def deadline(
        self, step: str, event_at: datetime, warn_before: int, escalate_after: int,
        working_days: int | None = None, statutory: bool | None = None,
    ) -> Deadline:
        """A step's deadline: the rule's working days (or a local setting's), unless the case gives
        its own (the days that remain of a period, Art. 11)."""
        rule = step_rule(step)
        days = rule.working_days
        if not rule.statutory:
            days = get_settings().local_deadline_days.get(step, days)
        if working_days is not None:
            days = working_days
        event_day = event_at.astimezone(SHANGHAI).date()
        due_date, provisional = self.due(event_day, days)
        # Warning at the start of the warn_before-th last working day (1: the start of the last day).
        warn_day = self.nth_working_day_after(event_day, max(days - warn_before + 1, 1))
        escalate_day = self.nth_working_day_after(due_date, escalate_after)
        return Deadline(
            step=step,
            article=rule.article,
            statutory=rule.statutory if statutory is None else statutory,
            working_days=days,
            event_at=event_at,
            due_date=due_date,
            due_at=end_of_day(due_date),
            warn_at=max(start_of_day(warn_day), event_at),
            escalate_at=end_of_day(escalate_day),
            provisional=provisional or self.is_provisional(escalate_day),
        )


    def extended(self, original: Deadline, extra: int, warn_before: int, escalate_after: int) -> Deadline:
        """``original`` moved ``extra`` working days later (Art. 23), with its rungs recomputed."""
        due_date, provisional = self.due(original.due_date, extra)
        warn_day = self.nth_working_day_after(original.due_date, max(extra - warn_before + 1, 1))
        escalate_day = self.nth_working_day_after(due_date, escalate_after)
        return original.model_copy(
            update={
                "due_date": due_date,
                "due_at": end_of_day(due_date),
                "warn_at": start_of_day(warn_day),
                "escalate_at": end_of_day(escalate_day),
                "provisional": original.provisional or provisional or self.is_provisional(escalate_day),
                "extended_by": extra,
            }
        )


    def recomputed(self, d: Deadline, warn_before: int, escalate_after: int, extended_by: int | None = None) -> Deadline:
        """``d`` counted again on this calendar, from its event and with its own working days, then
        moved by its extension (or ``extended_by``): after a calendar change, and for an extension."""
        base = self.deadline(d.step, d.event_at, warn_before, escalate_after, d.working_days, d.statutory)
        base = base.model_copy(update={"attempt": d.attempt})
        extra = d.extended_by if extended_by is None else extended_by
        return self.extended(base, extra, warn_before, escalate_after) if extra else base

    def spans(self, d: Deadline, first: date, last: date) -> bool:
        """Whether a change of the days ``first``..``last`` can move ``d``: it falls after the event
        day and on or before the day of the last rung."""
        event_day = d.event_at.astimezone(SHANGHAI).date()
        return first <= d.escalate_at.astimezone(SHANGHAI).date() and last > event_day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not later)."""
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def end_of_day(day: date) -> datetime:
    """24:00 Asia/Shanghai of ``day``, i.e. the next day's 00:00."""
    return start_of_day(day + timedelta(days=1))


def load_calendar() -> WorkingCalendar:
    with session() as s:
        return WorkingCalendar.from_store(s)


@activity.defn
def compute_deadline(req: DeadlineRequest) -> Deadline:
    """A step's deadline: computed here, once, and kept in the workflow (DESIGN.md §4)."""
    settings = get_settings()
    days, statutory = None, None
    if req.remaining_working_days is not None:
        minimum = settings.returned_min_working_days
        days, statutory = max(req.remaining_working_days, minimum), req.remaining_working_days >= minimum
    elif req.working_days is not None:
        days = req.working_days
    return load_calendar().deadline(
        req.step, req.event_at, settings.warn_working_days, settings.escalate_after_working_days, days, statutory
    )


@activity.defn
def extend_deadline(req: ExtensionRequest) -> Deadline:
    """Art. 23: the deadline moved by the whole extension, counted on today's calendar."""
    settings = get_settings()
    return load_calendar().recomputed(
        req.original, settings.warn_working_days, settings.escalate_after_working_days, req.extra_working_days
    )


@activity.defn
def recompute_deadlines(req: RecomputeRequest) -> list[Deadline]:
    """After a calendar change, a case's deadlines that the changed days can move, counted again."""
    settings = get_settings()
    cal = load_calendar()
    return [
        cal.recomputed(d, settings.warn_working_days, settings.escalate_after_working_days)
        if cal.spans(d, req.first, req.last) else d
        for d in req.deadlines
    ]


@activity.defn
def count_working_days(req: WorkingDaysRequest) -> int:
    """Art. 11: how many working days of a period have been used between two moments."""
    return load_calendar().working_days_between(
        req.start.astimezone(SHANGHAI).date(), req.end.astimezone(SHANGHAI).date()
    )


# ---- what the center keeps: overrides and official years ------------------------------------------


def set_override(day: date, is_workday: bool, note: str) -> None:
    if not note.strip():
        raise StoreError("依据（note）不能为空：县级调整须写明依据或原因")
    with session() as s:
        existing = s.get(CalendarDay, (day, OVERRIDE))
        if existing is None:
            existing = CalendarDay(day=day, source=OVERRIDE, is_workday=is_workday, note=note)
        existing.is_workday, existing.note = is_workday, note
        s.add(existing)


def _parse_day(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise StoreError(f"{where}：日期“{value}”格式错误，应为 YYYY-MM-DD") from err


def load_year_file(path: Path) -> tuple[int, int, int]:
    """Load a year's official schedule: ``{"year", "title", "holidays": [{"from","to","name"}],
    "workdays": [{"date","name"}]}``. Replaces that year's earlier file; overrides still win.
    Returns (year, holiday days, 调休 working days)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise StoreError(f"无法读取日历文件 {path}：{err}") from err
    return load_year(doc)


def load_year(doc: Any) -> tuple[int, int, int]:
    """The same from the file's JSON, as the API receives it."""
    if not isinstance(doc, dict) or not isinstance(doc.get("year"), int) or not doc.get("title"):
        raise StoreError("日历文件须含 year（整数年份）和 title（国务院通知的标题）")
    year = doc["year"]
    days: dict[date, tuple[bool, str]] = {}
    if not all(isinstance(item, dict) for item in [*doc.get("holidays", []), *doc.get("workdays", [])]):
        raise StoreError("日历文件的 holidays 和 workdays 须为对象的列表")
    for i, item in enumerate(doc.get("holidays", [])):
        start = _parse_day(item.get("from"), f"holidays[{i}].from")
        end = _parse_day(item.get("to", item.get("from")), f"holidays[{i}].to")
        if end < start:
            raise StoreError(f"holidays[{i}]：结束日期早于开始日期")
        for n in range((end - start).days + 1):
            days[start + timedelta(days=n)] = (False, str(item.get("name", "放假")))
    for i, item in enumerate(doc.get("workdays", [])):
        days[_parse_day(item.get("date"), f"workdays[{i}].date")] = (True, str(item.get("name", "调休上班")))
    strays = sorted(d for d in days if d.year != year)
    if strays:
        raise StoreError(f"日历文件是 {year} 年的，却含有其他年份的日期：{strays[0].isoformat()}")
    with session() as s:
        s.exec(delete(CalendarDay).where(col(CalendarDay.source) == YEAR_FILE, col(CalendarDay.day).between(
            date(year, 1, 1), date(year, 12, 31))))
        for day, (is_workday, note) in sorted(days.items()):
            insert_ignore(
                s, CalendarDay, {"day": day, "source": YEAR_FILE, "is_workday": is_workday, "note": note},
                ["day", "source"],
            )
        row = s.get(CalendarYear, year) or CalendarYear(year=year, title=doc["title"])
        row.title = doc["title"]
        s.add(row)
    holiday_days = sum(1 for w, _ in days.values() if not w)
    return year, holiday_days, len(days) - holiday_days
