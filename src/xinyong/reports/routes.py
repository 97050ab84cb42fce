"""Credit reports on the web: public verification (page and API), the certificates this platform
publishes (跨区域互认), a subject's own reports, and the credit authority's register, keys and
recognised platforms.

Routes are thin: parse, call one ``service`` function, render. Verification never fails with a 500
on a bad file: an empty, truncated or foreign file gets a verdict (not a PDF, altered, not a signed
report); only a file above ``MAX_REPORT_BYTES`` is refused (413 ``REPORT_FILE_TOO_LARGE``).
State-changing routes ask for their refusals to be audited (``report.refused``; 403s are audited as
``access.denied`` by the error handler); a refusal a form shows inline is audited by ``_refused``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote

from cryptography import x509
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.config import get_settings
from xinyong.errors import Conflict, DomainError, Invalid, NotFound
from xinyong.reports import content, service
from xinyong.reports.models import CreditReport, SigningKey
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject
from xinyong.web.caching import json_with_etag
from xinyong.web.deps import get_db, get_read_db, require
from xinyong.web.forms import record_inline_refusal
from xinyong.web.ratelimit import public_rate_limit
from xinyong.web.templating import render

AREA = "report"  # audit: report.refused
MAX_REPORT_BYTES = 20 * 1024 * 1024  # a report is well under 1 MB; anything above 20 MB is not one
MAX_CERTIFICATE_BYTES = 64 * 1024
PER_PAGE = 50
FORM_ERRORS = (Invalid, Conflict)  # shown inline (and audited); refusals (403) go to the error page
KIND_LABELS = {"general": "公共信用信息报告", "special": "专项信用报告"}
KEY_STATUS = {"active": "使用中", "retired": "已停用", "revoked": "已吊销"}
VERDICT_TAGS = {"genuine": "ok", "altered": "bad", "revoked": "bad", "unknown": "warn", "not_signed": "warn",
                "not_pdf": "warn"}
FLASHES = {"issued": "信用报告已出具并签章，可下载PDF", "revoked": "报告已作废，核验时将显示“已作废”",
           "rotated": "已更换签章密钥：此后出具的报告用新密钥签章，此前的报告仍可核验",
           "key_revoked": "签章证书已吊销：该证书签署的全部报告核验时显示“已作废”",
           "recognised": "已互认该平台的签章证书：其出具的报告在本平台核验为真实有效",
           "trust_revoked": "已撤销互认：该证书签署的报告在本平台核验时显示“已作废”"}
NUMBER = PathParam(pattern=r"^[A-Za-z0-9]{1,32}$", description="报告编号，如 XYBG3201002026000001")
CHECK_CODE = Query("", max_length=16, description="核验码（报告首页所印、二维码所含）；不给时只回答该编号是否出具、是否有效")
KEY_ID = PathParam(pattern=r"^[0-9a-f]{1,16}$", description="签章证书编号（证书SHA-256指纹的前16位）")
PUBLIC_RESPONSES: dict[int | str, dict[str, str]] = {
    304: {"description": "未变化（If-None-Match 与 ETag 相同）"},
    413: {"description": "文件超过20MB（REPORT_FILE_TOO_LARGE）"},
    422: {"description": "参数错误（错误码与中文说明）"},
    429: {"description": "请求过于频繁；Retry-After 头给出需等待的秒数"},
}

public_api = APIRouter(prefix="/api/v1/public", tags=["信用报告核验（公开接口）"],
                       dependencies=[Depends(require(P.PUBLIC)), Depends(public_rate_limit)], responses=PUBLIC_RESPONSES)
router = APIRouter(tags=["信用报告"])


class FileTooLarge(DomainError):
    status = 413


# --- response and request shapes ---------------------------------------------------------------------

class VerificationOut(BaseModel):
    status: Literal["genuine", "altered", "revoked", "unknown", "not_signed", "not_pdf", "issued"] = Field(
        description="genuine 真实有效；altered 已被篡改；revoked 已作废（报告作废或签章证书吊销）；unknown 无法确认"
                    "（非本平台或未互认平台出具，或编号与核验码不符）；not_signed 不是签章的信用报告；not_pdf 不是PDF文件；"
                    "issued 本平台出具过该编号的报告（按编号查询而未给核验码时，不显示报告主体）")
    label: str
    genuine: bool
    number: str = Field(description="报告编号（从签名中读出）")
    issuer: str = Field(description="出具平台")
    subject_name: str
    subject_code: str
    kind: str
    kind_label: str
    issued_at: datetime | None
    detail: str


class ReportOut(BaseModel):
    number: str
    kind: str
    kind_label: str
    subject_name: str
    subject_code: str
    fields: list[str] = Field(description="专项信用报告的领域")
    period_from: date | None
    period_to: date | None
    data_as_of: datetime = Field(description="数据截止时间")
    issued_at: datetime
    requested_by: str
    key_id: str = Field(description="签章证书编号")
    sha256: str = Field(description="签章后PDF文件的SHA-256")
    size: int
    status: Literal["valid", "revoked"]
    status_label: str
    revoked_at: datetime | None
    revocation_reason: str
    download_url: str
    verify_url: str = Field(description="核验地址（报告二维码指向的地址）")


class ReportPage(BaseModel):
    total: int
    reports: list[ReportOut]


class ReportRequest(BaseModel):
    kind: Literal["general", "special"] = Field(description="general 公共信用信息报告；special 专项信用报告")
    fields: list[str] = Field(default_factory=list, max_length=50,
                              description="专项信用报告的领域代码（政策参数 special_report_fields）")
    period_from: date | None = Field(None, description="专项信用报告的起始日期")
    period_to: date | None = Field(None, description="专项信用报告的截止日期")


class OwnReportRequest(ReportRequest):
    subject_code: str | None = Field(None, max_length=40, description="缺省为本主体；为其他主体申请须取得其授权，否则 403 "
                                                                    "REPORT_NOT_AUTHORISED")


class AuthorityReportRequest(ReportRequest):
    subject_code: str = Field(max_length=40, description="统一社会信用代码（窗口代办）")


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=500, description="理由（至少2个字）")


class CertificateOut(BaseModel):
    key_id: str = Field(description="证书编号：证书（DER）SHA-256指纹的前16位")
    issuer: str
    status: Literal["active", "retired", "revoked"]
    status_label: str = Field(description="使用中 / 已停用（已更换，旧报告仍有效） / 已吊销（该证书签署的报告全部作废）")
    fingerprint_sha256: str
    not_valid_before: datetime
    not_valid_after: datetime
    created_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str
    certificate_pem: str


class CertificateList(BaseModel):
    platform: str
    jurisdiction_code: str
    certificates: list[CertificateOut]


class TrustedOut(BaseModel):
    key_id: str
    issuer: str
    source: str
    fingerprint_sha256: str
    not_valid_after: datetime
    imported_at: datetime
    imported_by: str
    revoked_at: datetime | None
    revocation_reason: str
    certificate_pem: str


class TrustIn(BaseModel):
    certificate_pem: str = Field(max_length=MAX_CERTIFICATE_BYTES, description="对方平台公布的签章证书（PEM）")
    issuer: str = Field("", max_length=100, description="出具平台名称，如 苏州市公共信用信息平台")
    source: str = Field("", max_length=500, description="证书的公布地址")


class KeysOut(BaseModel):
    own: list[CertificateOut]
    recognised: list[TrustedOut]


# --- building the shapes ---------------------------------------------------------------------------------

def _code(subject: Subject | None) -> str:
    return (subject.uscc or subject.masked_id or "") if subject else ""


def _verification(result: service.Verification) -> VerificationOut:
    return VerificationOut(status=result.status, label=result.label, genuine=result.status == "genuine",  # type: ignore[arg-type]
                           number=result.number, issuer=result.issuer, subject_name=result.subject_name,
                           subject_code=result.subject_code, kind=result.kind,
                           kind_label=KIND_LABELS.get(result.kind, ""), issued_at=result.issued_at, detail=result.detail)


def _reports_out(session: Session, found: list[CreditReport], download: str) -> list[ReportOut]:
    """``download``: the URL prefix the reader may download from (``/api/v1/me/reports`` or ``/api/v1/reports``)."""
    names = {s.id: s for s in subjects.by_ids(session, sorted({r.subject_id for r in found}))}
    revoked_keys = {k.key_id for k in service.own_keys(session) if k.revoked_at is not None}
    out = []
    for r in found:
        revoked = r.revoked_at is not None or r.key_id in revoked_keys
        reason = r.revocation_reason if r.revoked_at is not None else "签章证书已吊销" if revoked else ""
        out.append(ReportOut(number=r.number, kind=r.kind, kind_label=KIND_LABELS.get(r.kind, r.kind),
                             subject_name=names[r.subject_id].name if r.subject_id in names else "",
                             subject_code=_code(names.get(r.subject_id)), fields=[str(f) for f in r.fields or []],
                             period_from=r.period_from, period_to=r.period_to, data_as_of=r.data_as_of,
                             issued_at=r.issued_at, requested_by=r.requested_by, key_id=r.key_id, sha256=r.sha256,
                             size=r.size, status="revoked" if revoked else "valid",
                             status_label="已作废" if revoked else "有效", revoked_at=r.revoked_at,
                             revocation_reason=reason, download_url=f"{download}/{r.number}/pdf",
                             verify_url=service.verify_url(r.number, r.check_code or "")))
    return out


def _certificate_facts(pem: str) -> tuple[str, datetime, datetime]:
    from cryptography.hazmat.primitives import hashes

    certificate = x509.load_pem_x509_certificate(pem.encode())
    return (certificate.fingerprint(hashes.SHA256()).hex(), certificate.not_valid_before_utc,
            certificate.not_valid_after_utc)


def _key_status(key: SigningKey) -> str:
    return "revoked" if key.revoked_at else "retired" if key.retired_at else "active"


def _certificates(session: Session) -> list[CertificateOut]:
    name = get_settings().platform_name
    out = []
    for key in service.own_keys(session):
        fingerprint, before, after = _certificate_facts(key.certificate_pem)
        status = _key_status(key)
        out.append(CertificateOut(key_id=key.key_id, issuer=name, status=status, status_label=KEY_STATUS[status],  # type: ignore[arg-type]
                                  fingerprint_sha256=fingerprint, not_valid_before=before, not_valid_after=after,
                                  created_at=key.created_at, retired_at=key.retired_at, revoked_at=key.revoked_at,
                                  revocation_reason=key.revocation_reason, certificate_pem=key.certificate_pem))
    return out


def _trusted(session: Session) -> list[TrustedOut]:
    out = []
    for t in service.trusted_keys(session):
        fingerprint, _, after = _certificate_facts(t.certificate_pem)
        out.append(TrustedOut(key_id=t.key_id, issuer=t.issuer, source=t.source, fingerprint_sha256=fingerprint,
                              not_valid_after=after, imported_at=t.imported_at, imported_by=t.imported_by,
                              revoked_at=t.revoked_at, revocation_reason=t.revocation_reason or "",
                              certificate_pem=t.certificate_pem))
    return out


def _keys(session: Session) -> KeysOut:
    service.active_key(session)  # the platform has a certificate to publish before its first report
    return KeysOut(own=_certificates(session), recognised=_trusted(session))


# --- reading the register (TODO(lead): a ``service.reports`` listing would replace this) ---------------------

# --- input: uploads, forms, audit of refusals ----------------------------------------------------------------

def _read_upload(upload: UploadFile | None, limit: int, what: str) -> bytes | None:
    """The uploaded bytes, read at most one byte past ``limit``; None when no file was chosen."""
    if upload is None or not upload.filename:
        return None
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        raise FileTooLarge("REPORT_FILE_TOO_LARGE", f"{what}超过{limit // (1024 * 1024) or 1}MB，不是本平台出具的信用报告"
                           if limit == MAX_REPORT_BYTES else f"{what}过大（不超过{limit // 1024}KB）", field="file")
    return content


def _audited(request: Request) -> None:
    request.state.audit_refusals = AREA


def _form_post(request: Request, session: Session, actor: Actor, act: Callable[[], str],
               again: Callable[[DomainError], Any], errors: tuple[type[DomainError], ...] = FORM_ERRORS) -> Any:
    """A form's one service call: 303 to the URL ``act`` returns, or the form again with the refusal (audited)."""
    _audited(request)
    try:
        where = act()
    except errors as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return again(error)
    return RedirectResponse(where, status_code=303)


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("DATE_INVALID", f"日期格式应为 YYYY-MM-DD，收到“{value[:20]}”", field=field) from None


