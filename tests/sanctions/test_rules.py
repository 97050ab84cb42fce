"""The rules of rewards and punishments, without a database: legal-basis levels, measure definitions,
proportionality (过惩相当) and the natural-person limits — each tried against the ways to break it."""

from __future__ import annotations

import typing
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.catalogue.schemas import LegalBasisLevel
from xinyong.errors import Invalid
from xinyong.policy.service import seed_defaults
from xinyong.sanctions import rules
from xinyong.sanctions.schemas import GradeTrigger, ListTypeSpec, MeasureSpec

LEVELS: list[str] = list(typing.get_args(LegalBasisLevel))
ORDER = seed_defaults()["legal_basis_levels"]["value"]["order"]
RULES = rules.BasisRules.from_policy(seed_defaults()["sanction_basis_levels"]["value"])
LAW_LEVELS = {"法律", "行政法规", "地方性法规"}
LISTS = {"SERIOUS": rules.ListFacts("失信", "严重"), "ABNORMAL": rules.ListFacts("失信", "一般"),
         "RED": rules.ListFacts("守信", None)}
MATTERS = {"GOV_PROCUREMENT", "BIDDING", "ADMIN_APPROVAL"}
MODELS = {"ORG": (["A", "B", "C", "D"], "supervision"), "PERSON": (["A", "B", "N"], "incentive")}


def list_type(**changes: object) -> ListTypeSpec:
    data: dict[str, object] = {"code": "TEST_LIST", "name": "测试严重失信名单", "category": "严重失信主体名单",
                               "severity": "严重", "issuing_authority": "测试部门", "maintaining_sectors": ["市场监管"],
                               "basis": "ANY", "exit_conditions": "期满移出"}
    return ListTypeSpec.model_validate(data | changes)


def measure(**changes: object) -> MeasureSpec:
    data: dict[str, object] = {"code": "M_TEST", "name": "测试措施", "content": "依法限制", "nature": "惩戒",
                               "measure_type": "减损权益或增加义务", "basis": "ANY", "list_types": ["SERIOUS"],
                               "matter_types": ["GOV_PROCUREMENT"], "implementing_sectors": ["财政"]}
    return MeasureSpec.model_validate(data | changes)


def check_measure(spec: MeasureSpec, level: str = "法律") -> None:
    rules.check_measure(spec, level, RULES, ORDER, lists=LISTS, matter_types=MATTERS, grades_of_model=MODELS)


def refused(code: str, call: typing.Callable[[], object]) -> Invalid:
    with pytest.raises(Invalid) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


# --- no measure without law (防止泛化滥用) --------------------------------------------------------------

@given(st.sampled_from(LEVELS), st.sampled_from(["严重失信主体名单", "经营异常名录", "其他失信名单"]))
def test_a_dishonesty_list_needs_a_law_regulation_or_central_policy_document(level: str, category: str) -> None:
    spec = list_type(category=category, severity="严重" if category == "严重失信主体名单" else "一般")
    if level in LAW_LEVELS | {"党中央国务院政策文件"}:
        rules.check_list_type(spec, level, RULES, ORDER)
    else:
        error = refused("LIST_BASIS_TOO_LOW", lambda: rules.check_list_type(spec, level, RULES, ORDER))
        assert "防止泛化滥用" in error.message and level in error.message


@given(st.sampled_from(LEVELS))
def test_a_measure_reducing_rights_needs_law_administrative_or_local_regulation(level: str) -> None:
    spec = measure()
    if level in LAW_LEVELS:
        check_measure(spec, level)
    else:
        error = refused("MEASURE_BASIS_TOO_LOW", lambda: check_measure(spec, level))
        assert "法律、行政法规、地方性法规" in error.message


@given(st.sampled_from(LEVELS), st.sampled_from(["市场性", "行业性"]))
def test_market_and_industry_measures_also_accept_a_central_policy_document_but_nothing_lower(level: str, kind: str) -> None:
    spec = measure(measure_type=kind)
    if level in LAW_LEVELS | {"党中央国务院政策文件"}:
        check_measure(spec, level)
    else:
        refused("MEASURE_BASIS_TOO_LOW", lambda: check_measure(spec, level))


def test_incentives_may_rest_on_lower_documents() -> None:
    check_measure(measure(nature="激励", measure_type="激励", list_types=["RED"]), "规范性文件")


