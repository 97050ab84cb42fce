"""The pure rules: who may have 容缺受理, and which deadlines for missing materials are acceptable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.calendar import WorkingCalendar
from xinyong.commitments import rules
from xinyong.errors import Invalid
from xinyong.policy.service import seed_defaults

RULE = rules.ToleranceRule.from_policy(seed_defaults()["tolerance_acceptance"]["value"])
CALENDAR = WorkingCalendar()
MODEL = "公共信用综合评价（法人和非法人组织）"


def test_the_seeded_rule() -> None:
    assert rules.ToleranceRule("PUBLIC_CREDIT_ORG", ("A", "B"), True, ("严重",), 20) == RULE


@pytest.mark.parametrize(("grade", "lists", "allowed", "words"), [
    (None, {}, True, "尚无"),
    ("A", {}, True, "等级为A"),
    ("B", {"一般": ["经营异常名录"]}, True, "等级为B"),  # only 严重 lists exclude (policy)
    ("C", {}, False, "等级为C，容缺受理仅适用于等级为A、B的主体"),
    ("A", {"严重": ["严重违法失信名单", "失信被执行人名单"]}, False, "严重违法失信名单、失信被执行人名单"),
])
def test_tolerance(grade: str | None, lists: dict[str, list[str]], allowed: bool, words: str) -> None:
    decided, reason = rules.tolerance(RULE, grade=grade, model_name=MODEL, lists=lists)
    assert decided is allowed and words in reason


def test_a_policy_without_ungraded_subjects() -> None:
    strict = rules.ToleranceRule.from_policy({"grade_model": "X", "allowed_grades": ["A"]})
    assert strict.ungraded_allowed is False and strict.max_working_days is None
    assert rules.tolerance(strict, grade=None, model_name="X", lists={})[0] is False


def _check(due: date, made_on: date, today: date, maximum: int | None = 20) -> None:
    rules.check_materials_due("容缺受理型", due, made_on=made_on, today=today, calendar=CALENDAR, max_working_days=maximum)


@given(made_on=st.dates(date(2026, 1, 1), date(2026, 12, 31)), days=st.integers(1, 45))
def test_a_deadline_is_accepted_exactly_when_it_is_a_working_day_within_the_limit(made_on: date, days: int) -> None:
    due = made_on + timedelta(days=days)
    try:
        _check(due, made_on, made_on)
    except Invalid as error:
        if error.code == "COMMITMENT_DUE_NOT_WORKING_DAY":
            following = date.fromisoformat(error.details["next_working_day"])
            assert not CALENDAR.is_working_day(due) and CALENDAR.is_working_day(following) and following > due
            assert not any(CALENDAR.is_working_day(due + timedelta(days=i)) for i in range(1, (following - due).days))
            assert following.isoformat() in error.message
        else:
            assert error.code == "COMMITMENT_DUE_TOO_LATE" and CALENDAR.working_days_between(made_on, due) > 20
            assert CALENDAR.working_days_between(made_on, date.fromisoformat(error.details["latest"])) == 20
    else:
        assert CALENDAR.is_working_day(due) and CALENDAR.working_days_between(made_on, due) <= 20


def test_across_the_year_end_and_the_spring_festival() -> None:
    with pytest.raises(Invalid) as caught:
        _check(date(2026, 1, 2), date(2025, 12, 30), date(2025, 12, 30))
    assert "元旦" in caught.value.message and caught.value.details["next_working_day"] == "2026-01-04"  # 调休上班
    _check(date(2026, 1, 4), date(2025, 12, 30), date(2025, 12, 30))
    with pytest.raises(Invalid) as spring:
        _check(date(2026, 2, 18), date(2026, 2, 10), date(2026, 2, 10))
    assert "春节" in spring.value.message and spring.value.details["next_working_day"] == "2026-02-24"
    _check(date(2026, 2, 28), date(2026, 2, 10), date(2026, 2, 10))  # a Saturday worked in lieu (调休上班)
