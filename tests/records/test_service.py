"""The record store: accept, recognise duplicates, correct and revoke by new facts, never delete."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import xinyong
from tests.support.world import DEPARTMENT_CODE, PASSWORD, SUBJECT_CODE, penalty_payload
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.errors import Forbidden, Invalid, NotFound
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.models import Subject, SubjectAttestation

OTHER_DEPARTMENT_CODE = uscc.build("1", "1", "320104", "01400003")
NEW_SUBJECT_CODE = uscc.build("9", "1", "320104", "MA1XY0Q7")
SUBJECT = SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司")


@dataclass
class Desk:
    """Two providing departments, each with a submitter."""

    session: Session
    actor: Actor
    department_id: int
    other_actor: Actor
    other_department_id: int

    def submit(self, payload: dict[str, Any] | None = None, ref: SubjectRef = SUBJECT, *,
               other: bool = False) -> records.Submission:
        actor, department_id, code = ((self.other_actor, self.other_department_id, OTHER_DEPARTMENT_CODE) if other
                                      else (self.actor, self.department_id, DEPARTMENT_CODE))
        return records.submit(self.session, actor, "ADM_PENALTY", ref, payload or penalty_payload(),
                              department_id=department_id, department_code=code)


@pytest.fixture
def desk(seeded: Session) -> Desk:
    system = Actor.system()
    mine = access.create_department(seeded, code=DEPARTMENT_CODE, name="南京市玄武区市场监督管理局",
                                    short_name="玄武区市场监管局", region_code="320102", sector="市场监管")
    other = access.create_department(seeded, code=OTHER_DEPARTMENT_CODE, name="南京市秦淮区市场监督管理局",
                                     short_name="秦淮区市场监管局", region_code="320104", sector="市场监管")
    user = access.create_user(seeded, system, access.NewUser("xw", PASSWORD, "department_submitter", "玄武",
                                                             department_id=mine.id))
    other_user = access.create_user(seeded, system, access.NewUser("qh", PASSWORD, "department_submitter", "秦淮",
                                                                   department_id=other.id))
    seeded.commit()
    return Desk(seeded, access.actor_for(user), mine.id, access.actor_for(other_user), other.id)


def count_records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def actions_since(session: Session, seq: int) -> list[str]:
    return [e.action for e in reversed(audit.recent(session, limit=100)) if e.seq > seq]


def head_seq(session: Session) -> int:
    return audit.verify(session).head_seq


# --- accept, duplicate, correct ---------------------------------------------------------------------

def test_a_new_record_is_accepted(desk: Desk) -> None:
    before = head_seq(desk.session)
    result = desk.submit()
    record = result.record
    assert (result.outcome, result.created) == ("accepted", True)
    assert (record.kind, record.supersedes_id, record.item_code) == ("original", None, "ADM_PENALTY")
    assert record.natural_key == "宁玄市监处罚〔2026〕1号"
    assert record.severity == "一般" and record.decision_date == date(2026, 1, 5)
    assert record.item_version_id == catalogue.get_item(desk.session, "ADM_PENALTY").version.id
    assert record.department_id == desk.department_id and record.submitted_by == desk.actor.user_id
    assert record.payload["CF_NR_FK"] == "2" and record.payload["CF_JDRQ"] == "2026-01-05"
    assert record.subject_id == subjects.by_code_or_fail(desk.session, SUBJECT_CODE).id
    assert count_records(desk.session) == 1
    assert actions_since(desk.session, before) == ["subject.register", "record.accepted"]
    assert audit.recent(desk.session, limit=1)[0].object_id == str(record.id)
    assert audit.verify(desk.session).ok


def test_the_same_record_again_is_a_duplicate(desk: Desk) -> None:
    first = desk.submit().record
    desk.session.commit()
    before = head_seq(desk.session)
    again = desk.submit()
    assert (again.outcome, again.created, again.record.id) == ("duplicate", False, first.id)
    # the same content written differently is still the same fact
    reformatted = desk.submit({**penalty_payload(), "CF_JDRQ": "2026年1月5日", "CF_WSH": " 宁玄市监处罚〔2026〕1号 "})
    assert (reformatted.outcome, reformatted.record.id) == ("duplicate", first.id)
    assert count_records(desk.session) == 1
    assert head_seq(desk.session) == before  # nothing written, nothing to audit


def test_changed_content_under_the_same_natural_key_is_a_correction(desk: Desk) -> None:
    original = desk.submit().record
    original_id, original_hash = original.id, original.content_hash
    before = head_seq(desk.session)
    correction = desk.submit(penalty_payload(amount="3"))
    assert (correction.outcome, correction.created) == ("correction", True)
    assert correction.record.kind == "correction" and correction.record.supersedes_id == original_id
    assert correction.record.natural_key == original.natural_key
    assert count_records(desk.session) == 2
    assert actions_since(desk.session, before) == ["record.correction"]
    desk.session.commit()
    desk.session.expire_all()
    kept = records.get(desk.session, original_id)
    assert kept.payload["CF_NR_FK"] == "2" and kept.content_hash == original_hash and kept.kind == "original"
    current = records.current_for_subject(desk.session, kept.subject_id)
    assert [r.id for r in current] == [correction.record.id]
    assert not records.is_current(desk.session, kept) and records.is_current(desk.session, correction.record)
    assert [r.id for r in records.history(desk.session, kept)] == [original_id, correction.record.id]
    # a second correction supersedes the head, not the original
    second = desk.submit(penalty_payload(amount="4"))
    assert second.record.supersedes_id == correction.record.id
    assert [r.payload["CF_NR_FK"] for r in records.current_for_subject(desk.session, kept.subject_id)] == ["4"]
    # re-sending the now-superseded content is a correction back, not a duplicate of an old fact
    back = desk.submit(penalty_payload(amount="2"))
    assert back.outcome == "correction" and back.record.supersedes_id == second.record.id


def test_the_current_view_shows_only_heads(desk: Desk) -> None:
    one = desk.submit(penalty_payload("宁玄市监处罚〔2026〕1号"))
    two = desk.submit(penalty_payload("宁玄市监处罚〔2026〕2号"))
    fixed = desk.submit(penalty_payload("宁玄市监处罚〔2026〕1号", amount="5"))
    subject_id = one.record.subject_id
    assert {r.id for r in records.current_for_subject(desk.session, subject_id)} == {two.record.id, fixed.record.id}
    assert count_records(desk.session) == 3


def test_natural_keys_belong_to_their_department(desk: Desk) -> None:
    mine = desk.submit()
    theirs = desk.submit(penalty_payload(amount="9"), other=True)
    assert theirs.outcome == "accepted" and theirs.record.supersedes_id is None
    assert theirs.record.department_id == desk.other_department_id
    current = records.current_for_subject(desk.session, mine.record.subject_id)
    assert {r.id for r in current} == {mine.record.id, theirs.record.id}


# --- revoke -----------------------------------------------------------------------------------------

def test_the_providing_department_revokes_by_a_new_fact(desk: Desk) -> None:
    original = desk.submit().record
    desk.session.commit()
    before = head_seq(desk.session)
    revocation = records.revoke(desk.session, desk.actor, original.id, "  处罚决定已被行政复议撤销  ")
    assert (revocation.kind, revocation.supersedes_id) == ("revocation", original.id)
    assert revocation.reason == "处罚决定已被行政复议撤销" and revocation.payload == {}
    assert (revocation.subject_id, revocation.natural_key) == (original.subject_id, original.natural_key)
    assert actions_since(desk.session, before) == ["record.revoke"]
    desk.session.commit()
    desk.session.expire_all()
    assert count_records(desk.session) == 2
    kept = records.get(desk.session, original.id)
    assert kept.kind == "original" and kept.payload["CF_WSH"] == "宁玄市监处罚〔2026〕1号"
    assert records.current_for_subject(desk.session, original.subject_id) == []
    assert not records.is_current(desk.session, kept) and not records.is_current(desk.session, revocation)
    assert [r.kind for r in records.history(desk.session, kept)] == ["original", "revocation"]
    assert audit.verify(desk.session).ok


def test_another_department_cannot_revoke(desk: Desk) -> None:
    original = desk.submit().record
    desk.session.commit()
    with pytest.raises(Forbidden) as caught:
        records.revoke(desk.session, desk.other_actor, original.id, "不是我报送的")
    assert caught.value.code == "RECORD_NOT_YOURS" and caught.value.status == 403
    assert count_records(desk.session) == 1
    assert records.is_current(desk.session, original)


def test_only_the_current_record_can_be_revoked(desk: Desk) -> None:
    original = desk.submit().record
    correction = desk.submit(penalty_payload(amount="3")).record
    with pytest.raises(Invalid) as caught:
        records.revoke(desk.session, desk.actor, original.id, "撤销旧版本")
    assert caught.value.code == "RECORD_NOT_CURRENT"
    revocation = records.revoke(desk.session, desk.actor, correction.id, "撤销")
    for record_id in (correction.id, revocation.id):
        with pytest.raises(Invalid) as again:
            records.revoke(desk.session, desk.actor, record_id, "再次撤销")
        assert again.value.code == "RECORD_NOT_CURRENT"
    assert count_records(desk.session) == 3


def test_revocation_needs_a_reason_and_an_existing_record(desk: Desk) -> None:
    original = desk.submit().record
    with pytest.raises(Invalid) as caught:
        records.revoke(desk.session, desk.actor, original.id, " 撤 ")
    assert (caught.value.code, caught.value.field) == ("RECORD_REASON_REQUIRED", "reason")
    with pytest.raises(NotFound) as missing:
        records.revoke(desk.session, desk.actor, original.id + 1000, "撤销")
    assert missing.value.code == "RECORD_NOT_FOUND"
    assert count_records(desk.session) == 1


def test_resubmitting_after_revocation_creates_a_new_original(desk: Desk) -> None:
    original = desk.submit().record
    revocation = records.revoke(desk.session, desk.actor, original.id, "误报")
    again = desk.submit()
    assert (again.outcome, again.created) == ("accepted", True)
    assert again.record.kind == "original" and again.record.supersedes_id is None
    assert again.record.id not in (original.id, revocation.id)
    assert again.record.content_hash == original.content_hash
    assert [r.id for r in records.current_for_subject(desk.session, original.subject_id)] == [again.record.id]
    assert count_records(desk.session) == 3


# --- refusals, subjects, audit ----------------------------------------------------------------------

def test_an_invalid_payload_lists_every_problem_and_stores_nothing(desk: Desk) -> None:
    payload = {**penalty_payload(), "CF_CFLB": "罚金", "CF_JDRQ": "2026-13-01", "CF_NR_FK": "-1"}
    del payload["CF_SY"]
    subjects_before, seq_before = subjects.count(desk.session), head_seq(desk.session)
    with pytest.raises(records.PayloadInvalid) as caught:
        desk.submit(payload, SubjectRef(uscc=NEW_SUBJECT_CODE, name="从未登记的公司"))
    error = caught.value
    assert error.status == 422
    listed = {(p["field"], p["code"]) for p in error.details["problems"]}
    assert listed == {("CF_SY", "FIELD_REQUIRED"), ("CF_CFLB", "FIELD_ENUM"), ("CF_JDRQ", "FIELD_DATE"),
                      ("CF_NR_FK", "FIELD_TOO_SMALL")}
    assert {(p.field, p.code) for p in error.problems} == listed
    assert all(p["message"] in error.message for p in error.details["problems"])
    assert (error.code, error.field) == (error.problems[0].code, error.problems[0].field)
    assert count_records(desk.session) == 0
    assert subjects.count(desk.session) == subjects_before  # refused before the subject is registered
    assert head_seq(desk.session) == seq_before


def test_a_future_decision_date_is_refused(desk: Desk, frozen_clock: Any) -> None:
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    with pytest.raises(records.PayloadInvalid) as caught:
        desk.submit({**penalty_payload(), "CF_JDRQ": tomorrow})
    assert caught.value.code == "DECISION_DATE_FUTURE"
    assert count_records(desk.session) == 0


def test_an_unknown_item_is_refused(desk: Desk) -> None:
    with pytest.raises(NotFound) as caught:
        records.submit(desk.session, desk.actor, "NO_SUCH_ITEM", SUBJECT, penalty_payload(),
                       department_id=desk.department_id, department_code=DEPARTMENT_CODE)
    assert caught.value.code == "CATALOGUE_ITEM_UNKNOWN"
    assert count_records(desk.session) == 0


def test_an_unknown_subject_is_registered_with_the_department_as_source(desk: Desk) -> None:
    assert subjects.by_code(desk.session, NEW_SUBJECT_CODE) is None
    result = desk.submit(ref=SubjectRef(uscc=NEW_SUBJECT_CODE, name="南京新报送科技有限公司"))
    subject = subjects.by_code_or_fail(desk.session, NEW_SUBJECT_CODE)
    assert result.record.subject_id == subject.id
    assert (subject.name, subject.kind, subject.region_code) == ("南京新报送科技有限公司", "enterprise", "320104")
    attestations = desk.session.scalars(select(SubjectAttestation).where(SubjectAttestation.subject_id == subject.id))
    assert [(a.source, a.name) for a in attestations] == [(DEPARTMENT_CODE, "南京新报送科技有限公司")]
    registered = audit.recent(desk.session, action="subject.register", limit=1)[0]
    assert registered.subject_id == subject.id and registered.actor == desk.actor.username


def test_a_subject_with_an_invalid_code_is_refused(desk: Desk) -> None:
    bad = NEW_SUBJECT_CODE[:17] + ("0" if NEW_SUBJECT_CODE[17] != "0" else "1")
    with pytest.raises(Invalid) as caught:
        desk.submit(ref=SubjectRef(uscc=bad, name="校验码错误的公司"))
    assert caught.value.code == "USCC_CHECK_DIGIT"
    assert desk.session.scalar(select(func.count()).select_from(Subject).where(Subject.uscc == bad)) == 0


def test_every_write_is_audited_and_the_chain_holds(desk: Desk) -> None:
    start = head_seq(desk.session)
    original = desk.submit().record
    desk.submit()  # duplicate: no entry
    correction = desk.submit(penalty_payload(amount="3")).record
    records.revoke(desk.session, desk.actor, correction.id, "撤销")
    desk.submit()
    desk.session.commit()
    assert actions_since(desk.session, start) == ["subject.register", "record.accepted", "record.correction",
                                                  "record.revoke", "record.accepted"]
    entries = audit.recent(desk.session, action="record.", limit=10)
    assert {e.subject_id for e in entries} == {original.subject_id}
    assert all(e.actor == desk.actor.username for e in entries)
    assert audit.verify(desk.session).ok


# --- nothing is ever deleted --------------------------------------------------------------------------

DELETE_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"session\.delete\(", r"\bdelete\(\s*Record\b", r"Record\.__table__\.delete", r"DELETE\s+FROM\s+records\b",
    r"\.query\(\s*Record\s*\)[^\n]*\.delete\(",
)]


def test_no_code_path_deletes_records() -> None:
    source = Path(xinyong.__file__).resolve().parent
    files = sorted(source.rglob("*.py"))
    assert len(files) > 20 and any(f.name == "service.py" and f.parent.name == "records" for f in files)
    offenders = [f"{path.relative_to(source)}:{number}: {line.strip()}"
                 for path in files for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if any(pattern.search(line) for pattern in DELETE_PATTERNS)]
    assert offenders == []


def test_the_delete_patterns_would_catch_a_deletion() -> None:
    samples = ["    session.delete(record)", "session.execute(delete(Record).where(Record.id == 1))",
               "conn.execute(text('DELETE FROM records WHERE id = 1'))"]
    assert all(any(p.search(s) for p in DELETE_PATTERNS) for s in samples)
