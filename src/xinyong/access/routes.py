"""Login, logout, own account and tokens, user administration, the institution portal."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from xinyong.access import service
from xinyong.access.permissions import ROLE_LABELS, ROLE_PERMISSIONS, P, Role
from xinyong.access.schemas import Me, TokenIn, TokenOut
from xinyong.actor import Actor
from xinyong.config import get_settings
from xinyong.db import utcnow
from xinyong.errors import DomainError
from xinyong.subjects import service as subjects
from xinyong.web.deps import SESSION_COOKIE, get_db, require
from xinyong.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["账号与令牌"])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form cannot bounce users elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/me"
    return target


@pages.get("/login", dependencies=[Depends(require(P.PUBLIC))])
def login_form(request: Request, next: str | None = None):  # type: ignore[no-untyped-def]
    return render(request, "login.html", title="登录", next=_safe_next(next))


@pages.post("/login", dependencies=[Depends(require(P.PUBLIC))])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/me"),
          session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        user = service.authenticate(session, username, password)
    except DomainError as error:
        session.commit()  # keep the audit entry of the failed attempt
        return render(request, "login.html", status_code=401, title="登录", next=_safe_next(next),
                      error=error.message, username=username)
    token = service.start_session(session, user, get_settings().session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        max_age=get_settings().session_hours * 3600)
    return response


@pages.post("/logout", dependencies=[Depends(require(P.PUBLIC))])
def logout(request: Request, session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    if token := request.cookies.get(SESSION_COOKIE):
        service.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _account_context(session: Session, actor: Actor) -> dict[str, object]:
    user = service.get_user(session, actor.user_id or 0)
    context: dict[str, object] = {"user": user, "tokens": service.tokens_of(session, user.id),
                                  "scopes": sorted(str(p) for p in ROLE_PERMISSIONS[Role(user.role)])}
    if user.department_id:
        context["department"] = service.get_department(session, user.department_id)
    if user.subject_id:
        context["subject"] = subjects.get(session, user.subject_id)
    return context


@pages.get("/me")
def account(request: Request, actor: Actor = Depends(require(P.SIGNED_IN)),
            session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "account.html", title="我的账号", **_account_context(session, actor))


@pages.post("/me/tokens")
def create_token_page(request: Request, name: str = Form(""), scopes: list[str] = Form(default=[]),
                      actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    user = service.get_user(session, actor.user_id or 0)
    _token, raw = service.issue_token(session, actor, user, name.strip() or "未命名令牌", scopes,
                                     utcnow() + timedelta(days=90))
    return render(request, "account.html", title="我的账号", new_token=raw, **_account_context(session, actor))


@pages.post("/me/email")
def set_email_page(request: Request, email: str = Form(""), actor: Actor = Depends(require(P.SIGNED_IN)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        service.set_email(session, actor, actor.user_id or 0, email)
    except DomainError as error:
        session.rollback()
        return render(request, "account.html", status_code=422, title="我的账号", email_error=error,
                      **_account_context(session, actor))
    return RedirectResponse("/me", status_code=303)


@pages.post("/me/tokens/{token_id}/revoke")
def revoke_token_page(token_id: int, actor: Actor = Depends(require(P.SIGNED_IN)),
                      session: Session = Depends(get_db)) -> RedirectResponse:
    service.revoke_token(session, actor, token_id)
    return RedirectResponse("/me", status_code=303)


@pages.get("/admin/users")
def users_page(request: Request, actor: Actor = Depends(require(P.USERS_MANAGE)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _users_view(request, session)


def _users_view(request: Request, session: Session, **extra: object):  # type: ignore[no-untyped-def]
    return render(request, "users.html", title="用户管理", users=service.users(session),
                  departments=service.departments(session), institutions=service.institutions(session),
                  roles=ROLE_LABELS, **extra)


@pages.post("/admin/users")
def create_user_page(request: Request, username: str = Form(""), display_name: str = Form(""),
                     password: str = Form(""), role: str = Form(""), department_id: str = Form(""),
                     subject_code: str = Form(""), institution_id: str = Form(""), email: str = Form(""),
                     actor: Actor = Depends(require(P.USERS_MANAGE)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        subject_id = subjects.by_code_or_fail(session, subject_code).id if subject_code.strip() else None
        user = service.create_user(session, actor, service.NewUser(
            username=username.strip(), password=password, role=role, display_name=display_name.strip() or username,
            department_id=int(department_id) if department_id else None, subject_id=subject_id,
            institution_id=int(institution_id) if institution_id else None, email=email or None))
    except DomainError as error:
        session.rollback()
        return _users_view(request, session, error=error)
    return _users_view(request, session, flash=f"已创建用户 {user.username}")


@pages.post("/admin/users/{user_id}/active")
def toggle_user(user_id: int, active: bool = Form(...), actor: Actor = Depends(require(P.USERS_MANAGE)),
                session: Session = Depends(get_db)) -> RedirectResponse:
    service.set_active(session, actor, user_id, active)
    return RedirectResponse("/admin/users", status_code=303)


@pages.get("/institution")
def institution_portal(request: Request, actor: Actor = Depends(require(P.INSTITUTION_PORTAL)),
                       session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    institution = next(i for i in service.institutions(session) if i.id == actor.institution_id)
    return render(request, "institution.html", title="机构服务", institution=institution,
                  **_account_context(session, actor))


# --- API ------------------------------------------------------------------------------------------

@api.get("/me", summary="当前账号", response_model=Me)
def me(actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)) -> Me:
    user = service.get_user(session, actor.user_id or 0)
    permissions = sorted(str(p) for p in ROLE_PERMISSIONS[Role(user.role)])
    if actor.scopes is not None:
        permissions = sorted(set(permissions) & actor.scopes)
    return Me(username=user.username, display_name=user.display_name, role=user.role,
              role_label=ROLE_LABELS[user.role], permissions=permissions)


@api.post("/me/tokens", summary="签发接口令牌", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, actor: Actor = Depends(require(P.SIGNED_IN)),
                 session: Session = Depends(get_db)) -> TokenOut:
    user = service.get_user(session, actor.user_id or 0)
    if actor.scopes is not None and not set(body.scopes) <= actor.scopes:
        from xinyong.errors import Forbidden

        raise Forbidden("TOKEN_SCOPE_ESCALATION", "令牌不能签发超出自身权限范围的新令牌")
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, raw = service.issue_token(session, actor, user, body.name, body.scopes, expires)
    return TokenOut(token=raw, prefix=token.prefix, scopes=token.scopes)
