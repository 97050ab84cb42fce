"""Departmental sharing: what each reader gets per sharing class, share requests and their bad
inputs, approval by the credit authority only, read-time expiry, the read log and the subject's view
of it. Every test runs on SQLite and PostgreSQL (the ``seeded`` fixture is parametrised)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.sharing.conftest import Stage, at
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from xinyong.sharing import service
from xinyong.sharing.models import ShareRead
from xinyong.sharing.schemas import DecisionIn, ShareRequestIn

BASIS = "《中华人民共和国招标投标法实施条例》：对投标人开展信用核查"


def ask(stage: Stage, actor: Actor | None = None, *, item: str = "TAX_CREDIT", purpose: str = "公共资源交易",
        months: int = 3, basis: str = BASIS) -> str:
    request = service.file_request(stage.session, actor or stage.applier,
                                   ShareRequestIn(item=item, purpose=purpose, basis=basis, term_months=months))
    return request.number


def approve(stage: Stage, number: str, **kwargs: object) -> None:
    service.decide(stage.session, stage.authority, number, DecisionIn(decision="approve", note="同意", **kwargs))


def items_read(stage: Stage, actor: Actor, purpose: str | None = "公共资源交易") -> set[str]:
    view = service.read_subject(stage.session, actor, stage.world.subject_id, purpose=purpose)
    return {r.item_code for r in view.records}


# --- what a reader gets ---------------------------------------------------------------------------------------

def test_conditional_item_is_shown_only_while_an_approved_request_covers_today(stage: Stage) -> None:
    assert items_read(stage, stage.applier) == {"ADM_PENALTY"}  # 无条件共享 only
    number = ask(stage)
    assert items_read(stage, stage.applier) == {"ADM_PENALTY"}  # pending is not approved
    approve(stage, number)
    request = service.get_request(stage.session, number)
    assert (request.starts_on, request.ends_on) == (date(2026, 6, 15), date(2026, 9, 14))
    view = service.read_subject(stage.session, stage.applier, stage.world.subject_id, purpose="公共资源交易")
    shared = {s.record.item_code: s for s in view.shared}
    assert set(shared) == {"ADM_PENALTY", "TAX_CREDIT"}
    assert shared["TAX_CREDIT"].basis == "approved" and shared["TAX_CREDIT"].request.number == number
    assert shared["ADM_PENALTY"].basis == "unconditional"
    assert items_read(stage, stage.applier, "日常监管") == {"ADM_PENALTY"}  # approved for another purpose
    assert items_read(stage, stage.applier, None) == {"ADM_PENALTY"}  # a read without a purpose

    clock.freeze(at(2026, 9, 14, 23))  # the last day of the term
    assert items_read(stage, stage.applier) == {"ADM_PENALTY", "TAX_CREDIT"}
    clock.freeze(at(2026, 9, 15, 0))  # expired at read time: nobody ran anything
    assert items_read(stage, stage.applier) == {"ADM_PENALTY"}
    assert service.state(service.get_request(stage.session, number)) == "expired"


def test_a_term_that_starts_later_shares_nothing_before_it_starts(stage: Stage) -> None:
    number = ask(stage)
    approve(stage, number, starts_on=date(2026, 7, 1), term_months=1)
    assert service.state(service.get_request(stage.session, number)) == "scheduled"
    assert items_read(stage, stage.applier) == {"ADM_PENALTY"}
    clock.freeze(at(2026, 7, 1))
    assert items_read(stage, stage.applier) == {"ADM_PENALTY", "TAX_CREDIT"}
    clock.freeze(at(2026, 8, 1))
    assert items_read(stage, stage.applier) == {"ADM_PENALTY"}


def test_never_shared_records_are_never_given_to_other_departments(stage: Stage) -> None:
    assert "SOCIAL_INSURANCE" not in items_read(stage, stage.applier)
    assert "SOCIAL_INSURANCE" not in items_read(stage, stage.provider, "日常监管")
    with pytest.raises(Invalid) as refused:
        ask(stage, item="SOCIAL_INSURANCE")
    assert refused.value.code == "SHARING_NEVER"
    with pytest.raises(Forbidden) as denied:
        service.read_record(stage.session, stage.applier, stage.never_id, purpose="公共资源交易")
    assert denied.value.code == "SHARING_NOT_ALLOWED" and "社会保险缴纳及欠费信息" in denied.value.message


def test_a_department_always_sees_what_it_provided(stage: Stage) -> None:
    assert items_read(stage, stage.tax, None) == {"ADM_PENALTY", "TAX_CREDIT", "SOCIAL_INSURANCE"}
    view = service.read_subject(stage.session, stage.tax, stage.world.subject_id)
    assert {s.record.item_code: s.basis for s in view.shared} == {
        "ADM_PENALTY": "unconditional", "TAX_CREDIT": "own", "SOCIAL_INSURANCE": "own"}
    assert [r.id for r in service.read_record(stage.session, stage.tax, stage.never_id)] == [stage.never_id]


def test_the_credit_authority_sees_everything(stage: Stage) -> None:
    assert items_read(stage, stage.authority, None) == {"ADM_PENALTY", "TAX_CREDIT", "SOCIAL_INSURANCE"}
    assert service.read_record(stage.session, stage.authority, stage.never_id)


def test_a_single_record_is_refused_without_a_matching_approved_request(stage: Stage) -> None:
    for purpose in ("公共资源交易", None):
        with pytest.raises(Forbidden) as denied:
            service.read_record(stage.session, stage.applier, stage.tax_credit_id, purpose=purpose)
        assert denied.value.code == "SHARING_REQUEST_REQUIRED" and "纳税信用等级" in denied.value.message
    approve(stage, ask(stage))
    chain = service.read_record(stage.session, stage.applier, stage.tax_credit_id, purpose="公共资源交易")
    assert [r.id for r in chain] == [stage.tax_credit_id]
    with pytest.raises(Forbidden):
        service.read_record(stage.session, stage.applier, stage.tax_credit_id, purpose="日常监管")
    with pytest.raises(NotFound):
        service.read_record(stage.session, stage.applier, 999_999, purpose="公共资源交易")


def test_the_department_view_says_which_items_need_a_request(stage: Stage) -> None:
    view = service.read_subject(stage.session, stage.applier, stage.world.subject_id, purpose="公共资源交易",
                                require_purpose=True, detailed=True)
    groups = {g.code: g for g in view.items}
    assert groups["ADM_PENALTY"].status == "shared" and len(groups["ADM_PENALTY"].records) == 1
    assert groups["TAX_CREDIT"].status == "request_required" and groups["TAX_CREDIT"].records == []
    assert "需申请共享" in groups["TAX_CREDIT"].note
    assert groups["CONTRACT"].status == "request_required"  # said for every conditional item: nothing leaks
    assert groups["SOCIAL_INSURANCE"].status == "not_shared" and groups["SOCIAL_INSURANCE"].records == []
    approve(stage, ask(stage))
    view = service.read_subject(stage.session, stage.applier, stage.world.subject_id, purpose="公共资源交易",
                                detailed=True)
    groups = {g.code: g for g in view.items}
    assert groups["TAX_CREDIT"].status == "shared" and groups["TAX_CREDIT"].request is not None


@pytest.mark.parametrize("purpose, code", [(None, "SHARING_PURPOSE_REQUIRED"), ("  ", "SHARING_PURPOSE_REQUIRED"),
                                           ("随便看看", "SHARING_PURPOSE_UNKNOWN")])
def test_a_department_read_needs_a_known_purpose(stage: Stage, purpose: str | None, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        service.read_subject(stage.session, stage.applier, stage.world.subject_id, purpose=purpose,
                             require_purpose=True)
    assert refused.value.code == code
    if code == "SHARING_PURPOSE_UNKNOWN":
        with pytest.raises(Invalid):
            service.read_record(stage.session, stage.applier, stage.penalty_id, purpose=purpose)


def test_other_roles_cannot_read_through_sharing(stage: Stage) -> None:
    for actor in (Actor(user_id=None, username="银行", role="authorised_institution", institution_id=1),
                  Actor(user_id=None, username="企业", role="subject_user", subject_id=stage.world.subject_id),
                  Actor(user_id=None, username="无部门", role="applying_department")):
        with pytest.raises(Forbidden):
            service.read_subject(stage.session, actor, stage.world.subject_id, purpose="日常监管")


@pytest.mark.parametrize("sharing_class, reader, own, approved, expected", [
    ("无条件共享", "department", False, False, "unconditional"),
    ("有条件共享", "department", False, False, "request_required"),
    ("有条件共享", "department", False, True, "approved"),
    ("不予共享", "department", False, True, "not_shared"),
    ("不予共享", "department", True, False, "own"),
    ("有条件共享", "department", True, False, "own"),
    ("不予共享", "authority", False, False, "authority"),
])
def test_basis_rule(sharing_class: str, reader: str, own: bool, approved: bool, expected: str) -> None:
    approval = object() if approved else None
    assert service.basis_of(sharing_class, reader=reader, own=own, approval=approval) == expected  # type: ignore[arg-type]


# --- requests -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, error, code", [
    ({"item": "NO_SUCH_ITEM"}, Invalid, "SHARING_ITEM_UNKNOWN"),
    ({"item": "ADM_PENALTY"}, Invalid, "SHARING_NOT_NEEDED"),
    ({"item": "SOCIAL_INSURANCE"}, Invalid, "SHARING_NEVER"),
    ({"purpose": "好奇"}, Invalid, "SHARING_PURPOSE_UNKNOWN"),
    ({"months": 25}, Invalid, "SHARING_TERM_INVALID"),
    ({"basis": "      "}, Invalid, "SHARING_BASIS_REQUIRED"),
])
def test_bad_requests_are_refused(stage: Stage, changes: dict[str, object], error: type[DomainError], code: str) -> None:
    with pytest.raises(error) as refused:
        ask(stage, **changes)  # type: ignore[arg-type]
    assert refused.value.code == code and refused.value.message


def test_only_departments_file_requests(stage: Stage) -> None:
    for actor in (stage.authority, Actor(user_id=None, username="企业", role="subject_user", subject_id=1)):
        with pytest.raises(Forbidden) as refused:
            ask(stage, actor)
        assert refused.value.code == "SHARING_DEPARTMENT_REQUIRED"


def test_a_live_request_for_the_same_item_and_purpose_is_a_duplicate(stage: Stage) -> None:
    first = ask(stage)
    with pytest.raises(Conflict) as duplicate:
        ask(stage)
    assert duplicate.value.code == "SHARING_REQUEST_DUPLICATE" and first in duplicate.value.message
    ask(stage, purpose="政府采购")  # another purpose is another request
    ask(stage, stage.provider)  # another department too
    approve(stage, first)
    with pytest.raises(Conflict):
        ask(stage)  # approved and in force
    clock.freeze(at(2026, 9, 15))
    ask(stage)  # expired: may ask again


def test_a_rejected_or_withdrawn_request_may_be_filed_again(stage: Stage) -> None:
    number = ask(stage)
    service.decide(stage.session, stage.authority, number, DecisionIn(decision="reject", note="用途与职责不符"))
    again = ask(stage)
    service.withdraw(stage.session, stage.applier, again)
    ask(stage)


def test_only_the_credit_authority_decides(stage: Stage) -> None:
    number = ask(stage)
    for actor in (stage.applier, stage.tax):
        with pytest.raises(Forbidden) as refused:
            service.decide(stage.session, actor, number, DecisionIn(decision="approve"))
        assert refused.value.code == "SHARING_APPROVE_BY_AUTHORITY"
    assert service.get_request(stage.session, number).status == "pending"


@pytest.mark.parametrize("decision, code", [
    (DecisionIn(decision="reject", note=" "), "SHARING_REASON_REQUIRED"),
    (DecisionIn(decision="approve", term_months=25), "SHARING_TERM_INVALID"),
    (DecisionIn(decision="approve", starts_on=date(2026, 6, 14)), "SHARING_START_IN_PAST"),
    (DecisionIn(decision="approve", starts_on=date(2027, 7, 1)), "SHARING_START_TOO_LATE"),
])
def test_bad_decisions_are_refused(stage: Stage, decision: DecisionIn, code: str) -> None:
    number = ask(stage)
    with pytest.raises(Invalid) as refused:
        service.decide(stage.session, stage.authority, number, decision)
    assert refused.value.code == code
    assert service.get_request(stage.session, number).status == "pending"


def test_a_decided_request_cannot_be_decided_again_and_unknown_ones_are_not_found(stage: Stage) -> None:
    number = ask(stage)
    service.decide(stage.session, stage.authority, number, DecisionIn(decision="reject", note="依据不足"))
    with pytest.raises(Conflict) as refused:
        approve(stage, number)
    assert refused.value.code == "SHARING_REQUEST_WRONG_STATE"
    with pytest.raises(NotFound):
        approve(stage, "GXSQ2026999999")


def test_withdrawal(stage: Stage) -> None:
    number = ask(stage)
    with pytest.raises(NotFound):
        service.withdraw(stage.session, stage.provider, number)  # another department's request
    approve(stage, number)
    assert "TAX_CREDIT" in items_read(stage, stage.applier)
    service.withdraw(stage.session, stage.applier, number, "不再需要")
    assert "TAX_CREDIT" not in items_read(stage, stage.applier)  # at once
    with pytest.raises(Conflict):
        service.withdraw(stage.session, stage.applier, number)


def test_departments_list_their_own_requests_and_the_authority_all(stage: Stage) -> None:
    mine = ask(stage)
    theirs = ask(stage, stage.provider, purpose="日常监管")
    assert [r.number for r in service.list_requests(stage.session, stage.applier)[0]] == [mine]
    assert {r.number for r in service.list_requests(stage.session, stage.authority)[0]} == {mine, theirs}
    approve(stage, mine)
    assert [r.number for r in service.list_requests(stage.session, stage.authority, status="approved")[0]] == [mine]
    assert [r.number for r in service.list_requests(stage.session, stage.authority, status="pending")[0]] == [theirs]
    with pytest.raises(NotFound):
        service.request_for(stage.session, stage.applier, theirs)


# --- the read log, the audit trail, the subject's view ------------------------------------------------------------

def test_requests_decisions_and_reads_are_audited_and_logged(stage: Stage) -> None:
    number = ask(stage)
    approve(stage, number)
    view = service.read_subject(stage.session, stage.applier, stage.world.subject_id, purpose="公共资源交易",
                                channel="page")
    stage.session.commit()
    actions = [e.action for e in stage.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[-3:] == ["sharing.request", "sharing.approve", "record.read"]
    entry = stage.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.detail["purpose"] == "公共资源交易" and entry.detail["share_read"] == view.read.id
    read = stage.session.get(ShareRead, view.read.id)
    assert read is not None
    assert (read.department_id, read.purpose, read.channel, read.non_public) == (
        stage.applier.department_id, "公共资源交易", "page", True)
    assert read.item_codes == ["ADM_PENALTY", "TAX_CREDIT"] and read.non_public_items == ["TAX_CREDIT"]
    assert read.request_ids == [service.get_request(stage.session, number).id]
    assert sorted(read.record_ids) == sorted([stage.penalty_id, stage.tax_credit_id])


def test_the_subject_sees_reads_of_its_non_public_information_only(stage: Stage) -> None:
    owner = Actor(user_id=None, username="企业", role="subject_user", subject_id=stage.world.subject_id)
    items_read(stage, stage.applier)  # only the public penalty: not listed
    assert service.reads_of_subject(stage.session, owner) == ([], 0)
    approve(stage, ask(stage))
    clock.freeze(at(2026, 6, 16))
    items_read(stage, stage.applier)  # now with the tax credit grade
    clock.freeze(at(2026, 6, 17))
    items_read(stage, stage.tax, "执法检查")  # its own records, non-public
    views, total = service.reads_of_subject(stage.session, owner)
    assert total == 2
    assert [(v.department, v.purpose) for v in views] == [("国家税务总局南京市税务局", "执法检查"),
                                                          ("南京市公共资源交易中心", "公共资源交易")]
    assert views[1].items == [("ADM_PENALTY", "行政处罚信息", True), ("TAX_CREDIT", "纳税信用等级", False)]
    with pytest.raises(Forbidden):
        service.reads_of_subject(stage.session, stage.applier)


def test_a_public_record_past_its_publication_window_counts_as_non_public(stage: Stage) -> None:
    owner = Actor(user_id=None, username="企业", role="subject_user", subject_id=stage.world.subject_id)
    clock.freeze(at(2030, 1, 1))  # the 一般 penalty of 2026-01-05 is no longer published
    items_read(stage, stage.applier)
    views, _ = service.reads_of_subject(stage.session, owner)
    assert [v.items for v in views] == [[("ADM_PENALTY", "行政处罚信息", False)]]


def test_overview_counts(stage: Stage) -> None:
    approve(stage, ask(stage))
    ask(stage, stage.provider, purpose="日常监管")
    items_read(stage, stage.applier)
    items_read(stage, stage.applier, "政府采购")
    data = service.overview(stage.session, stage.authority)
    assert [r.number for r in data.pending] and len(data.in_force) == 1
    assert data.by_item == [("纳税信用等级", 1)] and data.by_department == [("南京市公共资源交易中心", 1)]
    stats = {s.department: s for s in data.reads}
    assert stats["南京市公共资源交易中心"].reads == 2 and stats["南京市公共资源交易中心"].non_public_reads == 1
    assert stats["南京市公共资源交易中心"].subjects == 1
    assert data.counts["approved"] == 1 and data.counts["pending"] == 1
    with pytest.raises(Forbidden):
        service.overview(stage.session, stage.applier)


def test_todo_items_for_the_authority(stage: Stage) -> None:
    number = ask(stage)
    todos = service.todo_items(stage.session, stage.authority)
    assert [t.url for t in todos] == [f"/sharing/requests#{number}"]
    assert service.todo_items(stage.session, stage.applier) == []


def test_views_derived_from_records_withhold_what_the_reader_may_not_be_given(stage: Stage) -> None:
    ids = [stage.penalty_id, stage.tax_credit_id, stage.never_id]
    assert service.withheld_records(stage.session, stage.applier, ids) == {stage.tax_credit_id, stage.never_id}
    assert service.withheld_records(stage.session, stage.tax, ids) == set()  # its own records
    assert service.withheld_records(stage.session, stage.authority, ids) == set()


def test_an_evaluation_explanation_hides_indicator_values_drawn_from_withheld_records(stage: Stage) -> None:
    from xinyong.evaluation.routes import _shareable
    from xinyong.evaluation.schemas import IndicatorExplanation

    rows = [IndicatorExplanation(code="penalties", name="行政处罚次数", dimension="监管", value=1, weight=-20,
                                 contribution=-20, record_ids=[stage.penalty_id]),
            IndicatorExplanation(code="tax_a", name="纳税信用A级", dimension="守信", value=1, weight=30, contribution=30,
                                 record_ids=[stage.tax_credit_id])]
    shown = _shareable(stage.session, stage.applier, rows)
    assert (shown[0].withheld, shown[0].value, shown[0].record_ids) == (False, 1, [stage.penalty_id])
    assert (shown[1].withheld, shown[1].value, shown[1].contribution, shown[1].record_ids) == (True, 0.0, None, [])
    assert _shareable(stage.session, stage.authority, rows) == rows