@dataclass(frozen=True)
class SpecialField:
    code: str
    label: str
    note: str = ""


def special_fields(session: Session) -> list[SpecialField]:
    """The fields (领域) a special report may cover: the policy parameter ``special_report_fields``."""
    return [SpecialField(rule.name, rule.name, rule.description) for rule in content.special_fields(session).values()]


def _field_choices(session: Session) -> dict[str, Any]:
    """What the forms offer (``fields``) and how lists name a report's fields (``labels``)."""
    found = special_fields(session)
    return {"fields": found, "labels": {f.code: f.label for f in found}}


def _issue(request: Request, session: Session, actor: Actor, code: str, body: ReportRequest,
           grant: str | None = None) -> CreditReport:
    # Holding the write lock only to number and to store lets reports be laid out in parallel.
    readers = request.app.state.read_session_factory
    if body.kind != "special":  # fields and period belong to special reports only
        return service.issue(session, actor, code, kind=body.kind, read_only_factory=readers, grant_number=grant)
    return service.issue(session, actor, code, kind=body.kind, fields=body.fields or None, period_from=body.period_from,
                         period_to=body.period_to, read_only_factory=readers, grant_number=grant)


def _own_code(session: Session, actor: Actor) -> str:
    subject = subjects.get(session, actor.subject_id or 0)
    if not subject.uscc:
        raise Invalid("REPORT_SUBJECT_NO_CODE", "本主体没有统一社会信用代码，请到信用主管部门窗口申请信用报告")
    return subject.uscc


