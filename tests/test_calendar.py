"""Chinese working days: known schedules, deadlines across holidays, and the arithmetic's laws."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong import calendar as calendar_module
from xinyong.calendar import DayKind, DaySource, WorkingCalendar

BUILTIN = WorkingCalendar()

# A 2027 schedule as the authority would load it (the package stops at 2026).
SCHEDULE_2027 = {
    date(2027, 1, 1): (False, "元旦"),
    **{date(2027, 2, 6) + timedelta(days=i): (False, "春节") for i in range(9)},  # 2-6 … 2-14
    date(2027, 2, 20): (True, "春节调休"),
    **{date(2027, 10, 1) + timedelta(days=i): (False, "国庆节") for i in range(7)},
    date(2027, 10, 9): (True, "国庆节调休"),
}
LOADED = WorkingCalendar(SCHEDULE_2027)
CALENDARS = st.sampled_from([BUILTIN, LOADED])
DATES = st.dates(min_value=date(2002, 1, 1), max_value=date(2028, 12, 31))
COUNTS = st.integers(min_value=0, max_value=400)


def naive_add(cal: WorkingCalendar, start: date, n: int) -> date:
    """The definition, day by day."""
    day = start
    if n == 0:
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        return day
    while n:
        day += timedelta(days=1)
        n -= cal.is_working_day(day)
    return day


def naive_between(cal: WorkingCalendar, a: date, b: date) -> int:
    return sum(cal.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


# --- known facts -------------------------------------------------------------------------------


def test_national_day_2025() -> None:
    for offset in range(8):
        day = date(2025, 10, 1) + timedelta(days=offset)
        assert not BUILTIN.is_working_day(day), day
    assert BUILTIN.is_working_day(date(2025, 9, 28))  # Sunday, worked in lieu
    assert BUILTIN.is_working_day(date(2025, 10, 11))  # Saturday, worked in lieu
    assert BUILTIN.is_working_day(date(2025, 10, 9)) and BUILTIN.is_working_day(date(2025, 9, 30))
    assert not BUILTIN.is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_spring_festival_2026_follows_the_package() -> None:
    rest = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 2-15 … 2-23
    assert all(not BUILTIN.is_working_day(d) and BUILTIN.day_name(d) == "春节" for d in rest)
    assert BUILTIN.is_working_day(date(2026, 2, 14)) and BUILTIN.is_working_day(date(2026, 2, 28))
    assert BUILTIN.is_working_day(date(2026, 2, 24))
    for day in [*rest, date(2026, 2, 14), date(2026, 2, 28)]:
        assert BUILTIN.is_working_day(day) == chinese_calendar.is_workday(day)


def test_day_names_and_kinds() -> None:
    assert BUILTIN.day_name(date(2025, 10, 1)) == "国庆节"
    assert BUILTIN.day_name(date(2025, 10, 6)) == "中秋节"
    assert BUILTIN.day_name(date(2025, 1, 1)) == "元旦"
    assert BUILTIN.day_name(date(2025, 9, 28)) == "调休上班"
    assert BUILTIN.day_name(date(2025, 6, 14)) == "周末"
    assert BUILTIN.day_name(date(2025, 6, 16)) == "工作日"
    assert BUILTIN.day_info(date(2025, 10, 4)).kind is DayKind.HOLIDAY  # a Saturday inside the holiday
    assert BUILTIN.day_info(date(2025, 10, 11)).kind is DayKind.MAKEUP
    assert BUILTIN.day_info(date(2025, 6, 14)).kind is DayKind.WEEKEND
    assert BUILTIN.day_info(date(2025, 6, 16)).kind is DayKind.WORKDAY


def test_special_days_are_the_holidays_and_make_up_days() -> None:
    special = {info.day for info in BUILTIN.special_days(2025)}
    assert {date(2025, 9, 28), date(2025, 10, 1), date(2025, 10, 11)} <= special
    assert date(2025, 6, 14) not in special and date(2025, 6, 16) not in special
    assert len([d for d in special if d.year == 2025]) == len(special)


def test_deadlines_across_national_day() -> None:
    assert BUILTIN.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert BUILTIN.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)  # the make-up Saturday counts
    assert BUILTIN.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)  # the make-up Sunday counts
    # Received on the first day of the holiday: 10-9, 10-10, 10-11 (Saturday, worked), 10-13 … 10-17, 10-20, 10-21.
    assert BUILTIN.add_working_days(date(2025, 10, 1), 10) == date(2025, 10, 21)
    assert BUILTIN.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0


def test_deadlines_across_the_year_end() -> None:
    # 2026-01-01 … 01-03 rest, Sunday 01-04 worked in lieu.
    assert BUILTIN.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert BUILTIN.add_working_days(date(2025, 12, 26), 10) == date(2026, 1, 12)
    assert BUILTIN.working_days_between(date(2025, 12, 26), date(2026, 1, 12)) == 10
    assert BUILTIN.add_working_days(date(2025, 1, 1), 500) == naive_add(BUILTIN, date(2025, 1, 1), 500)


def test_zero_days_and_the_next_working_day() -> None:
    assert BUILTIN.add_working_days(date(2025, 9, 30), 0) == date(2025, 9, 30)
    assert BUILTIN.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)
    assert BUILTIN.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert BUILTIN.next_working_day(date(2025, 9, 29)) == date(2025, 9, 30)  # strictly after
    with pytest.raises(ValueError):
        BUILTIN.add_working_days(date(2025, 9, 30), -1)


def test_between_is_half_open_and_signed() -> None:
    assert BUILTIN.working_days_between(date(2025, 6, 16), date(2025, 6, 16)) == 0
    assert BUILTIN.working_days_between(date(2025, 6, 13), date(2025, 6, 16)) == 1  # Fri → Mon: only Monday
    assert BUILTIN.working_days_between(date(2025, 6, 16), date(2025, 6, 13)) == -1


# --- overrides and coverage -------------------------------------------------------------------


def test_overrides_win_over_the_builtin_schedule() -> None:
    corrected = WorkingCalendar({date(2025, 10, 8): (True, "更正：正常上班"), date(2025, 6, 16): (False, "地方假日")})
    assert corrected.is_working_day(date(2025, 10, 8)) and not BUILTIN.is_working_day(date(2025, 10, 8))
    assert corrected.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 8)
    assert not corrected.is_working_day(date(2025, 6, 16))
    assert corrected.day_name(date(2025, 6, 16)) == "地方假日"
    assert corrected.day_info(date(2025, 6, 16)).source is DaySource.OVERRIDE
    assert corrected.is_working_day(date(2025, 10, 7)) is False  # the rest of the built-in year stands


def test_uncovered_year_falls_back_to_weekdays() -> None:
    assert not BUILTIN.covers(2027) and not BUILTIN.covers(2003)
    assert BUILTIN.covers(2025) and BUILTIN.covers(2026)
    assert BUILTIN.is_working_day(date(2027, 1, 1))  # a Friday; nobody loaded 元旦 yet
    assert not BUILTIN.is_working_day(date(2027, 1, 2))
    assert BUILTIN.day_info(date(2027, 1, 1)).source is DaySource.DEFAULT
    assert BUILTIN.day_name(date(2027, 1, 4)) == "工作日"
    assert BUILTIN.special_days(2027) == []
    assert BUILTIN.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


def test_a_loaded_year_is_covered_and_used() -> None:
    assert LOADED.covers(2027) and not LOADED.covers(2028)
    assert LOADED.loaded_years() == [2027]
    assert not LOADED.is_working_day(date(2027, 1, 1)) and LOADED.day_name(date(2027, 1, 1)) == "元旦"
    assert LOADED.is_working_day(date(2027, 2, 20)) and LOADED.day_name(date(2027, 2, 20)) == "春节调休"
    assert LOADED.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert LOADED.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 15)
    assert LOADED.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 8)  # 10-08 is a Friday outside the holiday


def test_without_the_package_no_year_is_covered() -> None:
    bare = WorkingCalendar(builtin=False)
    assert not bare.covers(2025)
    assert bare.is_working_day(date(2025, 10, 1))


def test_builtin_lookups_are_memoised_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = chinese_calendar.get_holiday_detail

    def counting(day: date) -> tuple[bool, str | None]:
        nonlocal calls
        calls += 1
        return original(day)

    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", counting)
    calendar_module._builtin_year.cache_clear()
    try:
        cal = WorkingCalendar()
        day = date(2025, 1, 1)
        while day.year == 2025:
            assert cal.add_working_days(day, 10) == naive_add(cal, day, 10)
            day += timedelta(days=1)
        assert 0 < calls <= 2 * 367  # one pass over 2025 and one over 2026, however many deadlines
        WorkingCalendar().add_working_days(date(2025, 3, 3), 10)  # a new calendar reuses the lookups
        assert calls <= 2 * 367
    finally:
        calendar_module._builtin_year.cache_clear()


# --- properties -----------------------------------------------------------------------------------


@given(day=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_builtin_agrees_with_the_package(day: date) -> None:
    assert BUILTIN.is_working_day(day) == chinese_calendar.is_workday(day)


@given(cal=CALENDARS, start=DATES, n=COUNTS)
def test_add_matches_the_definition(cal: WorkingCalendar, start: date, n: int) -> None:
    assert cal.add_working_days(start, n) == naive_add(cal, start, n)


@given(cal=CALENDARS, start=DATES, n=st.integers(min_value=1, max_value=400))
def test_a_deadline_is_a_working_day_after_start(cal: WorkingCalendar, start: date, n: int) -> None:
    deadline = cal.add_working_days(start, n)
    assert deadline > start
    assert cal.is_working_day(deadline)


@given(cal=CALENDARS, start=DATES, n=st.integers(min_value=1, max_value=400))
def test_between_inverts_add(cal: WorkingCalendar, start: date, n: int) -> None:
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


@given(cal=CALENDARS, a=DATES, b=DATES)
def test_between_matches_the_definition(cal: WorkingCalendar, a: date, b: date) -> None:
    low, high = min(a, b), max(a, b)
    expected = naive_between(cal, low, high)
    assert cal.working_days_between(low, high) == expected
    assert cal.working_days_between(high, low) == -expected


@given(cal=CALENDARS, start=DATES, n=COUNTS)
def test_monotonic_in_n(cal: WorkingCalendar, start: date, n: int) -> None:
    this, following = cal.add_working_days(start, n), cal.add_working_days(start, n + 1)
    assert this <= following
    if n >= 1 or cal.is_working_day(start):
        assert this < following


@given(cal=CALENDARS, start=DATES, a=st.integers(min_value=1, max_value=300), b=st.integers(min_value=0, max_value=300))
def test_add_composes(cal: WorkingCalendar, start: date, a: int, b: int) -> None:
    assert cal.add_working_days(start, a + b) == cal.add_working_days(cal.add_working_days(start, a), b)


@given(cal=CALENDARS, start=DATES)
def test_next_working_day_is_add_one(cal: WorkingCalendar, start: date) -> None:
    following = cal.next_working_day(start)
    assert following == cal.add_working_days(start, 1)
    assert all(not cal.is_working_day(start + timedelta(days=i)) for i in range(1, (following - start).days))
