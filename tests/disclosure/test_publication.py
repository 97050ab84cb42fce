"""Publication periods of credit information: pure rules, no database."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.disclosure.publication import (
    PublicationRule,
    Window,
    add_months,
    is_published,
    publication_window,
)

PERIODS = {
    "轻微": {"published": False, "min_months": 0, "max_months": 3},
    "一般": {"published": True, "min_months": 3, "max_months": 12},
    "严重": {"published": True, "min_months": 12, "max_months": 36},
}

DECIDED = date(2026, 1, 31)


def item(**overrides: object) -> SimpleNamespace:
    attrs = {"disclosure_class": "社会公开", "credit_nature": "失信", "severity": "一般",
             "min_publication_months": 3, "max_publication_months": 12}
    attrs.update(overrides)
    return SimpleNamespace(**attrs)


def penalty(**fields: object) -> dict[str, object]:
    return {"CF_WSH": "京市监罚〔2026〕1号", "CF_CFLB": "罚款", "CF_JDRQ": DECIDED.isoformat(), **fields}


def window(rule_item: SimpleNamespace | None = None, *, decided: date | None = DECIDED, severity: str | None = None,
           payload: dict[str, object] | None = None, subject_kind: str = "enterprise") -> Window:
    rule = PublicationRule.from_item(rule_item or item(), PERIODS)
    return publication_window(rule, decision_date=decided, record_severity=severity,
                              payload=penalty() if payload is None else payload, subject_kind=subject_kind)


# --- month arithmetic ---------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 1, 31), 3, date(2026, 4, 30)),
    (date(2026, 1, 31), 12, date(2027, 1, 31)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 11, 15), 2, date(2027, 1, 15)),
    (date(2026, 5, 20), 0, date(2026, 5, 20)),
])
def test_add_months_clamps_to_the_last_day_of_the_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


# --- the rule from a catalogue item version ----------------------------------------------

def test_rule_is_built_from_any_item_version_like_object() -> None:
    rule = PublicationRule.from_item(item(severity="严重", min_publication_months=12, max_publication_months=36), PERIODS)
    assert (rule.disclosure_class, rule.credit_nature, rule.severity) == ("社会公开", "失信", "严重")
    assert (rule.min_months, rule.max_months) == (12, 36)
    assert rule.periods is PERIODS


# --- dishonesty periods ----------------------------------------------------------------------

def test_general_penalty_is_published_for_twelve_months() -> None:
    w = window()
    assert w.published
    assert w.starts_on == DECIDED
    assert w.ends_on == date(2027, 1, 31)
    assert w.min_ends_on == date(2026, 4, 30)
    assert "12个月" in w.reason


def test_serious_dishonesty_is_published_for_thirty_six_months() -> None:
    w = window(item(severity="严重", min_publication_months=12, max_publication_months=36))
    assert w.published
    assert w.ends_on == date(2029, 1, 31)
    assert w.min_ends_on == date(2027, 1, 31)


def test_record_severity_overrides_the_item_and_takes_the_policy_periods() -> None:
    w = window(severity="严重")
    assert w.ends_on == date(2029, 1, 31)
    assert w.min_ends_on == date(2027, 1, 31)


def test_item_without_own_months_takes_the_policy_periods() -> None:
    w = window(item(min_publication_months=None, max_publication_months=None))
    assert (w.ends_on, w.min_ends_on) == (date(2027, 1, 31), date(2026, 4, 30))


def test_item_months_refine_its_class() -> None:
    w = window(item(min_publication_months=6, max_publication_months=6))
    assert (w.ends_on, w.min_ends_on) == (date(2026, 7, 31), date(2026, 7, 31))


def test_minor_dishonesty_is_not_published() -> None:
    w = window(item(severity="轻微", min_publication_months=0, max_publication_months=3))
    assert not w.published
    assert (w.starts_on, w.ends_on, w.min_ends_on) == (None, None, None)
    assert "轻微" in w.reason


def test_minor_record_under_a_general_item_is_not_published() -> None:
    assert not window(severity="轻微").published


def test_dishonesty_without_decision_date_is_not_published() -> None:
    w = window(decided=None)
    assert not w.published
    assert "决定日期" in w.reason


# --- penalties that are never published ------------------------------------------------------

@pytest.mark.parametrize("category", ["警告", "通报批评", "警告、通报批评", ["警告", "通报批评"]])
def test_warning_or_circulated_criticism_only_is_not_published(category: object) -> None:
    w = window(payload=penalty(CF_CFLB=category))
    assert not w.published
    assert "警告或通报批评" in w.reason


def test_warning_with_a_fine_is_published() -> None:
    assert window(payload=penalty(CF_CFLB="警告、罚款")).published


@pytest.mark.parametrize("flag", [True, "是", "true"])
def test_summary_procedure_penalty_is_not_published(flag: object) -> None:
    w = window(payload=penalty(CF_JYCX=flag))
    assert not w.published
    assert "简易程序" in w.reason


def test_ordinary_procedure_penalty_is_published() -> None:
    assert window(payload=penalty(CF_JYCX=False)).published


def test_penalty_of_a_natural_person_is_not_published() -> None:
    w = window(subject_kind="natural_person")
    assert not w.published
    assert "自然人" in w.reason


def test_non_penalty_dishonesty_of_a_natural_person_is_published() -> None:
    assert window(payload={"SX_AH": "（2026）京01执1号"}, subject_kind="natural_person").published


# --- disclosure class and credit nature ----------------------------------------------------

@pytest.mark.parametrize("disclosure", ["授权查询", "政务共享"])
def test_items_not_marked_public_are_not_published(disclosure: str) -> None:
    w = window(item(disclosure_class=disclosure))
    assert not w.published
    assert disclosure in w.reason


@pytest.mark.parametrize("nature", ["守信", "中性"])
def test_honest_and_neutral_information_has_no_dishonesty_period(nature: str) -> None:
    w = window(item(credit_nature=nature, severity=None, min_publication_months=None, max_publication_months=None),
               payload={})
    assert w.published
    assert (w.starts_on, w.ends_on, w.min_ends_on) == (DECIDED, None, None)
    assert is_published(w, date(2100, 1, 1))
    assert not is_published(w, DECIDED - timedelta(days=1))


# --- publication deadline in the record ------------------------------------------------------

def test_earlier_publication_deadline_shortens_publication() -> None:
    w = window(payload=penalty(CF_GSJZQ="2026-10-31"))
    assert w.ends_on == date(2026, 10, 31)
    assert w.min_ends_on == date(2026, 4, 30)
    assert "公示截止期" in w.reason


def test_publication_deadline_as_a_date_value() -> None:
    assert window(payload=penalty(CF_GSJZQ=date(2026, 10, 31))).ends_on == date(2026, 10, 31)


def test_later_publication_deadline_never_extends_beyond_the_maximum() -> None:
    assert window(payload=penalty(CF_GSJZQ="2030-12-31")).ends_on == date(2027, 1, 31)


def test_deadline_before_the_minimum_period_pulls_the_minimum_end_along() -> None:
    w = window(payload=penalty(CF_GSJZQ="2026-03-01"))
    assert (w.ends_on, w.min_ends_on) == (date(2026, 3, 1), date(2026, 3, 1))


def test_unreadable_publication_deadline_is_ignored() -> None:
    assert window(payload=penalty(CF_GSJZQ="不详")).ends_on == date(2027, 1, 31)


# --- the boundary day ------------------------------------------------------------------------

def test_published_the_day_before_the_end_and_not_on_the_end_day() -> None:
    w = window()
    assert not is_published(w, date(2026, 1, 30))
    assert is_published(w, DECIDED)
    assert is_published(w, date(2027, 1, 30))
    assert not is_published(w, date(2027, 1, 31))
    assert not is_published(w, date(2027, 2, 1))


def test_unpublished_window_is_never_published() -> None:
    w = window(item(disclosure_class="授权查询"))
    assert not is_published(w, date(2026, 6, 1))


# --- properties ------------------------------------------------------------------------------

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
months = st.integers(min_value=0, max_value=120)


@st.composite
def dishonest_items(draw: st.DrawFn) -> SimpleNamespace:
    severity = draw(st.sampled_from(["一般", "严重"]))
    own = draw(st.booleans())
    low = draw(months) if own else None
    high = draw(st.integers(min_value=low, max_value=120)) if own and low is not None else None
    return item(severity=severity, min_publication_months=low, max_publication_months=high)


def _max_months(it: SimpleNamespace) -> int:
    return it.max_publication_months if it.max_publication_months is not None else PERIODS[it.severity]["max_months"]


@given(start=dates, n=months)
def test_month_arithmetic_never_raises(start: date, n: int) -> None:
    end = add_months(start, n)
    assert end >= start
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == n


@given(it=dishonest_items(), decided=dates)
def test_end_lies_within_the_maximum_months(it: SimpleNamespace, decided: date) -> None:
    w = window(it, decided=decided)
    assert w.published and w.ends_on is not None
    n = _max_months(it)
    assert n * 28 <= (w.ends_on - decided).days <= n * 31 + 3


@given(it=dishonest_items(), decided=dates, deadline=st.none() | dates)
def test_minimum_end_never_after_the_end(it: SimpleNamespace, decided: date, deadline: date | None) -> None:
    w = window(it, decided=decided, payload=penalty(CF_GSJZQ=deadline))
    assert w.min_ends_on is not None and w.ends_on is not None
    assert w.min_ends_on <= w.ends_on
    assert w.ends_on <= add_months(decided, _max_months(it))


@given(it=dishonest_items(), decided=dates, offset=st.integers(min_value=1, max_value=5000))
def test_not_published_before_decision_nor_on_or_after_end(it: SimpleNamespace, decided: date, offset: int) -> None:
    w = window(it, decided=decided)
    assert w.ends_on is not None
    assert not is_published(w, decided - timedelta(days=offset))
    assert not is_published(w, w.ends_on)
    assert not is_published(w, w.ends_on + timedelta(days=offset))
    if w.ends_on > decided:
        assert is_published(w, decided)
        assert is_published(w, w.ends_on - timedelta(days=1))
