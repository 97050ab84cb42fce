"""The working-day calendar as the credit authority keeps it: built-in schedule plus loaded years.

Each year the State Council publishes its holiday schedule (国务院办公厅关于某年部分节假日安排的
通知). The authority types it in the simple format ``parse_schedule`` reads and loads it with
``load_year``; deadlines then come from ``working_calendar(session)``. Loaded days are
configuration: a load replaces that year's rows, and the audit entry keeps what was there before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.calendar import DayInfo, WorkingCalendar, builtin_covers
from xinyong.db import utcnow
from xinyong.errors import Invalid
from xinyong.policy.models import CalendarDay

ScheduleDay = tuple[date, bool, str]

_CACHE_KEY = "working_calendar"
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_RANGE_DAYS = 366
MAX_REPORTED = 20  # faulty lines listed in the message (all are in the error's details)
NAME_LENGTH, SOURCE_LENGTH = 40, 200

WORK_WORDS = frozenset({"班", "上班", "工作", "工作日", "work", "working", "workday"})
REST_WORDS = frozenset({"休", "休息", "放假", "休假", "rest", "off", "holiday"})

_SEPARATOR = re.compile(r"\s*[,，;；\t]\s*|\s+")
_DATE_TEXT = r"\d{4}\s*(?:[-/.]|年)\s*\d{1,2}\s*(?:[-/.]|月)\s*\d{1,2}日?"
_DATE = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})日?")
# A date or a range "start~end" (also ～ or 至), then a separator or the end of the line.
_WHEN = re.compile(rf"({_DATE_TEXT})(?:\s*(?:~|～|至)\s*({_DATE_TEXT}))?(?=\s|[,，;；]|$)")
_HEADER_WORDS = frozenset({"日期", "date"})


# --- the calendar of a unit of work -----------------------------------------------------------


def working_calendar(session: Session) -> WorkingCalendar:
    """The calendar (built-in schedule + loaded overrides), built once per session."""
    calendar: WorkingCalendar | None = session.info.get(_CACHE_KEY)
    if calendar is None:
        rows = session.execute(select(CalendarDay.day, CalendarDay.is_working_day, CalendarDay.name)).all()
        calendar = WorkingCalendar({row.day: (row.is_working_day, row.name) for row in rows})
        session.info[_CACHE_KEY] = calendar
    return calendar


def loaded_days(session: Session, year: int) -> list[CalendarDay]:
    """The days loaded for ``year``, in date order."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    query = select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last).order_by(CalendarDay.day)
    return list(session.scalars(query))


# --- loading a year ---------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid("CALENDAR_YEAR_INVALID", f"年份应在{MIN_YEAR}至{MAX_YEAR}之间：{year}", field="year")


def _validate(year: int, days: list[ScheduleDay], source: str) -> None:
    _check_year(year)
    if not source:
        raise Invalid("CALENDAR_SOURCE_REQUIRED", "请注明节假日安排的来源（如国务院办公厅通知的文号）", field="source")
    if len(source) > SOURCE_LENGTH:
        raise Invalid("CALENDAR_SOURCE_TOO_LONG", f"来源说明不能超过{SOURCE_LENGTH}个字符", field="source")
    if not days and not builtin_covers(year):
        raise Invalid("CALENDAR_EMPTY", f"{year}年的节假日安排为空：系统没有该年的内置安排，请录入国务院公布的放假和调休日期",
                      field="days")
    seen: set[date] = set()
    for day, working, name in days:
        if day.year != year:
            raise Invalid("CALENDAR_DAY_OUTSIDE_YEAR",
                          f"{day.isoformat()}不属于{year}年；跨年的放假或调休日请录入其所属年份的安排", field="days",
                          date=day.isoformat())
        if day in seen:
            raise Invalid("CALENDAR_DUPLICATE_DAY", f"{day.isoformat()}重复出现", field="days", date=day.isoformat())
        seen.add(day)
        if len(name) > NAME_LENGTH:
            raise Invalid("CALENDAR_NAME_TOO_LONG", f"{day.isoformat()}的名称不能超过{NAME_LENGTH}个字符", field="days",
                          date=day.isoformat())
        if not working and day.weekday() < 5 and not name:
            raise Invalid("CALENDAR_NAME_REQUIRED",
                          f"{day.isoformat()}是工作日（星期{'一二三四五'[day.weekday()]}），改为休息须注明节日名称",
                          field="days", date=day.isoformat())


