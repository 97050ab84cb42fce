"""Issuing, the register and the keys: a report verifies years later, revocation and rotation are
reflected, and another platform's reports verify once its certificate is recognised."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from weasyprint import HTML

from tests.support.sanctions import refused
from tests.support.world import SUBJECT_CODE, World
from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import unit_of_work
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
    code = service.get_report(session, number).check_code
    assert code and len(code) == 8 and code in _text_of(pdf)  # printed on the report
    with_code = service.verify_number(session, number, code.lower())
    assert (with_code.status, with_code.subject_code) == ("genuine", SUBJECT_CODE)
    assert service.verify_number(session, "XYBG000").status == "unknown"
    assert [e.action for e in audit.recent(session, limit=2)] == ["reports.download", "reports.issue"]


def test_numbers_are_reserved_once_each_by_concurrent_issuers(sanctioned: Session) -> None:
    sanctioned.commit()  # SQLite: leave the write lock to the threads
    factory = sessionmaker(bind=sanctioned.get_bind(), expire_on_commit=False)

    def reserve(_: int) -> str:
        with unit_of_work(factory) as session:
            return service.reserve_number(session)

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(reserve, range(40)))
    serials = sorted(int(n[-6:]) for n in numbers)
    assert serials == list(range(1, 41))


def test_a_number_without_its_check_code_does_not_say_whom_the_report_is_about(
        issued: tuple[Session, bytes, str]) -> None:
    session, _pdf, number = issued
    bare = service.verify_number(session, number)
    assert (bare.status, bare.subject_name, bare.subject_code, bare.issued_at) == ("issued", "", "", None)
    wrong = service.verify_number(session, number, "ABCDEFGH")
    assert (wrong.status, wrong.subject_name) == ("unknown", "") and "核验码不符" in wrong.detail
    service.revoke_report(session, ADMIN, number, "据以出具的处罚信息已更正")
    assert (service.verify_number(session, number).status, service.verify_number(session, number).subject_name) == (
        "revoked", "")


def _text_of(pdf: bytes) -> str:
    from tests.reports.test_render import Pdf

    return Pdf(pdf).text


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
    assert service.verify_number(session, number, service.get_report(session, number).check_code or "").status == "revoked"


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
    refused("REPORT_REASON_REQUIRED", service.revoke_trust, session, ADMIN, suzhou.key_id, "")
    refused("REPORTS_AUTHORITY_ONLY", service.revoke_trust, session, Actor.anonymous(), suzhou.key_id, "对方已吊销")
    service.revoke_trust(session, ADMIN, suzhou.key_id, "苏州市平台已吊销该证书")
    assert service.verify_file(session, theirs).status == "revoked"
    refused("TRUSTED_KEY_REVOKED", service.revoke_trust, session, ADMIN, suzhou.key_id, "再次撤销")
    refused("TRUSTED_KEY_NOT_FOUND", service.revoke_trust, session, ADMIN, "0" * 16, "不存在")


def test_only_the_subject_or_the_authority_may_ask(issued: tuple[Session, bytes, str], world: World) -> None:
    session, _pdf, number = issued
    stranger = Actor(user_id=None, username="别人", role="subject_user", subject_id=world.subject_id + 999)
    refused("REPORT_NOT_AUTHORISED", service.issue, session, stranger, SUBJECT_CODE)
    refused("REPORT_NOT_AUTHORISED", service.report_file, session, stranger, number)
    refused("REPORT_KIND_UNKNOWN", service.issue, session, ADMIN, SUBJECT_CODE, kind="weekly")
    refused("REPORT_SPECIAL_INCOMPLETE", service.issue, session, ADMIN, SUBJECT_CODE, kind="special")