def _form_request(kind: str, fields: list[str], period_from: str, period_to: str) -> ReportRequest:
    if kind not in KIND_LABELS:
        raise Invalid("REPORT_KIND_UNKNOWN", "请选择报告类型：公共信用信息报告或专项信用报告", field="kind")
    chosen = [f for f in fields if f.strip()] if kind == "special" else []
    return ReportRequest.model_construct(kind=kind, fields=chosen,
                                         period_from=_day(period_from, "period_from") if kind == "special" else None,
                                         period_to=_day(period_to, "period_to") if kind == "special" else None)


def _pdf(report: CreditReport, content: bytes) -> Response:
    filename = f"{KIND_LABELS.get(report.kind, '信用报告')}_{report.number}.pdf"
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{report.number}.pdf\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store"})


def _flash(request: Request) -> str | None:
    return FLASHES.get(request.query_params.get("done", ""))


# --- public: verification ------------------------------------------------------------------------------------

VERIFY_DOC = ("multipart/form-data：file 为信用报告PDF（不超过20MB）。核验签章（报告是否被修改、由哪个平台出具），再查本平台"
              "登记簿（是否作废）。结果总是 200，status 说明结论；文件过大为 413 REPORT_FILE_TOO_LARGE。")


@public_api.post("/reports/verify", summary="核验信用报告（上传PDF）：真实有效、已被篡改、已作废或无法确认",
                 description=VERIFY_DOC)
