"""The model's arithmetic for one subject, in plain Python: the explanation (评价说明) and a test oracle.

The batch engine computes the same values column-wise with Ibis (``engine.score_table``); a subject's
page recomputes here from the same facts to show which records stand behind each indicator, and
the tests check that both agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xinyong.disclosure.publication import add_months
from xinyong.evaluation import definition
from xinyong.evaluation.engine import DAYS_PER_MONTH, SCORE_PLACES, VALUE_PLACES
from xinyong.evaluation.schemas import Indicator, ModelSpec


@dataclass(frozen=True)
class Fact:
    record_id: int
    item_code: str
    decision_date: date | None
    fields: dict[str, Any]


@dataclass
class Explanation:
    score: float
    grade: str
    values: dict[str, float]
    contributions: dict[str, float]  # scored indicators only
    records: dict[str, list[int]] = field(default_factory=dict)  # indicator -> record ids behind it


def rounded(value: float, places: int) -> float:
    """As ``engine._rounded``: the same IEEE operations, so the same result."""
    scale = 10.0 ** places
    return float(math.floor(value * scale + 0.5)) / scale


def _matches(indicator: Indicator, fact: Fact, as_of: date) -> bool:
    if fact.item_code != indicator.item or fact.decision_date is None or fact.decision_date > as_of:
        return False
    if any(_text(fact.fields.get(w.field)) not in w.values for w in indicator.where):
        return False
    return not indicator.window_months or fact.decision_date > add_months(as_of, -indicator.window_months)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _leaf(indicator: Indicator, facts: list[Fact], as_of: date) -> float:
    if indicator.kind == "exists":
        return 1.0 if facts else 0.0
    total = 0.0
    for fact in facts:
        weight = 1.0
        if indicator.half_life_months:
            age = (as_of - fact.decision_date).days if fact.decision_date else 0
            weight = math.exp(age * -math.log(2) / (indicator.half_life_months * DAYS_PER_MONTH))
        total += weight * (_number(fact.fields.get(indicator.field)) if indicator.kind == "sum" else 1.0)
    return total


def explain(spec: ModelSpec, facts: list[Fact], as_of: date) -> Explanation:
    by_code = {i.code: i for i in spec.indicators}
    values: dict[str, float] = {}
    behind: dict[str, list[int]] = {}
    for code in definition.check_order(spec):
        indicator = by_code[code]
        if indicator.kind == "composite":
            value = sum(values[name] * weight for name, weight in zip(indicator.inputs, indicator.input_weights,
                                                                       strict=True))
        else:
            hits = [f for f in facts if _matches(indicator, f, as_of)]
            behind[code] = [f.record_id for f in hits]
            value = _leaf(indicator, hits, as_of)
        if indicator.cap is not None:
            value = min(value, indicator.cap)
        values[code] = rounded(value, VALUE_PLACES)
    contributions = {i.code: values[i.code] * i.weight for i in definition.scored(spec)}
    raw = spec.base_score + sum(contributions.values())
    score = rounded(min(max(raw, spec.min_score), spec.max_score), SCORE_PLACES)
    return Explanation(score, definition.grade_for(spec, score), values, contributions, behind)
