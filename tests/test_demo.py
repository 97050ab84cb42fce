"""The demo data generator: everything it makes passes the platform's own rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock, demo
from xinyong.access import service as access
from xinyong.access.models import Department
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.validation import check_payload
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.subjects import service as registry
from xinyong.subjects.models import Subject


def test_demo_generates_a_valid_world(seeded: Session) -> None:
    """One generation (it takes seconds), every check on it."""
    calls: list[tuple[int, int]] = []
    summary = demo.generate(seeded, subjects=200, seed=7, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (200, 200)
    check_counts(seeded, summary)
    check_codes_and_accounts(seeded)
    check_records_revalidate(seeded)
    check_conflicts_and_audit(seeded)


def check_counts(session: Session, summary: demo.DemoSummary) -> None:
    assert summary.subjects == registry.count(session) == 200
    assert summary.departments == 12 and summary.institutions == 2
    assert summary.subjects_by_kind["enterprise"] > 100
    assert {"individual_business", "natural_person"} <= set(summary.subjects_by_kind)
    assert 2 <= records.count(session) / summary.subjects <= 4
    assert len(summary.records_by_item) >= 10
    assert summary.duplicate_code_cases >= 1 and summary.code_conflict_cases >= 1


def check_codes_and_accounts(session: Session) -> None:
    for code in session.scalars(select(Subject.uscc).where(Subject.uscc.is_not(None))):
        assert registry.validate_code(session, code) == code
    for department in session.scalars(select(Department)):
        assert registry.validate_code(session, department.code) == department.code
    for account in demo.DEMO_ACCOUNTS:
        access.check_password_strength(account["password"])
        user = access.authenticate(session, account["username"], account["password"])
        assert user.role == account["role"]
    qiye = access.authenticate(session, "qiye", demo.DEMO_PASSWORD)
    assert qiye.subject_id is not None and registry.get(session, qiye.subject_id).name == demo.SHOWCASE_NAME
    persons = list(session.scalars(select(Subject).where(Subject.kind == "natural_person")))
    assert persons and all(p.person_key and p.masked_id and "*" in p.masked_id for p in persons)


def check_records_revalidate(session: Session) -> None:
    today = clock.today()
    for record in session.scalars(select(Record)):
        version = catalogue.get_version(session, record.item_version_id)
        clean, problems = check_payload(version.fields, record.payload,
                                        check_uscc=lambda raw: registry.validate_code(session, raw), today=today)
        assert problems == [], (record.item_code, record.payload)
        assert clean == record.payload
        if record.item_code == "REG_BASIC":  # the one item without a decision date
            assert record.decision_date is None
            continue
        assert record.decision_date is not None
        assert today - timedelta(days=3 * 366) <= record.decision_date <= today


def check_conflicts_and_audit(session: Session) -> None:
    kinds = {view.conflict.kind for view in registry.list_conflicts(session)}
    assert kinds == {"duplicate_code", "code_conflict"}
    verification = audit.verify(session)
    assert verification.ok, verification.message
    assert verification.checked >= records.count(session)


def test_demo_records_do_not_supersede_other_subjects(seeded: Session) -> None:
    summary = demo.generate(seeded, subjects=40, seed=3)
    assert summary.outcomes.get("correction", 0) == 0
