"""Platform data partners: the partner's feed API and portal page, the authority's page and API.

Refusals are audited (``request.state.audit_refusals``); denials by the error handler anyway.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import Conflict, DomainError, Invalid
from xinyong.partners import service
from xinyong.partners.schemas import (
    Acknowledgement,
    AcknowledgementOut,
    CurrentPage,
    ListPage,
    PartnerIn,
    PartnerOut,
    TerminationIn,
)
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["互联网平台数据合作"])
AREA = "partners"


def _audited(request: Request) -> None:
    request.state.audit_refusals = AREA


# --- API: the platform ----------------------------------------------------------------------------------


@router.get("/api/v1/partners/lists", summary="游标之后的名单变动：列入、移出（信用修复、撤销等）和期满，均含有效期至")
def lists_api(
    request: Request,
    cursor: int = Query(0, ge=0, description="上次取到的 next_cursor"),
    limit: int = Query(500, ge=1, le=5000),
    list_type: str | None = Query(None, description="只取该名单类型"),
    actor: Actor = Depends(require(P.PARTNER_FEED)),
    session: Session = Depends(get_db),
) -> ListPage:
    _audited(request)
    return service.pull(session, actor, cursor, limit=limit, list_type=list_type or None)


@router.get("/api/v1/partners/lists/current", summary="当前在列名单快照（用于对账），及对应的变动游标")
def current_api(
    request: Request,
    after: int = Query(0, ge=0, description="上一页的 next_after"),
    limit: int = Query(500, ge=1, le=5000),
    list_type: str | None = Query(None),
    actor: Actor = Depends(require(P.PARTNER_FEED)),
    session: Session = Depends(get_db),
) -> CurrentPage:
    _audited(request)
    return service.current(session, actor, after=after, limit=limit, list_type=list_type or None)


@router.post("/api/v1/partners/acknowledge", summary="确认已处理到某游标（含），用于信用修复等移出信息的送达确认")
def acknowledge_api(
    body: Acknowledgement,
    request: Request,
    actor: Actor = Depends(require(P.PARTNER_FEED)),
    session: Session = Depends(get_db),
) -> AcknowledgementOut:
    _audited(request)
    return service.acknowledge(session, actor, body.cursor)


# --- API: the authority -------------------------------------------------------------------------------------


@router.get("/api/v1/partners", summary="互联网平台数据合作伙伴及推送、确认情况")
def partners_api(
    actor: Actor = Depends(require(P.PARTNERS_MANAGE)), session: Session = Depends(get_db)
) -> list[PartnerOut]:
    return service.partners(session)


@router.post("/api/v1/partners", summary="登记互联网平台数据合作伙伴", status_code=201)
def register_api(
    body: PartnerIn,
    request: Request,
    actor: Actor = Depends(require(P.PARTNERS_MANAGE)),
    session: Session = Depends(get_db),
) -> PartnerOut:
    _audited(request)
    partner = service.register(session, actor, body)
    return next(p for p in service.partners(session) if p.number == partner.number)


@router.post("/api/v1/partners/{number}/terminate", summary="终止数据合作（立即停止推送）")
def terminate_api(
    number: str,
    body: TerminationIn,
    request: Request,
    actor: Actor = Depends(require(P.PARTNERS_MANAGE)),
    session: Session = Depends(get_db),
) -> PartnerOut:
    _audited(request)
    partner = service.terminate(session, actor, number, body.reason)
    return next(p for p in service.partners(session) if p.number == partner.number)


# --- pages ----------------------------------------------------------------------------------------------------


def _page(
    request: Request, session: Session, *, form: dict[str, Any] | None = None, error: DomainError | None = None
) -> Any:
    return render(
        request,
        "partners.html",
        status_code=getattr(error, "status", 200),
        title="互联网平台数据合作",
        partners=service.partners(session),
        platforms=service.platforms(session),
        list_types=service.eligible_list_types(session),
        ends=service.recent_ends(session),
        form=form or {},
        error=error,
        flash=request.query_params.get("done"),
    )


@router.get("/partners", include_in_schema=False)
def partners_page(
    request: Request, actor: Actor = Depends(require(P.PARTNERS_MANAGE)), session: Session = Depends(get_db)
):  # type: ignore[no-untyped-def]
    return _page(request, session)


@router.post("/partners", include_in_schema=False)
async def register_page(
    request: Request, actor: Actor = Depends(require(P.PARTNERS_MANAGE)), session: Session = Depends(get_db)
):  # type: ignore[no-untyped-def]
    _audited(request)
    data = await request.form()
    form: dict[str, Any] = {
        name: str(data.get(name, "")).strip() for name in ("number", "institution_code", "starts_on", "ends_on")
    }
    form["list_types"] = [str(v) for v in data.getlist("list_types")]
    try:
        service.register(session, actor, parse_form(PartnerIn, form, "PARTNER_FORM_INVALID"))
    except (Invalid, Conflict) as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return _page(request, session, form=form, error=error)
    return RedirectResponse("/partners?done=registered", status_code=303)


@router.post("/partners/{number}/terminate", include_in_schema=False)
def terminate_page(
    number: str,
    request: Request,
    reason: str = Form(""),
    actor: Actor = Depends(require(P.PARTNERS_MANAGE)),
    session: Session = Depends(get_db),
):  # type: ignore[no-untyped-def]
    _audited(request)
    try:
        service.terminate(session, actor, number, reason)
    except (Invalid, Conflict) as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return _page(request, session, error=error)
    return RedirectResponse("/partners?done=terminated", status_code=303)


@router.get("/institution/partner", include_in_schema=False)
def portal_page(request: Request, actor: Actor = Depends(require(P.PARTNER_FEED)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "partners_portal.html", title="名单信息推送", **service.portal(session, actor))
