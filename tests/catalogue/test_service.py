"""The catalogue: seeding, versioned revision, the rules an item must obey, and payload checks."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.world import DEPARTMENT_CODE, SUBJECT_CODE, build_world, penalty_payload
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.models import CatalogueItem, CatalogueItemVersion
from xinyong.catalogue.schemas import FieldSpec, ItemSpec
from xinyong.catalogue.validation import FieldProblem, check_payload
from xinyong.errors import Conflict, Invalid, NotFound
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

ADMIN = Actor(user_id=None, username="目录管理员", role="authority_admin")
RULES = uscc.UsccRules.from_policy(policy.seed_defaults()["uscc_categories"]["value"])
SEED = {raw["code"]: raw for raw in catalogue.seed_specs()}


def base_spec(**changes: Any) -> dict[str, Any]:
    """A valid 失信 item (as a plain dict, so a test can break it in one place)."""
    spec: dict[str, Any] = {
        "code": "TEST_ITEM", "category": "行政管理信息", "name": "测试信息项",
        "fields": [{"name": "WSH", "label": "文书号", "type": "string", "required": True},
                   {"name": "LB", "label": "类别", "type": "enum", "enum": ["甲", "乙"], "required": True},
                   {"name": "JDRQ", "label": "决定日期", "type": "date", "required": True, "decision_date": True}],
        "natural_key": ["WSH"],
        "legal_basis": {"document": "《中华人民共和国行政处罚法》", "article": "第四十八条", "level": "法律"},
        "sharing_class": "无条件共享", "disclosure_class": "社会公开", "credit_nature": "失信", "severity": "一般",
        "evaluation_usable": True,
    }
    spec.update(copy.deepcopy(changes))
    return spec


def item_spec(**changes: Any) -> ItemSpec:
    return ItemSpec.model_validate(base_spec(**changes))


def version_count(session: Session, code: str) -> int:
    return session.scalar(select(func.count()).select_from(CatalogueItemVersion).join(
        CatalogueItem, CatalogueItem.id == CatalogueItemVersion.item_id).where(CatalogueItem.code == code)) or 0


# --- seeding ----------------------------------------------------------------------------------------

def test_seed_creates_every_item_of_the_seed_file_with_default_periods(seeded: Session) -> None:
    items = {entry.code: entry for entry in catalogue.list_items(seeded)}
    assert set(items) == set(SEED)
    assert len(items) == len(catalogue.seed_specs()) == 17
    for code, entry in items.items():
        assert entry.version.version == 1 and entry.item.current_version == 1
        assert entry.version.name == SEED[code]["name"]
        assert [f["name"] for f in entry.version.fields] == [f["name"] for f in SEED[code]["fields"]]
    penalty, coercion = items["ADM_PENALTY"].version, items["ADM_COERCION"].version
    assert (penalty.severity, penalty.min_publication_months, penalty.max_publication_months) == ("一般", 3, 12)
    assert (coercion.min_publication_months, coercion.max_publication_months) == (3, 12)
    for code in ("JUD_EXECUTION", "LIST_SERIOUS"):
        version = items[code].version
        assert (version.severity, version.min_publication_months, version.max_publication_months) == ("严重", 12, 36)
    neutral = items["REG_BASIC"].version
    assert neutral.severity is None and neutral.max_publication_months is None
    # personal data never becomes usable for evaluation
    assert items["PROFESSIONAL_QUALIFICATION"].version.evaluation_usable is False
    assert len(audit.recent(seeded, action="catalogue.create", limit=100)) == len(catalogue.seed_specs())
    assert audit.verify(seeded).ok


def test_seed_is_idempotent(seeded: Session) -> None:
    assert catalogue.seed(seeded, Actor.system()) == 0
    assert seeded.scalar(select(func.count()).select_from(CatalogueItem)) == len(catalogue.seed_specs())
    assert seeded.scalar(select(func.count()).select_from(CatalogueItemVersion)) == len(catalogue.seed_specs())


def test_default_periods_come_from_the_policy_parameter(session: Session) -> None:
    policy.seed(session)
    periods = copy.deepcopy(policy.get(session, "publication_periods"))
    periods["一般"].update(min_months=6, max_months=24)
    policy.change(session, Actor.system(), "publication_periods", periods)
    catalogue.seed(session, Actor.system())
    penalty = catalogue.get_item(session, "ADM_PENALTY").version
    assert (penalty.min_publication_months, penalty.max_publication_months) == (6, 24)
    serious = catalogue.get_item(session, "JUD_EXECUTION").version
    assert (serious.min_publication_months, serious.max_publication_months) == (12, 36)


def test_an_item_keeps_its_own_publication_period(seeded: Session) -> None:
    entry = catalogue.create_item(seeded, ADMIN, item_spec(severity="严重", min_publication_months=12,
                                                           max_publication_months=24))
    assert (entry.version.min_publication_months, entry.version.max_publication_months) == (12, 24)


# --- create, get ------------------------------------------------------------------------------------

def test_create_item_refuses_an_existing_code(seeded: Session) -> None:
    with pytest.raises(Conflict) as caught:
        catalogue.create_item(seeded, ADMIN, item_spec(code="ADM_PENALTY"))
    assert caught.value.code == "CATALOGUE_ITEM_EXISTS" and caught.value.status == 409
    assert "ADM_PENALTY" in caught.value.message
    assert version_count(seeded, "ADM_PENALTY") == 1


def test_create_item_stores_version_one_and_audits(seeded: Session) -> None:
    entry = catalogue.create_item(seeded, ADMIN, item_spec())
    assert (entry.code, entry.version.version, entry.version.change_note) == ("TEST_ITEM", 1, "初始版本")
    assert (entry.version.min_publication_months, entry.version.max_publication_months) == (3, 12)
    assert catalogue.get_item(seeded, "TEST_ITEM").version.id == entry.version.id
    assert audit.recent(seeded, limit=1)[0].action == "catalogue.create"


def test_get_item_unknown_code(seeded: Session) -> None:
    with pytest.raises(NotFound) as caught:
        catalogue.get_item(seeded, "NO_SUCH_ITEM")
    assert caught.value.code == "CATALOGUE_ITEM_UNKNOWN" and caught.value.status == 404
    assert "NO_SUCH_ITEM" in caught.value.message


# --- revision ---------------------------------------------------------------------------------------

def test_revise_creates_the_next_version_and_keeps_the_old(seeded: Session) -> None:
    before = catalogue.get_item(seeded, "ADM_PENALTY")
    spec = catalogue.spec_of(before).model_copy(update={"description": "修订：补充说明"})
    revised = catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, "  补充说明  ")
    assert revised.version.version == 2 and revised.item.current_version == 2
    assert revised.version.id != before.version.id
    assert revised.version.change_note == "补充说明" and revised.version.created_by == "目录管理员"
    current = catalogue.get_item(seeded, "ADM_PENALTY")
    assert current.version.id == revised.version.id and current.version.description == "修订：补充说明"
    history = catalogue.versions(seeded, "ADM_PENALTY")
    assert [v.version for v in history] == [2, 1]
    assert catalogue.get_version(seeded, before.version.id).description == SEED["ADM_PENALTY"]["description"]
    entry = audit.recent(seeded, limit=1)[0]
    assert (entry.action, entry.object_id, entry.detail["version"]) == ("catalogue.revise", "ADM_PENALTY", 2)
    # and again: version 3
    again = catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec.model_copy(update={"name": "行政处罚"}), "改名")
    assert again.version.version == 3 and version_count(seeded, "ADM_PENALTY") == 3


def test_revise_refuses_an_unchanged_spec(seeded: Session) -> None:
    spec = catalogue.spec_of(catalogue.get_item(seeded, "ADM_PENALTY"))
    with pytest.raises(Invalid) as caught:
        catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, "没有改动")
    assert caught.value.code == "CATALOGUE_UNCHANGED"
    assert version_count(seeded, "ADM_PENALTY") == 1


@pytest.mark.parametrize("note", ["", "   "])
def test_revise_requires_a_note(seeded: Session, note: str) -> None:
    spec = catalogue.spec_of(catalogue.get_item(seeded, "ADM_PENALTY")).model_copy(update={"description": "新"})
    with pytest.raises(Invalid) as caught:
        catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, note)
    assert (caught.value.code, caught.value.field) == ("CATALOGUE_NOTE_REQUIRED", "note")
    assert version_count(seeded, "ADM_PENALTY") == 1


def test_revise_refuses_a_code_change(seeded: Session) -> None:
    spec = catalogue.spec_of(catalogue.get_item(seeded, "ADM_PENALTY")).model_copy(update={"code": "ADM_PENALTY_2"})
    with pytest.raises(Invalid) as caught:
        catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, "改代码")
    assert (caught.value.code, caught.value.field) == ("CATALOGUE_SPEC_INVALID", "code")
    assert version_count(seeded, "ADM_PENALTY") == 1
    with pytest.raises(NotFound):
        catalogue.get_item(seeded, "ADM_PENALTY_2")


def test_revise_checks_the_spec(seeded: Session) -> None:
    spec = catalogue.spec_of(catalogue.get_item(seeded, "ADM_PENALTY")).model_copy(update={"severity": None})
    with pytest.raises(Invalid) as caught:
        catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, "去掉失信程度")
    assert (caught.value.code, caught.value.field) == ("CATALOGUE_SPEC_INVALID", "severity")
    assert version_count(seeded, "ADM_PENALTY") == 1


def test_revise_unknown_item(seeded: Session) -> None:
    with pytest.raises(NotFound) as caught:
        catalogue.revise_item(seeded, ADMIN, "NO_SUCH_ITEM", item_spec(code="NO_SUCH_ITEM"), "新增")
    assert caught.value.code == "CATALOGUE_ITEM_UNKNOWN"


def test_a_revision_to_dishonesty_gets_the_default_publication_period(seeded: Session) -> None:
    spec = catalogue.spec_of(catalogue.get_item(seeded, "CONTRACT")).model_copy(
        update={"credit_nature": "失信", "severity": "严重"})
    revised = catalogue.revise_item(seeded, ADMIN, "CONTRACT", spec, "违约记录按失信信息管理")
    assert (revised.version.min_publication_months, revised.version.max_publication_months) == (12, 36)


def test_records_keep_the_version_they_were_accepted_under(seeded: Session) -> None:
    world = build_world(seeded)
    old_record = records.get(seeded, world.record_id)
    first_version = catalogue.get_item(seeded, "ADM_PENALTY").version
    assert old_record.item_version_id == first_version.id
    spec = catalogue.spec_of(catalogue.get_item(seeded, "ADM_PENALTY")).model_copy(update={"description": "第二版"})
    second_version = catalogue.revise_item(seeded, ADMIN, "ADM_PENALTY", spec, "第二版").version
    submitter = seeded.scalar(select(User).where(User.username == world.usernames["department_submitter"]))
    assert submitter is not None
    new = records.submit(seeded, access.actor_for(submitter), "ADM_PENALTY",
                         SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                         penalty_payload("宁玄市监处罚〔2026〕2号"), department_id=world.department_id,
                         department_code=DEPARTMENT_CODE)
    seeded.commit()
    seeded.expire_all()
    assert new.outcome == "accepted"
    assert new.record.item_version_id == second_version.id != first_version.id
    assert records.get(seeded, world.record_id).item_version_id == first_version.id
    assert catalogue.get_version(seeded, first_version.id).version == 1


# --- check_spec -------------------------------------------------------------------------------------

def test_the_base_spec_passes() -> None:
    catalogue.check_spec(item_spec())  # the control: every refusal below breaks exactly one thing
    catalogue.check_spec(item_spec(credit_nature="中性", severity=None))


_FIELDS = base_spec()["fields"]
SPEC_REFUSALS = {
    "dishonesty_without_severity": ({"severity": None}, "severity"),
    "severity_on_neutral": ({"credit_nature": "中性", "severity": "一般"}, "severity"),
    "severity_on_honesty": ({"credit_nature": "守信", "severity": "轻微"}, "severity"),
    "min_longer_than_max": ({"min_publication_months": 13, "max_publication_months": 12}, "min_publication_months"),
    "duplicate_field_names": ({"fields": [*_FIELDS, {"name": "WSH", "label": "文书号2"}]}, "fields"),
    "enum_without_values": ({"fields": [*_FIELDS, {"name": "ZT", "label": "状态", "type": "enum"}]}, "fields"),
    "enum_with_empty_values": ({"fields": [*_FIELDS, {"name": "ZT", "label": "状态", "type": "enum", "enum": []}]},
                               "fields"),
    "two_decision_dates": ({"fields": [*_FIELDS, {"name": "RQ2", "label": "日期二", "type": "date",
                                                   "decision_date": True}]}, "fields"),
    "natural_key_missing_field": ({"natural_key": ["WSH", "NOPE"]}, "natural_key"),
    "evaluation_with_personal_field": ({"fields": [*_FIELDS, {"name": "LXDH", "label": "联系电话",
                                                               "personal": True}]}, "evaluation_usable"),
    "evaluation_with_personal_data": ({"personal_data": True}, "evaluation_usable"),
}


@pytest.mark.parametrize("case", SPEC_REFUSALS, ids=list(SPEC_REFUSALS))
def test_check_spec_refuses(case: str) -> None:
    changes, field = SPEC_REFUSALS[case]
    with pytest.raises(Invalid) as caught:
        catalogue.check_spec(item_spec(**changes))
    assert (caught.value.code, caught.value.field) == ("CATALOGUE_SPEC_INVALID", field)
    assert caught.value.message  # a Chinese sentence for the editor


def test_a_personal_field_is_fine_when_not_used_for_evaluation() -> None:
    catalogue.check_spec(item_spec(evaluation_usable=False, personal_data=True,
                                   fields=[*_FIELDS, {"name": "LXDH", "label": "联系电话", "personal": True}]))


def test_create_item_applies_check_spec(seeded: Session) -> None:
    with pytest.raises(Invalid) as caught:
        catalogue.create_item(seeded, ADMIN, item_spec(natural_key=["NOPE"]))
    assert caught.value.code == "CATALOGUE_SPEC_INVALID"
    with pytest.raises(NotFound):
        catalogue.get_item(seeded, "TEST_ITEM")


def test_check_spec_refuses_a_decision_date_that_is_not_a_date() -> None:
    fields = [{"name": "WSH", "label": "文书号", "type": "string", "required": True, "decision_date": True}]
    with pytest.raises(Invalid):
        catalogue.check_spec(item_spec(fields=fields))


# --- check_payload ----------------------------------------------------------------------------------

PENALTY_FIELDS = [FieldSpec.model_validate(f).model_dump(exclude_none=True) for f in SEED["ADM_PENALTY"]["fields"]]


def check(payload: dict[str, Any], today: date = date(2026, 6, 15)) -> tuple[dict[str, Any], list[FieldProblem]]:
    return check_payload(PENALTY_FIELDS, payload, check_uscc=lambda raw: uscc.validate(raw, RULES), today=today)


def codes(problems: list[FieldProblem]) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in problems}


def wrong_check_digit(code: str) -> str:
    return code[:17] + next(c for c in "0123456789" if c != code[17])


def test_a_valid_payload_is_cleaned() -> None:
    clean, problems = check({**penalty_payload(amount="2.50"), "CF_JYCX": "否"})
    assert problems == []
    assert clean["CF_JDRQ"] == "2026-01-05" and clean["CF_NR_FK"] == "2.50" and clean["CF_JYCX"] is False
    assert clean["CF_CFJGDM"] == DEPARTMENT_CODE


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_field_missing(value: str | None) -> None:
    payload = penalty_payload()
    if value is None:
        del payload["CF_WSH"]
    else:
        payload["CF_WSH"] = value
    _clean, problems = check(payload)
    assert codes(problems) == {("CF_WSH", "FIELD_REQUIRED")}
    assert problems[0].message == "行政处罚决定书文号为必填项"


def test_unknown_field() -> None:
    _clean, problems = check({**penalty_payload(), "CF_XYZ": "多余"})
    assert codes(problems) == {("CF_XYZ", "FIELD_UNKNOWN")}
    assert "CF_XYZ" in problems[0].message


@pytest.mark.parametrize("value", ["2026-13-45", "明天", "2026-02-30"])
def test_bad_date(value: str) -> None:
    _clean, problems = check({**penalty_payload(), "CF_JDRQ": value})
    assert codes(problems) == {("CF_JDRQ", "FIELD_DATE")}
    assert "处罚决定日期" in problems[0].message and value in problems[0].message


def test_enum_value_not_allowed() -> None:
    _clean, problems = check({**penalty_payload(), "CF_CFLB": "罚金"})
    assert codes(problems) == {("CF_CFLB", "FIELD_ENUM")}
    assert "罚金" in problems[0].message and "罚款" in problems[0].message


def test_decimal_below_minimum() -> None:
    _clean, problems = check({**penalty_payload(), "CF_NR_FK": "-0.01"})
    assert codes(problems) == {("CF_NR_FK", "FIELD_TOO_SMALL")}
    assert check({**penalty_payload(), "CF_NR_FK": "0"})[1] == []


def test_uscc_with_a_wrong_check_digit() -> None:
    bad = wrong_check_digit(DEPARTMENT_CODE)
    _clean, problems = check({**penalty_payload(), "CF_CFJGDM": bad})
    assert codes(problems) == {("CF_CFJGDM", "USCC_CHECK_DIGIT")}
    assert problems[0].message.startswith("处罚机关统一社会信用代码：")
    assert f"应为“{DEPARTMENT_CODE[17]}”" in problems[0].message and f"实际为“{bad[17]}”" in problems[0].message


def test_decision_date_in_the_future(frozen_clock: Any) -> None:
    today = clock.today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    _clean, problems = check({**penalty_payload(), "CF_JDRQ": tomorrow}, today=today)
    assert codes(problems) == {("CF_JDRQ", "DECISION_DATE_FUTURE")}
    assert tomorrow in problems[0].message
    assert check({**penalty_payload(), "CF_JDRQ": today.isoformat()}, today=today)[1] == []
    # the validity date is not a decision date: a future one is fine
    assert check({**penalty_payload(), "CF_YXQ": tomorrow}, today=today)[1] == []


def test_every_problem_of_a_row_is_reported_together() -> None:
    payload = {**penalty_payload(), "CF_CFLB": "罚金", "CF_NR_FK": "-3", "CF_JDRQ": "2026-02-30",
               "CF_SJLYDM": wrong_check_digit(DEPARTMENT_CODE), "CF_NR_WFFF": "很多", "EXTRA": "x"}
    del payload["CF_WSH"]
    clean, problems = check(payload)
    assert codes(problems) == {("EXTRA", "FIELD_UNKNOWN"), ("CF_WSH", "FIELD_REQUIRED"), ("CF_CFLB", "FIELD_ENUM"),
                               ("CF_NR_FK", "FIELD_TOO_SMALL"), ("CF_JDRQ", "FIELD_DATE"),
                               ("CF_SJLYDM", "USCC_CHECK_DIGIT"), ("CF_NR_WFFF", "FIELD_DECIMAL")}
    assert len(problems) == 7
    assert "CF_CFLB" not in clean and clean["CF_WFXW"] == "虚假宣传"


@pytest.mark.parametrize("value", ["2026-01-05", "2026/01/05", "20260105", "2026年1月5日", "2026年01月05日"])
def test_accepted_date_formats(value: str) -> None:
    clean, problems = check({**penalty_payload(), "CF_JDRQ": value})
    assert problems == []
    assert clean["CF_JDRQ"] == "2026-01-05"


def test_the_stored_version_fields_check_like_the_seed_file(seeded: Session, frozen_clock: Any) -> None:
    fields = catalogue.get_item(seeded, "ADM_PENALTY").version.fields
    future = (clock.today() + timedelta(days=1)).isoformat()
    _clean, problems = check_payload(fields, {**penalty_payload(), "CF_JDRQ": future},
                                     check_uscc=lambda raw: uscc.validate(raw, RULES), today=clock.today())
    assert codes(problems) == {("CF_JDRQ", "DECISION_DATE_FUTURE")}
