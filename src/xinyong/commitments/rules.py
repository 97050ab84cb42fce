"""The rules of credit commitments, free of storage and web (domain layer).

* 容缺受理 (accept first, materials later) is for subjects whose credit is good (2025 opinions §15:
  "信用状况较好"): what counts as good is the policy ``tolerance_acceptance`` — grades of one
  evaluation model, whether a subject not yet graded qualifies, and which list severities exclude.
* The deadline for the missing materials is a Chinese working day (statutory holidays and 调休
  counted), after the day of the commitment, not passed, and within the policy's maximum number
  of working days. A refusal names the next working day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from xinyong.calendar import DayKind, WorkingCalendar
from xinyong.commitments.schemas import TOLERANCE
from xinyong.errors import Invalid

WEEKDAYS = "一二三四五六日"


def weekday(day: date) -> str:
    return f"星期{WEEKDAYS[day.weekday()]}"


@dataclass(frozen=True)
class ToleranceRule:
    """Who may have 容缺受理 (policy ``tolerance_acceptance``)."""

    grade_model: str
    allowed_grades: tuple[str, ...]
    ungraded_allowed: bool
    refused_severities: tuple[str, ...]
    max_working_days: int | None

    @classmethod
    def from_policy(cls, value: Mapping[str, Any]) -> ToleranceRule:
        maximum = value.get("max_working_days")
        return cls(grade_model=str(value.get("grade_model", "PUBLIC_CREDIT_ORG")),
                   allowed_grades=tuple(str(g) for g in value.get("allowed_grades") or ()),
                   ungraded_allowed=bool(value.get("ungraded_allowed", False)),
                   refused_severities=tuple(str(s) for s in value.get("refused_if_on_list_severities") or ()),
                   max_working_days=int(maximum) if maximum else None)


def tolerance(rule: ToleranceRule, *, grade: str | None, model_name: str,
              lists: Mapping[str, Sequence[str]]) -> tuple[bool, str]:
    """Whether a subject with ``grade`` (None: not graded) on ``lists`` (severity -> list names in force)
    may have 容缺受理, and why (in Chinese, for the page and the refusal)."""
    for severity in rule.refused_severities:
        if lists.get(severity):
            return False, (f"该主体在列于{severity}失信名单（{'、'.join(lists[severity])}），不适用容缺受理")
    allowed = "、".join(rule.allowed_grades) or "（无）"
    if grade is None:
        if rule.ungraded_allowed:
            return True, f"该主体尚无{model_name}等级，按规定可以适用容缺受理"
        return False, f"该主体尚无{model_name}等级，容缺受理仅适用于等级为{allowed}的主体"
    if grade not in rule.allowed_grades:
        return False, f"该主体最近一次{model_name}等级为{grade}，容缺受理仅适用于等级为{allowed}的主体"
    return True, f"该主体最近一次{model_name}等级为{grade}，可以适用容缺受理"


def describe_day(calendar: WorkingCalendar, day: date) -> str:
    """What a rest day is, for a message: 端午节（法定节假日）, 周末（星期六）."""
    info = calendar.day_info(day)
    if info.kind is DayKind.HOLIDAY:
        return f"{info.name}（法定节假日，{weekday(day)}）"
    if info.kind is DayKind.WEEKEND:
        return f"周末（{weekday(day)}）"
    return f"{info.name}（{weekday(day)}）"


def check_materials_due(kind: str, due: date | None, *, made_on: date, today: date, calendar: WorkingCalendar,
                        max_working_days: int | None) -> None:
    """Refuse a deadline for missing materials that is absent, misplaced or not a working day."""
    if kind != TOLERANCE:
        if due is not None:
            raise Invalid("COMMITMENT_DUE_NOT_APPLICABLE", "只有容缺受理型承诺需要填写补齐材料期限，其他类型请留空",
                          field="materials_due_on")
        return
    if due is None:
        raise Invalid("COMMITMENT_DUE_REQUIRED", "容缺受理型承诺须写明补齐材料的期限（工作日）", field="materials_due_on")
    if due <= made_on:
        raise Invalid("COMMITMENT_DUE_TOO_EARLY", f"补齐材料期限{due.isoformat()}须晚于承诺日期{made_on.isoformat()}",
                      field="materials_due_on")
    if due < today:
        raise Invalid("COMMITMENT_DUE_PASSED", f"补齐材料期限{due.isoformat()}已过", field="materials_due_on")
    if not calendar.is_working_day(due):
        following = calendar.next_working_day(due)
        raise Invalid("COMMITMENT_DUE_NOT_WORKING_DAY",
                      f"补齐材料期限{due.isoformat()}是{describe_day(calendar, due)}，不是工作日；"
                      f"请改为工作日，如下一个工作日{following.isoformat()}（{weekday(following)}）",
                      field="materials_due_on", next_working_day=following.isoformat())
    if max_working_days is not None and calendar.working_days_between(made_on, due) > max_working_days:
        latest = calendar.add_working_days(made_on, max_working_days)
        raise Invalid("COMMITMENT_DUE_TOO_LATE",
                      f"补齐材料期限不得超过承诺之日起{max_working_days}个工作日，即最晚{latest.isoformat()}（{weekday(latest)}）",
                      field="materials_due_on", latest=latest.isoformat())