def verify_api(file: UploadFile = File(..., description="信用报告PDF"),
               session: Session = Depends(get_read_db)) -> VerificationOut:
    return _verification(service.verify_file(session, _read_upload(file, MAX_REPORT_BYTES, "文件") or b""))


@public_api.get("/reports/{number}", summary="按报告编号查询本平台出具的信用报告（报告二维码所指）",
                response_model=VerificationOut)
def verify_number_api(request: Request, number: str = NUMBER, code: str = CHECK_CODE,
                      session: Session = Depends(get_read_db)) -> Response:
    return json_with_etag(request, _verification(service.verify_number(session, number, code)))


@public_api.get("/report-certificates", summary="本平台的信用报告签章证书（含已停用、已吊销的），供离线核验和跨区域互认",
                response_model=CertificateList)
def certificates_api(request: Request, session: Session = Depends(get_read_db)) -> Response:
    settings = get_settings()
    return json_with_etag(request, CertificateList(platform=settings.platform_name,
                                                   jurisdiction_code=settings.jurisdiction_code,
                                                   certificates=_certificates(session)))


@public_api.get("/report-certificates/current.pem", summary="本平台现用的签章证书（PEM）", response_class=Response,
                responses={200: {"content": {"application/x-pem-file": {}}}, 404: {"description": "尚未启用签章证书"}})
def current_certificate_api(session: Session = Depends(get_read_db)) -> Response:
    active = [k for k in service.own_keys(session) if _key_status(k) == "active"]
    if not active:
        raise NotFound("SIGNING_KEY_NONE", "本平台尚未启用信用报告签章证书")
    key = active[-1]
    return Response(key.certificate_pem, media_type="application/x-pem-file", headers={
        "Content-Disposition": f"attachment; filename=\"report-signing-{key.key_id}.pem\"",
        "Cache-Control": "no-cache"})


