"""Issuing, storing, verifying and revoking credit reports; the platform's signing keys and the
certificates of other platforms it recognises (跨区域互认).

A report is generated from the data as of its issue time, signed (``signing``), and the signed file
is stored under the data directory with its SHA-256, so a verification years later still answers —
from the file itself (signature) and from the register (revoked or not, issued by us or not).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import get_settings
from xinyong.db import unit_of_work, utcnow
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.grants import service as grants
from xinyong.reports import signing
from xinyong.reports.document import ReportDocument
from xinyong.reports.models import CreditReport, ReportNumberCounter, SigningKey, TrustedKey
from xinyong.subjects import service as subjects

AUTHORITY = "authority_admin"
INSTITUTION = "authorised_institution"
STATUS_LABELS = {"genuine": "真实有效", "altered": "已被篡改", "revoked": "已作废", "unknown": "无法确认（非本平台或未互认平台出具）",
                 "not_signed": "不是签章的信用报告", "not_pdf": "不是PDF文件", "issued": "本平台出具过该编号的报告"}


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


def revoke_trust(session: Session, actor: Actor, key_id: str, reason: str) -> TrustedKey:
    """撤销互认: another platform revoked its certificate (or recognition ends); every report it signed
    with that certificate verifies here as revoked from now on."""
    _authority_only(actor, "撤销对其他平台证书的互认")
    if len(reason.strip()) < 2:
        raise Invalid("REPORT_REASON_REQUIRED", "请填写撤销互认的理由，如 对方平台已吊销该证书", field="reason")
    trusted = session.scalar(select(TrustedKey).where(TrustedKey.key_id == key_id))
    if trusted is None:
        raise NotFound("TRUSTED_KEY_NOT_FOUND", f"未互认该证书：{key_id}")
    if trusted.revoked_at is not None:
        raise Conflict("TRUSTED_KEY_REVOKED", "已撤销对该证书的互认")
    trusted.revoked_at, trusted.revocation_reason = utcnow(), reason.strip()[:500]
    audit.append(session, actor, "reports.trust.revoke", object_type="trusted_key", object_id=key_id,
                 detail={"issuer": trusted.issuer, "reason": trusted.revocation_reason})
    return trusted


def trust_map(session: Session) -> dict[str, signing.TrustedCertificate]:
    """Every certificate this platform accepts: its own (all, revoked marked) and the recognised ones."""
    name = get_settings().platform_name
    found = {k.key_id: signing.TrustedCertificate(k.certificate_pem.encode(), k.revoked_at, name) for k in own_keys(session)}
    found.update({t.key_id: signing.TrustedCertificate(t.certificate_pem.encode(), t.revoked_at, t.issuer)
                  for t in trusted_keys(session)})
    return found


# --- issuing -------------------------------------------------------------------------------------------

def _prefix() -> str:
    return f"XYBG{get_settings().jurisdiction_code}{clock.today().year}"


def reserve_number(session: Session) -> str:
    """The next report number (报告编号), from the counter of this year's prefix: one statement,
    atomic on both databases, so concurrent issuers never get the same number."""
    prefix = _prefix()
    insert = (sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert)(ReportNumberCounter)
    serial = session.scalar(insert.values(prefix=prefix, last=1).on_conflict_do_update(
        index_elements=[ReportNumberCounter.prefix], set_={"last": ReportNumberCounter.last + 1})
        .returning(ReportNumberCounter.last))
    return f"{prefix}{serial:06d}"


CHECK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper and typed in


def new_check_code() -> str:
    """核验码: eight random characters printed on the report and carried by its QR code. Report numbers
    are sequential; without the code the register does not say whom a number's report is about."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(8))


def verify_url(number: str, check_code: str = "") -> str:
    code = f"&code={check_code}" if check_code else ""
    return f"{get_settings().site_url.rstrip('/')}/verify?number={number}{code}"


def _may_request(session: Session, actor: Actor, subject_id: int, grant_number: str | None = None) -> None:
    """The subject itself, the authority (window service), or an institution holding the subject's live
    grant that covers ``report`` (授权; refused and audited by ``grants`` otherwise)."""
    if actor.subject_id == subject_id or actor.role == AUTHORITY or actor.is_system:
        return
    if actor.role == INSTITUTION:
        grants.require_grant(session, actor, subject_id, "report", grant_number)
        return
    raise Forbidden("REPORT_NOT_AUTHORISED", "只能为本主体申请信用报告；其他机构须取得该主体的授权")


