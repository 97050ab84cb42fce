"""Platform data partners: the list feed (entered, ended by expiry, repair, revocation), the snapshot,
acknowledgements, and refusals."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.partners.conftest import ADMIN, AGREED, OTHER_PLATFORM_CODE, PLATFORM_CODE, Setting, register
from tests.support.sanctions import company, judgment_debtor, masked, person_ref, refused, serious
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.partners import service
from xinyong.partners.schemas import PartnerIn
from xinyong.records import service as records
from xinyong.repair import service as repair
from xinyong.repair.schemas import MaterialIn, RepairIn
from xinyong.sanctions import service as sanctions

MATERIALS = [
    MaterialIn(kind="commitment_letter", filename="承诺书.pdf", content=b"%PDF-1.7 letter"),
    MaterialIn(kind="fulfilment_proof", filename="缴款凭证.pdf", content=b"%PDF-1.7 receipt"),
]


def _entry_id(session: Session, record_id: int) -> int:
    _total, views = sanctions.entries(session, limit=100)
    return next(v.entry.id for v in views if v.entry.source_record_id == record_id)


def test_the_feed_delivers_agreed_lists_with_their_ends_as_on_the_public_site(
    sanctioned: Session, setting: Setting
) -> None:
    register(sanctioned)
    listed = serious(sanctioned, setting.cast, company(1), on=date(2025, 3, 3))
    shortened = serious(
        sanctioned,
        setting.cast,
        company(2),
        number="宁市监严列〔2026〕2号",
        on=date(2026, 2, 2),
        until=date(2026, 12, 31),
    )
    serious(sanctioned, setting.cast, company(3), "重大税收违法失信主体", number="宁税稽罚〔2026〕3号")  # not agreed
    judgment_debtor(sanctioned, setting.cast, person_ref(7, "王小明"), on=date(2026, 4, 1))
    sanctioned.commit()

    page = service.pull(sanctioned, setting.platform, 0)
    assert [i.event for i in page.items] == ["entered"] * 3
    assert {i.list_type for i in page.items} == set(AGREED)  # the tax list is never delivered
    by_code = {i.subject_code: i for i in page.items}
    first = by_code[company(1)]
    assert first.decision_number == "宁市监严列〔2026〕1号" and first.starts_on == date(2025, 3, 3)
    assert first.ends_on == date(2028, 3, 2)  # 36 months, last day included
    assert by_code[company(2)].ends_on == date(2026, 12, 31)  # 有效期至 as decided
    person = by_code[masked(7)]
    assert person.person and person.subject_name == "王**" and "王小明" not in page.model_dump_json()
    # the court's list has no period; the public site shows the record 36 months: that is its end here too
    window = records.get(sanctioned, _record_of(sanctioned, person.entry_id))
    assert person.ends_on == clock.local(window.publication_ends_at - timedelta(microseconds=1)).date()
    assert page.next_cursor == max(i.cursor for i in page.items) and not page.has_more
    assert listed.record.id and shortened.record.id
    again = service.pull(sanctioned, setting.platform, page.next_cursor)
    assert again.items == [] and again.next_cursor == page.next_cursor


def _record_of(session: Session, entry_id: int) -> int:
    return sanctions.get_entry(session, entry_id).source_record_id or 0


def test_expiry_is_reported_when_the_period_passes(sanctioned: Session, setting: Setting) -> None:
    register(sanctioned, ends_on=clock.today() + timedelta(days=700))
    serious(sanctioned, setting.cast, company(2), on=date(2026, 2, 2), until=date(2026, 12, 31))
    sanctioned.commit()
    first = service.pull(sanctioned, setting.platform, 0)
    [entered] = first.items
    clock.advance(timedelta(days=199))  # 2026-12-31: the last day
    assert service.pull(sanctioned, setting.platform, first.next_cursor).items == []
    clock.advance(timedelta(days=1))  # 2027-01-01: ended, nobody acted
    later = service.pull(sanctioned, setting.platform, first.next_cursor)
    [ended] = later.items
    assert (ended.event, ended.end_reason, ended.end_reason_label) == ("ended", "expired", "期满")
    assert ended.entry_id == entered.entry_id and ended.ended_on == date(2027, 1, 1)
    assert ended.ends_on == date(2026, 12, 31) and ended.subject_code == company(2)
    assert service.pull(sanctioned, setting.platform, later.next_cursor).items == []  # reported once


def test_a_repair_reaches_the_partner_and_its_acknowledgement_is_tracked(sanctioned: Session, setting: Setting) -> None:
    register(sanctioned)
    listed = serious(sanctioned, setting.cast, company(1), on=date(2025, 3, 3))
    sanctioned.commit()
    entry_id = _entry_id(sanctioned, listed.record.id)
    first = service.pull(sanctioned, setting.platform, 0)
    assert [i.entry_id for i in first.items] == [entry_id]
    service.acknowledge(sanctioned, setting.platform, first.next_cursor)

    owner = Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=listed.record.subject_id)
    application = repair.apply(
        sanctioned,
        owner,
        RepairIn(entry_id=entry_id, reasons="已整改完毕并履行全部义务，申请修复", obligations_fulfilled=True),
        MATERIALS,
    )
    repair.accept(sanctioned, ADMIN, application.id)
    repair.approve(sanctioned, setting.cast.market, application.id, "同意修复")
    sanctioned.commit()
    assert service.deliveries(sanctioned, entry_id) == []  # not yet picked up by any pull

    second = service.pull(sanctioned, setting.platform, first.next_cursor)
    [ended] = second.items
    assert (ended.event, ended.end_reason, ended.end_reason_label) == ("ended", "repair", "信用修复")
    assert ended.entry_id == entry_id
    assert ended.ended_on == clock.today()
    [delivery] = service.deliveries(sanctioned, entry_id)
    assert delivery["delivered"] and not delivery["acknowledged"]
    [overview] = service.partners(sanctioned)
    assert (overview.unacknowledged, overview.unacknowledged_ends) == (1, 1)

    service.acknowledge(sanctioned, setting.platform, second.next_cursor)
    [delivery] = service.deliveries(sanctioned, entry_id)
    assert delivery["acknowledged"]
    [overview] = service.partners(sanctioned)
    assert overview.acknowledged_through == second.next_cursor and overview.unacknowledged == 0
    actions = set(sanctioned.scalars(select(AuditEntry.action)))
    assert {"partners.feed.read", "partners.feed.acknowledge", "partners.register"} <= actions


def test_revocation_of_the_record_ends_the_entry_for_the_partner(sanctioned: Session, setting: Setting) -> None:
    register(sanctioned)
    listed = serious(sanctioned, setting.cast, company(1), on=date(2026, 3, 3))
    sanctioned.commit()
    first = service.pull(sanctioned, setting.platform, 0)
    records.revoke(sanctioned, setting.cast.market, listed.record.id, "认定依据错误，撤销认定")
    sanctioned.commit()
    [ended] = service.pull(sanctioned, setting.platform, first.next_cursor).items
    assert ended.end_reason == "revocation" and ended.end_reason_label == "撤销认定"


def test_an_entry_over_before_any_pull_is_never_delivered(sanctioned: Session, setting: Setting) -> None:
    register(sanctioned)
    serious(sanctioned, setting.cast, company(4), on=date(2022, 1, 10), until=date(2023, 1, 9))  # long over
    sanctioned.commit()
    assert service.pull(sanctioned, setting.platform, 0).items == []


def test_the_snapshot_lists_entries_in_force_and_gives_the_cursor_to_continue(
    sanctioned: Session, setting: Setting
) -> None:
    register(sanctioned)
    serious(sanctioned, setting.cast, company(1), on=date(2025, 3, 3))
    serious(sanctioned, setting.cast, company(2), number="宁市监严列〔2026〕2号", on=date(2026, 2, 2))
    serious(sanctioned, setting.cast, company(3), "重大税收违法失信主体", number="宁税稽罚〔2026〕3号")
    sanctioned.commit()
    snapshot = service.current(sanctioned, setting.platform, limit=1)
    assert len(snapshot.entries) == 1 and snapshot.next_after is not None
    rest = service.current(sanctioned, setting.platform, after=snapshot.next_after)
    codes = {e.subject_code for e in snapshot.entries + rest.entries}
    assert codes == {company(1), company(2)} and rest.next_after is None
    assert snapshot.cursor >= 2
    assert service.pull(sanctioned, setting.platform, snapshot.cursor).items == []  # nothing since the snapshot


def test_refusals(sanctioned: Session, setting: Setting) -> None:
    refused("PARTNER_NOT_REGISTERED", service.pull, sanctioned, setting.platform, 0)
    bank = Actor(user_id=None, username="bank", role="authorised_institution", institution_id=None)
    refused("PARTNER_NOT_PLATFORM", service.pull, sanctioned, bank, 0)
    refused("PARTNER_NOT_PLATFORM", service.current, sanctioned, bank)
    refused("PARTNER_NOT_PLATFORM", service.acknowledge, sanctioned, bank, 0)
    number = register(sanctioned, ends_on=clock.today() + timedelta(days=10))
    page = service.pull(sanctioned, setting.platform, 0)
    refused(
        "PARTNER_LIST_TYPE_NOT_AGREED", service.pull, sanctioned, setting.platform, 0, list_type="MAJOR_TAX_VIOLATION"
    )
    refused(
        "PARTNER_LIST_TYPE_NOT_AGREED", service.current, sanctioned, setting.platform, list_type="MAJOR_TAX_VIOLATION"
    )
    refused("PARTNER_ACK_BEYOND_DELIVERED", service.acknowledge, sanctioned, setting.platform, page.next_cursor + 5)
    refused("PARTNER_NOT_REGISTERED", service.pull, sanctioned, setting.other_platform, 0)
    clock.advance(timedelta(days=11))
    refused("PARTNER_AGREEMENT_ENDED", service.pull, sanctioned, setting.platform, 0)
    refused("PARTNER_AGREEMENT_ENDED", service.acknowledge, sanctioned, setting.platform, 0)
    second = register(sanctioned, "HZXY-2027-001")
    assert service.pull(sanctioned, setting.platform, 0).next_cursor >= 0
    service.terminate(sanctioned, ADMIN, second, "平台未按约定实施联合约束")
    refused("PARTNER_AGREEMENT_ENDED", service.pull, sanctioned, setting.platform, 0)
    refused("PARTNER_AGREEMENT_TERMINATED", service.terminate, sanctioned, ADMIN, second, "再次终止")
    assert number


def test_registration_rules(sanctioned: Session, setting: Setting) -> None:
    today = clock.today()

    def attempt(code: str, **changes: object) -> None:
        data = {
            "number": "HZXY-R",
            "institution_code": PLATFORM_CODE,
            "list_types": AGREED,
            "starts_on": today,
            "ends_on": today + timedelta(days=30),
            **changes,
        }
        refused(code, service.register, sanctioned, ADMIN, PartnerIn.model_validate(data))

    from tests.support.world import BANK_CODE

    attempt("PARTNER_NOT_PLATFORM", institution_code=BANK_CODE)
    attempt("PARTNER_INSTITUTION_UNKNOWN", institution_code="91320100MA0NONE00")
    attempt("PARTNER_LIST_TYPE_UNKNOWN", list_types=["NO_SUCH_LIST"])
    attempt("PARTNER_LIST_TYPE_NOT_ALLOWED", list_types=["RED_HONOUR"])
    attempt("PARTNER_PERIOD_INVALID", ends_on=today - timedelta(days=1))
    attempt("PARTNER_PERIOD_TOO_LONG", ends_on=today + timedelta(days=365 * 4))
    register(sanctioned, "HZXY-R")
    attempt("PARTNER_AGREEMENT_EXISTS")
    attempt("PARTNER_ALREADY_REGISTERED", number="HZXY-R2")
    refused(
        "PARTNERS_AUTHORITY_ONLY",
        service.register,
        sanctioned,
        setting.platform,
        PartnerIn(
            number="HZXY-X",
            institution_code=OTHER_PLATFORM_CODE,
            list_types=AGREED,
            starts_on=today,
            ends_on=today + timedelta(days=3),
        ),
    )