def _verify_page(request: Request, result: service.Verification | None = None, *, number: str = "", code: str = "",
                 error: DomainError | None = None, filename: str = "") -> Any:
    return render(request, "reports_verify.html", status_code=getattr(error, "status", 200), title="信用报告核验",
                  result=_verification(result) if result else None, number=number, code=code, error=error,
                  filename=filename,
                  tags=VERDICT_TAGS, max_mb=MAX_REPORT_BYTES // (1024 * 1024))


@router.get("/verify", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def verify_page(request: Request, number: str = Query("", max_length=64), code: str = Query("", max_length=16),
                session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    result = service.verify_number(session, number, code) if number.strip() else None
    return _verify_page(request, result, number=number.strip(), code=code.strip())


@router.post("/verify", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC)), Depends(public_rate_limit)])
def verify_upload_page(request: Request, file: UploadFile | None = File(None),
                       session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    try:
        content = _read_upload(file, MAX_REPORT_BYTES, "文件")
        if content is None:
            raise Invalid("REPORT_FILE_REQUIRED", "请选择要核验的信用报告PDF文件", field="file")
    except DomainError as error:
        return _verify_page(request, error=error)
    return _verify_page(request, service.verify_file(session, content), filename=(file.filename if file else "") or "")


# --- the subject's own reports ----------------------------------------------------------------------------------

OWN_API = "/api/v1/me/reports"


@router.post(OWN_API, summary="申请本主体的信用报告（公共信用信息报告或专项信用报告），出具并签章", status_code=201)
def request_api(body: OwnReportRequest, request: Request, actor: Actor = Depends(require(P.REPORTS_OWN)),
                session: Session = Depends(get_db)) -> ReportOut:
    _audited(request)
    report = _issue(request, session, actor, body.subject_code or _own_code(session, actor), body)
    return _reports_out(session, [report], OWN_API)[0]


@router.get(OWN_API, summary="本主体的信用报告（新的在前）")
def mine_api(limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
             actor: Actor = Depends(require(P.REPORTS_OWN)), session: Session = Depends(get_db)) -> ReportPage:
    total, found = service.reports(session, subject_id=actor.subject_id or 0, limit=limit, offset=offset)
    return ReportPage(total=total, reports=_reports_out(session, found, OWN_API))


@router.get(OWN_API + "/{number}/pdf", summary="下载本主体的信用报告（签章PDF）", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
@router.get("/me/reports/{number}/pdf", include_in_schema=False)
def mine_pdf(request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.REPORTS_OWN)),
                 session: Session = Depends(get_db)) -> Response:
    _audited(request)
    return _pdf(*service.report_file(session, actor, number))


def _mine_page(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
               error: DomainError | None = None) -> Any:
    _, found = service.reports(session, subject_id=actor.subject_id or 0, limit=500)
    return render(request, "reports_mine.html", status_code=getattr(error, "status", 200), title="我的信用报告",
                  subject=subjects.get(session, actor.subject_id or 0), reports=_reports_out(session, found, "/me/reports"),
                  form=form or {"kind": "general", "fields": []}, error=error, kinds=KIND_LABELS, flash=_flash(request),
                  latest=request.query_params.get("number", ""), **_field_choices(session))


