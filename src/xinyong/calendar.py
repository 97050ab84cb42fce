"""Chinese working days (工作日): statutory holidays (法定节假日) and make-up working days (调休上班).

Repair and objection time limits count working days (design invariant 7). Which days are
worked is decided each year by the State Council (国务院办公厅关于某年部分节假日安排的通知),
so the calendar has three layers, the later winning:

1. the default rule: Monday to Friday are working days, Saturday and Sunday are rest days;
2. the built-in schedule of the ``chinese_calendar`` package, for the years it covers;
3. overrides the credit authority loads (a year the package does not know yet, or a
   correction of a wrong built-in day): ``date -> (is_working_day, name)``.

A year is *covered* when layer 2 or 3 holds a schedule for it. For an uncovered year the
calendar still answers (weekdays are working days) and ``covers(year)`` is False, so callers
can warn that a deadline may be wrong; it never raises.

Deadline convention (期间开始之日不计算在内): ``add_working_days(start, n)`` is the n-th working
day *after* ``start``; ``start`` itself is never counted, whether it is a working day or not.
So a request received on a Friday (or on the Saturday after it) with a limit of 1 working day
is due on the following Monday, if that Monday is a working day. For ``n == 0`` the deadline is
``start`` itself if it is a working day, else the next working day.

Pure domain code: no database, no web framework. Built-in lookups are memoised per year
(shared by every calendar, the package data never changes), and each calendar keeps a
per-year table with running totals, so date arithmetic is a bisection, not a day-by-day walk.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar

# The package names holidays in English; these are the names the State Council notices use.
_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

MAKEUP_NAME = "调休上班"
WEEKEND_NAME = "周末"
WORKDAY_NAME = "工作日"
REST_NAME = "休息日"  # a rest day on a weekday that nobody named (only possible through raw overrides)


class DayKind(StrEnum):
    WORKDAY = "workday"  # an ordinary working day (Monday to Friday)
    WEEKEND = "weekend"  # an ordinary rest day (Saturday, Sunday)
    HOLIDAY = "holiday"  # a rest day of a holiday period (法定节假日, including the weekend days inside it)
    MAKEUP = "makeup"  # a weekend day worked in lieu (调休上班)


class DaySource(StrEnum):
    DEFAULT = "default"  # the weekday rule only
    BUILTIN = "builtin"  # the chinese_calendar package
    OVERRIDE = "override"  # a schedule the credit authority loaded


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_working_day: bool
    name: str
    kind: DayKind
    source: DaySource

    @property
    def is_special(self) -> bool:
        """Not an ordinary weekday/weekend: a holiday, a make-up day, or anything an override set."""
        return self.kind in (DayKind.HOLIDAY, DayKind.MAKEUP) or self.source is DaySource.OVERRIDE


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


@cache
def _builtin_year(year: int) -> Mapping[date, tuple[bool, str]] | None:
    """The package's non-ordinary days of ``year`` (date -> (working, name)), None if not covered."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return None
    table: dict[date, tuple[bool, str]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        rest, holiday = chinese_calendar.get_holiday_detail(day)
        if holiday is not None:
            name = _HOLIDAY_NAMES.get(holiday, holiday)
            table[day] = (not rest, MAKEUP_NAME if not rest else name)
        day += timedelta(days=1)
    return table


def builtin_covers(year: int) -> bool:
    """Whether the installed ``chinese_calendar`` package has the State Council schedule for ``year``."""
    return 1 <= year <= 9999 and _builtin_year(year) is not None


class _Year:
    """One year of a calendar: working flags per day and running totals for bisection."""

    __slots__ = ("cumulative", "first", "working")

    def __init__(self, year: int, working: list[bool]) -> None:
        self.first = date(year, 1, 1)
        self.working = working
        total = 0
        cumulative: list[int] = []
        for flag in working:
            total += flag
            cumulative.append(total)
        self.cumulative = cumulative  # cumulative[i]: working days among days 0..i of the year

    @property
    def total(self) -> int:
        return self.cumulative[-1]

    def index(self, d: date) -> int:
        return (d - self.first).days

    def upto(self, d: date) -> int:
        """Working days from 1 January up to and including ``d``."""
        return self.cumulative[self.index(d)]


class WorkingCalendar:
    """Which days are worked in mainland China, and deadlines counted in working days."""

    def __init__(self, overrides: Mapping[date, tuple[bool, str]] | None = None, *, builtin: bool = True) -> None:
        """``overrides`` (date -> (is_working_day, name)) win over the built-in schedule; a year
        with at least one override counts as covered. ``builtin=False`` ignores the package."""
        self._overrides: dict[date, tuple[bool, str]] = dict(overrides or {})
        self._override_years = frozenset(d.year for d in self._overrides)
        self._builtin = builtin
        self._years: dict[int, _Year] = {}

    # --- coverage -----------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether a State Council schedule is known for ``year`` (built-in or loaded)."""
        return year in self._override_years or (self._builtin and builtin_covers(year))

    def loaded_years(self) -> list[int]:
        return sorted(self._override_years)

    # --- single days ----------------------------------------------------------------------

    def _builtin_table(self, year: int) -> Mapping[date, tuple[bool, str]] | None:
        return _builtin_year(year) if self._builtin else None

    def day_info(self, d: date) -> DayInfo:
        if d in self._overrides:
            working, name = self._overrides[d]
            source = DaySource.OVERRIDE
        else:
            table = self._builtin_table(d.year)
            if table is not None and d in table:
                working, name = table[d]
                source = DaySource.BUILTIN
            else:
                working, name = not _is_weekend(d), ""
                source = DaySource.BUILTIN if table is not None else DaySource.DEFAULT
        if working:
            kind = DayKind.MAKEUP if _is_weekend(d) else DayKind.WORKDAY
            default_name = MAKEUP_NAME if kind is DayKind.MAKEUP else WORKDAY_NAME
        else:
            kind = DayKind.WEEKEND if _is_weekend(d) and not name else DayKind.HOLIDAY
            default_name = WEEKEND_NAME if kind is DayKind.WEEKEND else REST_NAME
        return DayInfo(d, working, name or default_name, kind, source)

    def is_working_day(self, d: date) -> bool:
        year = self._year(d.year)
        return year.working[year.index(d)]

    def day_name(self, d: date) -> str:
        """What the day is: a holiday's name (国庆节, 春节…), 调休上班 or the override's name for a
        make-up day, 周末 or 工作日 for an ordinary day."""
        return self.day_info(d).name

    def days(self, year: int) -> Iterator[DayInfo]:
        """Every day of ``year``, in order."""
        day = date(year, 1, 1)
        while day.year == year:
            yield self.day_info(day)
            day += timedelta(days=1)

    def special_days(self, year: int) -> list[DayInfo]:
        """The days of ``year`` that are not ordinary weekdays or weekends (holidays, make-up days,
        and every day an override names)."""
        return [info for info in self.days(year) if info.is_special]

    # --- arithmetic ---------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = _Year(year, [info.is_working_day for info in self.days(year)])
            self._years[year] = table
        return table

    def add_working_days(self, start: date, n: int) -> date:
        """The deadline ``n`` working days after ``start`` (``start`` not counted).

        ``n == 0`` gives ``start`` if it is a working day, else the next working day.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        year = self._year(start.year)
        target = year.upto(start) + n
        while target > year.total:
            target -= year.total
            year = self._year(year.first.year + 1)
        return year.first + timedelta(days=bisect_left(year.cumulative, target))

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d`` (the same as ``add_working_days(d, 1)``)."""
        return self.add_working_days(d, 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in the half-open interval (a, b]; negative (−count of (b, a]) if b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        first = self._year(a.year)
        if a.year == b.year:
            return first.upto(b) - first.upto(a)
        count = first.total - first.upto(a)
        for year in range(a.year + 1, b.year):
            count += self._year(year).total
        return count + self._year(b.year).upto(b)