def test_a_red_list_accepts_department_rules_and_a_dishonesty_list_does_not() -> None:
    rules.check_list_type(list_type(category="守信激励对象名单", severity=None), "部门规章", RULES, ORDER)
    refused("LIST_BASIS_TOO_LOW", lambda: rules.check_list_type(list_type(), "部门规章", RULES, ORDER))


def test_list_category_and_severity_must_agree() -> None:
    refused("LIST_SEVERITY_MISMATCH", lambda: rules.check_list_type(list_type(severity="一般"), "法律", RULES, ORDER))
    refused("LIST_SEVERITY_REQUIRED", lambda: rules.check_list_type(
        list_type(category="经营异常名录", severity=None), "法律", RULES, ORDER))
    refused("LIST_SEVERITY_NOT_ALLOWED", lambda: rules.check_list_type(
        list_type(category="守信激励对象名单", severity="一般"), "法律", RULES, ORDER))


# --- measures say exactly what triggers them ---------------------------------------------------------

def test_a_measure_must_name_its_triggers() -> None:
    refused("MEASURE_NO_TRIGGER", lambda: check_measure(measure(list_types=[])))


def test_punishments_come_only_from_dishonesty_lists_and_incentives_only_from_red_lists() -> None:
    refused("MEASURE_LIST_NATURE", lambda: check_measure(measure(list_types=["RED"])))
    refused("MEASURE_LIST_NATURE", lambda: check_measure(measure(nature="激励", measure_type="激励", list_types=["SERIOUS"])))
    refused("MEASURE_INCENTIVE_DISHONESTY", lambda: check_measure(
        measure(nature="激励", measure_type="激励", list_types=["RED"], record_severities=["一般"])))
    refused("MEASURE_TYPE_MISMATCH", lambda: check_measure(measure(measure_type="激励")))
    refused("MEASURE_TYPE_MISMATCH", lambda: check_measure(measure(nature="激励", list_types=["RED"])))


def test_unknown_lists_matters_models_and_grades_are_refused() -> None:
    refused("LIST_TYPE_UNKNOWN", lambda: check_measure(measure(list_types=["NOPE"])))
    refused("MATTER_UNKNOWN", lambda: check_measure(measure(matter_types=["COFFEE"])))
    refused("EVALUATION_MODEL_NOT_FOUND", lambda: check_measure(
        measure(grade_triggers=[GradeTrigger(model="NOPE", grades=["D"])])))
    refused("MEASURE_GRADE_UNKNOWN", lambda: check_measure(
        measure(grade_triggers=[GradeTrigger(model="ORG", grades=["E"])])))


def test_an_incentive_only_model_never_triggers_a_punishment() -> None:
    refused("MEASURE_INCENTIVE_MODEL", lambda: check_measure(
        measure(measure_type="行业性", list_types=[], grade_triggers=[GradeTrigger(model="PERSON", grades=["N"])],
                subject_kinds=["enterprise"]), "党中央国务院政策文件"))


def test_natural_persons_are_restricted_only_through_lists() -> None:
    person_by_record = measure(list_types=[], record_severities=["严重"], subject_kinds=["natural_person"])
    refused("MEASURE_PERSON_NOT_BY_LIST", lambda: check_measure(person_by_record))
    person_by_grade = measure(list_types=[], grade_triggers=[GradeTrigger(model="ORG", grades=["D"])],
                              subject_kinds=["enterprise", "natural_person"])
    refused("MEASURE_PERSON_NOT_BY_LIST", lambda: check_measure(person_by_grade))
    check_measure(measure(subject_kinds=["natural_person"]))  # by a list: lawful
    check_measure(measure(nature="激励", measure_type="激励", list_types=[], subject_kinds=["natural_person"],
                          grade_triggers=[GradeTrigger(model="PERSON", grades=["A"])]))


# --- proportionality when applying (过惩相当) -------------------------------------------------------------

SEVERITIES = ["一般", "严重"]
KINDS = ["enterprise", "natural_person"]
ITEMS = ["ADM_PENALTY", "LIST_ABNORMAL"]
LIST_CODES = ["SERIOUS", "ABNORMAL", "RED"]


