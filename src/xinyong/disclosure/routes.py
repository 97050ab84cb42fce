"""The public portal's pages and its JSON API (公开接口). No login; API rate-limited per client."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.disclosure import service
from xinyong.disclosure.schemas import PublicityPage, PublicRecord, PublicSubject, SearchPage
from xinyong.errors import DomainError, Invalid
from xinyong.web.caching import conditional_json, json_with_etag
from xinyong.web.deps import get_read_db, require
from xinyong.web.ratelimit import public_rate_limit
from xinyong.web.templating import render

PUBLIC = [Depends(require(P.PUBLIC))]
API = [*PUBLIC, Depends(public_rate_limit)]
RECORD_ID = Path(ge=1, le=2_147_483_647, description="信用记录编号")
API_RESPONSES: dict[int | str, dict[str, str]] = {
    304: {"description": "未变化（If-None-Match 与 ETag 相同）"},
    404: {"description": "不存在或不在公示期内"},
    422: {"description": "参数错误（错误码与中文说明）"},
    429: {"description": "请求过于频繁；Retry-After 头给出需等待的秒数"},
}

api = APIRouter(prefix="/api/v1/public", tags=["信用信息公示（公开接口）"], dependencies=API, responses=API_RESPONSES)
pages = APIRouter(dependencies=PUBLIC, include_in_schema=False)


def _day(value: str | None, field: str) -> date | None:
    """Dates from query strings, where HTML forms send empty fields as ''."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("DATE_INVALID", f"日期格式应为 YYYY-MM-DD，收到“{value[:20]}”", field=field) from None


def _publicity_query(department: str | None, region: str | None, date_from: str | None, date_to: str | None,
                     category: str | None) -> service.PublicityQuery:
    return service.PublicityQuery(department=department or None, region=region or None,
                                  date_from=_day(date_from, "date_from"), date_to=_day(date_to, "date_to"),
                                  category=category or None)


# --- API -------------------------------------------------------------------------------------------

@api.get("/search", summary="信用主体查询（名称、统一社会信用代码、拼音首字母）", response_model=SearchPage)
def search_api(request: Request, q: str = Query(..., description="查询内容，至少1个字，最多60个字符"),
               page: int = Query(1), per_page: int = Query(20), session: Session = Depends(get_read_db)) -> Response:
    return json_with_etag(request, service.search(session, q, page=page, per_page=per_page))


@api.get("/subjects/{code}", summary="主体信用信息公示（登记信息与公示期内的信用记录）", response_model=PublicSubject)
def subject_api(request: Request, code: str, session: Session = Depends(get_read_db)) -> Response:
    page = service.subject_page_cached(session, code, request.app.state.subject_pages)
    return conditional_json(request, page.body, page.etag)


@api.get("/records/{record_id}", summary="一条公示中的信用记录", response_model=PublicRecord)
def record_api(request: Request, record_id: int = RECORD_ID, session: Session = Depends(get_read_db)) -> Response:
    return json_with_etag(request, service.record_page(session, record_id))


@api.get("/publicity/{kind}", summary="双公示：最新行政许可（licences）或行政处罚（penalties）", response_model=PublicityPage)
def publicity_api(request: Request, kind: str, department: str | None = Query(None, description="部门代码"),
                  region: str | None = Query(None, description="行政区划代码或前缀，如 3201"),
                  date_from: str | None = Query(None, description="决定日期起，YYYY-MM-DD"),
                  date_to: str | None = Query(None, description="决定日期止，YYYY-MM-DD"),
                  category: str | None = Query(None, description="许可类别或处罚类别"),
                  page: int = Query(1), per_page: int = Query(20), session: Session = Depends(get_read_db)) -> Response:
    query = _publicity_query(department, region, date_from, date_to, category)
    return json_with_etag(request, service.publicity(session, kind, query, page=page, per_page=per_page))


# --- pages -----------------------------------------------------------------------------------------

@pages.get("/search")
def search_page(request: Request, q: str = "", page: int = 1, session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    results, problem = None, None
    if q.strip():
        try:
            results = service.search(session, q, page=page)
        except DomainError as error:
            problem = error.message
    return render(request, "public_search.html", title="信用主体查询", q=q, results=results, problem=problem)


@pages.get("/credit/{code}")
def subject_page(request: Request, code: str, session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    subject = service.subject_page(session, code)
    return render(request, "public_subject.html", title=subject.name, subject=subject)


@pages.get("/publicity/records/{record_id}")
def record_page(request: Request, record_id: int = RECORD_ID, session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    record = service.record_page(session, record_id)
    return render(request, "public_record.html", title=record.title, record=record)


@pages.get("/publicity/{kind}")
def publicity_page(request: Request, kind: str, department: str = "", region: str = "", date_from: str = "",  # type: ignore[no-untyped-def]
                   date_to: str = "", category: str = "", page: int = 1, session: Session = Depends(get_read_db)):
    filters = {"department": department, "region": region, "date_from": date_from, "date_to": date_to,
               "category": category}
    listing = service.publicity(session, kind, _publicity_query(**filters), page=page)
    return render(request, "public_publicity.html", title=f"{listing.title}公示", listing=listing, filters=filters,
                  choices=service.filter_choices(session, kind))