@dataclass(frozen=True)
class ReportRequest:
    """What is asked for: a general report, or a special report on fields over a period."""

    kind: str = "general"
    fields: tuple[str, ...] = ()
    period_from: date | None = None
    period_to: date | None = None


def _checked(session: Session, actor: Actor, subject_code: str, request: ReportRequest,
             grant_number: str | None) -> int:
    """The subject's id, once the request is allowed and complete (before any number is taken)."""
    from xinyong.reports import content

    if actor.role == INSTITUTION and subjects.by_code(session, subject_code) is None:
        # refused exactly as for a subject it holds no grant for: an institution learns nothing of who exists
        grants.require_grant(session, actor, 0, "report", grant_number)
    subject = subjects.by_code_or_fail(session, subject_code)
    _may_request(session, actor, subject.id, grant_number)
    if request.kind == "special":
        if not request.fields or request.period_from is None or request.period_to is None:
            raise Invalid("REPORT_SPECIAL_INCOMPLETE", "专项信用报告须指定领域和起止日期", field="fields")
    elif request.kind != "general":
        raise Invalid("REPORT_KIND_UNKNOWN", "报告类型应为 general（公共信用信息报告）或 special（专项信用报告）", field="kind")
    content.check_request(session, subject.id, request.kind, list(request.fields), request.period_from,
                          request.period_to, clock.now())
    return subject.id


def _document(session: Session, subject_id: int, request: ReportRequest, number: str) -> ReportDocument:
    from xinyong.reports import content

    now, check_code = clock.now(), new_check_code()
    common = {"number": number, "issued_at": now, "as_of": now, "platform_name": get_settings().platform_name,
              "verify_url": verify_url(number, check_code)}
    if request.kind == "special":
        assert request.period_from is not None and request.period_to is not None
        document = content.special_document(session, subject_id, list(request.fields), request.period_from,
                                            request.period_to, **common)
    else:
        document = content.general_document(session, subject_id, **common)
    return replace(document, check_code=check_code)


def _signed(document: ReportDocument, pair: signing.KeyPair) -> bytes:
    from xinyong.reports import render

    return signing.sign(render.render_pdf(document), pair, number=document.number,
                        location=get_settings().jurisdiction_name)


def issue(session: Session, actor: Actor, subject_code: str, *, kind: str = "general", fields: list[str] | None = None,
          period_from: date | None = None, period_to: date | None = None,
          read_only_factory: sessionmaker[Session] | None = None, grant_number: str | None = None) -> CreditReport:
    """出具 a general or special report on the data as of now, signed and stored.

    Without ``read_only_factory`` everything happens in ``session``'s transaction (tests, the CLI).
    With it (the web routes), the database's write lock is held only to number and to store: the
    number and key are committed at once, the content is read in a read-only transaction of its own,
    the layout and signature (about 0.1 s) run in no transaction at all, and the register row and
    audit entry go into ``session``'s next transaction — so issuers in several processes work in
    parallel (docs/performance.md). ``session`` is committed midway in that case.

    An institution (e.g. a bank) asks under the subject's grant (``grant_number``, scope ``report``).
    """
    request = ReportRequest(kind, tuple(fields or ()), period_from, period_to)
    subject_id = _checked(session, actor, subject_code, request, grant_number)
    number, key = reserve_number(session), active_key(session)
    pair = _pair(key)
    if read_only_factory is None:
        document = _document(session, subject_id, request, number)
    else:
        session.commit()  # the number and the key are ours: let other issuers in while we lay out
        with unit_of_work(read_only_factory) as reader:
            document = _document(reader, subject_id, request, number)
    return _store(session, actor, subject_id, request, document, key, _signed(document, pair), grant_number)


