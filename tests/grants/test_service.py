"""The grant contract: create, revoke, require_grant, authorised_profile, and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.grants.support import ADMIN, OTHER_BANK_CODE, OTHER_CODE, SYSTEM, Stage, grant
from tests.support.world import BANK_CODE, SUBJECT_CODE
from xinyong import clock
from xinyong.audit.models import AuditEntry
from xinyong.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from xinyong.grants import service
from xinyong.grants.models import GrantQuery
from xinyong.grants.service import GrantRefused
from xinyong.subjects import uscc


def actions(stage: Stage, action: str) -> list[AuditEntry]:
    return list(stage.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def refused(stage: Stage, call, code: str) -> GrantRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(GrantRefused) as caught:
        call()
    assert caught.value.code == code, caught.value
    stage.session.commit()  # the refusal was written in the session (the web handler writes it apart)
    return caught.value


# --- creating ----------------------------------------------------------------------------------------------

def test_subject_grants_a_bank_with_a_unique_number(stage: Stage) -> None:
    first, second = grant(stage), grant(stage, ["registration"])
    assert first.number != second.number and first.number.startswith("SQ20260615")
    assert first.subject_id == stage.world.subject_id and first.scope == ["registration", "item:ADM_PENALTY", "lists",
                                                                           "grade:PUBLIC_CREDIT_ORG"]
    assert first.starts_on == clock.today() and first.revoked_at is None
    assert [e.object_id for e in actions(stage, "grant.create")] == [first.number, second.number]
    assert [g.number for g in service.grants_of_subject(stage.session, stage.world.subject_id)] == [second.number,
                                                                                                     first.number]


def test_the_system_grants_for_a_subject(stage: Stage) -> None:
    made = service.create_grant(stage.session, SYSTEM, institution_code=BANK_CODE, scope=["report"], purpose="信易贷申请",
                                ends_on=clock.today() + timedelta(days=30), subject_id=stage.other_id)
    assert made.subject_id == stage.other_id
    with pytest.raises(Forbidden):  # a subject account cannot grant in another subject's name
        service.create_grant(stage.session, stage.subject, institution_code=BANK_CODE, scope=["report"],
                             purpose="信易贷申请", ends_on=clock.today(), subject_id=stage.other_id)
    with pytest.raises(Forbidden):  # an institution cannot grant itself anything
        service.create_grant(stage.session, stage.bank, institution_code=BANK_CODE, scope=["report"],
                             purpose="信易贷申请", ends_on=clock.today())


@pytest.mark.parametrize(("changes", "code"), [
    ({"institution_code": "91320100MA00000000"}, "GRANT_INSTITUTION_UNKNOWN"),
    ({"scope": []}, "GRANT_SCOPE_EMPTY"),
    ({"scope": ["", " "]}, "GRANT_SCOPE_EMPTY"),
    ({"scope": ["item:NO_SUCH_ITEM"]}, "GRANT_SCOPE_UNKNOWN"),
    ({"scope": ["grade:NO_SUCH_MODEL"]}, "GRANT_SCOPE_UNKNOWN"),
    ({"scope": ["everything"]}, "GRANT_SCOPE_UNKNOWN"),
    ({"purpose": " "}, "GRANT_PURPOSE_REQUIRED"),
    ({"ends_on_days": -1}, "GRANT_PERIOD_PAST"),
    ({"starts_on_days": -1}, "GRANT_PERIOD_PAST"),
    ({"starts_on_days": 10, "ends_on_days": 5}, "GRANT_PERIOD_INVALID"),
    ({"ends_on_days": 400}, "GRANT_PERIOD_TOO_LONG"),
])
def test_bad_grants_are_refused(stage: Stage, changes: dict, code: str) -> None:  # type: ignore[type-arg]
    today, changes = clock.today(), dict(changes)
    arguments = {"institution_code": BANK_CODE, "scope": ["registration"], "purpose": "流动资金贷款授信审查",
                 "ends_on": today + timedelta(days=changes.pop("ends_on_days", 30))}
    if "starts_on_days" in changes:
        arguments["starts_on"] = today + timedelta(days=changes.pop("starts_on_days"))
    arguments.update(changes)
    with pytest.raises(Invalid) as caught:
        service.create_grant(stage.session, stage.subject, **arguments)
    assert caught.value.code == code


def test_the_longest_period_is_a_policy_parameter(stage: Stage) -> None:
    from xinyong.policy import service as policy

    longest = service.create_grant(stage.session, stage.subject, institution_code=BANK_CODE, scope=["registration"],
                                   purpose="授信审查", ends_on=clock.today().replace(year=2027))  # exactly 12 months
    assert longest.ends_on.year == 2027
    policy.change(stage.session, ADMIN, "subject_grants", {**policy.get(stage.session, "subject_grants"), "max_months": 3})
    with pytest.raises(Invalid, match="最长3个月"):
        service.create_grant(stage.session, stage.subject, institution_code=BANK_CODE, scope=["registration"],
                             purpose="授信审查", ends_on=clock.today() + timedelta(days=100))


# --- revoking ----------------------------------------------------------------------------------------------------

def test_revocation_takes_effect_at_once(stage: Stage) -> None:
    made = grant(stage)
    assert service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number)
    service.revoke_grant(stage.session, stage.subject, made.number, "贷款已结清")
    stage.session.commit()
    refused(stage, lambda: service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number),
            "GRANT_REVOKED")
    refused(stage, lambda: service.require_grant(stage.session, stage.bank, stage.world.subject_id, "registration"),
            "GRANT_REVOKED")
    with pytest.raises(Conflict):
        service.revoke_grant(stage.session, stage.subject, made.number)
    [entry] = actions(stage, "grant.revoke")
    assert entry.object_id == made.number and entry.detail["reason"] == "贷款已结清"


def test_only_the_subject_or_the_authority_revokes(stage: Stage) -> None:
    made = grant(stage)
    for actor in (stage.other, stage.bank):
        with pytest.raises(NotFound):
            service.revoke_grant(stage.session, actor, made.number)
    with pytest.raises(NotFound):
        service.revoke_grant(stage.session, stage.subject, "SQ20260615XXXXXXXX")
    assert service.revoke_grant(stage.session, ADMIN, made.number).revoked_at is not None


# --- querying ------------------------------------------------------------------------------------------------------

def test_the_profile_has_exactly_the_granted_sections(stage: Stage) -> None:
    made = grant(stage, ["registration", "item:ADM_PENALTY"])
    profile = service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number)
    assert set(profile) == {"registration", "items"}
    assert set(profile["items"]) == {"ADM_PENALTY"}
    [record] = profile["items"]["ADM_PENALTY"]
    assert record["record_id"] == stage.world.record_id and record["payload"]["CF_WSH"] == "宁玄市监处罚〔2026〕1号"
    assert profile["registration"]["code"] == SUBJECT_CODE
    stage.session.commit()
    [entry] = actions(stage, "grants.query")
    assert entry.object_id == made.number and entry.detail["sections"] == ["registration", "item:ADM_PENALTY"]
    assert entry.detail["records"] == {"ADM_PENALTY": [stage.world.record_id]}
    narrowed = service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number, sections=["registration"])
    assert set(narrowed) == {"registration"}


def test_lists_and_grades_sections(stage: Stage) -> None:
    made = grant(stage, ["lists", "grade:PUBLIC_CREDIT_ORG"])
    profile = service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number)
    assert profile == {"lists": [], "grades": {"PUBLIC_CREDIT_ORG": None}}  # not listed, never evaluated


def test_require_grant_finds_the_live_grant(stage: Stage) -> None:
    made = grant(stage, ["report", "registration"])
    assert service.require_grant(stage.session, stage.bank, stage.world.subject_id, "report").id == made.id
    assert service.require_grant(stage.session, stage.bank, stage.world.subject_id, "report", made.number).id == made.id
    stage.session.commit()
    assert len(actions(stage, "grants.query")) == 2


def test_unknown_forged_foreign_and_misdirected_grants_look_the_same(stage: Stage) -> None:
    mine = grant(stage)
    theirs = grant(stage, institution=OTHER_BANK_CODE)
    cases = [(SUBJECT_CODE, "SQ20260615AAAAAAAA", "unknown_number"),  # forged
             (SUBJECT_CODE, theirs.number, "other_institution"),
             (OTHER_CODE, mine.number, "other_subject"),
             (uscc.build("9", "1", "320102", "MA1XY999"), mine.number, "unknown_subject")]
    messages = set()
    for code, number, reason in cases:
        error = refused(stage, lambda c=code, n=number: service.authorised_profile(stage.session, stage.bank, c, n),
                        "GRANT_INVALID")
        messages.add(error.message)
        assert actions(stage, "grants.refused")[-1].detail["reason"] == reason
    assert len(messages) == 1  # nothing tells whether the subject or the grant exists
    refused(stage, lambda: service.require_grant(stage.session, stage.bank, stage.other_id, "registration"),
            "GRANT_INVALID")
    refused(stage, lambda: service.require_grant(stage.session, stage.bank, stage.other_id, "registration", mine.number),
            "GRANT_INVALID")


def test_expired_and_not_yet_started_grants_are_refused(stage: Stage) -> None:
    later = grant(stage, starts_on=clock.today() + timedelta(days=3), days=10)
    refused(stage, lambda: service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, later.number),
            "GRANT_NOT_STARTED")
    short = grant(stage, days=1)
    clock.advance(timedelta(days=3))
    refused(stage, lambda: service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, short.number),
            "GRANT_EXPIRED")
    assert service.status_of(short) == "expired" and service.status_of(later) == "live"
    assert service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, later.number)


def test_scope_escalation_is_refused(stage: Stage) -> None:
    made = grant(stage, ["registration"])
    refused(stage, lambda: service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number,
                                                      sections=["registration", "item:ADM_PENALTY"]),
            "GRANT_SCOPE_EXCEEDED")
    refused(stage, lambda: service.require_grant(stage.session, stage.bank, stage.world.subject_id, "lists", made.number),
            "GRANT_SCOPE_EXCEEDED")
    assert set(service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number)) == {"registration"}


def test_only_institutions_query(stage: Stage) -> None:
    made = grant(stage)
    for actor in (stage.subject, ADMIN):
        refused(stage, lambda a=actor: service.authorised_profile(stage.session, a, SUBJECT_CODE, made.number),
                "GRANT_INSTITUTION_REQUIRED")


def test_refusals_are_counted_per_institution(stage: Stage) -> None:
    made = grant(stage)
    refused(stage, lambda: service.authorised_profile(stage.session, stage.other_bank, SUBJECT_CODE, made.number),
            "GRANT_INVALID")
    rows = list(stage.session.scalars(select(GrantQuery)))
    assert [(r.outcome, r.code, r.institution_id, r.grant_id) for r in rows] == [
        ("refused", "GRANT_INVALID", stage.other_bank.institution_id, None)]
    assert SUBJECT_CODE not in rows[0].asked_key


def test_refusal_error_records_itself_apart(stage: Stage) -> None:
    made = grant(stage)
    with pytest.raises(DomainError) as caught:
        service.authorised_profile(stage.session, stage.bank, SUBJECT_CODE, made.number + "X")
    stage.session.rollback()
    assert actions(stage, "grants.refused") == []
    caught.value.record_apart(stage.session)  # type: ignore[attr-defined]
    stage.session.commit()
    assert len(actions(stage, "grants.refused")) == 1