def _as_list(days: list[CalendarDay] | list[ScheduleDay]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for item in days:
        day, working, name = (item.day, item.is_working_day, item.name) if isinstance(item, CalendarDay) else item
        out.append([day.isoformat(), "班" if working else "休", name])
    return out


def load_year(session: Session, actor: Actor, year: int, days: list[ScheduleDay], source: str) -> int:
    """Replace ``year``'s loaded schedule with ``days``; returns how many days were loaded.

    Refuses days outside the year, a date given twice, over-long names, and a weekday made a
    rest day without a name. An empty list clears the corrections of a year the built-in
    calendar covers (and is refused for any other year).
    """
    source = source.strip()
    days = [(day, bool(working), name.strip()) for day, working, name in days]
    _validate(year, days, source)
    days.sort()
    before = loaded_days(session, year)
    before_list = _as_list(before)
    session.execute(delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))
    now = utcnow()
    for day, working, name in days:
        if working and not name and day.weekday() >= 5:
            name = "调休上班"
        session.add(CalendarDay(day=day, is_working_day=working, name=name, source=source, loaded_at=now,
                                loaded_by=actor.username))
    session.flush()
    session.info.pop(_CACHE_KEY, None)
    audit.append(session, actor, "calendar.load", object_type="calendar", object_id=str(year),
                 detail={"year": year, "source": source, "count": len(days), "before": before_list,
                         "after": _as_list(days)})
    return len(days)


# --- the schedule text format ---------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    line: int
    code: str
    message: str


def _parse_date(text: str) -> date | None:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_line(number: int, line: str) -> tuple[list[ScheduleDay], _Problem | None]:
    when = _WHEN.match(line)
    if when is None:
        first = _SEPARATOR.split(line, maxsplit=1)[0]
        return [], _Problem(number, "CALENDAR_BAD_DATE", f"日期“{first}”无效，应写作 2027-01-01 或 2027-02-10~2027-02-16")
    fields = _SEPARATOR.split(line[when.end():].strip(" \t,，;；"), maxsplit=1)
    status = fields[0]
    name = fields[1].strip() if len(fields) > 1 else ""
    if not status:
        return [], _Problem(number, "CALENDAR_LINE_FORMAT", "缺少“休”或“班”，格式应为“日期,休或班,名称”，例如 2027-01-01,休,元旦")
    start = _parse_date(when[1])
    end = _parse_date(when[2]) if when[2] else start
    if start is None or end is None:
        bad = when[1] if start is None else when[2]
        return [], _Problem(number, "CALENDAR_BAD_DATE", f"日期“{bad}”不存在")
    if end < start:
        return [], _Problem(number, "CALENDAR_BAD_RANGE", f"日期范围的结束日{end.isoformat()}早于开始日{start.isoformat()}")
    if (end - start).days >= MAX_RANGE_DAYS:
        return [], _Problem(number, "CALENDAR_BAD_RANGE", f"日期范围超过{MAX_RANGE_DAYS}天")
    lowered = status.lower()
    if lowered in WORK_WORDS:
        working = True
    elif lowered in REST_WORDS:
        working = False
    else:
        return [], _Problem(number, "CALENDAR_BAD_STATUS", f"“{status}”无法识别，请写“休”（休息）或“班”（上班）")
    if len(name) > NAME_LENGTH:
        return [], _Problem(number, "CALENDAR_NAME_TOO_LONG", f"名称不能超过{NAME_LENGTH}个字符")
    days = [(start + timedelta(days=i), working, name) for i in range((end - start).days + 1)]
    return days, None