def _store(session: Session, actor: Actor, subject_id: int, request: ReportRequest, document: ReportDocument,
           key: SigningKey, signed: bytes, grant_number: str | None = None) -> CreditReport:
    folder = get_settings().data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    number, kind = document.number, request.kind
    digest = hashlib.sha256(signed).hexdigest()
    stored_as = f"reports/{number}-{digest[:16]}.pdf"  # a name no other report can take
    report = CreditReport(number=number, subject_id=subject_id, kind=kind, fields=list(request.fields),
                          period_from=request.period_from, period_to=request.period_to, data_as_of=document.data_as_of,
                          issued_at=utcnow(), requested_by=actor.username, user_id=actor.user_id,
                          institution_id=actor.institution_id, key_id=key.key_id, sha256=digest, size=len(signed), check_code=document.check_code,
                          stored_as=stored_as, revoked_at=None)
    session.add(report)
    session.flush()  # a clashing number fails here, before any file is written
    with (get_settings().data_dir / stored_as).open("xb") as handle:
        handle.write(signed)
    audit.append(session, actor, "reports.issue", object_type="credit_report", object_id=number, subject_id=subject_id,
                 detail={"kind": kind, "fields": report.fields, "sha256": report.sha256, "key": key.key_id,
                         **({"grant": grant_number.strip().upper()} if grant_number else {})})
    return report


def reports(session: Session, *, subject_id: int | None = None, institution_id: int | None = None,
            limit: int = 50, offset: int = 0) -> tuple[int, list[CreditReport]]:
    """The register, newest first: all, one subject's, or those one institution asked for."""
    query = select(CreditReport)
    if subject_id is not None:
        query = query.where(CreditReport.subject_id == subject_id)
    if institution_id is not None:
        query = query.where(CreditReport.institution_id == institution_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(CreditReport.id.desc()).limit(limit).offset(offset)))


def get_report(session: Session, number: str) -> CreditReport:
    report = session.scalar(select(CreditReport).where(CreditReport.number == number))
    if report is None:
        raise NotFound("REPORT_NOT_FOUND", f"信用报告不存在：{number}")
    return report


def report_file(session: Session, actor: Actor, number: str, grant_number: str | None = None) -> tuple[CreditReport, bytes]:
    """The stored signed file, for the subject, the authority, or the institution that asked for it while
    its grant lasts; every download is audited (a report carries non-public information)."""
    report = get_report(session, number)
    if actor.role == INSTITUTION and report.institution_id != actor.institution_id:
        raise NotFound("REPORT_NOT_FOUND", f"信用报告不存在：{number}")  # another's report: not even its existence
    _may_request(session, actor, report.subject_id, grant_number)
    content = (get_settings().data_dir / report.stored_as).read_bytes()
    audit.append(session, actor, "reports.download", object_type="credit_report", object_id=number,
                 subject_id=report.subject_id)
    return report, content


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
    status: str  # genuine / altered / revoked / unknown / not_signed / not_pdf; issued (a number without its 核验码)
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


def verify_number(session: Session, number: str, check_code: str = "") -> Verification:
    """The register's answer for a number (what the QR code leads to), without the file. Whom the
    report is about is shown only with the report's 核验码 (numbers are sequential: anyone could walk
    them); without it the answer is only whether the number was issued and is still valid."""
    report = session.scalar(select(CreditReport).where(CreditReport.number == number.strip()))
    empty = signing.Verdict("unknown", number=number.strip())
    if report is None:
        return _answer(empty, detail="本平台没有出具过该编号的信用报告")
    given = check_code.strip().upper()
    if report.check_code is not None and given and not hmac.compare_digest(given, report.check_code):
        return _answer(empty, detail="报告编号与核验码不符，请核对报告首页的报告编号和核验码")
    key = session.scalar(select(SigningKey).where(SigningKey.key_id == report.key_id))
    revoked = report.revoked_at is not None or (key is not None and key.revoked_at is not None)
    verdict = signing.Verdict("genuine", number=report.number, key_id=report.key_id, issuer=get_settings().platform_name)
    if report.check_code is not None and not given:  # say nothing about whom it concerns
        status = "revoked" if revoked else "issued"
        return Verification(status, STATUS_LABELS[status], report.number, verdict.issuer,
                            detail="输入报告首页的核验码（或扫描报告二维码）可查看报告主体和出具时间")
    if revoked:
        return _answer(verdict, status="revoked", detail="该报告已作废或其签章证书已吊销", report=report, session=session)
    return _answer(verdict, detail="本平台出具过该报告；请上传文件核对内容是否被修改", report=report, session=session)
