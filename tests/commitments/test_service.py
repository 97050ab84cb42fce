"""Credit commitments on a real database: making each type, publication, 容缺受理 eligibility and its
working-day deadline, findings by the right department only, and a breach that becomes a dishonesty
record the public, the joint checks and the evaluation see."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.commitments.support import AFTER_HOLIDAY, CLEAN_CODE, CONTENT, HOLIDAY, Stage, promise
from tests.support.sanctions import ADMIN, count, grade_run, serious
from tests.support.world import SUBJECT_CODE
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.commitments import service
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import KINDS, CommitmentIn, RegistrationIn
from xinyong.errors import DomainError
from xinyong.notifications.models import Notice
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.sanctions import checks
from xinyong.subjects import service as subjects

SHANGHAI = clock.SHANGHAI


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def current(stage: Stage, item: str, number: str) -> Record:
    """The current record of ``item`` with 承诺书编号 ``number``."""
    found = [r for r in stage.session.scalars(records.current_query().where(Record.item_code == item))
             if r.payload.get("CNBH") == number]
    assert len(found) == 1, found
    return found[0]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


# --- making ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_a_subject_makes_each_type_of_commitment_to_a_department(stage: Stage, kind: str) -> None:
    due = AFTER_HOLIDAY if kind == "容缺受理型" else None
    made = promise(stage, kind, due=due)
    assert re.fullmatch(r"XYCN2026\d{6}", made.number) and made.number.endswith("000001")
    assert (made.status, made.kind, made.made_on, made.materials_due_on, made.channel) == (
        "in_progress", kind, date(2026, 6, 15), due, "online")
    assert made.subject_id == stage.world.subject_id and made.department_id == stage.world.department_id
    record = current(stage, "COMMITMENT", made.number)
    assert made.record_id == record.id and record.department_id == stage.world.department_id
    assert record.payload["CNLX"] == kind and record.payload["LYZT"] == "履约中" and CONTENT in record.payload["CNSX"]
    assert [e.object_id for e in audit.recent(stage.session, action="commitment.make")] == [made.number]
    notice = stage.session.scalar(select(Notice).where(Notice.department_id == stage.world.department_id))
    assert notice is not None and made.number in notice.title
    assert promise(stage, "主动型", matter="另一事项").number.endswith("000002")


def test_a_public_commitment_is_on_the_public_page_and_a_private_one_is_not(stage: Stage) -> None:
    public = promise(stage, "审批替代型")
    private = promise(stage, "行业自律型", public=False, matter="行业自律")
    shown = {r.payload.get("CNBH") for r in records.public_for_subject(stage.session, stage.world.subject_id)
             if r.item_code == "COMMITMENT"}
    assert shown == {public.number}
    assert private.record_id is None


def test_a_department_registers_a_commitment_made_at_its_window(stage: Stage) -> None:
    market = stage.cast.market
    registered = service.register(stage.session, market, RegistrationIn(
        subject_code=CLEAN_CODE.lower(), kind="审批替代型", matter="户外广告设施设置许可", content=CONTENT,
        made_on=date(2026, 6, 12)))  # type: ignore[arg-type]
    assert (registered.subject_id, registered.department_id, registered.channel, registered.made_on) == (
        stage.clean_id, stage.world.department_id, "offline", date(2026, 6, 12))
    assert current(stage, "COMMITMENT", registered.number).payload["CNRQ"] == "2026-06-12"
    assert stage.session.scalar(select(Notice).where(Notice.subject_id == stage.clean_id)) is not None
    unknown = RegistrationIn(subject_code="91320102MA1ZZZZZ9X", kind="主动型", matter="诚信经营", content=CONTENT)  # type: ignore[arg-type]
    refused("COMMITMENT_SUBJECT_UNKNOWN", service.register, stage.session, market, unknown)
    future = RegistrationIn(subject_code=CLEAN_CODE, kind="主动型", matter="诚信经营", content=CONTENT,
                            made_on=date(2026, 6, 16))  # type: ignore[arg-type]
    refused("COMMITMENT_DATE_FUTURE", service.register, stage.session, market, future)
    refused("COMMITMENT_DEPARTMENT_REQUIRED", service.register, stage.session, ADMIN, future)
    refused("COMMITMENT_SUBJECT_REQUIRED", service.make, stage.session, market, CommitmentIn(
        kind="主动型", department_id=stage.world.department_id, matter="诚信经营", content=CONTENT))  # type: ignore[arg-type]


def test_the_same_matter_twice_while_in_progress_is_refused(stage: Stage) -> None:
    first = promise(stage)
    error = refused("COMMITMENT_DUPLICATE", promise, stage)
    assert first.number in error.message
    promise(stage, department_id=stage.cast.court_department.id)  # to another department it is another commitment


def test_unknown_matter_types_and_departments_are_refused(stage: Stage) -> None:
    refused("COMMITMENT_MATTER_UNKNOWN", service.make, stage.session, stage.subject, CommitmentIn(
        kind="主动型", department_id=stage.world.department_id, matter_type="NOPE", matter="诚信经营", content=CONTENT))  # type: ignore[arg-type]
    refused("COMMITMENT_DEPARTMENT_UNKNOWN", promise, stage, department_id=9999)


# --- the deadline for missing materials -------------------------------------------------------------------

def test_a_deadline_on_a_holiday_is_refused_naming_the_next_working_day_and_nothing_is_stored(stage: Stage) -> None:
    before = (count(stage.session, Commitment), count(stage.session, Record), count(stage.session, Notice))
    error = refused("COMMITMENT_DUE_NOT_WORKING_DAY", promise, stage, "容缺受理型", due=HOLIDAY)
    assert "2026-06-19" in error.message and "端午节" in error.message and "2026-06-22" in error.message
    assert error.details["next_working_day"] == "2026-06-22" and error.field == "materials_due_on"
    stage.session.rollback()
    weekend = refused("COMMITMENT_DUE_NOT_WORKING_DAY", promise, stage, "容缺受理型", due=date(2026, 6, 27))
    assert "周末（星期六）" in weekend.message and "2026-06-29（星期一）" in weekend.message
    stage.session.rollback()
    assert (count(stage.session, Commitment), count(stage.session, Record), count(stage.session, Notice)) == before


@pytest.mark.parametrize(("kind", "due", "code"), [
    ("容缺受理型", None, "COMMITMENT_DUE_REQUIRED"),
    ("审批替代型", AFTER_HOLIDAY, "COMMITMENT_DUE_NOT_APPLICABLE"),
    ("容缺受理型", date(2026, 6, 15), "COMMITMENT_DUE_TOO_EARLY"),
    ("容缺受理型", date(2026, 7, 31), "COMMITMENT_DUE_TOO_LATE"),  # policy: at most 20 working days
])
def test_other_misplaced_deadlines_are_refused(stage: Stage, kind: str, due: date | None, code: str) -> None:
    refused(code, promise, stage, kind, due=due)


def test_a_loaded_schedule_decides_what_a_working_day_is(stage: Stage) -> None:
    from xinyong.policy import calendar_service

    calendar_service.load_year(stage.session, ADMIN, 2026, [(date(2026, 6, 19), True, "端午节调休上班")], "测试")
    assert promise(stage, "容缺受理型", due=HOLIDAY).materials_due_on == HOLIDAY


# --- 容缺受理 eligibility ------------------------------------------------------------------------------------

def test_tolerance_is_refused_to_a_subject_graded_d_and_allowed_at_b(stage: Stage) -> None:
    subject_id = stage.world.subject_id
    assert service.tolerance_allowed(stage.session, subject_id)[0]  # never graded: allowed by the policy
    grade_run(stage.session, "PUBLIC_CREDIT_ORG", {subject_id: "D"})
    allowed, reason = service.tolerance_allowed(stage.session, subject_id)
    assert not allowed and "等级为D" in reason and "A、B" in reason
    error = refused("COMMITMENT_TOLERANCE_NOT_ALLOWED", promise, stage, "容缺受理型", due=AFTER_HOLIDAY)
    assert "等级为D" in error.message and error.field == "kind"
    promise(stage, "审批替代型")  # other types stay open
    grade_run(stage.session, "PUBLIC_CREDIT_ORG", {subject_id: "B"}, at=clock.now() + timedelta(seconds=1))
    assert service.tolerance_allowed(stage.session, subject_id)[0]
    assert promise(stage, "容缺受理型", due=AFTER_HOLIDAY, matter="消防验收").kind == "容缺受理型"


def test_tolerance_is_refused_to_a_subject_on_a_serious_list(stage: Stage) -> None:
    serious(stage.session, stage.cast, SUBJECT_CODE, name="南京示范科技有限公司")
    allowed, reason = service.tolerance_allowed(stage.session, stage.world.subject_id)
    assert not allowed and "严重违法失信名单" in reason
    refused("COMMITMENT_TOLERANCE_NOT_ALLOWED", promise, stage, "容缺受理型", due=AFTER_HOLIDAY)


def test_the_rule_is_configuration(stage: Stage) -> None:
    from xinyong.policy import service as policy

    value = {**policy.get(stage.session, "tolerance_acceptance"), "ungraded_allowed": False}
    policy.change(stage.session, ADMIN, "tolerance_acceptance", value)
    allowed, reason = service.tolerance_allowed(stage.session, stage.world.subject_id)
    assert not allowed and "尚无" in reason


# --- findings ----------------------------------------------------------------------------------------------

def test_only_the_department_it_was_made_to_finds_it_kept_and_only_once(stage: Stage) -> None:
    made = promise(stage)
    stage.session.commit()
    error = refused("COMMITMENT_NOT_YOURS", service.fulfil, stage.session, stage.cast.development, made.id, "已核验")
    assert error.status == 403
    stage.session.rollback()
    assert stage.session.get(Commitment, made.id).status == "in_progress"  # type: ignore[union-attr]
    assert current(stage, "COMMITMENT", made.number).payload["LYZT"] == "履约中"
    refused("COMMITMENT_NOTE_REQUIRED", service.fulfil, stage.session, stage.cast.market, made.id, " ")
    kept = service.fulfil(stage.session, stage.cast.market, made.id, "已于期限内补齐材料，经核验属实")
    assert (kept.status, kept.decided_by, kept.breach_record_id) == ("fulfilled", "scjg", None)
    record = current(stage, "COMMITMENT", made.number)
    assert record.payload["LYZT"] == "已履约" and record.kind == "correction" and kept.record_id == record.id
    notice = stage.session.scalar(select(Notice).where(Notice.subject_id == stage.world.subject_id))
    assert notice is not None and "已认定履约" in notice.title
    assert [e.object_id for e in audit.recent(stage.session, action="commitment.fulfil")] == [made.number]
    assert refused("COMMITMENT_DECIDED", service.breach, stage.session, stage.cast.market, made.id, "未履行").status == 409
    refused("COMMITMENT_NOT_FOUND", service.fulfil, stage.session, stage.cast.market, 9999, "已核验")


def test_a_breach_becomes_a_dishonesty_record_seen_by_the_public_and_the_joint_check(stage: Stage) -> None:
    made = promise(stage, "容缺受理型", due=AFTER_HOLIDAY)
    stage.session.commit()
    error = refused("COMMITMENT_NOT_YET_DUE", service.breach, stage.session, stage.cast.market, made.id, "未补齐")
    assert "2026-06-22" in error.message
    stage.session.rollback()
    clock.freeze(at(AFTER_HOLIDAY))
    refused("COMMITMENT_NOT_YET_DUE", service.breach, stage.session, stage.cast.market, made.id, "未补齐")  # the day itself
    stage.session.rollback()
    clock.freeze(at(date(2026, 6, 23)))
    broken = service.breach(stage.session, stage.cast.market, made.id, "逾期未补齐消防验收意见书")
    assert broken.status == "breached" and broken.breach_record_id is not None
    dishonesty = stage.session.get(Record, broken.breach_record_id)
    assert dishonesty is not None
    assert (dishonesty.item_code, dishonesty.severity, dishonesty.published, dishonesty.department_id) == (
        "COMMITMENT_BREACH", "一般", True, stage.world.department_id)
    assert dishonesty.payload["CNBH"] == made.number and dishonesty.payload["WLYQK"] == "逾期未补齐消防验收意见书"
    assert dishonesty.payload["RDRQ"] == "2026-06-23" and dishonesty.payload["RDJG"] == stage.cast.market_department.name
    assert current(stage, "COMMITMENT", made.number).payload["LYZT"] == "未履约"
    public = {r.id for r in records.public_for_subject(stage.session, stage.world.subject_id)}
    assert dishonesty.id in public and broken.record_id in public
    found = records.in_window_dishonesty(stage.session, [stage.world.subject_id], ["一般"], ["COMMITMENT_BREACH"], clock.now())
    assert [row[0] for row in found] == [dishonesty.id]
    check = checks.check_codes(stage.session, stage.cast.applier, "BIDDING", [SUBJECT_CODE], channel="api")
    hits = stage.session.scalars(select(checks.CheckHit).where(checks.CheckHit.check_id == check.id)).all()
    reference = [h for h in hits if any(t["id"] == dishonesty.id for t in h.triggers)]
    assert len(reference) == 1  # 评标中将失信记录作为信用评价参考 (M_BID_CREDIT_REFERENCE) now names the item
    notice = stage.session.scalars(select(Notice).where(Notice.subject_id == stage.world.subject_id)).all()[-1]
    assert "未履行" in notice.title and "失信信息" in notice.body
    entry = audit.recent(stage.session, action="commitment.breach")[0]
    assert entry.detail["breach_record"] == dishonesty.id


def test_a_private_commitment_breached_is_still_a_dishonesty_record(stage: Stage) -> None:
    made = promise(stage, "审批替代型", public=False)
    broken = service.breach(stage.session, stage.cast.market, made.id, "核查发现承诺内容不实")
    assert broken.record_id is None
    assert stage.session.get(Record, broken.breach_record_id).item_code == "COMMITMENT_BREACH"  # type: ignore[union-attr]
    assert not [r for r in stage.session.scalars(select(Record)) if r.item_code == "COMMITMENT"]


def test_a_natural_persons_commitments_stay_on_the_platform(stage: Stage) -> None:
    from xinyong.config import get_settings

    person = subjects.register_person(stage.session, ADMIN, "11010519491231002X", "王小明", get_settings().person_id_secret)
    actor = Actor(user_id=None, username="wxm", role="subject_user", subject_id=person.id)
    refused("COMMITMENT_PERSON_NOT_PUBLIC", promise, stage, "主动型", actor=actor)
    made = promise(stage, "主动型", actor=actor, public=False)
    broken = service.breach(stage.session, stage.cast.market, made.id, "未履行承诺")
    assert (broken.status, broken.record_id, broken.breach_record_id) == ("breached", None, None)
    assert count(stage.session, Record) == 1  # the world's penalty only
    view = service.for_department(stage.session, stage.cast.market)[1][0]
    assert view.subject_name == "王**" and view.subject_code == person.masked_id


# --- reading and to-do items ---------------------------------------------------------------------------------

def test_departments_see_their_own_and_the_authority_sees_all(stage: Stage) -> None:
    to_market = promise(stage)
    to_court = promise(stage, department_id=stage.cast.court_department.id)
    assert [v.commitment.id for v in service.for_department(stage.session, stage.cast.market)[1]] == [to_market.id]
    assert service.for_department(stage.session, ADMIN)[0] == 2
    assert service.for_department(stage.session, stage.cast.market, q=SUBJECT_CODE)[0] == 1
    assert service.for_department(stage.session, stage.cast.market, status="fulfilled")[0] == 0
    refused("COMMITMENT_NOT_YOURS", service.view_for, stage.session, stage.cast.market, to_court.id)
    refused("COMMITMENT_NOT_FOUND", service.view_for, stage.session, stage.clean, to_court.id)  # another subject's
    assert service.view_for(stage.session, stage.subject, to_court.id).department == stage.cast.court_department.name


def test_to_do_items_for_the_department_and_the_subject(stage: Stage) -> None:
    due_soon = promise(stage, "容缺受理型", due=AFTER_HOLIDAY)
    later = promise(stage, "容缺受理型", due=date(2026, 6, 24), matter="消防验收")
    assert service.todo_items(stage.session, stage.cast.market) == []  # nothing due yet
    mine = service.todo_items(stage.session, stage.subject)
    assert [t.url for t in mine] == [f"/me/commitments#c-{due_soon.id}", f"/me/commitments#c-{later.id}"]
    assert {t.area for t in mine} == {"信用承诺"} and not any(t.overdue for t in mine)
    clock.freeze(at(date(2026, 6, 23)))
    todo = service.todo_items(stage.session, stage.cast.market)
    assert [(t.url, t.overdue) for t in todo] == [(f"/commitments/{due_soon.id}", True)]
    assert todo[0].due_at == datetime(2026, 6, 22, 23, 59, 59, tzinfo=SHANGHAI) and due_soon.number in todo[0].title
    clock.freeze(at(date(2026, 6, 24)))
    assert [(t.url, t.overdue) for t in service.todo_items(stage.session, stage.cast.market)] == [
        (f"/commitments/{due_soon.id}", True), (f"/commitments/{later.id}", False)]
    service.fulfil(stage.session, stage.cast.market, later.id, "已补齐")
    assert len(service.todo_items(stage.session, stage.cast.market)) == 1
    assert service.todo_items(stage.session, stage.cast.court) == []
