"""Publication periods (公示期限) of credit information.

Pure domain rules: plain values in, plain values out; no database, no web framework.

Which records the public sees, and for how long (design invariants 4 and 6):

- Only items whose disclosure class is 社会公开 are published at all; 授权查询 and 政务共享 items
  are never shown to the public.
- 守信 and 中性 information is published without a dishonesty period: ``ends_on`` is None and the
  information's own validity decides how long it stays (not decided here).
- 失信 information is published from its decision date (决定日期) for the maximum period of its
  class (轻微/一般/严重). The class is the record's severity, falling back to the item's. The
  item's own months (a sector's refinement) apply when the record is of the item's class; a record
  of another class takes the periods of the policy parameter ``publication_periods``.
- 轻微 dishonesty is not published (shared between departments only).
- Administrative penalties (行政处罚) are not published when decided under the summary procedure
  (简易程序, ``CF_JYCX``), when the only penalty categories (``CF_CFLB``) are 警告 or 通报批评, or
  when the penalised subject is a natural person (自然人).
- A publication deadline in the record (公示截止期, ``CF_GSJZQ``) earlier than the computed end
  shortens publication; a later one never extends it beyond the maximum period.

Convention (end exclusive): a record is published on ``starts_on`` and every day after it, up to
but *not including* ``ends_on``. On the end date it disappears by itself, without anyone acting.
Month arithmetic keeps the day of the month and clamps it to the month's last day, so
2026-01-31 + 1 month is 2026-02-28 and 2024-01-31 + 1 month is 2024-02-29.

``min_ends_on`` is the end of the minimum period (decision date + minimum months): the earliest
date repair (信用修复) may be applied for. It never lies after ``ends_on``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

PUBLIC = "社会公开"
DISHONEST = "失信"
MINOR = "轻微"
NATURAL_PERSON = "natural_person"

# Administrative-penalty fields of the catalogue item ADM_PENALTY.
PENALTY_CATEGORY = "CF_CFLB"  # 处罚类别
SUMMARY_PROCEDURE = "CF_JYCX"  # 是否简易程序
PUBLICATION_DEADLINE = "CF_GSJZQ"  # 公示截止期

# Penalties made only of these categories are never published.
UNPUBLISHED_PENALTY_CATEGORIES = frozenset({"警告", "通报批评"})
_CATEGORY_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_TRUE_TEXTS = frozenset({"true", "1", "是", "y", "yes"})


@dataclass(frozen=True)
class PublicationRule:
    """What a catalogue item version says about publication, with the policy's default periods."""

    disclosure_class: str
    credit_nature: str
    severity: str | None
    min_months: int | None
    max_months: int | None
    periods: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_item(cls, version: Any, periods: Mapping[str, Mapping[str, Any]]) -> PublicationRule:
        """Build from any object with the catalogue item version's attributes."""
        return cls(
            disclosure_class=version.disclosure_class,
            credit_nature=version.credit_nature,
            severity=version.severity,
            min_months=version.min_publication_months,
            max_months=version.max_publication_months,
            periods=periods,
        )


@dataclass(frozen=True)
class Window:
    """The publication window of one record; ``ends_on`` is exclusive (see the module docstring)."""

    published: bool
    starts_on: date | None
    ends_on: date | None
    min_ends_on: date | None
    reason: str


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the last day of the target month."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def publication_window(rule: PublicationRule, *, decision_date: date | None, record_severity: str | None,
                       payload: Mapping[str, Any], subject_kind: str) -> Window:
    """When (and whether) a record under ``rule`` is shown to the public."""
    if rule.disclosure_class != PUBLIC:
        return _not_published(f"信息项公开属性为「{rule.disclosure_class}」，不向社会公开")
    if rule.credit_nature != DISHONEST:
        return Window(True, decision_date, None, None, f"{rule.credit_nature}信息，按其有效期公开，不设失信公示期限")
    if decision_date is None:
        return _not_published("缺少决定日期，无法计算公示期限，暂不公示")
    severity = record_severity or rule.severity
    if severity is None or severity not in rule.periods:
        return _not_published(f"失信程度「{severity or '未标明'}」无对应公示期限，暂不公示")
    if severity == MINOR or not rule.periods[severity].get("published", True):
        return _not_published(f"{severity}失信信息不予公示，仅在政务部门间共享")
    exclusion = _penalty_exclusion(payload, subject_kind)
    if exclusion:
        return _not_published(exclusion)
    return _dishonesty_window(rule, severity, decision_date, payload)


def is_published(window: Window, at: date) -> bool:
    """Whether the public sees the record on day ``at``: ``starts_on <= at < ends_on``."""
    if not window.published or window.starts_on is None or at < window.starts_on:
        return False
    return window.ends_on is None or at < window.ends_on


def _not_published(reason: str) -> Window:
    return Window(False, None, None, None, reason)


def _months_for(rule: PublicationRule, severity: str) -> tuple[int, int]:
    # The item's own months refine its class; a record of another class takes the policy's.
    default = rule.periods[severity]
    if severity == rule.severity and rule.max_months is not None:
        return rule.min_months or 0, rule.max_months
    return int(default.get("min_months") or 0), int(default["max_months"])


def _dishonesty_window(rule: PublicationRule, severity: str, decision_date: date,
                       payload: Mapping[str, Any]) -> Window:
    min_months, max_months = _months_for(rule, severity)
    ends_on = add_months(decision_date, max_months)
    reason = f"{severity}失信信息，自决定日期起公示{max_months}个月"
    deadline = _as_date(payload.get(PUBLICATION_DEADLINE))
    if deadline is not None and deadline < ends_on:
        ends_on = deadline
        reason = f"{severity}失信信息，按公示截止期公示至{deadline.isoformat()}（不含当日）"
    min_ends_on = min(add_months(decision_date, min_months), ends_on)
    return Window(True, decision_date, ends_on, min_ends_on, reason)


def _penalty_exclusion(payload: Mapping[str, Any], subject_kind: str) -> str | None:
    """Why an administrative penalty is not published, or None (also for records that are no penalty)."""
    if PENALTY_CATEGORY not in payload and SUMMARY_PROCEDURE not in payload:
        return None
    if _is_true(payload.get(SUMMARY_PROCEDURE)):
        return "适用简易程序作出的行政处罚不予公示"
    categories = _categories(payload.get(PENALTY_CATEGORY))
    if categories and categories <= UNPUBLISHED_PENALTY_CATEGORIES:
        return "仅给予警告或通报批评的行政处罚不予公示"
    if subject_kind == NATURAL_PERSON:
        return "对自然人的行政处罚原则上不予公示"
    return None


def _categories(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    parts = value if isinstance(value, list | tuple | set | frozenset) else _CATEGORY_SEPARATORS.split(str(value))
    return frozenset(str(p).strip() for p in parts if str(p).strip())


def _is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in _TRUE_TEXTS


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
