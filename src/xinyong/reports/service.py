"""Issuing, storing, verifying and revoking credit reports; the platform's signing keys and the
certificates of other platforms it recognises (跨区域互认).

A report is generated from the data as of its issue time, signed (``signing``), and the signed file
is stored under the data directory with its SHA-256, so a verification years later still answers —
from the file itself (signature) and from the register (revoked or not, issued by us or not).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import get_settings
from xinyong.db import utcnow
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.reports import signing
from xinyong.reports.models import CreditReport, SigningKey, TrustedKey
from xinyong.subjects import service as subjects

AUTHORITY = "authority_admin"
STATUS_LABELS = {"genuine": "真实有效", "altered": "已被篡改", "revoked": "已作废", "unknown": "无法确认（非本平台或未互认平台出具）",
                 "not_signed": "不是签章的信用报告", "not_pdf": "不是PDF文件"}


def _authority_only(actor: Actor, what: str) -> None:
    if actor.role != AUTHORITY and not actor.is_system:
        raise Forbidden("REPORTS_AUTHORITY_ONLY", f"只有信用主管部门可以{what}")


# --- keys -----------------------------------------------------------------------------------------

def _key_folder() -> Path:
    folder = get_settings().data_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _new_key(session: Session) -> SigningKey:
    settings = get_settings()
    pair = signing.generate_key(settings.platform_name, settings.jurisdiction_code)
    path = _key_folder() / f"report-signing-{pair.key_id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the private key: owner only
    with os.fdopen(fd, "wb") as handle:
        handle.write(pair.private_key_pem)
    key = SigningKey(key_id=pair.key_id, certificate_pem=pair.certificate_pem.decode(), private_key_path=path.name,
                     created_at=utcnow(), retired_at=None, revoked_at=None)
    session.add(key)
    session.flush()
    return key


def active_key(session: Session) -> SigningKey:
    """The key new reports are signed with; made on first use."""
    key = session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None), SigningKey.revoked_at.is_(None))
                         .order_by(SigningKey.id.desc()).limit(1))
    if key is None:
        key = _new_key(session)
        audit.append(session, Actor.system("信用报告签章"), "reports.key.create", object_type="signing_key",
                     object_id=key.key_id)
    return key


def _pair(key: SigningKey) -> signing.KeyPair:
    private = (_key_folder() / key.private_key_path).read_bytes()
    return signing.KeyPair(key.key_id, private, key.certificate_pem.encode())


def rotate_key(session: Session, actor: Actor) -> SigningKey:
    """A new signing key; the previous one signs no more but its reports still verify."""
    _authority_only(actor, "更换签章密钥")
    current = active_key(session)
    current.retired_at = utcnow()
    key = _new_key(session)
    audit.append(session, actor, "reports.key.rotate", object_type="signing_key", object_id=key.key_id,
                 detail={"retired": current.key_id})
    return key


def revoke_key(session: Session, actor: Actor, key_id: str, reason: str) -> SigningKey:
    """吊销: the key may be compromised — every report it signed verifies as revoked from now on."""
    _authority_only(actor, "吊销签章密钥")
    if len(reason.strip()) < 2:
        raise Invalid("REPORT_REASON_REQUIRED", "请填写吊销理由", field="reason")
    key = session.scalar(select(SigningKey).where(SigningKey.key_id == key_id))
    if key is None:
        raise NotFound("SIGNING_KEY_NOT_FOUND", f"签章密钥不存在：{key_id}")
    if key.revoked_at is not None:
        raise Conflict("SIGNING_KEY_REVOKED", "该签章密钥已被吊销")
    key.revoked_at, key.revocation_reason = utcnow(), reason.strip()
    audit.append(session, actor, "reports.key.revoke", object_type="signing_key", object_id=key_id,
                 detail={"reason": key.revocation_reason})
    return key


def own_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))


def trusted_keys(session: Session) -> list[TrustedKey]:
    return list(session.scalars(select(TrustedKey).order_by(TrustedKey.id)))


def recognise(session: Session, actor: Actor, certificate_pem: str, issuer: str, source: str = "") -> TrustedKey:
    """Trust another platform's published certificate (互认); its reports then verify here."""
    _authority_only(actor, "互认其他平台的签章证书")
    try:
        key_id = signing.key_id_of(certificate_pem.encode())
    except ValueError as error:
        raise Invalid("CERTIFICATE_INVALID", "不是有效的PEM格式X.509证书", field="certificate_pem") from error
    if session.scalar(select(TrustedKey.id).where(TrustedKey.key_id == key_id)) is not None or \
            session.scalar(select(SigningKey.id).where(SigningKey.key_id == key_id)) is not None:
        raise Conflict("CERTIFICATE_KNOWN", f"该证书已在受信任列表中（{key_id}）")
    trusted = TrustedKey(key_id=key_id, issuer=issuer.strip()[:100] or "其他平台", certificate_pem=certificate_pem,
                         source=source[:500], imported_at=utcnow(), imported_by=actor.username, revoked_at=None)
    session.add(trusted)
    session.flush()
    audit.append(session, actor, "reports.trust", object_type="trusted_key", object_id=key_id,
                 detail={"issuer": trusted.issuer, "source": source})
    return trusted


