"""Code conflicts in the subject registry (重复赋码, 一码多赋), their decisions, and natural persons."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tests.support.world import PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.errors import Invalid, NotFound
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.models import ConflictDecision, Subject, SubjectAttestation, SubjectConflict
from xinyong.subjects.schemas import OrganisationIn

DUP_A = uscc.build("9", "1", "320102", "MA1AA001")
DUP_B = uscc.build("9", "1", "320102", "MA1AA002")
DUP_ELSEWHERE = uscc.build("9", "1", "320104", "MA1AA003")
CLAIMED = uscc.build("9", "1", "320102", "MA1AA004")
DUP_NAME = "南京重复赋码科技有限公司"
NAME_1, NAME_2, NAME_3 = "南京一码科技有限公司", "南京多赋贸易有限公司", "南京第三方物流有限公司"
CITIZEN_ID = "32010219900101103X"


@dataclass
class Registry:
    session: Session
    admin: Actor

    def register(self, code: str, name: str, source: str = "registry", **extra: Any) -> Subject:
        return subjects.register_organisation(self.session, self.admin, OrganisationIn(uscc=code, name=name, **extra),
                                              source=source)

    def conflicts(self, *, open_only: bool = False) -> dict[tuple[str, str], subjects.ConflictView]:
        return {(v.conflict.kind, v.conflict.conflict_key): v
                for v in subjects.list_conflicts(self.session, open_only=open_only)}

    def counts(self) -> tuple[int, int, int, int]:
        def n(model: Any) -> int:
            return self.session.scalar(select(func.count()).select_from(model)) or 0

        return n(Subject), n(SubjectAttestation), n(SubjectConflict), audit.count(self.session)


@pytest.fixture
def registry(seeded: Session, frozen_clock: datetime) -> Registry:
    admin = access.create_user(seeded, Actor.system(), access.NewUser("admin", PASSWORD, "authority_admin", "信用办"))
    seeded.commit()
    return Registry(seeded, access.actor_for(admin))


def one_code_two_names(registry: Registry) -> subjects.ConflictView:
    registry.register(CLAIMED, NAME_1, source="dept-1")
    registry.register(CLAIMED, NAME_2, source="dept-2")
    return registry.conflicts()[("code_conflict", CLAIMED)]


# --- detection --------------------------------------------------------------------------------------

def test_two_codes_with_one_name_in_one_region_is_a_duplicate_code(registry: Registry) -> None:
    registry.register(DUP_A, DUP_NAME)
    assert registry.conflicts() == {}
    registry.register(DUP_B, f" {DUP_NAME} ")  # spacing does not make it a different name
    conflicts = registry.conflicts()
    assert list(conflicts) == [("duplicate_code", f"{DUP_NAME}|320102")]
    view = conflicts[("duplicate_code", f"{DUP_NAME}|320102")]
    assert (view.kind_label, view.is_open, view.decision) == ("重复赋码", True, None)
    assert view.conflict.evidence == {"name": DUP_NAME, "region_prefix": "320102", "codes": sorted([DUP_A, DUP_B])}
    assert "2个统一社会信用代码" in view.conflict.summary


def test_the_same_name_in_another_region_is_no_duplicate(registry: Registry) -> None:
    registry.register(DUP_A, DUP_NAME)
    registry.register(DUP_ELSEWHERE, DUP_NAME)
    assert registry.conflicts() == {}


def test_one_code_claimed_under_two_names_is_a_code_conflict(registry: Registry) -> None:
    view = one_code_two_names(registry)
    assert (view.kind_label, view.is_open) == ("一码多赋", True)
    assert view.conflict.evidence["uscc"] == CLAIMED
    claims = {(c["source"], c["name"]) for c in view.conflict.evidence["claims"]}
    assert claims == {("dept-1", NAME_1), ("dept-2", NAME_2)}
    assert registry.session.scalar(select(func.count()).select_from(Subject).where(Subject.uscc == CLAIMED)) == 1
    assert subjects.by_code_or_fail(registry.session, CLAIMED).name == NAME_1  # first registration stands


def test_the_same_name_from_two_sources_is_no_code_conflict(registry: Registry) -> None:
    registry.register(CLAIMED, NAME_1, source="dept-1")
    registry.register(CLAIMED, NAME_1.replace("科技", " 科技 "), source="dept-2")
    assert registry.conflicts() == {}


def test_two_registration_authorities_for_one_code_is_a_code_conflict(registry: Registry) -> None:
    registry.register(CLAIMED, NAME_1, source="dept-1", registration_authority="南京市玄武区市场监督管理局")
    registry.register(CLAIMED, NAME_1, source="dept-2", registration_authority="上海市市场监督管理局")
    assert ("code_conflict", CLAIMED) in registry.conflicts()


def test_re_registering_identical_data_is_idempotent(registry: Registry) -> None:
    registry.register(DUP_A, DUP_NAME)
    registry.register(DUP_B, DUP_NAME)
    one_code_two_names(registry)
    registry.session.commit()
    before = registry.counts()
    assert before[:3] == (3, 4, 2)
    detected = {key: view.conflict.detected_at for key, view in registry.conflicts().items()}
    clock.advance(timedelta(hours=1))
    for code, name, source in ((DUP_A, DUP_NAME, "registry"), (DUP_B, DUP_NAME, "registry"),
                               (CLAIMED, NAME_1, "dept-1"), (CLAIMED, NAME_2, "dept-2")):
        assert registry.register(code, name, source=source).uscc == code
    assert registry.counts() == before  # no subject, attestation, conflict or audit entry added
    assert {key: view.conflict.detected_at for key, view in registry.conflicts().items()} == detected


# --- decisions --------------------------------------------------------------------------------------

def test_a_decision_closes_the_case_and_new_evidence_reopens_it(registry: Registry) -> None:
    view = one_code_two_names(registry)
    decision = subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, "confirmed",
                                        "  已移交登记机关核查  ")
    assert (decision.outcome, decision.note, decision.decided_by) == ("confirmed", "已移交登记机关核查",
                                                                      registry.admin.user_id)
    assert registry.conflicts(open_only=True) == {}
    closed = registry.conflicts()[("code_conflict", CLAIMED)]
    assert not closed.is_open and closed.decision is not None and closed.decision.outcome == "confirmed"
    entry = audit.recent(registry.session, limit=1)[0]
    assert (entry.action, entry.object_id) == ("subject.conflict.decide", str(view.conflict.id))
    # the same evidence again does not reopen it
    clock.advance(timedelta(hours=1))
    registry.register(CLAIMED, NAME_2, source="dept-2")
    assert registry.conflicts(open_only=True) == {}
    # new evidence does
    clock.advance(timedelta(hours=1))
    registry.register(CLAIMED, NAME_3, source="dept-3")
    reopened = registry.conflicts(open_only=True)[("code_conflict", CLAIMED)]
    assert reopened.conflict.id == view.conflict.id and reopened.is_open
    assert {c["name"] for c in reopened.conflict.evidence["claims"]} == {NAME_1, NAME_2, NAME_3}
    assert reopened.decision is not None and reopened.decision.outcome == "confirmed"  # the old decision is kept
    # a later decision closes it again; both decisions stay on record
    clock.advance(timedelta(minutes=5))
    subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, "dismissed", "经核实为同一主体")
    assert registry.conflicts(open_only=True) == {}
    outcomes = registry.session.scalars(select(ConflictDecision.outcome).order_by(ConflictDecision.id)).all()
    assert outcomes == ["confirmed", "dismissed"]


def test_name_adopted_renames_the_subject_to_a_claimed_name(registry: Registry) -> None:
    view = one_code_two_names(registry)
    subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, "name_adopted", "以登记机关核实为准",
                             adopted_name=NAME_2)
    subject = subjects.by_code_or_fail(registry.session, CLAIMED)
    assert (subject.name, subject.normalised_name) == (NAME_2, subjects.normalise_name(NAME_2))
    assert subject.name_initials == subjects.name_initials(NAME_2) == "NJDFMYYXGS"
    rename = audit.recent(registry.session, action="subject.rename", limit=1)[0]
    assert rename.detail == {"before": NAME_1, "after": NAME_2} and rename.subject_id == subject.id
    assert registry.conflicts(open_only=True) == {}


def test_name_adopted_refuses_a_name_nobody_claimed(registry: Registry) -> None:
    view = one_code_two_names(registry)
    before = registry.counts()
    with pytest.raises(Invalid) as caught:
        subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, "name_adopted", "随意改名",
                                 adopted_name="南京随便起名有限公司")
    assert (caught.value.code, caught.value.field) == ("CONFLICT_NAME_NOT_CLAIMED", "adopted_name")
    with pytest.raises(Invalid) as missing:
        subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, "name_adopted", "未给名称")
    assert missing.value.code == "CONFLICT_NAME_NOT_CLAIMED"
    assert subjects.by_code_or_fail(registry.session, CLAIMED).name == NAME_1
    assert registry.counts() == before
    assert registry.session.scalars(select(ConflictDecision)).all() == []
    assert ("code_conflict", CLAIMED) in registry.conflicts(open_only=True)


def test_name_adopted_does_not_apply_to_a_duplicate_code(registry: Registry) -> None:
    registry.register(DUP_A, DUP_NAME)
    registry.register(DUP_B, DUP_NAME)
    conflict_id = registry.conflicts()[("duplicate_code", f"{DUP_NAME}|320102")].conflict.id
    with pytest.raises(Invalid) as caught:
        subjects.decide_conflict(registry.session, registry.admin, conflict_id, "name_adopted", "改名",
                                 adopted_name=DUP_NAME)
    assert caught.value.code == "CONFLICT_OUTCOME_NOT_APPLICABLE"


@pytest.mark.parametrize(("outcome", "note", "code"), [("approved", "同意", "CONFLICT_OUTCOME_UNKNOWN"),
                                                       ("", "同意", "CONFLICT_OUTCOME_UNKNOWN"),
                                                       ("confirmed", " 好 ", "CONFLICT_NOTE_REQUIRED")])
def test_bad_decisions_are_refused(registry: Registry, outcome: str, note: str, code: str) -> None:
    view = one_code_two_names(registry)
    with pytest.raises(Invalid) as caught:
        subjects.decide_conflict(registry.session, registry.admin, view.conflict.id, outcome, note)
    assert caught.value.code == code
    assert registry.session.scalars(select(ConflictDecision)).all() == []
    assert ("code_conflict", CLAIMED) in registry.conflicts(open_only=True)


def test_deciding_an_unknown_conflict(registry: Registry) -> None:
    with pytest.raises(NotFound) as caught:
        subjects.decide_conflict(registry.session, registry.admin, 999, "confirmed", "处理")
    assert caught.value.code == "CONFLICT_NOT_FOUND"


# --- scanning from scratch --------------------------------------------------------------------------

def evidence(registry: Registry) -> dict[tuple[str, str], dict[str, Any]]:
    return {key: view.conflict.evidence for key, view in registry.conflicts().items()}


def test_scan_finds_the_same_cases_from_scratch(registry: Registry) -> None:
    registry.register(DUP_A, DUP_NAME)
    registry.register(DUP_B, DUP_NAME)
    registry.register(DUP_ELSEWHERE, DUP_NAME)
    one_code_two_names(registry)
    registry.register(uscc.build("9", "1", "320102", "MA1AA005"), "南京无冲突有限公司", source="dept-1")
    found = evidence(registry)
    assert set(found) == {("duplicate_code", f"{DUP_NAME}|320102"), ("code_conflict", CLAIMED)}
    registry.session.execute(delete(SubjectConflict))
    assert registry.conflicts() == {}
    assert subjects.scan_conflicts(registry.session) == 2
    assert evidence(registry) == found
    assert subjects.scan_conflicts(registry.session) == 2  # scanning again adds nothing


def test_scan_finds_a_duplicate_when_the_name_also_exists_elsewhere(registry: Registry) -> None:
    registry.register(DUP_ELSEWHERE, DUP_NAME)  # lowest id, other region
    registry.register(DUP_A, DUP_NAME)
    registry.register(DUP_B, DUP_NAME)
    found = evidence(registry)
    assert set(found) == {("duplicate_code", f"{DUP_NAME}|320102")}
    registry.session.execute(delete(SubjectConflict))
    assert subjects.scan_conflicts(registry.session) == 1
    assert evidence(registry) == found


# --- natural persons --------------------------------------------------------------------------------

def test_a_person_is_registered_without_the_citizen_id_in_clear(registry: Registry, settings: Settings) -> None:
    secret = settings.person_id_secret
    person = subjects.register_person(registry.session, registry.admin, CITIZEN_ID, " 张三 ", secret)
    registry.session.commit()
    assert (person.kind, person.name, person.uscc, person.region_code) == ("natural_person", "张三", None, "320102")
    assert person.masked_id == "3201**********103X"
    assert person.person_key == hmac.new(secret, CITIZEN_ID.encode(), hashlib.sha256).hexdigest()
    assert person.person_key != hashlib.sha256(CITIZEN_ID.encode()).hexdigest()  # keyed, not a bare hash
    rows = registry.session.execute(select(Subject.__table__)).all()
    assert len(rows) == 1
    stored = [str(value) for value in rows[0]]
    assert not any(CITIZEN_ID in v or CITIZEN_ID.lower() in v or CITIZEN_ID[6:14] in v for v in stored)
    logged = registry.session.execute(select(AuditEntry.detail, AuditEntry.object_id)).all()
    assert logged and not any(CITIZEN_ID in str(row) for row in logged)
    # the same person written differently is the same subject
    again = subjects.register_person(registry.session, registry.admin, f"{CITIZEN_ID[:-1]}x ", "张三", secret)
    assert again.id == person.id
    assert subjects.by_person(registry.session, CITIZEN_ID, secret).id == person.id
    assert subjects.count(registry.session) == 1


def test_an_invalid_citizen_id_is_refused(registry: Registry, settings: Settings) -> None:
    wrong = CITIZEN_ID[:-1] + "0"
    with pytest.raises(Invalid) as caught:
        subjects.register_person(registry.session, registry.admin, wrong, "张三", settings.person_id_secret)
    assert caught.value.code == "PERSON_ID_CHECK_DIGIT" and "“X”" in caught.value.message
    assert subjects.count(registry.session) == 0
