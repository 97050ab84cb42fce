"""Issuing, the register and the keys: a report verifies years later, revocation and rotation are
reflected, and another platform's reports verify once its certificate is recognised."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session
from weasyprint import HTML

from tests.support.sanctions import refused
from tests.support.world import SUBJECT_CODE, World
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.reports import service, signing

ADMIN = Actor(user_id=None, username="admin", role="authority_admin")


def owner(world: World) -> Actor:
    return Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=world.subject_id)


@pytest.fixture
def issued(world: World, sanctioned: Session) -> tuple[Session, bytes, str]:
    clock.freeze(datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI))
    report = service.issue(sanctioned, owner(world), SUBJECT_CODE)
    _, pdf = service.report_file(sanctioned, owner(world), report.number)
    return sanctioned, pdf, report.number


def test_a_report_is_signed_stored_and_verifies_from_the_file_and_the_register(issued: tuple[Session, bytes, str]) -> None:
    session, pdf, number = issued
    assert number.startswith("XYBG3201002026")
    result = service.verify_file(session, pdf)
    assert (result.status, result.number, result.subject_code, result.kind) == ("genuine", number, SUBJECT_CODE, "general")
    assert service.verify_number(session, number).status == "genuine"
    assert service.verify_number(session, "XYBG000").status == "unknown"
    assert [e.action for e in audit.recent(session, limit=1)] == ["reports.issue"]


def test_altered_revoked_and_unknown(issued: tuple[Session, bytes, str]) -> None:
    session, pdf, number = issued
    bad = bytearray(pdf)
    bad[len(pdf) // 3] ^= 0x20
    assert service.verify_file(session, bytes(bad)).status == "altered"
    assert service.verify_file(session, pdf[:-100]).status == "altered"
    assert service.verify_file(session, b"hello").status == "not_pdf"
    refused("REPORTS_AUTHORITY_ONLY", service.revoke_report, session, Actor.anonymous(), number, "数据有误")
    service.revoke_report(session, ADMIN, number, "据以出具的处罚信息已更正")
    result = service.verify_file(session, pdf)
    assert result.status == "revoked" and "已更正" in result.detail
    assert service.verify_number(session, number).status == "revoked"


def test_rotation_keeps_old_reports_and_revocation_ends_them(issued: tuple[Session, bytes, str], world: World) -> None:
    session, pdf, _number = issued
    old = service.active_key(session).key_id
    new = service.rotate_key(session, ADMIN)
    assert new.key_id != old and service.verify_file(session, pdf).status == "genuine"
    fresh = service.issue(session, owner(world), SUBJECT_CODE)
    assert fresh.key_id == new.key_id
    service.revoke_key(session, ADMIN, old, "私钥疑似泄露")
    assert service.verify_file(session, pdf).status == "revoked"
    assert service.verify_file(session, service.report_file(session, owner(world), fresh.number)[1]).status == "genuine"


def test_another_platforms_reports_verify_once_recognised(issued: tuple[Session, bytes, str]) -> None:
    session, _pdf, _number = issued
    suzhou = signing.generate_key("苏州市公共信用信息平台", "320500")
    theirs = signing.sign(HTML(string="<p>苏州 信用报告</p>").write_pdf(), suzhou, number="XYBG3205002026000007",
                          location="苏州")
    assert service.verify_file(session, theirs).status == "unknown"
    refused("CERTIFICATE_INVALID", service.recognise, session, ADMIN, "not a certificate", "苏州")
    service.recognise(session, ADMIN, suzhou.certificate_pem.decode(), "苏州市公共信用信息平台", "https://sz.example/")
    result = service.verify_file(session, theirs)
    assert (result.status, result.issuer, result.number) == ("genuine", "苏州市公共信用信息平台", "XYBG3205002026000007")
    refused("CERTIFICATE_KNOWN", service.recognise, session, ADMIN, suzhou.certificate_pem.decode(), "苏州")


def test_only_the_subject_or_the_authority_may_ask(issued: tuple[Session, bytes, str], world: World) -> None:
    session, _pdf, number = issued
    stranger = Actor(user_id=None, username="别人", role="subject_user", subject_id=world.subject_id + 999)
    refused("REPORT_NOT_AUTHORISED", service.issue, session, stranger, SUBJECT_CODE)
    refused("REPORT_NOT_AUTHORISED", service.report_file, session, stranger, number)
    refused("REPORT_KIND_UNKNOWN", service.issue, session, ADMIN, SUBJECT_CODE, kind="weekly")
    refused("REPORT_SPECIAL_INCOMPLETE", service.issue, session, ADMIN, SUBJECT_CODE, kind="special")
