"""Checks on an evaluation model before it may be stored or run. Pure: plain values in, errors out.

The invariant "only credit information enters an evaluation" (design invariant 3) lives here: a
model may read only catalogue items marked usable for evaluation, never a personal field, and a
model that applies to natural persons may only serve incentives — its grades can never feed a
restrictive measure or heavier supervision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from typing import Any

from xinyong.errors import Invalid
from xinyong.evaluation.schemas import Indicator, ModelSpec

NATURAL_PERSON = "natural_person"
NUMERIC_TYPES = frozenset({"decimal", "integer"})


@dataclass(frozen=True)
class ItemFacts:
    """What the checks need to know about a catalogue item (its version in force)."""

    code: str
    name: str
    evaluation_usable: bool
    fields: Mapping[str, Mapping[str, Any]]  # field name -> spec


def _refuse(code: str, message: str, field: str) -> Invalid:
    return Invalid(code, message, field=field)


def check_model(spec: ModelSpec, items: Mapping[str, ItemFacts], subject_kinds: Mapping[str, str]) -> list[str]:
    """Refuse a model that breaks a rule; return the indicator codes in evaluation order."""
    _check_scope(spec, subject_kinds)
    _check_scores(spec)
    seen: set[str] = set()
    for index, indicator in enumerate(spec.indicators):
        where = f"indicators.{index}"
        if indicator.code in seen:
            raise _refuse("MODEL_INDICATOR_DUPLICATE", f"指标代码“{indicator.code}”重复", f"{where}.code")
        seen.add(indicator.code)
        if indicator.kind == "composite":
            _check_composite(indicator, where)
        else:
            _check_reads(indicator, items, where)
    return check_order(spec)


def _check_scope(spec: ModelSpec, subject_kinds: Mapping[str, str]) -> None:
    for kind in spec.subject_kinds:
        if kind not in subject_kinds:
            raise _refuse("MODEL_SUBJECT_KIND_UNKNOWN", f"主体类型“{kind}”不存在", "subject_kinds")
    if NATURAL_PERSON in spec.subject_kinds and spec.purpose != "incentive":
        raise _refuse("MODEL_PERSON_NOT_INCENTIVE",
                      "对自然人的评价只能用于守信激励，不得用于分级监管或约束性措施（评价用途应为 incentive）", "purpose")


def _check_scores(spec: ModelSpec) -> None:
    if not spec.min_score < spec.max_score:
        raise _refuse("MODEL_SCORE_RANGE", "最低分应小于最高分", "min_score")
    if not spec.min_score <= spec.base_score <= spec.max_score:
        raise _refuse("MODEL_SCORE_RANGE", "基础分应在最低分与最高分之间", "base_score")
    codes = [g.code for g in spec.grades]
    if len(set(codes)) != len(codes):
        raise _refuse("MODEL_GRADES_DUPLICATE", "等级代码重复", "grades")
    floors = [g.min_score for g in spec.grades]
    if any(later >= earlier for earlier, later in pairwise(floors)):
        raise _refuse("MODEL_GRADES_ORDER", "等级应由高到低排列，各等级的最低分依次严格递减", "grades")
    if floors[-1] > spec.min_score:
        raise _refuse("MODEL_GRADES_GAP", f"最低一级“{spec.grades[-1].label}”的最低分应不高于模型最低分，"
                                          "否则有的分数没有等级", "grades")


def _check_reads(indicator: Indicator, items: Mapping[str, ItemFacts], where: str) -> None:
    if indicator.inputs or indicator.input_weights:
        raise _refuse("MODEL_INDICATOR_SHAPE", f"指标“{indicator.name}”不是组合指标，不能有输入指标", f"{where}.inputs")
    if not indicator.item:
        raise _refuse("MODEL_INDICATOR_SHAPE", f"指标“{indicator.name}”须指定目录信息项", f"{where}.item")
    facts = items.get(indicator.item)
    if facts is None:
        raise _refuse("MODEL_ITEM_UNKNOWN", f"目录中没有信息项“{indicator.item}”", f"{where}.item")
    if not facts.evaluation_usable:
        raise _refuse("MODEL_ITEM_NOT_USABLE",
                      f"信息项“{facts.name}”未被目录标为可用于信用评价，不得进入评价模型", f"{where}.item")
    read = [f.field for f in indicator.where]
    if indicator.kind == "sum":
        if not indicator.field:
            raise _refuse("MODEL_INDICATOR_SHAPE", f"求和指标“{indicator.name}”须指定数值字段", f"{where}.field")
        read.append(indicator.field)
    elif indicator.field:
        raise _refuse("MODEL_INDICATOR_SHAPE", f"只有求和指标才指定字段（指标“{indicator.name}”）", f"{where}.field")
    for name in read:
        field = facts.fields.get(name)
        if field is None:
            raise _refuse("MODEL_FIELD_UNKNOWN", f"信息项“{facts.name}”没有字段“{name}”", where)
        if field.get("personal"):
            raise _refuse("MODEL_FIELD_PERSONAL", f"字段“{field.get('label', name)}”是个人隐私信息，不得进入评价", where)
    if indicator.kind == "sum" and facts.fields[indicator.field or ""].get("type") not in NUMERIC_TYPES:
        raise _refuse("MODEL_FIELD_NOT_NUMERIC", f"字段“{indicator.field}”不是数值，不能求和", f"{where}.field")


def _check_composite(indicator: Indicator, where: str) -> None:
    if indicator.item or indicator.field or indicator.where or indicator.window_months or indicator.half_life_months:
        raise _refuse("MODEL_INDICATOR_SHAPE", f"组合指标“{indicator.name}”只由输入指标计算，不直接读取信息项", where)
    if not indicator.inputs or len(indicator.inputs) != len(indicator.input_weights):
        raise _refuse("MODEL_INDICATOR_SHAPE", f"组合指标“{indicator.name}”的输入指标与权重应一一对应", f"{where}.inputs")


def check_order(spec: ModelSpec) -> list[str]:
    """Indicator codes with every composite after its inputs; refuses unknown inputs and cycles."""
    known = {i.code for i in spec.indicators}
    graph: dict[str, list[str]] = {}
    for index, indicator in enumerate(spec.indicators):
        for name in indicator.inputs:
            if name not in known:
                raise _refuse("MODEL_INPUT_UNKNOWN", f"组合指标“{indicator.name}”引用了不存在的指标“{name}”",
                              f"indicators.{index}.inputs")
        graph[indicator.code] = list(indicator.inputs)
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " → ".join(error.args[1])
        raise _refuse("MODEL_CYCLE", f"组合指标之间存在循环引用：{cycle}", "indicators") from None


def scored(spec: ModelSpec) -> list[Indicator]:
    """The indicators whose contributions make the score: those no composite takes as an input."""
    used = {name for indicator in spec.indicators for name in indicator.inputs}
    return [indicator for indicator in spec.indicators if indicator.code not in used]


def grade_for(spec: ModelSpec, score: float) -> str:
    return next(g.code for g in spec.grades if score >= g.min_score)
