"""Grants (授权) on the web and the API: the subject's grants, the institution's authorised queries,
the authority's oversight and cross-border reviews.

Refusals of authorised queries record themselves (``GrantRefused.record_apart``: audit entry
``grants.refused`` and the enumeration counter, in their own transaction); the other routes that
change something set ``request.state.audit_refusals = "grants"``. A refusal a page shows inline is
recorded here after the request's own changes were rolled back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.db import utcnow
from xinyong.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from xinyong.grants import service
from xinyong.grants.models import Grant
from xinyong.grants.schemas import STATUS_LABELS, GrantIn, GrantOut, ProfileOut, ReviewIn, ReviewOut, RevocationIn
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["信用主体授权"])
AREA = "grants"
FORM_ERRORS = (Invalid, Conflict)
STATUS_TAGS = {"live": "ok", "pending": "info", "expired": "warn", "revoked": "bad"}
DEFAULT_DAYS = 90
LABELS = {"institution_code": "被授权机构", "scope": "授权内容", "purpose": "授权用途", "starts_on": "起始日", "ends_on": "截止日",
          "scope_item": "信息", "reference": "评估（审批）文号", "valid_until": "有效期至", "note": "说明"}


def _audited(request: Request) -> None:
    request.state.audit_refusals = AREA


def _refused_inline(request: Request, session: Session, actor: Actor, error: DomainError) -> None:
    """Keep only the refusal: roll the attempt back, then record it (committed with the request)."""
    if hasattr(error, "record_apart"):
        session.rollback()
        error.record_apart(session)
    else:
        record_inline_refusal(request, session, actor, AREA, error)


class _Names:
    """Subject and institution names for a listing (one query each, however many grants)."""

    def __init__(self, session: Session, grants: list[Grant]) -> None:
        self.institutions = {i.id: i for i in access.institutions(session)}
        self.subjects = {s.id: s for s in subjects.by_ids(session, sorted({g.subject_id for g in grants}))}
        self.session = session

    def out(self, grant: Grant) -> GrantOut:
        subject, institution = self.subjects.get(grant.subject_id), self.institutions[grant.institution_id]
        status = service.status_of(grant)
        return GrantOut(number=grant.number, subject_code=service.subject_code_of(subject) if subject else "",
                        subject_name=service.display_name(subject) if subject else "",
                        institution_code=institution.code, institution_name=institution.name, scope=list(grant.scope),
                        scope_labels=[service.scope_label(self.session, s) for s in grant.scope], purpose=grant.purpose,
                        starts_on=grant.starts_on, ends_on=grant.ends_on, status=status,
                        status_label=STATUS_LABELS[status], created_at=grant.created_at, revoked_at=grant.revoked_at)


def _outs(session: Session, grants: list[Grant]) -> list[GrantOut]:
    names = _Names(session, grants)
    return [names.out(g) for g in grants]


def _subject_id(actor: Actor) -> int:
    if actor.subject_id is None:
        raise Forbidden("GRANT_SUBJECT_REQUIRED", "只有信用主体账号可以管理授权")
    return actor.subject_id


def _institution_id(actor: Actor) -> int:
    if actor.institution_id is None:
        raise Forbidden("GRANT_INSTITUTION_REQUIRED", "只有授权机构账号可以依授权查询")
    return actor.institution_id


def _sections(text: str | None) -> list[str] | None:
    parts = [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]
    return parts or None


# --- the subject: its grants ----------------------------------------------------------------------------

def _mine_view(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
               error: DomainError | None = None, flash: str | None = None, status_code: int = 200) -> Any:
    subject_id = _subject_id(actor)
    today = clock.today()
    return render(request, "grants_mine.html", status_code=status_code, title="我的授权",
                  subject=subjects.get(session, subject_id), grants=_outs(session, service.grants_of_subject(session, subject_id)),
                  institutions=access.institutions(session), options=service.scope_options(session),
                  form=form or {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=DEFAULT_DAYS)).isoformat(),
                                "scope": []},
                  max_months=service.rules(session).max_months, error=error, flash=flash, tags=STATUS_TAGS)


@router.get("/me/grants", include_in_schema=False)
def mine_page(request: Request, created: str | None = Query(None, max_length=24), revoked: str | None = Query(None, max_length=24),
              actor: Actor = Depends(require(P.GRANTS_OWN)), session: Session = Depends(get_db)) -> Any:
    flash = (f"已作出授权 {created}" if created else None) or (f"已撤销授权 {revoked}，被授权机构即时起不能再查询" if revoked else None)
    return _mine_view(request, session, actor, flash=flash)


@router.post("/me/grants", include_in_schema=False)
async def create_page(request: Request, actor: Actor = Depends(require(P.GRANTS_OWN)),
                      session: Session = Depends(get_db)) -> Any:
    _audited(request)
    raw = await request.form()
    form = {"institution_code": str(raw.get("institution_code") or ""), "scope": [str(s) for s in raw.getlist("scope")],
            "purpose": str(raw.get("purpose") or ""), "starts_on": str(raw.get("starts_on") or ""),
            "ends_on": str(raw.get("ends_on") or "")}
    try:
        data = parse_form(GrantIn, {**form, "starts_on": form["starts_on"] or None, "ends_on": form["ends_on"] or None}, "GRANT_FORM_INVALID", LABELS)
        grant = service.create_grant(session, actor, institution_code=data.institution_code, scope=data.scope,
                                     purpose=data.purpose, ends_on=data.ends_on, starts_on=data.starts_on)
    except FORM_ERRORS as error:
        _refused_inline(request, session, actor, error)
        return _mine_view(request, session, actor, form=form, error=error, status_code=422)
    return RedirectResponse(f"/me/grants?created={grant.number}", status_code=303)


@router.post("/me/grants/{number}/revoke", include_in_schema=False)
async def revoke_page(number: str, request: Request, actor: Actor = Depends(require(P.GRANTS_OWN)),
                      session: Session = Depends(get_db)) -> Any:
    _audited(request)
    raw = await request.form()
    _subject_id(actor)
    try:
        grant = service.revoke_grant(session, actor, number, str(raw.get("reason") or ""))
    except FORM_ERRORS as error:
        _refused_inline(request, session, actor, error)
        return _mine_view(request, session, actor, error=error, status_code=409)
    return RedirectResponse(f"/me/grants?revoked={grant.number}", status_code=303)


@router.get("/api/v1/me/grants", summary="本主体作出的授权")
def mine_api(actor: Actor = Depends(require(P.GRANTS_OWN)), session: Session = Depends(get_db)) -> list[GrantOut]:
    return _outs(session, service.grants_of_subject(session, _subject_id(actor)))


@router.post("/api/v1/me/grants", summary="授权机构查询本主体的信用信息（范围、用途、期限）", status_code=201)
def create_api(body: GrantIn, request: Request, actor: Actor = Depends(require(P.GRANTS_OWN)),
               session: Session = Depends(get_db)) -> GrantOut:
    _audited(request)
    _subject_id(actor)
    grant = service.create_grant(session, actor, institution_code=body.institution_code, scope=body.scope,
                                 purpose=body.purpose, ends_on=body.ends_on, starts_on=body.starts_on)
    return _outs(session, [grant])[0]


@router.post("/api/v1/me/grants/{number}/revocation", summary="撤销授权（即时生效）")
def revoke_api(number: str, request: Request, body: RevocationIn | None = None,
               actor: Actor = Depends(require(P.GRANTS_OWN)), session: Session = Depends(get_db)) -> GrantOut:
    _audited(request)
    _subject_id(actor)
    grant = service.revoke_grant(session, actor, number, body.reason if body else "")
    return _outs(session, [grant])[0]


# --- the institution: grants received, authorised queries --------------------------------------------------

@router.get("/api/v1/authorised/subjects/{code}", summary="依授权查询信用主体（只返回授权范围内的信息，个人信息脱敏）")
def profile_api(code: str, request: Request, grant: str = Query(..., max_length=40, description="授权编号"),
                sections: str | None = Query(None, max_length=1000,
                                             description="只查询其中几项（逗号分隔，如 registration,item:TAX_CREDIT）；超出授权范围的被拒绝"),
                actor: Actor = Depends(require(P.GRANTS_QUERY)), session: Session = Depends(get_db)) -> ProfileOut:
    _audited(request)
    profile = service.authorised_profile(session, actor, code, grant, sections=_sections(sections))
    return ProfileOut(grant=grant.strip().upper(), subject_code=code.strip().upper(), queried_at=utcnow(),
                      sections=sorted(_served(profile)), profile=profile)


def _served(profile: dict[str, Any]) -> list[str]:
    served = [k for k in ("registration", "lists") if k in profile]
    served += [f"item:{c}" for c in profile.get("items", {})] + [f"grade:{m}" for m in profile.get("grades", {})]
    return served


@router.get("/api/v1/institution/grants", summary="本机构收到的授权")
def received_api(actor: Actor = Depends(require(P.GRANTS_QUERY)), session: Session = Depends(get_db)) -> list[GrantOut]:
    return _outs(session, service.grants_of_institution(session, _institution_id(actor)))


@router.get("/institution/grants", include_in_schema=False)
def received_page(request: Request, code: str = Query("", max_length=40), grant: str = Query("", max_length=40),
                  sections: str = Query("", max_length=1000), actor: Actor = Depends(require(P.GRANTS_QUERY)),
                  session: Session = Depends(get_db)) -> Any:
    institution_id = _institution_id(actor)
    profile, error = None, None
    if code.strip() and grant.strip():
        _audited(request)
        try:
            profile = service.authorised_profile(session, actor, code, grant, sections=_sections(sections))
        except (DomainError) as refused:
            if isinstance(refused, NotFound):
                raise
            _refused_inline(request, session, actor, refused)
            error = refused
    grants = service.grants_of_institution(session, institution_id)
    return render(request, "grants_institution.html", status_code=200 if error is None else error.status,
                  title="授权查询", institution=service.get_institution(session, institution_id),
                  grants=_outs(session, grants), query={"code": code, "grant": grant, "sections": sections},
                  profile=profile, error=error, tags=STATUS_TAGS,
                  labels={s: service.scope_label(session, s) for s in _served(profile or {})})


# --- the authority: oversight and cross-border reviews -----------------------------------------------------

@router.get("/grants", include_in_schema=False)
def oversight_page(request: Request, actor: Actor = Depends(require(P.GRANTS_OVERSIGHT)),
                   session: Session = Depends(get_db)) -> Any:
    grants = service.all_grants(session)
    institutions = {i.id: i for i in access.institutions(session)}
    return render(request, "grants_oversight.html", title="授权查询监管", grants=_outs(session, grants),
                  served=service.queries(session, outcome="served", limit=100),
                  refused=service.queries(session, outcome="refused", limit=100), alerts=service.alerts(session),
                  institutions=institutions, now=utcnow(), tags=STATUS_TAGS,
                  numbers={g.id: g.number for g in grants})


def _review_out(review: Any, institution: Any) -> ReviewOut:
    return ReviewOut(institution_code=institution.code, institution_name=institution.name, scope_item=review.scope_item,
                     approved=review.approved, reference=review.reference, valid_until=review.valid_until,
                     note=review.note, decided_at=review.decided_at, decided_by=review.decided_by)


def _reviews_view(request: Request, session: Session, *, form: dict[str, Any] | None = None,
                  error: DomainError | None = None, flash: str | None = None, status_code: int = 200) -> Any:
    return render(request, "grants_cross_border.html", status_code=status_code, title="出境评估",
                  reviews=[_review_out(r, i) for r, i in service.reviews(session)],
                  foreign=[i for i in access.institutions(session) if i.foreign], options=service.scope_options(session),
                  classes={code: service.cross_border_class(session, code) for code, _label in service.scope_options(session)},
                  form=form or {}, error=error, flash=flash)


@router.get("/grants/cross-border", include_in_schema=False)
def reviews_page(request: Request, recorded: str | None = Query(None, max_length=60),
                 actor: Actor = Depends(require(P.GRANTS_OVERSIGHT)), session: Session = Depends(get_db)) -> Any:
    return _reviews_view(request, session, flash=f"已登记出境评估结论：{recorded}" if recorded else None)


@router.post("/grants/cross-border", include_in_schema=False)
async def review_page(request: Request, actor: Actor = Depends(require(P.GRANTS_OVERSIGHT)),
                      session: Session = Depends(get_db)) -> Any:
    _audited(request)
    raw = await request.form()
    form = {k: str(raw.get(k) or "") for k in ("institution_code", "scope_item", "approved", "reference", "valid_until",
                                               "note")}
    try:
        data = parse_form(ReviewIn, {**form, "approved": form["approved"] == "yes", "valid_until": form["valid_until"] or None}, "GRANT_FORM_INVALID", LABELS)
        review = service.record_review(session, actor, **data.model_dump())
    except FORM_ERRORS as error:
        _refused_inline(request, session, actor, error)
        return _reviews_view(request, session, form=form, error=error, status_code=422)
    return RedirectResponse(f"/grants/cross-border?recorded={review.scope_item}", status_code=303)


@router.get("/api/v1/grants/cross-border", summary="出境评估结论（境外机构 × 授权范围）")
def reviews_api(actor: Actor = Depends(require(P.GRANTS_OVERSIGHT)), session: Session = Depends(get_db)) -> list[ReviewOut]:
    return [_review_out(r, i) for r, i in service.reviews(session)]


@router.post("/api/v1/grants/cross-border", summary="登记出境评估结论（同意或不同意）", status_code=201)
def review_api(body: ReviewIn, request: Request, actor: Actor = Depends(require(P.GRANTS_OVERSIGHT)),
               session: Session = Depends(get_db)) -> ReviewOut:
    _audited(request)
    review = service.record_review(session, actor, **body.model_dump())
    return _review_out(review, service.get_institution(session, review.institution_id))