@router.get("/me/reports", include_in_schema=False)
def mine_page(request: Request, actor: Actor = Depends(require(P.REPORTS_OWN)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _mine_page(request, session, actor)


@router.post("/me/reports", include_in_schema=False)
def request_page(request: Request, kind: str = Form(""), fields: list[str] = Form([]), period_from: str = Form(""),
                 period_to: str = Form(""), actor: Actor = Depends(require(P.REPORTS_OWN)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "fields": fields, "period_from": period_from, "period_to": period_to}

    def act() -> str:
        report = _issue(request, session, actor, _own_code(session, actor), _form_request(kind, fields, period_from, period_to))
        return f"/me/reports?done=issued&number={report.number}#r-{report.number}"

    return _form_post(request, session, actor, act, lambda e: _mine_page(request, session, actor, form=form, error=e))


# --- the credit authority: API ------------------------------------------------------------------------------------

# --- institutions, under the subject's grant (授权) -----------------------------------------------------------------

INSTITUTION_API = "/api/v1/authorised/reports"
GRANT = Query(..., min_length=1, max_length=40, description="授权编号（主体授予本机构、范围含“信用报告”的有效授权）")


class InstitutionReportRequest(ReportRequest):
    subject_code: str = Field(max_length=40, description="统一社会信用代码")
    grant: str = Field(min_length=1, max_length=40, description="授权编号（范围须含 report）")


@router.post(INSTITUTION_API, summary="经主体授权为其出具信用报告（银行等授权机构）", status_code=201,
             description="须持主体授予本机构、范围含 report 且在有效期内的授权；否则 403 GRANT_*（拒绝均留痕）。")
def institution_issue_api(body: InstitutionReportRequest, request: Request,
                          actor: Actor = Depends(require(P.GRANTS_QUERY)), session: Session = Depends(get_db)) -> ReportOut:
    _audited(request)
    report = _issue(request, session, actor, body.subject_code, body, grant=body.grant)
    return _reports_out(session, [report], INSTITUTION_API)[0]


@router.get(INSTITUTION_API, summary="本机构经授权取得的信用报告（新的在前）")
def institution_reports_api(limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
                            actor: Actor = Depends(require(P.GRANTS_QUERY)),
                            session: Session = Depends(get_db)) -> ReportPage:
    total, found = service.reports(session, institution_id=actor.institution_id or 0, limit=limit, offset=offset)
    return ReportPage(total=total, reports=_reports_out(session, found, INSTITUTION_API))


@router.get(INSTITUTION_API + "/{number}/pdf", summary="下载经授权取得的信用报告（授权须仍有效）", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def institution_pdf(request: Request, number: str = NUMBER, grant: str = GRANT,
                    actor: Actor = Depends(require(P.GRANTS_QUERY)), session: Session = Depends(get_db)) -> Response:
    _audited(request)
    return _pdf(*service.report_file(session, actor, number, grant))


INSTITUTION_PAGE = "/institution/reports"


def _institution_page(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
                      error: DomainError | None = None) -> Any:
    _, found = service.reports(session, institution_id=actor.institution_id or 0, limit=500)
    asked = {"subject_code": request.query_params.get("code", ""), "grant": request.query_params.get("grant", "")}
    return render(request, "reports_institution.html", status_code=getattr(error, "status", 200), title="经授权出具的信用报告",
                  reports=_reports_out(session, found, INSTITUTION_PAGE), error=error, kinds=KIND_LABELS,
                  form=form or {"kind": "general", "fields": [], **asked}, flash=_flash(request),
                  latest=request.query_params.get("number", ""), **_field_choices(session))


@router.get(INSTITUTION_PAGE, include_in_schema=False)
def institution_page(request: Request, actor: Actor = Depends(require(P.GRANTS_QUERY)),
                     session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _institution_page(request, session, actor)


@router.post(INSTITUTION_PAGE, include_in_schema=False)
def institution_request_page(request: Request, subject_code: str = Form(""), grant: str = Form(""), kind: str = Form(""),
                             fields: list[str] = Form([]), period_from: str = Form(""), period_to: str = Form(""),
                             actor: Actor = Depends(require(P.GRANTS_QUERY)),
                             session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"subject_code": subject_code.strip(), "grant": grant.strip(), "kind": kind, "fields": fields,
            "period_from": period_from, "period_to": period_to}

    def act() -> str:
        body = _form_request(kind, fields, period_from, period_to)
        report = _issue(request, session, actor, form["subject_code"], body, grant=form["grant"])
        return f"{INSTITUTION_PAGE}?done=issued&number={report.number}#r-{report.number}"

    return _form_post(request, session, actor, act, lambda e: _institution_page(request, session, actor, form=form, error=e))


@router.get(INSTITUTION_PAGE + "/{number}/pdf", include_in_schema=False)
def institution_pdf_page(request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.GRANTS_QUERY)),
                         session: Session = Depends(get_db)) -> Response:
    _audited(request)  # any live grant of the subject covering reports will do here
    return _pdf(*service.report_file(session, actor, number))


STAFF_API = "/api/v1/reports"


@router.get(STAFF_API, summary="已出具的信用报告（新的在前；subject_code 只看一个主体的）")
def issued_api(subject_code: str = Query("", max_length=40), limit: int = Query(PER_PAGE, ge=1, le=500),
               offset: int = Query(0, ge=0), _: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)) -> ReportPage:
    subject_id = subjects.by_code_or_fail(session, subject_code).id if subject_code.strip() else None
    total, found = service.reports(session, subject_id=subject_id, limit=limit, offset=offset)
    return ReportPage(total=total, reports=_reports_out(session, found, STAFF_API))


@router.post(STAFF_API, summary="为主体出具信用报告（窗口代办）", status_code=201)
def issue_api(body: AuthorityReportRequest, request: Request, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
              session: Session = Depends(get_db)) -> ReportOut:
    _audited(request)
    return _reports_out(session, [_issue(request, session, actor, body.subject_code, body)], STAFF_API)[0]


@router.get(STAFF_API + "/keys", summary="本平台的签章证书和已互认的其他平台证书")
def keys_api(_: Actor = Depends(require(P.REPORTS_MANAGE)), session: Session = Depends(get_db)) -> KeysOut:
    return _keys(session)


@router.post(STAFF_API + "/keys/rotate", summary="更换签章密钥（此后的报告用新密钥签章，旧报告仍可核验）", status_code=201)
def rotate_api(request: Request, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)) -> CertificateOut:
    _audited(request)
    key = service.rotate_key(session, actor)
    return next(c for c in _certificates(session) if c.key_id == key.key_id)


@router.post(STAFF_API + "/keys/{key_id}/revoke", summary="吊销签章证书（密钥可能泄露：其签署的报告全部作废）")
def revoke_key_api(body: ReasonIn, request: Request, key_id: str = KEY_ID,
                   actor: Actor = Depends(require(P.REPORTS_MANAGE)), session: Session = Depends(get_db)) -> CertificateOut:
    _audited(request)
    key = service.revoke_key(session, actor, key_id, body.reason)
    return next(c for c in _certificates(session) if c.key_id == key.key_id)


@router.get(STAFF_API + "/trusted", summary="已互认的其他平台签章证书（跨区域互认）")
def trusted_api(_: Actor = Depends(require(P.REPORTS_MANAGE)), session: Session = Depends(get_db)) -> list[TrustedOut]:
    return _trusted(session)


@router.post(STAFF_API + "/trusted", summary="互认其他平台的签章证书：其出具的报告在本平台核验为真实有效", status_code=201)
def recognise_api(body: TrustIn, request: Request, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                  session: Session = Depends(get_db)) -> TrustedOut:
    _audited(request)
    trusted = service.recognise(session, actor, body.certificate_pem, body.issuer, body.source)
    return next(t for t in _trusted(session) if t.key_id == trusted.key_id)


@router.get(STAFF_API + "/{number}", summary="一份信用报告的登记信息")
def report_api(number: str = NUMBER, _: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)) -> ReportOut:
    return _reports_out(session, [service.get_report(session, number)], STAFF_API)[0]


