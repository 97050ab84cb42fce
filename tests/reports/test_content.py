"""What a report says, from a real database (SQLite and PostgreSQL): the general report's sections and
the special report's conclusion per field — a penalty inside the period is a violation, one outside
it, revoked or repaired is not — and the refusals (unknown field, bad period, natural person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.reports.test_render import pdf_of
from tests.support.sanctions import (
    ADMIN,
    SYSTEM,
    Cast,
    abnormal,
    build_cast,
    company,
    grade_run,
    judgment_debtor,
    penalty,
    person_ref,
    refused,
)
from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.commitments import service as commitments
from xinyong.commitments.schemas import RegistrationIn
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.reports import content
from xinyong.reports.document import ReportDocument, Section
from xinyong.sanctions import service as sanctions
from xinyong.sanctions.schemas import EntryIn, ExitIn
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

CODE = company(1)
NAME = f"南京{CODE[-6:]}科技有限公司"
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
URL = "https://credit.example.gov.cn/verify?number=XYBG3201002026000001"


@dataclass
class Scene:
    session: Session
    cast: Cast
    subject_id: int
    tax: Actor
    tax_department: Department
    transport: Actor
    transport_department: Department


def _department(session: Session, sector: str, name: str, body: str) -> tuple[Actor, Department]:
    department = access.create_department(session, code=uscc.build("1", "1", "320100", body), name=name,
                                          short_name=name, region_code="320100", sector=sector)
    user = access.create_user(session, SYSTEM, access.NewUser(f"u_{body}", "Xinyong2026", "department_submitter", name,
                                                              department_id=department.id))
    return access.actor_for(user), department


@pytest.fixture
def scene(frozen_clock: datetime, world: World, sanctioned: Session) -> Scene:
    cast = build_cast(sanctioned, world)
    subject = subjects.register_organisation(sanctioned, SYSTEM, OrganisationIn(
        uscc=CODE, name=NAME, legal_representative="王五", registration_authority="南京市玄武区市场监督管理局",
        registered_on=date(2015, 3, 2), registered_capital=500.0, address="南京市玄武区中山路100号示范大厦12层1201室"))
    tax, tax_department = _department(sanctioned, "税务", "国家税务总局南京市税务局", "01600001")
    transport, transport_department = _department(sanctioned, "交通运输", "南京市交通运输局", "01600002")
    sanctioned.commit()
    return Scene(sanctioned, cast, subject.id, tax, tax_department, transport, transport_department)


def general(scene: Scene, *, as_of: datetime | None = None) -> ReportDocument:
    at = as_of or clock.now()
    return content.general_document(scene.session, scene.subject_id, number="XYBG3201002026000001", issued_at=at,
                                    as_of=at, platform_name="南京市公共信用信息平台", verify_url=URL)


def special(scene: Scene, fields: list[str], start: date, end: date) -> ReportDocument:
    return content.special_document(scene.session, scene.subject_id, fields, start, end,
                                    number="XYBG3201002026000002", issued_at=clock.now(), as_of=clock.now(),
                                    platform_name="南京市公共信用信息平台", verify_url=URL)


def section(doc: ReportDocument, title: str) -> Section:
    return next(s for s in doc.sections if s.title == title)


def column(found: Section, header: str) -> list[str]:
    index = found.columns.index(header)
    return [row[index] for row in found.rows]


def tax_penalty(scene: Scene, number: str, on: date) -> records.Submission:
    department = scene.tax_department
    payload = {"CF_WSH": number, "CF_WFXW": "未按期申报", "CF_SY": "未按规定期限办理纳税申报", "CF_YJ": "《税收征收管理法》第六十二条",
               "CF_CFLB": "罚款", "CF_NR": "罚款0.2万元", "CF_NR_FK": "0.2", "CF_JDRQ": on.isoformat(),
               "CF_CFJG": department.name, "CF_CFJGDM": department.code, "CF_SJLY": department.name,
               "CF_SJLYDM": department.code}
    return records.submit(scene.session, scene.tax, "ADM_PENALTY", SubjectRef(uscc=CODE, name=NAME), payload,
                          department_id=department.id, department_code=department.code)


# --- the general report ---------------------------------------------------------------------------------

def test_the_general_report_has_the_registration_and_every_kind_of_information(scene: Scene) -> None:
    session, cast = scene.session, scene.cast
    penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕7号", on=date(2026, 3, 10))
    abnormal(session, cast, CODE, number="宁玄市监企异字〔2026〕第9号", on=date(2026, 4, 2))
    sanctions.add_entry(session, cast.development, EntryIn(
        list_type="RED_HONOUR", subject_code=CODE, decision_number="宁信用办〔2026〕3号", decision_date=date(2026, 5, 20),
        reasons="获评南京市诚信建设示范企业"))
    commitments.register(session, cast.market, RegistrationIn(
        subject_code=CODE, kind="审批替代型", matter="食品经营许可申请", content="本企业承诺所提交的申请材料真实、合法、有效。"))
    grade_run(session, "PUBLIC_CREDIT_ORG", {scene.subject_id: "A"})
    session.commit()

    doc = general(scene)

    assert doc.kind == "general" and doc.title == "公共信用信息报告（企业版）"
    assert (doc.subject_name, doc.subject_code) == (NAME, CODE)
    basics = dict(doc.basics)
    assert basics["统一社会信用代码"] == CODE and basics["主体类型"] == "企业法人"
    assert basics["法定代表人"] == "王五" and basics["成立日期"] == "2015-03-02" and basics["注册资本"] == "500万元"
    assert basics["住所"] == "南京市玄武区中山路100号示范大厦12层1201室" and basics["登记状态"] == "存续"

    penalties = section(doc, "行政处罚信息")
    assert penalties.columns == ["决定书文号", "违法行为类型", "处罚内容", "处罚机关", "决定日期", "公示截止"]
    assert penalties.rows == [["宁玄市监处罚〔2026〕7号", "虚假宣传", "罚款2万元", "南京市玄武区市场监督管理局", "2026-03-10",
                               "2027-03-09"]]
    lists = section(doc, "失信名单信息")
    assert column(lists, "名单名称") == ["经营异常名录"] and column(lists, "认定文书号") == ["宁玄市监企异字〔2026〕第9号"]
    honoured = section(doc, "守信激励对象名单信息")
    assert column(honoured, "认定文书号") == ["宁信用办〔2026〕3号"]
    promised = section(doc, "信用承诺信息")
    assert len(promised.rows) == 1  # the commitment, not again as its COMMITMENT record
    assert column(promised, "承诺事项") == ["食品经营许可申请"] and column(promised, "履约状态") == ["履约中"]
    assert column(promised, "承诺受理部门") == ["南京市玄武区市场监督管理局"]
    grades = section(doc, "公共信用综合评价")
    assert grades.rows and grades.rows[0][0] == "公共信用综合评价（法人和非法人组织）" and grades.rows[0][2].startswith("A")
    assert section(doc, "行政许可信息").rows == [] and section(doc, "表彰奖励及诚信荣誉信息").rows == []
    assert any("南京市玄武区市场监督管理局" in note and "提供单位" in note for note in doc.notes)
    assert any(URL in note for note in doc.notes)


def test_a_general_report_renders_to_a_pdf_with_its_content(scene: Scene) -> None:
    penalty(scene.session, scene.cast, CODE, number="宁玄市监处罚〔2026〕8号", on=date(2026, 3, 10))
    text = pdf_of(general(scene)).text
    for expected in ("公共信用信息报告", NAME, CODE, "宁玄市监处罚〔2026〕8号", "失信名单信息",
                     "第 1 页", "说明"):
        assert expected in text, expected


def test_penalties_leave_the_general_report_when_publication_ends_or_on_repair(scene: Scene) -> None:
    session, cast = scene.session, scene.cast
    kept = penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕11号", on=date(2026, 2, 1))
    repaired = penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕12号", on=date(2026, 2, 2))
    revoked = penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕13号", on=date(2026, 2, 3))
    records.mark_repaired(session, ADMIN, repaired.record.id, "同意修复")
    records.revoke(session, ADMIN, revoked.record.id, "决定已撤销")
    numbers = column(section(general(scene), "行政处罚信息"), "决定书文号")
    assert numbers == ["宁玄市监处罚〔2026〕11号"]

    after_window = clock.start_of(date(2027, 2, 2))  # 一般: 12 months from the decision, then it stops
    assert kept.record.publication_ends_at is not None and kept.record.publication_ends_at < after_window
    assert section(general(scene, as_of=after_window), "行政处罚信息").rows == []


def test_facts_received_after_the_cut_off_are_not_in_the_report(scene: Scene) -> None:
    cut_off = clock.now()
    clock.advance(timedelta(hours=1))
    penalty(scene.session, scene.cast, CODE, number="宁玄市监处罚〔2026〕21号", on=date(2026, 6, 1))
    assert section(general(scene, as_of=cut_off), "行政处罚信息").rows == []
    assert len(section(general(scene), "行政处罚信息").rows) == 1


def test_reports_are_for_organisations_only(scene: Scene) -> None:
    person = judgment_debtor(scene.session, scene.cast, person_ref(3)).record.subject_id
    for make in (lambda: content.general_document(scene.session, person, number="N", issued_at=NOW, as_of=NOW,
                                                  platform_name="P", verify_url=""),
                 lambda: content.special_document(scene.session, person, ["市场监管"], date(2026, 1, 1),
                                                  date(2026, 6, 1), number="N", issued_at=NOW, as_of=NOW,
                                                  platform_name="P", verify_url="")):
        error = refused("REPORT_PERSON_NOT_SUPPORTED", make)
        assert error.status == 422 and "法人和非法人组织" in error.message


# --- the special report ---------------------------------------------------------------------------------

def test_a_penalty_in_the_period_is_a_violation_in_its_field_only(scene: Scene) -> None:
    penalty(scene.session, scene.cast, CODE, number="宁玄市监处罚〔2026〕31号", on=date(2026, 3, 10))
    doc = special(scene, ["市场监管", "税务"], date(2026, 1, 1), date(2026, 5, 31))

    assert doc.kind == "special" and doc.fields == ["市场监管", "税务"]
    assert doc.period == (date(2026, 1, 1), date(2026, 5, 31))
    market, tax = doc.sections
    assert market.title == "市场监管领域"
    assert market.note == "经查询，该主体在2026年1月1日至2026年5月31日期间，在市场监管领域发现违法违规记录1条（见下表）。"
    assert market.rows == [["行政处罚信息", "宁玄市监处罚〔2026〕31号", "虚假宣传：罚款2万元", "南京市玄武区市场监督管理局",
                            "2026-03-10"]]
    assert tax.note == "经查询，该主体在2026年1月1日至2026年5月31日期间，在税务领域未发现违法违规记录。"
    assert tax.rows == [] and tax.empty_text == "未发现违法违规记录"
    assert doc.conclusion == (f"经查询，{NAME}在2026年1月1日至2026年5月31日期间，在市场监管领域发现违法违规记录1条；"
                              "在税务领域未发现违法违规记录。")
    assert any("信用修复" in note for note in doc.notes)


def test_a_penalty_outside_the_period_revoked_or_repaired_is_no_violation(scene: Scene) -> None:
    session, cast = scene.session, scene.cast
    penalty(session, cast, CODE, number="宁玄市监处罚〔2025〕41号", on=date(2025, 12, 31))  # before the period
    repaired = penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕42号", on=date(2026, 2, 1))
    revoked = penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕43号", on=date(2026, 2, 2))
    penalty(session, cast, CODE, number="宁玄市监处罚〔2026〕44号", on=date(2026, 6, 1))  # after the period
    records.mark_repaired(session, ADMIN, repaired.record.id, "同意修复")
    records.revoke(session, ADMIN, revoked.record.id, "决定已撤销")

    doc = special(scene, ["市场监管"], date(2026, 1, 1), date(2026, 5, 31))

    assert doc.sections[0].rows == []
    assert doc.sections[0].note == "经查询，该主体在2026年1月1日至2026年5月31日期间，在市场监管领域未发现违法违规记录。"
    assert doc.conclusion == f"经查询，{NAME}在2026年1月1日至2026年5月31日期间，在市场监管领域均未发现违法违规记录。"
    # The period's bounds are inclusive.
    assert len(special(scene, ["市场监管"], date(2025, 12, 31), date(2026, 6, 1)).sections[0].rows) == 2


def test_the_field_follows_the_department_that_decided(scene: Scene) -> None:
    tax_penalty(scene, "宁税罚〔2026〕51号", date(2026, 4, 1))
    abnormal(scene.session, scene.cast, CODE, number="宁玄市监企异字〔2026〕第52号", on=date(2026, 4, 2))
    doc = special(scene, ["税务", "市场监管", "生态环境"], date(2026, 1, 1), date(2026, 6, 15))
    tax, market, environment = doc.sections
    assert column(tax, "决定（认定）文书号") == ["宁税罚〔2026〕51号"]
    assert column(market, "信息类别") == ["经营异常名录信息"]
    assert environment.rows == []
    assert "在税务领域发现违法违规记录1条；在市场监管领域发现违法违规记录1条；在生态环境领域未发现违法违规记录" in doc.conclusion


def test_a_list_kept_on_the_platform_counts_unless_revoked(scene: Scene) -> None:
    entry = sanctions.add_entry(scene.session, scene.transport, EntryIn(
        list_type="TRANSPORT_SERIOUS", subject_code=CODE, decision_number="宁交严列〔2026〕1号",
        decision_date=date(2026, 3, 3), reasons="道路运输经营中发生重大安全事故"))
    doc = special(scene, ["交通运输"], date(2026, 1, 1), date(2026, 6, 15))
    assert doc.sections[0].rows == [["交通运输领域严重失信主体名单", "宁交严列〔2026〕1号", "道路运输经营中发生重大安全事故",
                                     "南京市交通运输局", "2026-03-03"]]
    sanctions.exit_entry(scene.session, scene.transport, entry.id, ExitIn(reason="revocation", note="认定决定被撤销"))
    assert special(scene, ["交通运输"], date(2026, 1, 1), date(2026, 6, 15)).sections[0].rows == []


def test_unknown_or_missing_fields_and_bad_periods_are_refused(scene: Scene) -> None:
    error = refused("REPORT_FIELD_UNKNOWN", special, scene, ["市场监管", "火星"], date(2026, 1, 1), date(2026, 2, 1))
    assert error.status == 422 and "火星" in error.message and "市场监管" in error.message
    assert error.details["allowed"] == list(content.special_fields(scene.session))
    refused("REPORT_FIELDS_REQUIRED", special, scene, [" "], date(2026, 1, 1), date(2026, 2, 1))
    refused("REPORT_PERIOD_INVALID", special, scene, ["税务"], date(2026, 3, 1), date(2026, 2, 1))
    error = refused("REPORT_PERIOD_INVALID", special, scene, ["税务"], date(2026, 1, 1), date(2026, 6, 16))
    assert "2026-06-15" in error.message


def test_the_policy_fields_name_dishonesty_items_of_the_catalogue(seeded: Session) -> None:
    fields = content.special_fields(seeded)
    assert {"市场监管", "税务", "人力资源社会保障", "生态环境", "住房城乡建设", "应急管理", "交通运输"} <= set(fields)
    for rule in fields.values():
        assert rule.sectors and rule.items and rule.description
        for item in rule.items:
            assert catalogue.get_item(seeded, item).version.credit_nature == "失信", item
