"""FastAPI factory: mounts each context's router, templates, static files and error handling."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong import __version__
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import Settings, get_settings, use_settings
from xinyong.db import read_session_factory, session_factory
from xinyong.disclosure.cache import PageCache
from xinyong.disclosure.fastpath import CachedSubjectPages
from xinyong.errors import DomainError, Forbidden, NotAuthenticated, NotFound, RateLimited
from xinyong.web.forms import refusal_detail
from xinyong.web.ratelimit import RateLimiter
from xinyong.web.templating import render

log = logging.getLogger("xinyong")
STATIC = Path(__file__).resolve().parent / "web" / "static"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _record_denial(request: Request, error: DomainError, action: str = "access.denied") -> None:
    """Refused access is security-relevant: keep it in the audit chain, in its own transaction
    (the request's own transaction has been rolled back: the refusal changed nothing else)."""
    actor: Actor = getattr(request.state, "actor", None) or Actor.anonymous()
    session = request.app.state.session_factory()
    try:
        audit.append(session, actor, action, object_type="route", object_id=request.url.path[:64],
                     detail=refusal_detail(request, error))
        session.commit()
    finally:
        session.close()


def _record_apart(request: Request, error: DomainError) -> None:
    """A refusal that records itself (grants: audit entry and enumeration counter), in its own transaction."""
    session = request.app.state.session_factory()
    try:
        error.record_apart(session)  # type: ignore[attr-defined]
        session.commit()
    except Exception:  # the refusal is answered even if recording it fails
        log.exception("could not record refusal %s", error.code)
        session.rollback()
    finally:
        session.close()


async def domain_error(request: Request, error: DomainError) -> Response:
    log.info("refused %s %s: %s", request.method, request.url.path, error)
    if hasattr(error, "record_apart"):
        _record_apart(request, error)
    elif isinstance(error, NotAuthenticated | Forbidden) and error.code != "AUTH_FAILED":
        _record_denial(request, error)
    elif (area := getattr(request.state, "audit_refusals", None)) is not None:
        _record_denial(request, error, f"{area}.refused")  # e.g. a repair application refused: an audited attempt
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
    if _wants_json(request):
        if error.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"error": error.as_dict()}, status_code=error.status, headers=headers)
    if isinstance(error, NotAuthenticated) and error.code == "AUTH_REQUIRED":
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    response = render(request, "error.html", status_code=error.status, error=error)
    response.headers.update(headers)
    return response


async def validation_error(request: Request, error: RequestValidationError) -> Response:
    problems = [{"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "code": f"REQUEST_{e['type'].upper()}",
                 "message": e["msg"]} for e in error.errors()]
    body = DomainError("REQUEST_INVALID", "请求格式不正确：" + "；".join(f"{p['field']} {p['message']}" for p in problems),
                       problems=problems)
    if _wants_json(request):
        return JSONResponse({"error": body.as_dict()}, status_code=422)
    body.status = 422
    return render(request, "error.html", status_code=422, error=body)


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    messages = {404: ("NOT_FOUND", "页面不存在"), 405: ("METHOD_NOT_ALLOWED", "不支持的请求方法")}
    code, message = messages.get(error.status_code, ("HTTP_ERROR", str(error.detail)))
    body = DomainError(code, message)
    body.status = error.status_code
    if _wants_json(request):
        return JSONResponse({"error": body.as_dict()}, status_code=error.status_code)
    return render(request, "error.html", status_code=error.status_code, error=body)


def _out_of_range(error: Exception) -> bool:
    """A number in the request beyond what the database holds, e.g. ``/records/99999999999999999999``
    (SQLite: OverflowError when binding it; PostgreSQL: SQLSTATE 22003 numeric_value_out_of_range)."""
    if isinstance(error, OverflowError):
        return "SQLite INTEGER" in str(error)  # other overflows are bugs, answered as such
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == "22003"


