"""Lists and the measure list on a real database: what may be created, how subjects get on and off
lists (by the records departments submit, or on the platform), and that nothing is ever deleted."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.sanctions import (
    ADMIN,
    Cast,
    abnormal,
    build_cast,
    company,
    count,
    judgment_debtor,
    masked,
    person_ref,
    refused,
    serious,
)
from tests.support.world import World
from xinyong import clock
from xinyong.audit import service as audit
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.ingest import service as ingest
from xinyong.records import service as records
from xinyong.sanctions import service
from xinyong.sanctions.models import LegalBasisDocument, ListEntry, ListExit, ListType, Measure
from xinyong.sanctions.schemas import EntryIn, ExitIn, LegalBasisIn, ListTypeSpec, MeasureSpec
from xinyong.subjects import uscc


@pytest.fixture
def cast(world: World, sanctioned: Session) -> Cast:
    return build_cast(sanctioned, world)



def in_force(session: Session, code: str, subject_id: int | None = None) -> list[ListEntry]:
    query = (select(ListEntry).join(ListType, ListType.id == ListEntry.list_type_id)
             .where(ListType.code == code, service.in_force(clock.now())))
    if subject_id is not None:
        query = query.where(ListEntry.subject_id == subject_id)
    return list(session.scalars(query))


def honour_entry(subject_code: str, number: str = "宁信用办〔2026〕3号") -> EntryIn:
    return EntryIn(list_type="RED_HONOUR", subject_code=subject_code, decision_number=number,
                   decision_date=date(2026, 5, 20), reasons="获评南京市诚信建设示范企业")


# --- the seeded library, lists and measures ----------------------------------------------------------------

def test_seed_is_complete_lawful_and_idempotent(sanctioned: Session) -> None:
    assert count(sanctioned, LegalBasisDocument) == 20
    assert {t.code for t in service.list_types(sanctioned)} >= {
        "DISHONEST_JUDGMENT_DEBTOR", "MAJOR_TAX_VIOLATION", "GOV_PROCUREMENT_SERIOUS", "SAMR_SERIOUS_VIOLATION",
        "BUSINESS_ABNORMAL", "RED_TAX_A", "RED_HONOUR", "REAL_ESTATE_SERIOUS", "INTERNET_SERIOUS", "HR_MARKET_SERIOUS",
        "ENERGY_CONTRACT_SERIOUS", "MEDICAL_INSURANCE_SERIOUS"}
    assert len(service.measures(sanctioned)) == 19
    bases = service.bases_by_id(sanctioned)
    for measure in service.measures(sanctioned, nature="惩戒"):
        if measure.measure_type == "减损权益或增加义务":
            assert bases[measure.basis_id].level in {"法律", "行政法规", "地方性法规"}, measure.code
    assert service.seed(sanctioned, ADMIN) == 0


# --- no list, no measure without a sufficient legal basis ----------------------------------------------------

def serious_list(**changes: object) -> ListTypeSpec:
    data: dict[str, object] = {"code": "CITY_SERIOUS", "name": "市级严重失信名单", "category": "严重失信主体名单",
                               "severity": "严重", "issuing_authority": "南京市社会信用体系建设领导小组办公室",
                               "maintaining_sectors": ["发展改革"], "basis": "NORM_CITY_NOTICE",
                               "exit_conditions": "期满移出", "period_months": 12}
    return ListTypeSpec.model_validate(data | changes)


def rights_measure(**changes: object) -> MeasureSpec:
    data: dict[str, object] = {"code": "M_CITY_BAN", "name": "限制参与本市财政资金项目", "content": "不予安排财政资金",
                               "nature": "惩戒", "measure_type": "减损权益或增加义务", "basis": "NORM_CITY_NOTICE",
                               "list_types": ["SAMR_SERIOUS_VIOLATION"], "matter_types": ["FISCAL_FUNDS"],
                               "implementing_sectors": ["财政"]}
    return MeasureSpec.model_validate(data | changes)


def test_a_list_on_a_normative_document_or_department_rule_is_refused_and_nothing_is_created(sanctioned: Session) -> None:
    before = count(sanctioned, ListType), audit.count(sanctioned)
    error = refused("LIST_BASIS_TOO_LOW", service.create_list_type, sanctioned, ADMIN, serious_list())
    assert "规范性文件" in error.message
    refused("LIST_BASIS_TOO_LOW", service.create_list_type, sanctioned, ADMIN, serious_list(basis="RULE_SAMR_SERIOUS"))
    refused("BASIS_UNKNOWN", service.create_list_type, sanctioned, ADMIN, serious_list(basis="NO_SUCH_LAW"))
    assert (count(sanctioned, ListType), audit.count(sanctioned)) == before
    created = service.create_list_type(sanctioned, ADMIN, serious_list(basis="LOCAL_JS_CREDIT"))
    assert created.nature == "失信" and created.period_months == 12


def test_a_rights_reducing_measure_needs_a_law_and_a_repealed_basis_cannot_be_cited(sanctioned: Session) -> None:
    before = count(sanctioned, Measure)
    refused("MEASURE_BASIS_TOO_LOW", service.create_measure, sanctioned, ADMIN, rights_measure())
    refused("MEASURE_BASIS_TOO_LOW", service.create_measure, sanctioned, ADMIN,
            rights_measure(basis="POLICY_GUOBAN_2020_49"))
    refused("BASIS_UNKNOWN", service.create_measure, sanctioned, ADMIN, rights_measure(basis="MADE_UP_LAW"))
    assert count(sanctioned, Measure) == before
    service.repeal_basis(sanctioned, ADMIN, "LOCAL_JS_CREDIT", date(2026, 1, 1))
    refused("BASIS_REPEALED", service.create_measure, sanctioned, ADMIN, rights_measure(basis="LOCAL_JS_CREDIT"))
    assert service.create_measure(sanctioned, ADMIN, rights_measure(basis="REG_ENTERPRISE_INFO")).version == 1


def test_only_the_credit_authority_defines_lists_measures_and_bases(sanctioned: Session, cast: Cast) -> None:
    refused("SANCTIONS_AUTHORITY_ONLY", service.create_measure, sanctioned, cast.market,
            rights_measure(basis="REG_ENTERPRISE_INFO"))
    refused("SANCTIONS_AUTHORITY_ONLY", service.create_list_type, sanctioned, cast.market,
            serious_list(basis="LOCAL_JS_CREDIT"))
    refused("SANCTIONS_AUTHORITY_ONLY", service.add_basis, sanctioned, cast.market,
            LegalBasisIn(code="X_LAW", title="《某法》", level="法律", issuer="全国人民代表大会"))
    refused("BASIS_EXISTS", service.add_basis, sanctioned, ADMIN,
            LegalBasisIn(code="LAW_CUSTOMS", title="《海关法》", level="法律", issuer="全国人民代表大会常务委员会"))


def test_a_revision_is_a_new_version_and_the_old_one_is_kept(sanctioned: Session) -> None:
    old = service.measure_in_force(sanctioned, "M_PROCUREMENT_BAN")
    spec = service.spec_of(sanctioned, old).model_copy(update={"matter_types": ["GOV_PROCUREMENT", "BIDDING"]})
    refused("MEASURE_NOTE_REQUIRED", service.revise_measure, sanctioned, ADMIN, "M_PROCUREMENT_BAN", spec, "")
    new = service.revise_measure(sanctioned, ADMIN, "M_PROCUREMENT_BAN", spec, "扩大至招标投标")
    assert (new.version, old.retired_at is not None) == (2, True)
    assert [m.version for m in service.measure_versions(sanctioned, "M_PROCUREMENT_BAN")] == [1, 2]
    assert "M_PROCUREMENT_BAN" in {m.code for m in service.measures(sanctioned, matter_type="BIDDING")}
    service.retire_measure(sanctioned, ADMIN, "M_PROCUREMENT_BAN", "上位法修改")
    assert "M_PROCUREMENT_BAN" not in {m.code for m in service.measures(sanctioned)}
    assert count(sanctioned, Measure) == 20  # 19 seeded + 1 revision: nothing deleted


# --- lists that follow the records departments submit ----------------------------------------------------------

def test_a_record_of_a_list_item_puts_the_subject_on_the_list_and_its_correction_or_revocation_takes_it_off(
        sanctioned: Session, cast: Cast) -> None:
    code = company(1)
    first = abnormal(sanctioned, cast, code)
    [entry] = in_force(sanctioned, "BUSINESS_ABNORMAL", first.record.subject_id)
    assert (entry.source_record_id, entry.decision_number, entry.expires_at) == (first.record.id, "宁玄市监企异字〔2026〕第1号", None)
    corrected = abnormal(sanctioned, cast, code, on=date(2026, 3, 3))
    assert corrected.outcome == "correction"
    [now_entry] = in_force(sanctioned, "BUSINESS_ABNORMAL", first.record.subject_id)
    assert now_entry.source_record_id == corrected.record.id
    assert service.exit_of(sanctioned, entry.id).reason == "correction"  # type: ignore[union-attr]
    records.revoke(sanctioned, cast.market, corrected.record.id, "列入决定已撤销")
    assert in_force(sanctioned, "BUSINESS_ABNORMAL", first.record.subject_id) == []
    assert service.exit_of(sanctioned, now_entry.id).reason == "revocation"  # type: ignore[union-attr]
    assert count(sanctioned, ListEntry) == 2 and count(sanctioned, ListExit) == 2


def test_the_serious_list_record_names_its_list_type_and_period(sanctioned: Session, cast: Cast) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI))
    tax = serious(sanctioned, cast, company(2), "重大税收违法失信主体", until=date(2027, 2, 1))
    samr = serious(sanctioned, cast, company(3), number="宁市监严列〔2026〕2号")
    other = serious(sanctioned, cast, company(4), "其他", number="宁市监严列〔2026〕3号")
    [tax_entry] = in_force(sanctioned, "MAJOR_TAX_VIOLATION", tax.record.subject_id)
    assert tax_entry.expires_at == clock.start_of(date(2027, 2, 2))  # 有效期至 is inclusive
    [samr_entry] = in_force(sanctioned, "SAMR_SERIOUS_VIOLATION", samr.record.subject_id)
    assert samr_entry.expires_at == clock.start_of(date(2029, 2, 2))  # 36 months from the decision
    assert not any(e.subject_id == other.record.subject_id for e in sanctioned.scalars(select(ListEntry)))
    clock.freeze(datetime(2027, 2, 1, 23, 59, 59, tzinfo=clock.SHANGHAI))
    assert len(in_force(sanctioned, "MAJOR_TAX_VIOLATION")) == 1
    clock.freeze(datetime(2027, 2, 2, 0, 0, tzinfo=clock.SHANGHAI))  # expiry needs no one to act
    assert in_force(sanctioned, "MAJOR_TAX_VIOLATION") == []
    [view] = service.entries(sanctioned, list_code="MAJOR_TAX_VIOLATION")[1]
    assert view.status == "已期满"


def test_natural_persons_enter_the_judgment_debtor_list(sanctioned: Session, cast: Cast) -> None:
    submitted = judgment_debtor(sanctioned, cast, person_ref(7, "李四"))
    [entry] = in_force(sanctioned, "DISHONEST_JUDGMENT_DEBTOR", submitted.record.subject_id)
    assert entry.expires_at is None and "履行" in entry.exit_conditions


def test_a_batch_file_of_list_records_fills_the_list_in_the_same_transaction(
        sanctioned: Session, cast: Cast, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "abnormal.csv"
    rows = ["统一社会信用代码,企业名称,列入决定书文号,列入经营异常名录原因,列入日期,作出决定机关"]
    rows += [f"{company(10 + i)},南京批量{i}科技有限公司,宁玄市监企异字〔2026〕第{100 + i}号,未按规定报送年度报告,"
             f"2026-03-0{1 + i % 5},南京市玄武区市场监督管理局" for i in range(30)]
    path.write_text("\n".join(rows) + "\n", encoding="gbk")
    batch = ingest.submit_file(sanctioned, cast.market, "LIST_ABNORMAL", path, path.name)
    sanctioned.commit()
    done = ingest.run_batch(session_factory(settings), batch.id)
    sanctioned.expire_all()
    assert done.status == "done", done.status
    assert len(in_force(sanctioned, "BUSINESS_ABNORMAL")) == 30


def test_creating_a_list_that_follows_an_item_takes_in_the_records_already_held(sanctioned: Session, cast: Cast) -> None:
    abnormal(sanctioned, cast, company(40))
    spec = ListTypeSpec(code="ABNORMAL_COPY", name="经营异常名录（副本）", category="经营异常名录", severity="一般",
                        issuing_authority="国家市场监督管理总局", maintaining_sectors=["市场监管"], basis="REG_ENTERPRISE_INFO",
                        exit_conditions="移出", source={"item": "LIST_ABNORMAL", "decision_number": "LRWH", "reasons": "LRYY"})
    service.create_list_type(sanctioned, ADMIN, spec)
    assert len(in_force(sanctioned, "ABNORMAL_COPY")) == 1
    bad = spec.model_copy(update={"code": "ABNORMAL_BAD", "source": spec.source.model_copy(update={"reasons": "NOPE"})})  # type: ignore[union-attr]
    refused("LIST_SOURCE_FIELD", service.create_list_type, sanctioned, ADMIN, bad)


# --- lists kept on the platform ------------------------------------------------------------------------

def test_a_department_keeps_only_the_lists_of_its_sector(sanctioned: Session, cast: Cast) -> None:
    code = company(50)
    abnormal(sanctioned, cast, code)  # registers the company
    entry = service.add_entry(sanctioned, cast.development, honour_entry(code))
    assert entry.expires_at == clock.start_of(date(2028, 5, 20))  # 24 months
    refused("LIST_NOT_YOURS", service.add_entry, sanctioned, cast.market, honour_entry(code, "另一文号"))
    refused("LIST_ENTRY_EXISTS", service.add_entry, sanctioned, cast.development, honour_entry(code))
    refused("LIST_FOLLOWS_RECORDS", service.add_entry, sanctioned, cast.market,
            EntryIn(list_type="BUSINESS_ABNORMAL", subject_code=code, decision_number="X1", decision_date=date(2026, 1, 1),
                    reasons="未报送年报"))
    refused("SUBJECT_NOT_FOUND", service.add_entry, sanctioned, cast.development, honour_entry(company(51)))
    refused("LIST_TYPE_UNKNOWN", service.add_entry, sanctioned, cast.development,
            honour_entry(code).model_copy(update={"list_type": "NOPE_LIST"}))


def test_leaving_a_list_is_a_new_fact_and_only_once(sanctioned: Session, cast: Cast) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI))
    code = company(60)
    abnormal(sanctioned, cast, code)
    entry = service.add_entry(sanctioned, cast.development, honour_entry(code))
    assert len(in_force(sanctioned, "RED_HONOUR")) == 1
    refused("LIST_NOT_YOURS", service.exit_entry, sanctioned, cast.market, entry.id,
            ExitIn(reason="fulfilled", note="发生失信行为"))
    refused("LIST_REPAIR_BY_AUTHORITY", service.exit_entry, sanctioned, cast.development, entry.id,
            ExitIn(reason="repair", note="修复"))
    service.exit_entry(sanctioned, cast.development, entry.id, ExitIn(reason="revocation", note="认定有误，予以撤销"))
    assert in_force(sanctioned, "RED_HONOUR") == []
    refused("LIST_ENTRY_NOT_IN_FORCE", service.exit_entry, sanctioned, cast.development, entry.id,
            ExitIn(reason="revocation", note="再次撤销"))
    assert sanctioned.get(ListEntry, entry.id) is not None  # never deleted
    [view] = service.entries(sanctioned, list_code="RED_HONOUR")[1]
    assert view.status == "已移出（撤销认定）"
    clock.advance(timedelta(days=1))
    listed = abnormal(sanctioned, cast, company(61))
    [sourced] = in_force(sanctioned, "BUSINESS_ABNORMAL", listed.record.subject_id)
    refused("LIST_EXIT_BY_RECORD", service.exit_entry, sanctioned, cast.market, sourced.id,
            ExitIn(reason="revocation", note="撤销"))
    service.exit_entry(sanctioned, cast.market, sourced.id, ExitIn(reason="fulfilled", note="已补报年度报告"))
    assert in_force(sanctioned, "BUSINESS_ABNORMAL", listed.record.subject_id) == []
    assert service.counts_in_force(sanctioned)["BUSINESS_ABNORMAL"] == 1  # company 60's entry


def test_every_change_is_audited_and_the_chain_holds(sanctioned: Session, cast: Cast) -> None:
    code = company(70)
    abnormal(sanctioned, cast, code)
    entry = service.add_entry(sanctioned, cast.development, honour_entry(code))
    service.exit_entry(sanctioned, cast.development, entry.id, ExitIn(reason="fulfilled", note="有效期内发生失信行为"))
    actions = [e.action for e in audit.recent(sanctioned, limit=5)]
    assert actions[:2] == ["sanctions.entry.exit", "sanctions.entry.add"]
    assert audit.verify(sanctioned).ok


def test_a_list_entry_refuses_a_subject_kind_the_list_does_not_cover(sanctioned: Session, cast: Cast) -> None:
    service.create_list_type(sanctioned, ADMIN, serious_list(code="CITY_ENTERPRISE_SERIOUS", basis="LOCAL_JS_CREDIT",
                                                             subject_kinds=["enterprise"]))
    association = uscc.build("5", "1", "320102", "MJ000012")
    abnormal(sanctioned, cast, association, name="南京市示范行业协会")
    refused("LIST_SUBJECT_KIND", service.add_entry, sanctioned, cast.development, EntryIn(
        list_type="CITY_ENTERPRISE_SERIOUS", subject_code=association, decision_number="宁信用办〔2026〕9号",
        decision_date=date(2026, 5, 1), reasons="严重失信"))


def test_list_views_mask_natural_persons(sanctioned: Session, cast: Cast) -> None:
    judgment_debtor(sanctioned, cast, person_ref(9, "欧阳娜娜"))
    [view] = service.entries(sanctioned, list_code="DISHONEST_JUDGMENT_DEBTOR")[1]
    assert (view.subject_name, view.subject_code) == ("欧阳**", masked(9))
    assert service.entry_view(sanctioned, view.entry.id).subject_name == "欧阳**"
    refused("LIST_ENTRY_NOT_FOUND", service.entry_view, sanctioned, 10 ** 6)