@router.get(STAFF_API + "/{number}/pdf", summary="下载信用报告（签章PDF）", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
@router.get("/reports/{number}/pdf", include_in_schema=False)
def report_pdf(request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                   session: Session = Depends(get_db)) -> Response:
    _audited(request)
    return _pdf(*service.report_file(session, actor, number))


@router.post(STAFF_API + "/{number}/revoke", summary="作废信用报告（如依据的数据有误）；核验时显示“已作废”")
def revoke_api(body: ReasonIn, request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)) -> ReportOut:
    _audited(request)
    return _reports_out(session, [service.revoke_report(session, actor, number, body.reason)], STAFF_API)[0]


# --- the credit authority: pages -----------------------------------------------------------------------------------

def _index_page(request: Request, session: Session, *, code: str = "", page: int = 1,
                form: dict[str, Any] | None = None, error: DomainError | None = None) -> Any:
    subject = subjects.by_code(session, code) if code.strip() else None
    total, found = (0, []) if code.strip() and subject is None else service.reports(
        session, subject_id=subject.id if subject else None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "reports_index.html", status_code=getattr(error, "status", 200), title="信用报告",
                  reports=_reports_out(session, found, "/reports"), total=total, page=page, per_page=PER_PAGE,
                  code=code.strip(), kinds=KIND_LABELS, form=form or {"kind": "general", "fields": []}, error=error,
                  **_field_choices(session))