@st.composite
def measure_rules(draw: st.DrawFn) -> rules.MeasureRule:
    return rules.MeasureRule(
        id=0, nature=draw(st.sampled_from(["惩戒", "激励"])),
        list_types=frozenset(draw(st.sets(st.sampled_from(LIST_CODES)))),
        record_severities=frozenset(draw(st.sets(st.sampled_from(SEVERITIES)))),
        record_items=frozenset(draw(st.sets(st.sampled_from(ITEMS), max_size=1))),
        grades={"ORG": frozenset(draw(st.sets(st.sampled_from("ABCD"), max_size=2)))},
        subject_kinds=frozenset(draw(st.sets(st.sampled_from(KINDS), min_size=1))))


triggers = st.one_of(
    st.builds(lambda c: rules.Trigger("list", 1, c, list_type=c), st.sampled_from(LIST_CODES)),
    st.builds(lambda s, i: rules.Trigger("record", 2, s, item=i, severity=s), st.sampled_from(SEVERITIES),
              st.sampled_from(ITEMS)),
    st.builds(lambda g: rules.Trigger("grade", 3, g, model="ORG", grade=g), st.sampled_from("ABCD")))


def _names(measure: rules.MeasureRule, trigger: rules.Trigger) -> bool:
    if trigger.kind == "list":
        return trigger.list_type in measure.list_types
    if trigger.kind == "record":
        return trigger.severity in measure.record_severities and (not measure.record_items
                                                                  or trigger.item in measure.record_items)
    return trigger.grade in measure.grades["ORG"]


@given(st.lists(measure_rules(), max_size=8), st.lists(triggers, max_size=6), st.sampled_from(KINDS))
def test_a_measure_applies_exactly_when_a_trigger_it_names_is_present(
        drawn: list[rules.MeasureRule], found: list[rules.Trigger], kind: str) -> None:
    measures = [replace(m, id=index) for index, m in enumerate(drawn)]
    applied = {m.id: reasons for m, reasons in rules.applicable(measures, kind, found)}
    for m in measures:
        expected = [t for t in found if _names(m, t)] if kind in m.subject_kinds else []
        if kind == "natural_person" and m.nature == "惩戒":
            expected = [t for t in expected if t.kind == "list"]
        assert applied.get(m.id, []) == expected


def test_a_general_record_never_triggers_a_measure_reserved_for_serious_ones() -> None:
    serious_only = rules.MeasureRule(1, "惩戒", frozenset(), frozenset({"严重"}), frozenset(), {}, frozenset({"enterprise"}))
    general = rules.Trigger("record", 7, "一般失信记录", item="ADM_PENALTY", severity="一般")
    on_general_list = rules.Trigger("list", 8, "经营异常名录", list_type="ABNORMAL")
    assert rules.applicable([serious_only], "enterprise", [general, on_general_list]) == []
    serious = rules.Trigger("record", 9, "严重失信记录", item="ADM_PENALTY", severity="严重")
    assert rules.applicable([serious_only], "enterprise", [general, serious]) == [(serious_only, [serious])]


def test_a_person_is_not_restricted_by_a_grade_even_if_a_stored_measure_says_so() -> None:
    """Defence in depth: a measure row written around the service (or before the rule) still cannot
    restrict a natural person by an evaluation or a record."""
    rogue = rules.MeasureRule(1, "惩戒", frozenset({"SERIOUS"}), frozenset({"严重"}), frozenset(),
                              {"ORG": frozenset({"D"})}, frozenset({"natural_person"}))
    grade = rules.Trigger("grade", 3, "D", model="ORG", grade="D")
    record = rules.Trigger("record", 4, "严重", item="ADM_PENALTY", severity="严重")
    assert rules.applicable([rogue], "natural_person", [grade, record]) == []
    listed = rules.Trigger("list", 5, "失信被执行人", list_type="SERIOUS")
    assert rules.applicable([rogue], "natural_person", [grade, listed]) == [(rogue, [listed])]


@pytest.mark.parametrize(("natures", "outcome"), [((), "clean"), (("惩戒",), "punish"), (("激励", "激励"), "reward"),
                                                  (("激励", "惩戒"), "both")])
def test_outcome_of(natures: tuple[str, ...], outcome: str) -> None:
    assert rules.outcome_of(natures) == outcome


@given(st.lists(measure_rules(), max_size=10), st.lists(triggers, max_size=6), st.sampled_from(KINDS))
def test_the_index_used_for_batches_answers_exactly_as_the_rule(
        drawn: list[rules.MeasureRule], found: list[rules.Trigger], kind: str) -> None:
    measures = [replace(m, id=index) for index, m in enumerate(drawn)]
    assert rules.MeasureIndex(measures).applicable(kind, found) == rules.applicable(measures, kind, found)
