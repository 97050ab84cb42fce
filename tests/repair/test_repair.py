"""Credit repair end to end: eligibility with reasons, the 提交 → 受理 → 审核 → 决定 workflow with
working-day deadlines, and approval ending publication, lists and measures at once — everywhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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
    penalty,
    person_ref,
    refused,
)
from tests.support.world import World
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.disclosure import service as disclosure
from xinyong.disclosure.service import PublicityQuery
from xinyong.errors import DomainError
from xinyong.notifications.models import Notice
from xinyong.records import service as records
from xinyong.repair import service
from xinyong.repair.models import CaseMaterial, RepairApplication
from xinyong.repair.schemas import MaterialIn, RepairIn
from xinyong.sanctions import checks
from xinyong.sanctions import service as sanctions
from xinyong.sanctions.schemas import EntryIn, ListTypeSpec

PDF = b"%PDF-1.7\n% commitment letter\n"
PNG = b"\x89PNG\r\n\x1a\n fulfilment receipt"
DECIDED = date(2026, 1, 5)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def cast(world: World, sanctioned: Session) -> Cast:
    clock.freeze(at(date(2026, 1, 10)))
    return build_cast(sanctioned, world)


def materials() -> list[MaterialIn]:
    return [MaterialIn(kind="commitment_letter", filename="信用修复承诺书.pdf", content=PDF),
            MaterialIn(kind="fulfilment_proof", filename="罚款缴纳凭证.png", content=PNG)]


def subject_actor(cast: Cast, subject_id: int) -> Actor:
    return Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=subject_id)



def apply_for(session: Session, cast: Cast, record_id: int, subject_id: int) -> RepairApplication:
    return service.apply(session, subject_actor(cast, subject_id),
                         RepairIn(record_id=record_id, reasons="已足额缴纳罚款并完成整改，建立广告审核制度", obligations_fulfilled=True),
                         materials())


def test_a_general_penalty_is_repaired_and_disappears_everywhere_at_once(sanctioned: Session, cast: Cast) -> None:
    code = company(1)
    record = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕101号", on=DECIDED).record
    subject_id = record.subject_id

    # Before the minimum period (一般: 3 months) the platform says no, and from when.
    clock.freeze(at(date(2026, 3, 1)))
    verdict = service.eligibility(sanctioned, service.target_of(sanctioned, RepairIn(
        record_id=record.id, reasons="x" * 10, obligations_fulfilled=True)))
    assert (verdict.eligible, verdict.code, verdict.earliest) == (False, "REPAIR_TOO_EARLY", clock.start_of(date(2026, 4, 5)))
    error = refused("REPAIR_TOO_EARLY", apply_for, sanctioned, cast, record.id, subject_id)
    assert "2026年04月05日" in error.message
    assert count(sanctioned, RepairApplication) == 0

    # After it: applied, with the materials kept.
    clock.freeze(at(date(2026, 4, 10)))  # a Friday
    application = apply_for(sanctioned, cast, record.id, subject_id)
    assert (application.status, application.deciding_department_id) == ("submitted", cast.market_department.id)
    calendar = service.calendar_service.working_calendar(sanctioned)
    last_intake_day = clock.local(application.intake_due_at - timedelta(seconds=1)).date()
    assert calendar.working_days_between(date(2026, 4, 10), last_intake_day) == 3
    kept = service.materials_of(sanctioned, "repair", application.id)
    assert [(m.kind, m.size) for m in kept] == [("commitment_letter", len(PDF)), ("fulfilment_proof", len(PNG))]
    refused("REPAIR_DUPLICATE", apply_for, sanctioned, cast, record.id, subject_id)

    # 受理 by the platform, 审核 by the department that made the finding (谁认定、谁修复).
    refused("REPAIR_INTAKE_BY_AUTHORITY", service.accept, sanctioned, cast.market, application.id)
    service.accept(sanctioned, ADMIN, application.id, "材料齐全")
    refused("REPAIR_WRONG_DEPARTMENT", service.approve, sanctioned, cast.court, application.id)
    before_check = checks.check_codes(sanctioned, cast.applier, "BIDDING", [code])
    assert before_check.hits == 1  # M_BID_CREDIT_REFERENCE: a 一般 penalty in its window
    assert _public_ids(sanctioned, code) == {record.id}

    service.approve(sanctioned, cast.market, application.id, "整改到位，同意修复")
    # At once: not on the public page or API, not in the 双公示 list, no measure in a joint check.
    assert _public_ids(sanctioned, code) == set()
    penalties = disclosure.publicity(sanctioned, "penalties", PublicityQuery())
    assert record.id not in {r.id for r in penalties.items}
    with pytest.raises(DomainError):
        disclosure.record_page(sanctioned, record.id)
    assert checks.check_codes(sanctioned, cast.applier, "BIDDING", [code]).hits == 0
    # History is kept: the original and the repair fact, linked; the subject's own view says so.
    chain = records.history(sanctioned, record)
    assert [r.kind for r in chain] == ["original", "repair"]
    assert records.publication_status(chain[-1]) == "已信用修复，停止公示"
    assert [s.step for s in service.steps(sanctioned, application.id)] == ["submit", "accept", "approve"]
    assert sanctioned.scalar(select(Notice).where(Notice.subject_id == subject_id, Notice.title.like("%已同意修复%")))
    assert audit.verify(sanctioned).ok


def _public_ids(session: Session, code: str) -> set[int]:
    page = disclosure.subject_page(session, code)
    return {r.id for section in page.sections for r in section.records if r.item_code == "ADM_PENALTY"}


def test_repair_is_refused_with_reasons_and_nothing_changes(sanctioned: Session, cast: Cast) -> None:
    code = company(2)
    record = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕102号", on=DECIDED).record
    debtor = judgment_debtor(sanctioned, cast, person_ref(3, "王五"), on=date(2026, 1, 6)).record
    listed = abnormal(sanctioned, cast, company(3), on=date(2026, 1, 6)).record
    clock.freeze(at(date(2026, 5, 6)))
    other_subject = subject_actor(cast, listed.subject_id)
    good = RepairIn(record_id=record.id, reasons="已足额缴纳罚款并完成整改", obligations_fulfilled=True)
    refused("REPAIR_NOT_YOURS", service.apply, sanctioned, other_subject, good, materials())
    refused("REPAIR_NOT_REPAIRABLE", apply_for, sanctioned, cast, debtor.id, debtor.subject_id)
    refused("REPAIR_OBLIGATIONS", service.apply, sanctioned, subject_actor(cast, record.subject_id),
            good.model_copy(update={"obligations_fulfilled": False}), materials())
    refused("REPAIR_MATERIALS_MISSING", service.apply, sanctioned, subject_actor(cast, record.subject_id), good,
            materials()[:1])
    refused("MATERIAL_TYPE", service.apply, sanctioned, subject_actor(cast, record.subject_id), good,
            [MaterialIn(kind="commitment_letter", filename="a.exe", content=b"MZ\x90"), materials()[1]])
    refused("REPAIR_TARGET", service.apply, sanctioned, subject_actor(cast, record.subject_id),
            RepairIn(reasons="没有指定目标的申请", obligations_fulfilled=True), materials())
    assert (count(sanctioned, RepairApplication), count(sanctioned, CaseMaterial)) == (0, 0)


def test_repeated_dishonesty_is_not_repaired(sanctioned: Session, cast: Cast) -> None:
    code = company(4)
    for n, day in enumerate((date(2025, 11, 3), date(2025, 12, 1), DECIDED)):
        last = penalty(sanctioned, cast, code, number=f"宁玄市监处罚〔2026〕2{n}号", on=day).record
    clock.freeze(at(date(2026, 5, 6)))
    error = refused("REPAIR_REPEATED", apply_for, sanctioned, cast, last.id, last.subject_id)
    assert "重复失信" in error.message


def test_decisions_follow_the_workflow_and_refusals_give_reasons(sanctioned: Session, cast: Cast) -> None:
    record = penalty(sanctioned, cast, company(5), number="宁玄市监处罚〔2026〕105号", on=DECIDED).record
    clock.freeze(at(date(2026, 4, 20)))
    application = apply_for(sanctioned, cast, record.id, record.subject_id)
    refused("REPAIR_WRONG_STATE", service.approve, sanctioned, cast.market, application.id)  # not accepted yet
    service.accept(sanctioned, ADMIN, application.id)
    due = clock.local(application.decision_due_at - timedelta(seconds=1)).date()  # type: ignore[operator]
    calendar = service.calendar_service.working_calendar(sanctioned)
    assert calendar.working_days_between(date(2026, 4, 20), due) == 7  # 市场监管: 7 working days
    assert due == date(2026, 4, 29)
    refused("REPAIR_NOTE_REQUIRED", service.refuse, sanctioned, cast.market, application.id, "")
    service.refuse(sanctioned, cast.market, application.id, "罚款尚未缴清")
    assert application.status == "refused"
    assert _public_ids(sanctioned, company(5)) == {record.id}  # still published
    again = apply_for(sanctioned, cast, record.id, record.subject_id)  # a new application after a refusal
    service.not_accept(sanctioned, ADMIN, again.id, "材料不齐")
    assert again.status == "not_accepted"


def test_overdue_applications_show_on_the_to_do_lists(sanctioned: Session, cast: Cast) -> None:
    record = penalty(sanctioned, cast, company(6), number="宁玄市监处罚〔2026〕106号", on=DECIDED).record
    clock.freeze(at(date(2026, 4, 29)))  # before the 劳动节 holiday
    application = apply_for(sanctioned, cast, record.id, record.subject_id)
    [todo] = service.todo_items(sanctioned, ADMIN)
    assert (todo.title, todo.overdue) == (f"受理信用修复申请 {application.number}", False)
    assert clock.local(todo.due_at).date() > date(2026, 5, 5)  # type: ignore[arg-type]  # holidays skipped
    clock.freeze(application.intake_due_at)
    assert service.todo_items(sanctioned, ADMIN)[0].overdue and service.overdue(application)
    service.accept(sanctioned, ADMIN, application.id)
    [todo] = service.todo_items(sanctioned, cast.market)
    assert todo.title.startswith("审核信用修复申请")


def test_a_list_entry_kept_on_the_platform_is_repaired_by_exit(sanctioned: Session, cast: Cast) -> None:
    clock.freeze(at(date(2026, 6, 1)))
    code = company(7)
    abnormal(sanctioned, cast, code)
    kind = sanctions.create_list_type(sanctioned, ADMIN, ListTypeSpec(
        code="CITY_SERIOUS", name="市级严重失信名单", category="严重失信主体名单", severity="严重",
        issuing_authority="南京市发展和改革委员会", maintaining_sectors=["发展改革"], basis="LOCAL_JS_CREDIT",
        exit_conditions="期满或修复", period_months=36))
    entry = sanctions.add_entry(sanctioned, cast.development, EntryIn(
        list_type=kind.code, subject_code=code, decision_number="宁发改信〔2025〕1号", decision_date=date(2025, 5, 1),
        reasons="严重失信"))
    data = RepairIn(entry_id=entry.id, reasons="已纠正失信行为并消除不良影响", obligations_fulfilled=True)
    application = service.apply(sanctioned, subject_actor(cast, entry.subject_id), data, materials())
    assert application.deciding_department_id == entry.department_id
    service.accept(sanctioned, ADMIN, application.id)
    service.approve(sanctioned, cast.development, application.id)
    assert sanctions.entry_view(sanctioned, entry.id).status == "已移出（信用修复）"


def test_approval_repairs_the_record_a_list_follows_and_takes_the_subject_off(sanctioned: Session, cast: Cast) -> None:
    code = company(8)
    listed = abnormal(sanctioned, cast, code, on=date(2026, 1, 2)).record
    clock.freeze(at(date(2026, 5, 6)))
    assert checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code]).hits == 1
    application = apply_for(sanctioned, cast, listed.id, listed.subject_id)
    service.accept(sanctioned, ADMIN, application.id)
    service.approve(sanctioned, cast.market, application.id)
    [view] = sanctions.entries(sanctioned, subject_id=listed.subject_id)[1]
    assert view.status == "已移出（信用修复）"
    assert checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code]).hits == 0


def test_a_repaired_record_leaves_evaluation_and_cannot_be_corrected(sanctioned: Session, cast: Cast) -> None:
    code = company(9)
    record = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕109号", on=DECIDED).record
    clock.freeze(at(date(2026, 5, 6)))
    application = apply_for(sanctioned, cast, record.id, record.subject_id)
    service.accept(sanctioned, ADMIN, application.id)
    service.approve(sanctioned, cast.market, application.id)
    query = records.facts_as_of(clock.now(), {"ADM_PENALTY": []}, subject_id=record.subject_id)
    assert list(sanctioned.execute(query)) == []
    refused("RECORD_REPAIRED", penalty, sanctioned, cast, code, number="宁玄市监处罚〔2026〕109号", amount="9",
            on=DECIDED)
    again = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕109号", on=DECIDED)  # the same again
    assert again.outcome == "duplicate"