@router.get("/reports", include_in_schema=False)
def index_page(request: Request, code: str = Query("", max_length=40), page: int = Query(1, ge=1),
               _: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _index_page(request, session, code=code, page=page)


@router.post("/reports", include_in_schema=False)
def issue_page(request: Request, subject_code: str = Form(""), kind: str = Form(""), fields: list[str] = Form([]),
               period_from: str = Form(""), period_to: str = Form(""), actor: Actor = Depends(require(P.REPORTS_MANAGE)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"subject_code": subject_code.strip(), "kind": kind, "fields": fields, "period_from": period_from,
            "period_to": period_to}

    def act() -> str:
        if not subject_code.strip():
            raise Invalid("REPORT_SUBJECT_REQUIRED", "请填写主体的统一社会信用代码", field="subject_code")
        report = _issue(request, session, actor, subject_code.strip(), _form_request(kind, fields, period_from, period_to))
        return f"/reports/{report.number}?done=issued"

    return _form_post(request, session, actor, act, lambda e: _index_page(request, session, form=form, error=e),
                      (*FORM_ERRORS, NotFound))


def _keys_page(request: Request, session: Session, *, form: dict[str, str] | None = None,
               error: DomainError | None = None, failed: str = "") -> Any:
    keys = _keys(session)
    return render(request, "reports_keys.html", status_code=getattr(error, "status", 200), title="签章证书与跨区域互认",
                  keys=keys, form=form or {}, error=error, failed=failed, flash=_flash(request),
                  tags={"active": "ok", "retired": "info", "revoked": "bad"})


@router.get("/reports/keys", include_in_schema=False)
def keys_page(request: Request, _: Actor = Depends(require(P.REPORTS_MANAGE)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _keys_page(request, session)


@router.post("/reports/keys/rotate", include_in_schema=False)
def rotate_page(request: Request, actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _audited(request)
    service.rotate_key(session, actor)
    return RedirectResponse("/reports/keys?done=rotated", status_code=303)


@router.post("/reports/keys/{key_id}/revoke", include_in_schema=False)
def revoke_key_page(request: Request, key_id: str = KEY_ID, reason: str = Form(""),
                    actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act() -> str:
        service.revoke_key(session, actor, key_id, reason)
        return "/reports/keys?done=key_revoked"

    return _form_post(request, session, actor, act, lambda e: _keys_page(request, session, error=e, failed=key_id))


@router.post(STAFF_API + "/trusted/{key_id}/revoke", summary="撤销互认（如对方平台已吊销该证书）：其签署的报告核验为已作废")
def revoke_trust_api(body: ReasonIn, request: Request, key_id: str = KEY_ID,
                     actor: Actor = Depends(require(P.REPORTS_MANAGE)), session: Session = Depends(get_db)) -> TrustedOut:
    _audited(request)
    service.revoke_trust(session, actor, key_id, body.reason)
    return next(t for t in _trusted(session) if t.key_id == key_id)


@router.post("/reports/trusted/{key_id}/revoke", include_in_schema=False)
def revoke_trust_page(request: Request, key_id: str = KEY_ID, reason: str = Form(""),
                      actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                      session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act() -> str:
        service.revoke_trust(session, actor, key_id, reason)
        return "/reports/keys?done=trust_revoked#recognised"

    return _form_post(request, session, actor, act, lambda e: _keys_page(request, session, error=e, failed=key_id))


@router.post("/reports/trusted", include_in_schema=False)
def recognise_page(request: Request, certificate_pem: str = Form(""), certificate: UploadFile | None = File(None),
                   issuer: str = Form(""), source: str = Form(""), actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"certificate_pem": certificate_pem[:MAX_CERTIFICATE_BYTES], "issuer": issuer.strip(), "source": source.strip()}

    def act() -> str:
        uploaded = _read_upload(certificate, MAX_CERTIFICATE_BYTES, "证书文件")
        pem = uploaded.decode("ascii", errors="replace") if uploaded is not None else certificate_pem.strip()
        if not pem:
            raise Invalid("CERTIFICATE_REQUIRED", "请粘贴对方平台公布的签章证书（PEM），或上传证书文件", field="certificate_pem")
        if len(form["issuer"]) < 2:
            raise Invalid("CERTIFICATE_ISSUER_REQUIRED", "请填写出具平台名称，如 苏州市公共信用信息平台", field="issuer")
        service.recognise(session, actor, pem[:MAX_CERTIFICATE_BYTES], form["issuer"], form["source"])
        return "/reports/keys?done=recognised#recognised"

    return _form_post(request, session, actor, act,
                      lambda e: _keys_page(request, session, form=form, error=e, failed="trust"),
                      (*FORM_ERRORS, FileTooLarge))


def _report_page(request: Request, session: Session, number: str, *, reason: str = "",
                 error: DomainError | None = None) -> Any:
    [report] = _reports_out(session, [service.get_report(session, number)], "/reports")
    return render(request, "reports_detail.html", status_code=getattr(error, "status", 200),
                  title=f"信用报告 {report.number}", r=report, reason=reason, error=error, flash=_flash(request),
                  **_field_choices(session))


@router.get("/reports/{number}", include_in_schema=False)
def report_page(request: Request, number: str = NUMBER, _: Actor = Depends(require(P.REPORTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _report_page(request, session, number)


@router.post("/reports/{number}/revoke", include_in_schema=False)
def revoke_page(request: Request, number: str = NUMBER, reason: str = Form(""),
                actor: Actor = Depends(require(P.REPORTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act() -> str:
        service.revoke_report(session, actor, number, reason)
        return f"/reports/{number}?done=revoked"

    return _form_post(request, session, actor, act,
                      lambda e: _report_page(request, session, number, reason=reason, error=e))

