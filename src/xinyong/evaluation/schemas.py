"""An evaluation model as the authority writes it (评价模型): declarative, versioned, YAML in and out.

A model scores every subject of the kinds it applies to::

    score = clamp(base_score + Σ weight × value, min_score, max_score)

over its *scored* indicators (those no composite uses as an input); the grade is the first grade,
best first, whose ``min_score`` the score reaches. An indicator's value comes from the subject's
records of one catalogue item (count, sum of a numeric field, or presence), optionally filtered
by field values, limited to a window before the as-of date, recency-weighted by a half-life
and capped; a composite indicator is a weighted sum of other indicators.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

IndicatorKind = Literal["count", "sum", "exists", "composite"]
Purpose = Literal["supervision", "incentive"]
PURPOSE_LABELS = {"supervision": "分级分类监管（可用于约束性措施）", "incentive": "守信激励（仅用于激励）"}
KIND_LABELS = {"count": "记录条数", "sum": "字段求和", "exists": "是否存在", "composite": "组合指标"}


class FieldFilter(BaseModel):
    """Only records whose payload field takes one of ``values`` (e.g. 履约状态 in [未履约])."""

    field: str = Field(min_length=1, max_length=40, description="字段代码，如 LYZT")
    values: list[str] = Field(min_length=1, description="取值之一即计入")


class Indicator(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="指标代码，小写字母、数字、下划线")
    name: str = Field(min_length=1, max_length=60)
    dimension: str = Field(default="", max_length=20, description="评价维度，如 行政管理、履约践诺、守信激励")
    kind: IndicatorKind
    item: str | None = Field(default=None, description="目录信息项代码（组合指标不填）")
    field: str | None = Field(default=None, description="求和的数值字段代码（仅 sum）")
    where: list[FieldFilter] = Field(default_factory=list)
    window_months: int | None = Field(default=None, ge=1, le=240, description="只计评价基准日前若干月内作出的记录")
    half_life_months: float | None = Field(default=None, gt=0, le=240,
                                           description="按决定日期衰减：经过一个半衰期，记录的权重减半")
    cap: float | None = Field(default=None, ge=0, description="指标值上限")
    inputs: list[str] = Field(default_factory=list, description="组合指标的输入指标代码")
    input_weights: list[float] = Field(default_factory=list, description="组合指标各输入的权重（与 inputs 一一对应）")
    weight: float = Field(description="每单位指标值的得分（扣分为负数）")


class Grade(BaseModel):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9+-]{0,3}$", description="等级代码，如 A")
    label: str = Field(min_length=1, max_length=10, description="等级名称，如 优")
    min_score: float = Field(description="达到该分数即为此等级")


class ModelSpec(BaseModel):
    """Everything a version of an evaluation model says."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: str = Field(min_length=2, max_length=100)
    description: str = Field(default="", max_length=2000)
    owner: str = Field(default="", max_length=100, description="制定单位；行业评价为行业主管部门")
    purpose: Purpose
    subject_kinds: list[str] = Field(min_length=1)
    base_score: float
    min_score: float = 0
    max_score: float = 1000
    grades: list[Grade] = Field(min_length=2, description="由高到低")
    indicators: list[Indicator] = Field(min_length=1)


class ModelSummary(BaseModel):
    code: str
    name: str
    version: int
    purpose: Purpose
    owner: str
    industry_department_id: int | None = Field(description="行业信用评价模型的制定部门；公共信用综合评价为空")


class RevisionIn(BaseModel):
    spec: ModelSpec
    note: str = Field(min_length=2, max_length=500, description="修订说明")


class RunIn(BaseModel):
    as_of: str = Field(description="评价基准日 YYYY-MM-DD，不得晚于今天")


class RunOut(BaseModel):
    id: int
    model_code: str
    model_version: int
    as_of: str
    data_cutoff: str
    status: str
    population: int
    facts: int
    grade_counts: dict[str, int]
    error: str
    duration_ms: int | None


class IndicatorExplanation(BaseModel):
    code: str
    name: str
    dimension: str
    value: float
    weight: float | None = Field(description="计分指标的每单位分值；作为组合指标输入的为空")
    contribution: float | None
    record_ids: list[int] = Field(default_factory=list, description="计入该指标的信用记录")
    withheld: bool = Field(False, description="指标值取自读者无权共享的信用记录（有条件共享未获批准等），不予显示")


class SubjectGrade(BaseModel):
    run_id: int
    model_code: str
    model_name: str
    as_of: str
    score: float
    grade: str
    grade_label: str
    indicators: list[IndicatorExplanation] | None = None
