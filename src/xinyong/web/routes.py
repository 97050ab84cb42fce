"""The portal's home page and health check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.catalogue import service as catalogue
from xinyong.disclosure import service as disclosure
from xinyong.records import service as records
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, get_read_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["门户"])


@router.get("/", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def home(request: Request, session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    stats = {"subjects": subjects.count(session), "records": records.count(session),
             "catalogue_items": len(catalogue.list_items(session)), "departments": len(access.departments(session))}
    latest = [disclosure.publicity(session, kind, disclosure.PublicityQuery(), per_page=6, counted=False)
              for kind in disclosure.publicity_kinds(session)]
    return render(request, "home.html", stats=stats, latest=latest)


@router.get("/docs", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from vendored files: the API documentation must work offline."""
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} - 接口文档",
                               swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                               swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png")


@router.get("/healthz", summary="健康检查", dependencies=[Depends(require(P.PUBLIC))])
def healthz(session: Session = Depends(get_db)) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok", "database": session.get_bind().dialect.name}
