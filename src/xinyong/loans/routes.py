"""信易贷: the public product list, the small firm's page and API, the bank's pages and API, the
authority's dashboard and statistics.

Every state-changing route asks for its refusals to be audited (``request.state.audit_refusals``);
form refusals shown inline are audited here after the refused change was rolled back (``_refused``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import xlsxwriter
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import Conflict, DomainError, Invalid
from xinyong.loans import service
from xinyong.loans.schemas import (
    PRODUCT_STATUS_LABELS,
    STATUS_LABELS,
    TARGET_KINDS,
    ApplicationIn,
    ApplicationOut,
    ApplicationsPage,
    DecisionIn,
    DisbursementIn,
    Figures,
    ProductIn,
    ProductOut,
    ProfileOut,
    Statistics,
    WithdrawIn,
)
from xinyong.subjects import service as subjects
from xinyong.subjects.kinds import INDUSTRIES, kind_label
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["信易贷"])
AUDIT_AREA = "loan"
FORM_ERRORS = (Invalid, Conflict)  # shown inline (and audited); refusals (403) and missing objects go to the error page
PER_PAGE = 50
STATUS_PATTERN = f"^$|^({'|'.join(STATUS_LABELS)})$"
LABELS = {"product": "产品", "amount": "申请金额", "term_months": "期限", "purpose": "资金用途", "name": "产品名称",
          "description": "产品说明", "max_amount": "最高额度", "rate_min": "利率下限", "rate_max": "利率上限",
          "unsecured": "信用贷款", "target_kinds": "面向主体", "outcome": "审批结果", "granted_amount": "授信金额",
          "rate": "年化利率", "first_loan": "首贷户", "reason": "理由", "disbursed_on": "放款日期"}
STATUS_TAGS = {"submitted": "info", "approved": "ok", "rejected": "bad", "withdrawn": "muted"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _audited(request: Request) -> None:
    request.state.audit_refusals = AUDIT_AREA


def _attempt(request: Request, session: Session, actor: Actor, model: type[BaseModel], form: dict[str, Any],
             act: Callable[[Any], Any], again: Callable[[DomainError], Any]) -> Any:
    """A form post: parse it (empty fields as absent) and ``act`` on it, or show the page ``again`` with the refusal."""
    _audited(request)
    try:
        return act(parse_form(model, {name: value for name, value in form.items() if value not in ("", None)}, "LOAN_FORM_INVALID", LABELS))
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, AUDIT_AREA, error)
        return again(error)


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value.strip())


def _product_out(view: service.ProductView) -> ProductOut:
    p = view.product
    return ProductOut(number=p.number, bank_code=view.bank.code, bank=view.bank.name, name=p.name, description=p.description,
                      max_amount=p.max_amount, term_months=p.term_months, rate_min=p.rate_min, rate_max=p.rate_max,
                      unsecured=p.unsecured, target_kinds=list(p.target_kinds), status=p.status,  # type: ignore[arg-type]
                      status_label=PRODUCT_STATUS_LABELS[p.status], created_at=p.created_at, withdrawn_at=p.withdrawn_at)


def _out(view: service.ApplicationView) -> ApplicationOut:
    a = view.application
    return ApplicationOut(number=a.number, product=view.product.number, product_name=view.product.name,
                          bank_code=view.bank.code, bank=view.bank.name, subject_code=view.subject_code,
                          subject_name=view.subject_name, subject_kind=a.subject_kind, industry=a.industry, amount=a.amount,
                          term_months=a.term_months, purpose=a.purpose, grant_number=a.grant_number,
                          status=a.status, status_label=view.status_label, applied_at=a.applied_at,  # type: ignore[arg-type]
                          decided_at=a.decided_at, decided_by=a.decided_by, granted_amount=a.granted_amount,
                          granted_rate=a.granted_rate, granted_term_months=a.granted_term_months,
                          granted_unsecured=a.granted_unsecured, first_loan=a.first_loan, reject_reason=a.reject_reason,
                          disbursed_on=a.disbursed_on, withdrawn_at=a.withdrawn_at)


def _shown(session: Session, actor: Actor, number: str) -> ApplicationOut:
    return _out(service.view_for(session, actor, number))


def _product_shown(session: Session, number: str) -> ProductOut:
    product = service.get_product(session, number)
    return _product_out(service.ProductView(product, service.institutions_by_id(session)[product.institution_id]))


# --- public: the products ------------------------------------------------------------------------------------

@router.get("/api/v1/loans/products", summary="在售的信易贷产品（公开）")
def products_api(session: Session = Depends(get_db), _: Actor = Depends(require(P.PUBLIC))) -> list[ProductOut]:
    return [_product_out(v) for v in service.products(session)]


@router.get("/loans/products", include_in_schema=False)
def products_page(request: Request, session: Session = Depends(get_db),
                  actor: Actor = Depends(require(P.PUBLIC))):  # type: ignore[no-untyped-def]
    return render(request, "loans_products.html", title="信易贷产品", views=service.products(session),
                  scope=service.profile_scope(session), grant_days=service.grant_days(session))


# --- API: the small firm ----------------------------------------------------------------------------------------

@router.post("/api/v1/me/loans", status_code=201,
             summary="申请信易贷：选择产品、金额、期限和用途；申请即授权该银行在授权期限内查询约定的信用信息")
def apply_api(body: ApplicationIn, request: Request, actor: Actor = Depends(require(P.LOANS_APPLY)),
              session: Session = Depends(get_db)) -> ApplicationOut:
    _audited(request)
    return _shown(session, actor, service.apply(session, actor, body).number)


@router.get("/api/v1/me/loans", summary="本主体的融资申请及审批结果")
def own_api(actor: Actor = Depends(require(P.LOANS_APPLY)), session: Session = Depends(get_db)) -> list[ApplicationOut]:
    return [_out(v) for v in service.for_subject(session, actor.subject_id or 0)]


@router.post("/api/v1/me/loans/{number}/withdraw", summary="审批前撤回融资申请（同时撤销对银行的授权）")
def withdraw_api(number: str, body: WithdrawIn, request: Request, actor: Actor = Depends(require(P.LOANS_APPLY)),
                 session: Session = Depends(get_db)) -> ApplicationOut:
    _audited(request)
    return _shown(session, actor, service.withdraw(session, actor, number, body.reason).number)


# --- API: the bank ---------------------------------------------------------------------------------------------------

@router.post("/api/v1/loans/products", status_code=201, summary="银行发布信易贷产品")
def publish_api(body: ProductIn, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                session: Session = Depends(get_db)) -> ProductOut:
    _audited(request)
    return _product_shown(session, service.publish_product(session, actor, body).number)


@router.post("/api/v1/loans/products/{number}/withdraw", summary="银行下架本行的信易贷产品")
def withdraw_product_api(number: str, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                         session: Session = Depends(get_db)) -> ProductOut:
    _audited(request)
    return _product_shown(session, service.withdraw_product(session, actor, number).number)


@router.get("/api/v1/loans/applications", summary="向本行提出的融资申请（信用主管部门：全部）")
def applications_api(status: str = Query("", pattern=STATUS_PATTERN), q: str = "",
                     limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
                     actor: Actor = Depends(require(P.LOANS_BANK)), session: Session = Depends(get_db)) -> ApplicationsPage:
    total, views = service.applications(session, actor, status=status or None, q=q, limit=limit, offset=offset)
    return ApplicationsPage(total=total, items=[_out(v) for v in views])


@router.get("/api/v1/loans/applications/{number}", summary="一件向本行提出的融资申请")
def application_api(number: str, actor: Actor = Depends(require(P.LOANS_BANK)),
                    session: Session = Depends(get_db)) -> ApplicationOut:
    return _out(service.view_for(session, actor, number))


@router.get("/api/v1/loans/applications/{number}/profile",
            summary="通过申请所附授权查询申请人的信用信息（仅授权范围内的内容；授权撤销或到期即不能查询）")
def profile_api(number: str, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                session: Session = Depends(get_db)) -> ProfileOut:
    _audited(request)
    application, code, found = service.profile(session, actor, number)
    return ProfileOut(application=application.number, grant_number=application.grant_number, subject_code=code,
                      profile=found)


@router.post("/api/v1/loans/applications/{number}/decision",
             summary="登记审批结果（批准：金额、利率、期限、是否信用贷款、是否首贷户；不批准：理由），只能登记一次")
def decision_api(number: str, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                 session: Session = Depends(get_db)) -> ApplicationOut:
    _audited(request)
    return _shown(session, actor, service.decide(session, actor, number, body).number)


@router.post("/api/v1/loans/applications/{number}/disbursement", summary="登记放款日期（已批准的申请，只能登记一次）")
def disbursement_api(number: str, body: DisbursementIn, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                     session: Session = Depends(get_db)) -> ApplicationOut:
    _audited(request)
    return _shown(session, actor, service.disburse(session, actor, number, body.disbursed_on).number)


# --- API: the authority --------------------------------------------------------------------------------------------

@router.get("/api/v1/loans/statistics", summary="信易贷统计：申请、批准、批准率、授信金额、信用贷款占比、首贷户（合计、按银行、按月、按行业）")
def statistics_api(start: date | None = None, end: date | None = None, _: Actor = Depends(require(P.LOANS_OVERSIGHT)),
                   session: Session = Depends(get_db)) -> Statistics:
    return service.statistics(session, start=start, end=end)


# --- pages: the small firm ---------------------------------------------------------------------------------------------

def _mine(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
          error: Exception | None = None) -> Any:
    subject = subjects.get(session, actor.subject_id or 0)
    eligible = subject.kind in service.eligible_kinds(session) and bool(subject.uscc)
    offered = [v for v in service.products(session) if subject.kind in v.product.target_kinds]
    return render(request, "loans_mine.html", status_code=getattr(error, "status", 200), title="我的信易贷",
                  subject=subject, eligible=eligible, kind=kind_label(subject.kind), products=offered,
                  views=service.for_subject(session, subject.id), scope=service.profile_scope(session),
                  grant_days=service.grant_days(session), form=form or {"product": request.query_params.get("product", "")},
                  error=error, status_tags=STATUS_TAGS, applied=request.query_params.get("applied"),
                  withdrawn=request.query_params.get("withdrawn"))


@router.get("/me/loans", include_in_schema=False)
def mine_page(request: Request, actor: Actor = Depends(require(P.LOANS_APPLY)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _mine(request, session, actor)


@router.post("/me/loans", include_in_schema=False)
def apply_page(request: Request, product: str = Form(""), amount: str = Form(""), term_months: str = Form(""),
               purpose: str = Form(""), actor: Actor = Depends(require(P.LOANS_APPLY)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"product": product.strip(), "amount": amount.strip(), "term_months": term_months.strip(),
            "purpose": purpose.strip()}

    def act(data: ApplicationIn) -> Any:
        made = service.apply(session, actor, data)
        return RedirectResponse(f"/me/loans?applied={quote(made.number)}#l-{made.number}", status_code=303)

    return _attempt(request, session, actor, ApplicationIn, form, act,
                    lambda error: _mine(request, session, actor, form=form, error=error))


@router.post("/me/loans/{number}/withdraw", include_in_schema=False)
def withdraw_page(number: str, request: Request, reason: str = Form(""), actor: Actor = Depends(require(P.LOANS_APPLY)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act(data: WithdrawIn) -> Any:
        done = service.withdraw(session, actor, number, data.reason)
        return RedirectResponse(f"/me/loans?withdrawn={quote(done.number)}#l-{done.number}", status_code=303)

    return _attempt(request, session, actor, WithdrawIn, {"reason": reason.strip()}, act,
                    lambda error: _mine(request, session, actor, error=error))


# --- pages: the bank ------------------------------------------------------------------------------------------------------

def _bank_page(request: Request, session: Session, actor: Actor, *, status: str = "", q: str = "", page: int = 1,
               form: dict[str, Any] | None = None, error: Exception | None = None) -> Any:
    bank = service.bank_of(session, actor)
    total, views = service.applications(session, actor, status=status or None, q=q, limit=PER_PAGE,
                                        offset=(page - 1) * PER_PAGE)
    return render(request, "loans_bank.html", status_code=getattr(error, "status", 200), title="信易贷业务", bank=bank,
                  views=views, total=total, page=page, per_page=PER_PAGE,
                  pager_base=f"?status={quote(status)}&q={quote(q)}&", status=status, q=q, statuses=STATUS_LABELS,
                  status_tags=STATUS_TAGS, products=service.products(session, active_only=False, institution_id=bank.id),
                  stats=service.statistics(session, institution_id=bank.id).total, target_kinds=TARGET_KINDS,
                  form=form or {"unsecured": True, "target_kinds": list(TARGET_KINDS)}, error=error,
                  flash=request.query_params.get("flash"))


@router.get("/institution/loans", include_in_schema=False)
def bank_page(request: Request, status: str = Query("", pattern=STATUS_PATTERN), q: str = "",
              page: int = Query(1, ge=1), actor: Actor = Depends(require(P.LOANS_BANK)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _bank_page(request, session, actor, status=status, q=q, page=page)


@router.post("/institution/loans/products", include_in_schema=False)
async def publish_page(request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                       session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    data = await request.form()
    form: dict[str, Any] = {name: str(data.get(name, "")).strip() for name in
                            ("name", "description", "max_amount", "term_months", "rate_min", "rate_max")}
    form["unsecured"] = data.get("unsecured") == "on"
    form["target_kinds"] = [str(k) for k in data.getlist("target_kinds")]

    def act(body: ProductIn) -> Any:
        made = service.publish_product(session, actor, body)
        return RedirectResponse(f"/institution/loans?flash={quote('已发布产品 ' + made.number)}#products", status_code=303)

    return _attempt(request, session, actor, ProductIn, form, act,
                    lambda error: _bank_page(request, session, actor, form=form, error=error))


@router.post("/institution/loans/products/{number}/withdraw", include_in_schema=False)
def withdraw_product_page(number: str, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                          session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act(_: WithdrawIn) -> Any:
        done = service.withdraw_product(session, actor, number)
        return RedirectResponse(f"/institution/loans?flash={quote('已下架产品 ' + done.number)}#products", status_code=303)

    return _attempt(request, session, actor, WithdrawIn, {}, act,
                    lambda error: _bank_page(request, session, actor, error=error))


def _detail(request: Request, session: Session, actor: Actor, number: str, *, form: dict[str, Any] | None = None,
            error: Exception | None = None) -> Any:
    view = service.view_for(session, actor, number)
    a = view.application
    flash = {"decided": "审批结果已登记", "disbursed": "放款日期已登记"}
    shown = next((text for key, text in flash.items() if request.query_params.get(key)), None)
    return render(request, "loans_detail.html", status_code=getattr(error, "status", 200), title=f"融资申请 {a.number}",
                  view=view, a=a, p=view.product, industry=INDUSTRIES.get(a.industry or "", ""), kind=kind_label(a.subject_kind),
                  scope=service.profile_scope(session), form=form or {}, error=error, status_tags=STATUS_TAGS,
                  flash=shown, today=clock.today())


@router.get("/institution/loans/{number}", include_in_schema=False)
def detail_page(number: str, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _detail(request, session, actor, number)


@router.get("/institution/loans/{number}/profile", include_in_schema=False)
def profile_page(number: str, request: Request, actor: Actor = Depends(require(P.LOANS_BANK)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _audited(request)
    application, code, found = service.profile(session, actor, number)
    view = service.view_for(session, actor, application.number)
    return render(request, "loans_profile.html", title=f"信用信息 {view.subject_name}", view=view, a=application,
                  code=code, profile=found, industries=INDUSTRIES)


@router.post("/institution/loans/{number}/decision", include_in_schema=False)
def decision_page(number: str, request: Request, outcome: str = Form(""), granted_amount: str = Form(""),
                  rate: str = Form(""), term_months: str = Form(""), unsecured: str = Form(""), first_loan: str = Form(""),
                  reason: str = Form(""), actor: Actor = Depends(require(P.LOANS_BANK)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"outcome": outcome.strip(), "granted_amount": granted_amount.strip(), "rate": rate.strip(),
            "term_months": term_months.strip(), "unsecured": _yes_no(unsecured), "first_loan": _yes_no(first_loan),
            "reason": reason.strip()}

    def act(data: DecisionIn) -> Any:
        done = service.decide(session, actor, number, data)
        return RedirectResponse(f"/institution/loans/{quote(done.number)}?decided=1", status_code=303)

    return _attempt(request, session, actor, DecisionIn, form, act,
                    lambda error: _detail(request, session, actor, number, form=form, error=error))


@router.post("/institution/loans/{number}/disbursement", include_in_schema=False)
def disbursement_page(number: str, request: Request, disbursed_on: str = Form(""),
                      actor: Actor = Depends(require(P.LOANS_BANK)),
                      session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act(data: DisbursementIn) -> Any:
        done = service.disburse(session, actor, number, data.disbursed_on)
        return RedirectResponse(f"/institution/loans/{quote(done.number)}?disbursed=1", status_code=303)

    return _attempt(request, session, actor, DisbursementIn, {"disbursed_on": disbursed_on.strip()}, act,
                    lambda error: _detail(request, session, actor, number, error=error))


# --- pages: the authority ----------------------------------------------------------------------------------------------

def _period(start: str, end: str) -> tuple[date | None, date | None]:
    try:
        return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)
    except ValueError:
        raise Invalid("LOAN_PERIOD_INVALID", "统计期间的日期格式应为 YYYY-MM-DD", field="start") from None


@router.get("/loans/dashboard", include_in_schema=False)
def dashboard_page(request: Request, start: str = "", end: str = "", actor: Actor = Depends(require(P.LOANS_OVERSIGHT)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    since, until = _period(start.strip(), end.strip())
    stats = service.statistics(session, start=since, end=until)
    return render(request, "loans_dashboard.html", title="信易贷统计", stats=stats, start=start.strip(), end=end.strip(),
                  months=[m.model_dump() for m in stats.by_month], banks=[b.model_dump() for b in stats.by_bank])


COLUMNS: list[tuple[str, str]] = [
    ("applications", "申请笔数"), ("pending", "待审批"), ("withdrawn", "已撤回"), ("decided", "已审批"), ("approved", "批准笔数"),
    ("rejected", "未批准"), ("approval_rate", "批准率"), ("amount_applied", "申请金额（万元）"),
    ("amount_granted", "授信金额（万元）"), ("unsecured", "信用贷款笔数"), ("unsecured_share", "信用贷款占比"),
    ("unsecured_amount", "信用贷款金额（万元）"), ("first_loans", "首贷户"), ("disbursed", "已放款笔数"),
    ("amount_disbursed", "放款金额（万元）")]


def _workbook(stats: Statistics) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    sheets: list[tuple[str, str, list[Figures]]] = [("合计", "范围", [stats.total]), ("按银行", "银行", stats.by_bank),
                                                    ("按月份", "申请月份", stats.by_month), ("按行业", "行业门类", stats.by_industry)]
    for title, first, rows in sheets:
        sheet = book.add_worksheet(title)
        sheet.write_row(0, 0, [first, *(label for _, label in COLUMNS)], bold)
        for index, figures in enumerate(rows, start=1):
            values = figures.model_dump()
            sheet.write_row(index, 0, [figures.label, *("" if values[key] is None else values[key] for key, _ in COLUMNS)])
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, len(COLUMNS), 14)
    book.close()
    return buffer.getvalue()


@router.get("/loans/dashboard.xlsx", include_in_schema=False)
def dashboard_export(start: str = "", end: str = "", actor: Actor = Depends(require(P.LOANS_OVERSIGHT)),
                     session: Session = Depends(get_db)) -> Response:
    since, until = _period(start.strip(), end.strip())
    content = _workbook(service.statistics(session, start=since, end=until))
    name = quote(f"信易贷统计-{clock.today():%Y%m%d}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
