"""Objections (异议): marked on the public page while under review, routed to the providing department
with a working-day deadline, and answered by a correction, a revocation or reasons."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from tests.support.sanctions import ADMIN, Cast, build_cast, company, count, penalty, refused
from tests.support.world import World
from xinyong import clock
from xinyong.actor import Actor
from xinyong.disclosure import service as disclosure
from xinyong.records import service as records
from xinyong.repair import service
from xinyong.repair.models import Objection
from xinyong.repair.schemas import AnswerIn, MaterialIn, ObjectionIn

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def cast(world: World, sanctioned: Session) -> Cast:
    clock.freeze(NOW)
    return build_cast(sanctioned, world)


def owner(subject_id: int) -> Actor:
    return Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=subject_id)



def marked(session: Session, code: str) -> dict[int, bool]:
    page = disclosure.subject_page(session, code)
    return {r.id: r.under_objection for s in page.sections for r in s.records if r.item_code == "ADM_PENALTY"}


EVIDENCE = [MaterialIn(kind="evidence", filename="缴款书.pdf", content=b"%PDF-1.4 evidence")]


def test_an_objection_is_marked_publicly_and_a_correction_answers_it(sanctioned: Session, cast: Cast) -> None:
    code = company(1)
    record = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕201号", amount="20", on=date(2026, 2, 2)).record
    assert marked(sanctioned, code) == {record.id: False}
    objection = service.object_to(sanctioned, owner(record.subject_id), ObjectionIn(
        record_id=record.id, reasons="罚款金额应为2万元，公示为20万元，与处罚决定书不符"), EVIDENCE)
    assert (objection.status, objection.department_id) == ("open", cast.market_department.id)
    assert marked(sanctioned, code) == {record.id: True}
    assert disclosure.record_page(sanctioned, record.id).under_objection
    [todo] = service.todo_items(sanctioned, cast.market)
    assert todo.title == f"答复异议 {objection.number}" and not todo.overdue
    assert clock.local(objection.due_at).date() == date(2026, 3, 17)  # 10 working days after 2 March

    refused("OBJECTION_DUPLICATE", service.object_to, sanctioned, owner(record.subject_id),
            ObjectionIn(record_id=record.id, reasons="再次提出同一异议理由"), [])
    refused("OBJECTION_WRONG_DEPARTMENT", service.answer, sanctioned, cast.court, objection.id,
            AnswerIn(outcome="upheld", note="维持"))
    refused("OBJECTION_PAYLOAD_REQUIRED", service.answer, sanctioned, cast.market, objection.id,
            AnswerIn(outcome="corrected", note="金额有误"))
    service.answer(sanctioned, cast.market, objection.id,
                   AnswerIn(outcome="corrected", note="经核实，罚款金额录入错误，已更正", payload={"CF_NR_FK": "2",
                                                                                          "CF_NR": "罚款2万元"}))
    fixed = records.get(sanctioned, objection.result_record_id or 0)
    assert (fixed.kind, fixed.supersedes_id, fixed.payload["CF_NR_FK"]) == ("correction", record.id, "2")
    assert marked(sanctioned, code) == {fixed.id: False}  # the corrected fact is public, unmarked
    assert objection.status == "corrected"


def test_revoked_or_upheld(sanctioned: Session, cast: Cast) -> None:
    first = penalty(sanctioned, cast, company(2), number="宁玄市监处罚〔2026〕202号", on=date(2026, 2, 2)).record
    second = penalty(sanctioned, cast, company(3), number="宁玄市监处罚〔2026〕203号", on=date(2026, 2, 2)).record
    one = service.object_to(sanctioned, owner(first.subject_id),
                            ObjectionIn(record_id=first.id, reasons="该处罚已被行政复议决定撤销"), [])
    two = service.object_to(sanctioned, owner(second.subject_id),
                            ObjectionIn(record_id=second.id, reasons="认为处罚过重，不应公示"), [])
    service.answer(sanctioned, cast.market, one.id, AnswerIn(outcome="revoked", note="复议决定已撤销原处罚"))
    assert not records.is_current(sanctioned, first) and marked(sanctioned, company(2)) == {}
    service.answer(sanctioned, cast.market, two.id, AnswerIn(outcome="upheld", note="处罚决定合法有效，依规公示"))
    assert (two.status, two.decision_note) == ("upheld", "处罚决定合法有效，依规公示")
    assert marked(sanctioned, company(3)) == {second.id: False}
    refused("OBJECTION_DECIDED", service.answer, sanctioned, cast.market, two.id, AnswerIn(outcome="upheld", note="再答"))


def test_objections_to_someone_elses_record_are_refused(sanctioned: Session, cast: Cast) -> None:
    mine = penalty(sanctioned, cast, company(4), number="宁玄市监处罚〔2026〕204号", on=date(2026, 2, 2)).record
    theirs = penalty(sanctioned, cast, company(5), number="宁玄市监处罚〔2026〕205号", on=date(2026, 2, 2)).record
    refused("OBJECTION_NOT_YOURS", service.object_to, sanctioned, owner(mine.subject_id),
            ObjectionIn(record_id=theirs.id, reasons="不是我的记录但我有异议"), [])
    refused("OBJECTION_OBJECTOR_REQUIRED", service.object_to, sanctioned, ADMIN,
            ObjectionIn(record_id=theirs.id, reasons="窗口代为登记的异议"), [])
    on_behalf = service.object_to(sanctioned, ADMIN, ObjectionIn(record_id=theirs.id, reasons="窗口代为登记：法定代表人姓名有误",
                                                                  objector="张三（被记载的法定代表人）"), [])
    assert on_behalf.objector.startswith("张三")
    assert count(sanctioned, Objection) == 1
