"""Evaluation models: only credit information enters, persons only for incentives, bad models refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.schemas import ItemSpec
from xinyong.errors import DomainError, Forbidden, Invalid
from xinyong.evaluation import service
from xinyong.evaluation.schemas import ModelSpec
from xinyong.subjects import uscc

ORG_MODEL = service.seed_specs()[0]


def spec(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(ORG_MODEL)
    data.update(changes)
    return data


def indicator(**fields: Any) -> dict[str, Any]:
    return {"code": "x", "name": "测试指标", "kind": "count", "item": "ADM_PENALTY", "weight": -10, **fields}


def refused(session: Session, data: dict[str, Any]) -> DomainError:
    with pytest.raises(DomainError) as error:
        service.create_model(session, Actor.system(), service.parse_spec(data))
    return error.value


def test_the_seeded_models_are_valid(seeded: Session) -> None:
    assert service.seed(seeded, Actor.system()) == 2
    assert service.seed(seeded, Actor.system()) == 0
    assert [m.code for m in service.list_models(seeded)] == ["PUBLIC_CREDIT_ORG", "PERSON_INCENTIVE"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"indicators": [indicator(item="NO_SUCH_ITEM")]}, "MODEL_ITEM_UNKNOWN"),
    ({"indicators": [indicator(item="IP_PLEDGE")]}, "MODEL_ITEM_NOT_USABLE"),  # not marked usable
    ({"indicators": [indicator(item="PROFESSIONAL_QUALIFICATION")]}, "MODEL_ITEM_NOT_USABLE"),  # personal data
    ({"indicators": [indicator(where=[{"field": "NOPE", "values": ["x"]}])]}, "MODEL_FIELD_UNKNOWN"),
    ({"indicators": [indicator(kind="sum", field="CF_WSH")]}, "MODEL_FIELD_NOT_NUMERIC"),
    ({"indicators": [indicator(kind="sum")]}, "MODEL_INDICATOR_SHAPE"),
    ({"indicators": [indicator(), indicator()]}, "MODEL_INDICATOR_DUPLICATE"),
    ({"indicators": [indicator(code="a", kind="composite", item=None, inputs=["b"], input_weights=[1]),
                     indicator(code="b", kind="composite", item=None, inputs=["a"], input_weights=[1])]}, "MODEL_CYCLE"),
    ({"indicators": [indicator(code="a", kind="composite", item=None, inputs=["a"], input_weights=[1])]}, "MODEL_CYCLE"),
    ({"indicators": [indicator(code="a", kind="composite", item=None, inputs=["zz"], input_weights=[1])]},
     "MODEL_INPUT_UNKNOWN"),
    ({"indicators": [indicator(code="a", kind="composite", item=None, inputs=[], input_weights=[])]},
     "MODEL_INDICATOR_SHAPE"),
    ({"indicators": [indicator(weight="很多")]}, "MODEL_SPEC_INVALID"),
    ({"base_score": "七百"}, "MODEL_SPEC_INVALID"),
    ({"grades": [{"code": "A", "label": "优", "min_score": 600}, {"code": "B", "label": "良", "min_score": 700},
                 {"code": "D", "label": "差", "min_score": 0}]}, "MODEL_GRADES_ORDER"),
    ({"grades": [{"code": "A", "label": "优", "min_score": 600}, {"code": "B", "label": "良", "min_score": 100}]},
     "MODEL_GRADES_GAP"),
    ({"grades": [{"code": "A", "label": "优", "min_score": 600}, {"code": "A", "label": "差", "min_score": 0}]},
     "MODEL_GRADES_DUPLICATE"),
    ({"min_score": 100, "max_score": 50}, "MODEL_SCORE_RANGE"),
    ({"base_score": 5000}, "MODEL_SCORE_RANGE"),
    ({"subject_kinds": ["alien"]}, "MODEL_SUBJECT_KIND_UNKNOWN"),
    ({"subject_kinds": ["enterprise", "natural_person"]}, "MODEL_PERSON_NOT_INCENTIVE"),
    ({"subject_kinds": []}, "MODEL_SPEC_INVALID"),
])
def test_bad_models_are_refused_with_a_chinese_reason(seeded: Session, changes: dict[str, Any], code: str) -> None:
    error = refused(seeded, spec(code="BAD_MODEL", **changes))
    assert error.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message)


def test_a_personal_field_never_enters_an_evaluation(seeded: Session) -> None:
    """Even on an item marked usable (a catalogue edit could try), a personal field is refused."""
    item = ItemSpec.model_validate({
        "code": "MIXED", "category": "测试", "name": "含个人字段的信息项", "legal_basis": {
            "document": "《测试条例》", "level": "地方性法规"}, "sharing_class": "无条件共享",
        "disclosure_class": "政务共享", "credit_nature": "中性", "evaluation_usable": False, "natural_key": ["BH"],
        "fields": [{"name": "BH", "label": "编号", "type": "string", "required": True},
                   {"name": "SJHM", "label": "手机号码", "type": "string", "personal": True}]})
    catalogue.create_item(seeded, Actor.system(), item)
    facts = service.item_facts(seeded)
    facts["MIXED"] = facts["MIXED"].__class__(code="MIXED", name="含个人字段的信息项", evaluation_usable=True,
                                              fields=facts["MIXED"].fields)
    bad = ModelSpec.model_validate(spec(code="PII", indicators=[
        indicator(item="MIXED", where=[{"field": "SJHM", "values": ["13800000000"]}])]))
    with pytest.raises(Invalid) as error:
        service.definition.check_model(bad, facts, service.SUBJECT_KINDS)
    assert error.value.code == "MODEL_FIELD_PERSONAL"


def test_a_model_stops_running_when_its_item_loses_the_usable_mark(seeded: Session) -> None:
    service.seed(seeded, Actor.system())
    entry = catalogue.get_item(seeded, "HONOUR")
    changed = catalogue.spec_of(entry).model_copy(update={"evaluation_usable": False})
    catalogue.revise_item(seeded, Actor.system(), "HONOUR", changed, "荣誉信息暂不用于评价")
    with pytest.raises(Invalid) as error:
        service.start_run(seeded, Actor.system(), "PUBLIC_CREDIT_ORG", service.clock.today())
    assert error.value.code == "MODEL_ITEM_NOT_USABLE"


def test_persons_are_evaluated_only_for_incentives(seeded: Session) -> None:
    service.seed(seeded, Actor.system())
    person = service.get_model(seeded, "PERSON_INCENTIVE")
    assert person.spec.purpose == "incentive"
    turned = person.spec.model_copy(update={"purpose": "supervision"})
    with pytest.raises(Invalid) as error:
        service.revise_model(seeded, Actor.system(), "PERSON_INCENTIVE", turned, "改为监管用途")
    assert error.value.code == "MODEL_PERSON_NOT_INCENTIVE"


def test_models_are_versioned_and_round_trip_through_yaml(seeded: Session) -> None:
    service.seed(seeded, Actor.system())
    entry = service.get_model(seeded, "PUBLIC_CREDIT_ORG")
    text = service.spec_to_yaml(entry.spec)
    assert "行政处罚次数" in text  # Chinese kept readable
    assert service.spec_from_yaml(text) == entry.spec
    edited = service.spec_from_yaml(text.replace("base_score: 700", "base_score: 720"))
    revised = service.revise_model(seeded, Actor.system(), "PUBLIC_CREDIT_ORG", edited, "基础分调整为720")
    assert revised.version.version == 2 and revised.spec.base_score == 720
    assert [v.version for v in service.versions(seeded, "PUBLIC_CREDIT_ORG")] == [2, 1]
    assert service.get_version(seeded, entry.version.id)[2].base_score == 700  # the old version is unchanged


@pytest.mark.parametrize(("text", "code"), [("[1, 2", "MODEL_YAML_INVALID"), ("- a\n- b", "MODEL_SPEC_INVALID"),
                                            ("code: X", "MODEL_SPEC_INVALID")])
def test_broken_yaml_is_refused(text: str, code: str) -> None:
    with pytest.raises(Invalid) as error:
        service.spec_from_yaml(text)
    assert error.value.code == code


def test_a_department_edits_only_its_own_industry_models(seeded: Session) -> None:
    service.seed(seeded, Actor.system())
    tax, hr = (access.create_department(seeded, code=uscc.build("1", "1", "320100", body), name=name, short_name=name,
                                        region_code="320100", sector=sector)
               for body, name, sector in (("01400071", "南京市税务局", "税务"), ("01400072", "南京市人社局", "人力资源社会保障")))
    department = Actor(user_id=None, username="swj", role="department_submitter", department_id=tax.id)
    other = Actor(user_id=None, username="rsj", role="department_submitter", department_id=hr.id)
    industry = service.create_model(seeded, department, service.parse_spec(spec(code="TAX_INDUSTRY", name="纳税人行业评价")))
    assert industry.model.department_id == tax.id
    public = service.get_model(seeded, "PUBLIC_CREDIT_ORG")
    with pytest.raises(Forbidden):
        service.revise_model(seeded, department, "PUBLIC_CREDIT_ORG", public.spec, "部门不得修改公共模型")
    with pytest.raises(Forbidden):
        service.revise_model(seeded, other, "TAX_INDUSTRY", industry.spec, "别的部门不得修改")
    assert service.revise_model(seeded, department, "TAX_INDUSTRY", industry.spec, "本部门修订").version.version == 2