def parse_schedule(text: str) -> list[ScheduleDay]:
    """Read a holiday schedule typed from the State Council notice, one entry a line::

        # 2027年部分节假日安排
        2027-01-01,休,元旦
        2027-02-10~2027-02-16,休,春节
        2027-02-07,班,春节调休

    Fields are separated by a comma (also ，；; or tab or spaces); the status is 休/休息/放假/rest
    or 班/上班/工作/work; a range is written ``start~end`` (also ～ or 至). Blank lines, ``#``
    comments and a header line starting with 日期/date are skipped. Every faulty line is reported
    with its number; the first fault gives the error code.
    """
    days: list[ScheduleDay] = []
    problems: list[_Problem] = []
    first_line: dict[date, int] = {}
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if _SEPARATOR.split(line, maxsplit=1)[0].lower() in _HEADER_WORDS:
            continue
        parsed, problem = _parse_line(number, line)
        if problem is not None:
            problems.append(problem)
            continue
        for entry in parsed:
            if entry[0] in first_line:
                problems.append(_Problem(number, "CALENDAR_DUPLICATE_DAY",
                                         f"{entry[0].isoformat()}已在第{first_line[entry[0]]}行出现"))
                break
            first_line[entry[0]] = number
            days.append(entry)
    if problems:
        shown = "；".join(f"第{p.line}行：{p.message}" for p in problems[:MAX_REPORTED])
        more = f"；另有{len(problems) - MAX_REPORTED}处错误未列出" if len(problems) > MAX_REPORTED else ""
        raise Invalid(problems[0].code, f"节假日安排有误：{shown}{more}", field="schedule",
                      problems=[p.__dict__ for p in problems])
    return days


def format_schedule(days: list[ScheduleDay]) -> str:
    """The text ``parse_schedule`` reads back: consecutive days of the same status and name as one range."""
    lines: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        start, working, name = ordered[i]
        j = i
        while (j + 1 < len(ordered) and ordered[j + 1][1:] == (working, name)
               and ordered[j + 1][0] == ordered[j][0] + timedelta(days=1)):
            j += 1
        when = start.isoformat() if i == j else f"{start.isoformat()}~{ordered[j][0].isoformat()}"
        lines.append(f"{when},{'班' if working else '休'},{name}".rstrip(","))
        i = j + 1
    return "\n".join(lines) + ("\n" if lines else "")


def loaded_schedule_text(session: Session, year: int) -> str:
    """``year``'s loaded days in the schedule format (to edit and load again)."""
    return format_schedule([(row.day, row.is_working_day, row.name) for row in loaded_days(session, year)])


# --- one year at a glance (the authority's page and the public API) -----------------------


@dataclass(frozen=True)
class YearOverview:
    year: int
    covered: bool
    builtin: bool  # the chinese_calendar package has this year
    loaded: list[CalendarDay]  # the authority's overrides for this year
    special: list[DayInfo]  # holidays, make-up days and overridden days
    months: list[list[list[DayInfo | None]]]  # month -> weeks (Monday first) -> day or padding
    working_day_count: int


def year_overview(session: Session, year: int) -> YearOverview:
    _check_year(year)
    calendar = working_calendar(session)
    infos = list(calendar.days(year))
    months: list[list[list[DayInfo | None]]] = []
    for month in range(1, 13):
        in_month = [info for info in infos if info.day.month == month]
        cells: list[DayInfo | None] = [None] * in_month[0].day.weekday() + list(in_month)
        cells += [None] * (-len(cells) % 7)
        months.append([cells[i:i + 7] for i in range(0, len(cells), 7)])
    return YearOverview(year=year, covered=calendar.covers(year), builtin=builtin_covers(year),
                        loaded=loaded_days(session, year), special=[info for info in infos if info.is_special],
                        months=months, working_day_count=sum(info.is_working_day for info in infos))