def trust_map(session: Session) -> dict[str, signing.TrustedCertificate]:
    """Every certificate this platform accepts: its own (all, revoked marked) and the recognised ones."""
    name = get_settings().platform_name
    found = {k.key_id: signing.TrustedCertificate(k.certificate_pem.encode(), k.revoked_at, name) for k in own_keys(session)}
    found.update({t.key_id: signing.TrustedCertificate(t.certificate_pem.encode(), t.revoked_at, t.issuer)
                  for t in trusted_keys(session)})
    return found


# --- issuing -------------------------------------------------------------------------------------------

def _number(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":  # one numberer at a time (SQLite's write lock does this)
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('credit_report_number'))"))
    prefix = f"XYBG{get_settings().jurisdiction_code}{clock.today().year}"
    count = session.scalar(select(func.count()).select_from(CreditReport).where(CreditReport.number.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:06d}"


def verify_url(number: str) -> str:
    return f"{get_settings().site_url.rstrip('/')}/verify?number={number}"


def _may_request(actor: Actor, subject_id: int) -> None:
    if actor.subject_id == subject_id or actor.role == AUTHORITY:
        return
    raise Forbidden("REPORT_NOT_AUTHORISED", "只能为本主体申请信用报告；其他机构须取得该主体的授权")


def issue(session: Session, actor: Actor, subject_code: str, *, kind: str = "general", fields: list[str] | None = None,
          period_from: date | None = None, period_to: date | None = None) -> CreditReport:
    """出具 a general or special report on the data as of now, signed and stored."""
    from xinyong.reports import content, render

    subject = subjects.by_code_or_fail(session, subject_code)
    _may_request(actor, subject.id)
    number, now = _number(session), clock.now()
    settings = get_settings()
    common = {"number": number, "issued_at": now, "as_of": now, "platform_name": settings.platform_name,
              "verify_url": verify_url(number)}
    if kind == "general":
        document = content.general_document(session, subject.id, **common)
    elif kind == "special":
        if not fields or period_from is None or period_to is None:
            raise Invalid("REPORT_SPECIAL_INCOMPLETE", "专项信用报告须指定领域和起止日期", field="fields")
        document = content.special_document(session, subject.id, fields, period_from, period_to, **common)
    else:
        raise Invalid("REPORT_KIND_UNKNOWN", "报告类型应为 general（公共信用信息报告）或 special（专项信用报告）", field="kind")
    key = active_key(session)
    signed = signing.sign(render.render_pdf(document), _pair(key), number=number, location=settings.jurisdiction_name)
    return _store(session, actor, subject.id, kind, document, key, signed, (fields, period_from, period_to))


def _store(session: Session, actor: Actor, subject_id: int, kind: str, document: object, key: SigningKey,
           signed: bytes, special: tuple[list[str] | None, date | None, date | None]) -> CreditReport:
    folder = get_settings().data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    number = document.number  # type: ignore[attr-defined]
    digest = hashlib.sha256(signed).hexdigest()
    stored_as = f"reports/{number}-{digest[:16]}.pdf"  # a name no other report can take
    fields, period_from, period_to = special
    report = CreditReport(number=number, subject_id=subject_id, kind=kind, fields=list(fields or []),
                          period_from=period_from, period_to=period_to, data_as_of=document.data_as_of,  # type: ignore[attr-defined]
                          issued_at=utcnow(), requested_by=actor.username, user_id=actor.user_id,
                          institution_id=actor.institution_id, key_id=key.key_id, sha256=digest, size=len(signed),
                          stored_as=stored_as, revoked_at=None)
    session.add(report)
    session.flush()  # a clashing number fails here, before any file is written
    with (get_settings().data_dir / stored_as).open("xb") as handle:
        handle.write(signed)
    audit.append(session, actor, "reports.issue", object_type="credit_report", object_id=number, subject_id=subject_id,
                 detail={"kind": kind, "fields": report.fields, "sha256": report.sha256, "key": key.key_id})
    return report


def get_report(session: Session, number: str) -> CreditReport:
    report = session.scalar(select(CreditReport).where(CreditReport.number == number))
    if report is None:
        raise NotFound("REPORT_NOT_FOUND", f"信用报告不存在：{number}")
    return report


def report_file(session: Session, actor: Actor, number: str) -> tuple[CreditReport, bytes]:
    report = get_report(session, number)
    _may_request(actor, report.subject_id)
    return report, (get_settings().data_dir / report.stored_as).read_bytes()


def revoke_report(session: Session, actor: Actor, number: str, reason: str) -> CreditReport:
    """作废 a report (e.g. issued on wrong data); verification says so from now on."""
    _authority_only(actor, "作废信用报告")
    if len(reason.strip()) < 2:
        raise Invalid("REPORT_REASON_REQUIRED", "请填写作废理由", field="reason")
    report = get_report(session, number)
    if report.revoked_at is not None:
        raise Conflict("REPORT_REVOKED", "该报告已作废")
    report.revoked_at, report.revocation_reason = utcnow(), reason.strip()
    audit.append(session, actor, "reports.revoke", object_type="credit_report", object_id=number,
                 subject_id=report.subject_id, detail={"reason": report.revocation_reason})
    return report


# --- verifying -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    status: str  # genuine / altered / revoked / unknown / not_signed / not_pdf
    label: str
    number: str = ""
    issuer: str = ""
    subject_name: str = ""
    subject_code: str = ""
    kind: str = ""
    issued_at: datetime | None = None
    detail: str = ""


def _answer(verdict: signing.Verdict, *, status: str | None = None, detail: str | None = None,
            report: CreditReport | None = None, session: Session | None = None) -> Verification:
    final = status or verdict.status
    subject = subjects.get(session, report.subject_id) if report is not None and session is not None else None
    return Verification(final, STATUS_LABELS[final], verdict.number, verdict.issuer,
                        subject.name if subject else "", (subject.uscc or "") if subject else "",
                        report.kind if report else "", report.issued_at if report else verdict.signed_at,
                        detail if detail is not None else verdict.detail)


def verify_file(session: Session, pdf: bytes) -> Verification:
    """Check an uploaded report: its signature against the trusted certificates, then our register."""
    verdict = signing.verify(pdf, trust_map(session))
    own = {k.key_id for k in own_keys(session)}
    if verdict.status != "genuine" or verdict.key_id not in own:
        return _answer(verdict)  # another platform's report: its signature is all we can check
    report = session.scalar(select(CreditReport).where(CreditReport.number == verdict.number))
    if report is None or report.sha256 != hashlib.sha256(pdf).hexdigest():
        return _answer(verdict, status="unknown", detail="签章有效，但本平台登记簿中没有这份报告")
    if report.revoked_at is not None:
        return _answer(verdict, status="revoked", detail=f"该报告已于{clock.local(report.revoked_at):%Y年%m月%d日}作废："
                       f"{report.revocation_reason}", report=report, session=session)
    return _answer(verdict, report=report, session=session)


def verify_number(session: Session, number: str) -> Verification:
    """The register's answer for a number (what the QR code leads to), without the file."""
    report = session.scalar(select(CreditReport).where(CreditReport.number == number.strip()))
    empty = signing.Verdict("unknown", number=number.strip())
    if report is None:
        return _answer(empty, detail="本平台没有出具过该编号的信用报告")
    key = session.scalar(select(SigningKey).where(SigningKey.key_id == report.key_id))
    revoked = report.revoked_at is not None or (key is not None and key.revoked_at is not None)
    verdict = signing.Verdict("genuine", number=report.number, key_id=report.key_id, issuer=get_settings().platform_name)
    if revoked:
        return _answer(verdict, status="revoked", detail="该报告已作废或其签章证书已吊销", report=report, session=session)
    return _answer(verdict, detail="本平台出具过该报告；请上传文件核对内容是否被修改", report=report, session=session)
