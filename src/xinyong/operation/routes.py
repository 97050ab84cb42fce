"""Authorised operation (授权运营): the operator's API and portal page, the authority's page and API.

Every route asks for its refusals to be audited (``request.state.audit_refusals``): denials are
audited by the error handler anyway; the rest (unknown contract, bad parameters…) are audited
there too, as ``operation.refused``. A refusal shown inline on a form is audited here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import Conflict, DomainError, Invalid
from xinyong.operation import service
from xinyong.operation.products import PRODUCTS
from xinyong.operation.schemas import ContractIn, ContractOut, ProductOffer, ProductRelease, ReleaseOut, TerminationIn
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["授权运营"])
AREA = "operation"
RESERVED = {"contract"}


def _audited(request: Request) -> None:
    request.state.audit_refusals = AREA


def _parameters(request: Request) -> dict[str, str]:
    return {name: value for name, value in request.query_params.items() if name not in RESERVED}


# --- API: the operator ------------------------------------------------------------------------------------


@router.get("/api/v1/operation/products", summary="本机构有效授权运营协议允许获取的数据产品")
def products_api(
    request: Request, actor: Actor = Depends(require(P.OPERATION_PRODUCTS)), session: Session = Depends(get_db)
) -> list[ProductOffer]:
    _audited(request)
    return service.products_for(session, actor)


@router.get("/api/v1/operation/products/{code}", summary="按授权运营协议获取数据产品（小于k的单元格抑制，含次级抑制）")
def product_api(
    code: str,
    request: Request,
    contract: str = Query("", description="授权运营协议编号"),
    actor: Actor = Depends(require(P.OPERATION_PRODUCTS)),
    session: Session = Depends(get_db),
) -> ProductRelease:
    _audited(request)
    return service.release(session, actor, code, contract, _parameters(request))


# --- API: the authority -------------------------------------------------------------------------------------


@router.get("/api/v1/operation/contracts", summary="授权运营协议")
def contracts_api(
    actor: Actor = Depends(require(P.OPERATION_MANAGE)), session: Session = Depends(get_db)
) -> list[ContractOut]:
    return service.contracts(session)


@router.post("/api/v1/operation/contracts", summary="登记授权运营协议", status_code=201)
def register_api(
    body: ContractIn,
    request: Request,
    actor: Actor = Depends(require(P.OPERATION_MANAGE)),
    session: Session = Depends(get_db),
) -> ContractOut:
    _audited(request)
    contract = service.register_contract(session, actor, body)
    return next(c for c in service.contracts(session) if c.number == contract.number)


@router.post("/api/v1/operation/contracts/{number}/terminate", summary="终止授权运营协议（立即停止发布）")
def terminate_api(
    number: str,
    body: TerminationIn,
    request: Request,
    actor: Actor = Depends(require(P.OPERATION_MANAGE)),
    session: Session = Depends(get_db),
) -> ContractOut:
    _audited(request)
    contract = service.terminate_contract(session, actor, number, body.reason)
    return next(c for c in service.contracts(session) if c.number == contract.number)


@router.get("/api/v1/operation/releases", summary="数据产品发布记录")
def releases_api(
    limit: int = Query(100, ge=1, le=1000),
    actor: Actor = Depends(require(P.OPERATION_MANAGE)),
    session: Session = Depends(get_db),
) -> list[ReleaseOut]:
    return service.releases(session, limit=limit)


# --- pages: the authority ------------------------------------------------------------------------------------


def _page(
    request: Request, session: Session, *, form: dict[str, Any] | None = None, error: DomainError | None = None
) -> Any:
    return render(
        request,
        "operation.html",
        status_code=getattr(error, "status", 200),
        title="授权运营",
        overview=service.overview(session),
        products=PRODUCTS,
        form=form or {},
        error=error,
        flash=request.query_params.get("done"),
    )


@router.get("/operation", include_in_schema=False)
def operation_page(
    request: Request, actor: Actor = Depends(require(P.OPERATION_MANAGE)), session: Session = Depends(get_db)
):  # type: ignore[no-untyped-def]
    return _page(request, session)


@router.post("/operation/contracts", include_in_schema=False)
async def register_page(
    request: Request, actor: Actor = Depends(require(P.OPERATION_MANAGE)), session: Session = Depends(get_db)
):  # type: ignore[no-untyped-def]
    _audited(request)
    data = await request.form()
    form = {
        name: str(data.get(name, "")).strip()
        for name in ("number", "institution_code", "purpose", "starts_on", "ends_on", "k")
    }
    form["products"] = [str(v) for v in data.getlist("products")]
    try:
        parsed = parse_form(ContractIn, {**form, "k": form["k"] or None}, "OPERATION_FORM_INVALID")
        service.register_contract(session, actor, parsed)
    except (Invalid, Conflict) as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return _page(request, session, form=form, error=error)
    return RedirectResponse("/operation?done=registered", status_code=303)


@router.post("/operation/contracts/{number}/terminate", include_in_schema=False)
def terminate_page(
    number: str,
    request: Request,
    reason: str = Form(""),
    actor: Actor = Depends(require(P.OPERATION_MANAGE)),
    session: Session = Depends(get_db),
):  # type: ignore[no-untyped-def]
    _audited(request)
    try:
        service.terminate_contract(session, actor, number, reason)
    except (Invalid, Conflict) as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return _page(request, session, error=error)
    return RedirectResponse("/operation?done=terminated", status_code=303)


# --- pages: the operator ---------------------------------------------------------------------------------------


@router.get("/institution/operation", include_in_schema=False)
def portal_page(
    request: Request, actor: Actor = Depends(require(P.OPERATION_PRODUCTS)), session: Session = Depends(get_db)
):  # type: ignore[no-untyped-def]
    return render(
        request,
        "operation_portal.html",
        title="授权运营数据产品",
        **service.portal(session, actor),
        table=None,
        error=None,
    )


@router.get("/institution/operation/products/{code}", include_in_schema=False)
def portal_product_page(
    code: str,
    request: Request,
    contract: str = Query(""),
    actor: Actor = Depends(require(P.OPERATION_PRODUCTS)),
    session: Session = Depends(get_db),
):  # type: ignore[no-untyped-def]
    _audited(request)
    table = service.release(session, actor, code, contract, _parameters(request))
    grid = {(cell.row, cell.column): cell for cell in table.cells}
    return render(
        request,
        "operation_portal.html",
        title=f"授权运营数据产品：{table.name}",
        **service.portal(session, actor),
        table=table,
        grid=grid,
        error=None,
    )