async def out_of_range(request: Request, error: Exception) -> Response:
    """No object has such an id: an answer, not a crash. Any other database error goes on to ``server_error``."""
    if not _out_of_range(error):
        raise error
    return await domain_error(request, NotFound("NUMBER_OUT_OF_RANGE", "编号或数值超出范围：不存在这样的对象"))


async def server_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = DomainError("INTERNAL_ERROR", "系统内部错误，请稍后再试或联系管理员")
    body.status = 500
    if _wants_json(request):
        return JSONResponse({"error": body.as_dict()}, status_code=500)
    return render(request, "error.html", status_code=500, error=body)


def _configure_logging() -> None:
    """Refusals and errors go to stderr with the server's own log lines."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def create_app(settings: Settings | None = None) -> FastAPI:
    _configure_logging()
    if settings is not None:
        use_settings(settings)
    settings = get_settings()
    app = FastAPI(title=f"{settings.platform_name} 接口", version=__version__,
                  description="公共信用信息平台：归集、存储、评价、应用、退出（采存评用退）。",
                  docs_url=None, redoc_url=None)
    app.state.session_factory = session_factory(settings)
    app.state.read_session_factory = read_session_factory(settings)
    app.state.subject_pages = PageCache()
    app.state.public_rate_limiter = RateLimiter(settings.public_rate_limit) if settings.public_rate_limit else None
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def same_origin_writes(request: Request, call_next):  # type: ignore[no-untyped-def]
        # Browser form posts must come from our own pages (CSRF). API clients send no Origin.
        origin = request.headers.get("origin")
        if request.method in _UNSAFE and origin and urlsplit(origin).netloc != request.headers.get("host"):
            return JSONResponse({"error": {"code": "CROSS_ORIGIN", "message": "拒绝跨站提交"}}, status_code=403)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(CachedSubjectPages, security_headers=SECURITY_HEADERS)  # outermost: cache hits skip the rest
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DBAPIError, out_of_range)
    app.add_exception_handler(Exception, server_error)

    from xinyong.access.routes import api as access_api
    from xinyong.access.routes import pages as access_pages
    from xinyong.audit.routes import router as audit_router
    from xinyong.catalogue.routes import router as catalogue_router
    from xinyong.commitments.routes import router as commitments_router
    from xinyong.disclosure.routes import api as disclosure_api
    from xinyong.disclosure.routes import pages as disclosure_pages
    from xinyong.evaluation.routes import router as evaluation_router
    from xinyong.evaluation.supervision_routes import router as supervision_router
    from xinyong.feed.routes import router as feed_router
    from xinyong.grants.routes import router as grants_router
    from xinyong.ingest.routes import router as ingest_router
    from xinyong.loans.routes import router as loans_router
    from xinyong.notifications.routes import router as notifications_router
    from xinyong.operation.routes import router as operation_router
    from xinyong.partners.routes import router as partners_router
    from xinyong.policy.calendar_routes import router as calendar_router
    from xinyong.policy.routes import router as policy_router
    from xinyong.quality.routes import router as quality_router
    from xinyong.records.routes import router as records_router
    from xinyong.repair.routes import router as repair_router
    from xinyong.reports.routes import public_api as reports_public_api
    from xinyong.reports.routes import router as reports_router
    from xinyong.sanctions.routes import public_api as sanctions_public_api
    from xinyong.sanctions.routes import router as sanctions_router
    from xinyong.sharing.routes import router as sharing_router
    from xinyong.subjects.routes import router as subjects_router
    from xinyong.web.routes import router as web_router

    for router in (web_router, disclosure_pages, disclosure_api, access_pages, access_api, catalogue_router, subjects_router, records_router,
                   ingest_router, quality_router, evaluation_router, supervision_router, sanctions_router,
                   sanctions_public_api, feed_router, policy_router, calendar_router, audit_router, notifications_router,
                   commitments_router, repair_router, reports_public_api, reports_router, loans_router, grants_router,
                   sharing_router, operation_router, partners_router):
        app.include_router(router)
    return app
