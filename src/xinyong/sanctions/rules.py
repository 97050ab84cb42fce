"""The rules of rewards and punishments, free of storage and web (domain layer).

* No measure without law (防止泛化滥用): a list type or measure may only cite a legal basis whose level
  the policy ``sanction_basis_levels`` allows for it — seeded from the 2025 opinions §12: lists need
  a 法律, 行政法规, 地方性法规 or 党中央国务院政策文件; a measure that reduces rights or adds obligations
  needs 法律, 行政法规 or 地方性法规.
* Proportionality (过惩相当): a measure applies only through the triggers it names — entries of its
  list types, dishonesty records of its severities, grades of its models. Nothing is inferred: a
  一般 record never triggers a measure that names only 严重.
* Natural persons: restrictive measures only from their lists; an evaluation of a 自然人 may only
  bring incentives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from xinyong.errors import Invalid
from xinyong.sanctions.schemas import ListTypeSpec, MeasureSpec

NATURE_OF_CATEGORY = {"严重失信主体名单": "失信", "经营异常名录": "失信", "其他失信名单": "失信", "守信激励对象名单": "守信"}
EXIT_REASONS = {"repair": "信用修复", "revocation": "撤销认定", "correction": "更正", "fulfilled": "满足移出条件"}
OUTCOME_LABELS = {"clean": "未发现适用措施", "punish": "适用惩戒措施", "reward": "适用激励措施",
                  "both": "同时适用惩戒和激励措施", "unknown": "主体库中无此主体", "invalid": "代码无效"}
PERSON = "natural_person"


@dataclass(frozen=True)
class BasisRules:
    """Which legal-basis levels each kind of list and measure may rest on (policy, editable)."""

    list_levels: Mapping[str, frozenset[str]]  # list nature (失信/守信) -> levels
    measure_levels: Mapping[str, frozenset[str]]  # measure type -> levels

    @classmethod
    def from_policy(cls, value: Mapping[str, Mapping[str, Iterable[str]]]) -> BasisRules:
        return cls({k: frozenset(v) for k, v in value["lists"].items()},
                   {k: frozenset(v) for k, v in value["measures"].items()})


def _basis_refused(code: str, what: str, level: str, allowed: frozenset[str], order: Sequence[str]) -> Invalid:
    names = "、".join(lv for lv in order if lv in allowed) or "（无）"
    return Invalid(code, f"{what}的法律依据层级为“{level}”，不足以设定：须为{names}（防止泛化滥用）",
                   field="basis", level=level, allowed=sorted(allowed))


def check_list_type(spec: ListTypeSpec, basis_level: str, rules: BasisRules, order: Sequence[str]) -> None:
    """Refuse a list type its legal basis cannot carry, or whose category and severity disagree."""
    nature = NATURE_OF_CATEGORY[spec.category]
    allowed = rules.list_levels.get(nature, frozenset())
    if basis_level not in allowed:
        raise _basis_refused("LIST_BASIS_TOO_LOW", f"名单“{spec.name}”", basis_level, allowed, order)
    if nature == "失信" and spec.severity is None:
        raise Invalid("LIST_SEVERITY_REQUIRED", "失信名单必须注明严重程度（严重或一般）", field="severity")
    if nature == "守信" and spec.severity is not None:
        raise Invalid("LIST_SEVERITY_NOT_ALLOWED", "守信激励对象名单不设失信严重程度", field="severity")
    if spec.category == "严重失信主体名单" and spec.severity != "严重":
        raise Invalid("LIST_SEVERITY_MISMATCH", "严重失信主体名单的严重程度只能是“严重”", field="severity")


@dataclass(frozen=True)
class ListFacts:
    nature: str
    severity: str | None


def check_measure(spec: MeasureSpec, basis_level: str, rules: BasisRules, order: Sequence[str], *,
                  lists: Mapping[str, ListFacts], matter_types: Iterable[str],
                  grades_of_model: Mapping[str, tuple[Iterable[str], str]]) -> None:
    """Refuse a measure without a sufficient basis, or whose triggers break proportionality.

    ``grades_of_model``: model code -> (its grade codes, its purpose: supervision/incentive).
    """
    allowed = rules.measure_levels.get(spec.measure_type, frozenset())
    if basis_level not in allowed:
        raise _basis_refused("MEASURE_BASIS_TOO_LOW", f"{spec.measure_type}措施“{spec.name}”", basis_level, allowed, order)
    if (spec.nature == "激励") != (spec.measure_type == "激励"):
        raise Invalid("MEASURE_TYPE_MISMATCH", "激励措施的类型必须是“激励”，惩戒措施不能是“激励”类型", field="measure_type")
    _check_matters(spec, set(matter_types))
    _check_list_triggers(spec, lists)
    _check_grade_triggers(spec, grades_of_model)
    if not (spec.list_types or spec.record_severities or spec.grade_triggers):
        raise Invalid("MEASURE_NO_TRIGGER", "措施必须注明适用的名单、失信记录严重程度或评价等级，不得泛化适用", field="list_types")
    if spec.nature == "激励" and spec.record_severities:
        raise Invalid("MEASURE_INCENTIVE_DISHONESTY", "激励措施不能由失信记录触发", field="record_severities")
    if spec.nature == "惩戒" and PERSON in spec.subject_kinds and (spec.record_severities or spec.grade_triggers):
        raise Invalid("MEASURE_PERSON_NOT_BY_LIST",
                      "对自然人的惩戒措施只能依据其被列入的失信名单，不能由失信记录或评价结果触发", field="subject_kinds")


def _check_matters(spec: MeasureSpec, known: set[str]) -> None:
    for matter in spec.matter_types:
        if matter not in known:
            raise Invalid("MATTER_UNKNOWN", f"未知的适用事项：{matter}", field="matter_types", matter=matter)


def _check_list_triggers(spec: MeasureSpec, lists: Mapping[str, ListFacts]) -> None:
    wanted = "守信" if spec.nature == "激励" else "失信"
    for code in spec.list_types:
        if code not in lists:
            raise Invalid("LIST_TYPE_UNKNOWN", f"名单类型不存在：{code}", field="list_types", list_type=code)
        if lists[code].nature != wanted:
            raise Invalid("MEASURE_LIST_NATURE", f"{spec.nature}措施只能由{wanted}名单触发，{code} 是{lists[code].nature}名单",
                          field="list_types", list_type=code)


def _check_grade_triggers(spec: MeasureSpec, grades_of_model: Mapping[str, tuple[Iterable[str], str]]) -> None:
    for trigger in spec.grade_triggers:
        if trigger.model not in grades_of_model:
            raise Invalid("EVALUATION_MODEL_NOT_FOUND", f"评价模型不存在：{trigger.model}", field="grade_triggers")
        grades, purpose = grades_of_model[trigger.model]
        unknown = [g for g in trigger.grades if g not in set(grades)]
        if unknown:
            raise Invalid("MEASURE_GRADE_UNKNOWN", f"评价模型 {trigger.model} 没有等级：{'、'.join(unknown)}",
                          field="grade_triggers")
        if spec.nature == "惩戒" and purpose == "incentive":
            raise Invalid("MEASURE_INCENTIVE_MODEL", f"评价模型 {trigger.model} 仅用于守信激励，不能触发惩戒措施",
                          field="grade_triggers")


# --- applying measures ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    """Something a subject is on or has: a list entry, a dishonesty record, a grade."""

    kind: str  # list / record / grade
    id: int | None  # entry id, record id, evaluation run id
    label: str
    list_type: str = ""
    item: str = ""
    severity: str = ""
    model: str = ""
    grade: str = ""


@dataclass(frozen=True)
class MeasureRule:
    """The part of a measure that decides whether it applies."""

    id: int
    nature: str
    list_types: frozenset[str]
    record_severities: frozenset[str]
    record_items: frozenset[str]
    grades: Mapping[str, frozenset[str]] = field(default_factory=dict)  # model -> grades
    subject_kinds: frozenset[str] = frozenset()

    def triggered_by(self, trigger: Trigger) -> bool:
        if trigger.kind == "list":
            return trigger.list_type in self.list_types
        if trigger.kind == "record":
            return trigger.severity in self.record_severities and (not self.record_items or trigger.item in self.record_items)
        return trigger.grade in self.grades.get(trigger.model, frozenset())


def applicable(measures: Sequence[MeasureRule], subject_kind: str,
               triggers: Sequence[Trigger]) -> list[tuple[MeasureRule, list[Trigger]]]:
    """The measures that apply to a subject of ``subject_kind`` with ``triggers``, each with its reasons.

    Checked again here whatever the definitions say: a natural person is restricted only through a
    list (an evaluation or a record never restricts a 自然人).
    """
    applied = []
    for measure in measures:
        if subject_kind not in measure.subject_kinds:
            continue
        reasons = [t for t in triggers if measure.triggered_by(t)]
        if subject_kind == PERSON and measure.nature == "惩戒":
            reasons = [t for t in reasons if t.kind == "list"]
        if reasons:
            applied.append((measure, reasons))
    return applied


class MeasureIndex:
    """``applicable`` for many subjects: measures indexed by the triggers they name, so a subject's
    cost grows with its triggers, not with the length of the measure list. Same answers, same order."""

    def __init__(self, measures: Sequence[MeasureRule]) -> None:
        self.measures = list(measures)
        self._by_key: dict[tuple[str, ...], list[int]] = {}
        for position, m in enumerate(self.measures):
            keys = [("list", code) for code in m.list_types] + [("record", sev) for sev in m.record_severities]
            keys += [("grade", model, grade) for model, grades in m.grades.items() for grade in grades]
            for key in keys:
                self._by_key.setdefault(key, []).append(position)

    @staticmethod
    def _key(trigger: Trigger) -> tuple[str, ...]:
        if trigger.kind == "list":
            return ("list", trigger.list_type)
        if trigger.kind == "record":
            return ("record", trigger.severity)
        return ("grade", trigger.model, trigger.grade)

    def applicable(self, subject_kind: str, triggers: Sequence[Trigger]) -> list[tuple[MeasureRule, list[Trigger]]]:
        candidates = sorted({p for t in triggers for p in self._by_key.get(self._key(t), ())})
        return applicable([self.measures[p] for p in candidates], subject_kind, triggers)


def outcome_of(natures: Iterable[str]) -> str:
    found = set(natures)
    if {"惩戒", "激励"} <= found:
        return "both"
    return "punish" if "惩戒" in found else "reward" if "激励" in found else "clean"
