"""Departmental sharing on the web: share requests, the department's view of a subject, the subject's
read log (谁查看了我的信用信息) and the credit authority's overview; the same as JSON under /api/v1.

State-changing routes ask for their refusals to be audited (``sharing.refused``); refusals a form shows
inline are audited here after the refused change was rolled back (``_refused``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.errors import Conflict, DomainError, Invalid
from xinyong.records.schemas import RecordOut
from xinyong.sharing import service
from xinyong.sharing.models import ShareRequest
from xinyong.sharing.schemas import (
    BASIS_LABELS,
    CONDITIONAL,
    REQUEST_STATUS,
    DecisionIn,
    ReadItemOut,
    ReadOut,
    SharedItemOut,
    SharedRecordOut,
    SharedRecordsOut,
    ShareRequestIn,
    ShareRequestOut,
    WithdrawalIn,
)
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["政务信息共享"])
AREA = "sharing"  # audit: sharing.refused
FORM_ERRORS = (Invalid, Conflict)  # shown inline (and audited); refusals and missing objects go to the error page
PER_PAGE = 50
STATUS_PATTERN = f"^$|^({'|'.join(REQUEST_STATUS)})$"
STATUS_TAGS = {"pending": "info", "approved": "ok", "scheduled": "info", "expired": "warn", "rejected": "bad",
               "withdrawn": "warn"}
NUMBER = Path(pattern=r"^[A-Za-z0-9]{1,24}$", description="共享申请编号")
LABELS = {"item": "信息项", "purpose": "用途", "basis": "履职依据", "term_months": "共享期限（月）", "decision": "审核结果",
          "note": "审核意见", "starts_on": "开始日期"}


# --- shapes -------------------------------------------------------------------------------------------------

class _Names:
    def __init__(self, session: Session) -> None:
        self.departments = access.department_names(session)
        self.items = catalogue.item_names(session)


def _request_out(r: ShareRequest, names: _Names) -> ShareRequestOut:
    today = clock.today()
    return ShareRequestOut(number=r.number, department_id=r.department_id, department=names.departments.get(r.department_id, ""),
                           item=r.item_code, item_name=names.items.get(r.item_code, r.item_code), purpose=r.purpose,
                           basis=r.basis, term_months=r.term_months, status=service.state(r, today),
                           status_label=service.status_label(r, today), in_force=service.in_force(r, today),
                           requested_at=r.requested_at, requested_by=r.requested_by, decided_at=r.decided_at,
                           decided_by=r.decided_by, decision_note=r.decision_note, starts_on=r.starts_on, ends_on=r.ends_on)


def _shared_out(view: service.SharedView, session: Session) -> SharedRecordsOut:
    departments = access.department_names(session)

    def record(s: service.Shared) -> SharedRecordOut:
        return SharedRecordOut(**RecordOut.model_validate(s.record).model_dump(),
                               department=departments.get(s.record.department_id, ""), basis=s.basis,
                               request_number=s.request.number if s.request else None)

    items = [SharedItemOut(item=g.code, name=g.name, sharing_class=g.sharing_class, disclosure_class=g.disclosure_class,
                           status=g.status, note=g.note, request_number=g.request.number if g.request else None,
                           records=[record(s) for s in g.records]) for g in view.items]
    return SharedRecordsOut(subject_code=view.subject.uscc or view.subject.masked_id or "", subject_name=view.subject.name,
                            purpose=view.purpose, read_id=view.read.id, items=items)


def _read_out(view: service.ReadView) -> ReadOut:
    return ReadOut(at=view.read.at, department=view.department, purpose=view.purpose, channel=view.read.channel,
                   items=[ReadItemOut(item=code, name=name, public=public) for code, name, public in view.items])


# --- input --------------------------------------------------------------------------------------------------

def _attempt(request: Request, session: Session, actor: Actor, model: type[BaseModel], form: dict[str, Any],
             act: Callable[[Any], Any], again: Callable[[DomainError], Any]) -> Any:
    request.state.audit_refusals = AREA
    try:
        return act(parse_form(model, form, "SHARING_FORM_INVALID", LABELS))
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, AREA, error)
        return again(error)


# --- API ----------------------------------------------------------------------------------------------------

@router.post("/api/v1/sharing/requests", summary="部门提交有条件共享信息的共享申请（用途、履职依据、期限）", status_code=201)
def file_api(body: ShareRequestIn, request: Request, actor: Actor = Depends(require(P.SHARING_REQUEST)),
             session: Session = Depends(get_db)) -> ShareRequestOut:
    request.state.audit_refusals = AREA
    return _request_out(service.file_request(session, actor, body), _Names(session))


@router.get("/api/v1/sharing/requests", summary="共享申请（部门：本部门的；信用主管部门：全部）")
def list_api(status: str = Query("", pattern=STATUS_PATTERN), item: str = Query("", max_length=40),
             limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
             actor: Actor = Depends(require(P.SHARING_READ)), session: Session = Depends(get_db)) -> list[ShareRequestOut]:
    rows, _total = service.list_requests(session, actor, status=status or None, item=item or None, limit=limit,
                                         offset=offset)
    names = _Names(session)
    return [_request_out(r, names) for r in rows]


@router.post("/api/v1/sharing/requests/{number}/decision", summary="信用主管部门审核共享申请：批准（含期限）或不予批准（说明理由）")
def decide_api(body: DecisionIn, request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.SHARING_APPROVE)),
               session: Session = Depends(get_db)) -> ShareRequestOut:
    request.state.audit_refusals = AREA
    return _request_out(service.decide(session, actor, number, body), _Names(session))


@router.post("/api/v1/sharing/requests/{number}/withdrawal", summary="部门撤回本部门的共享申请")
def withdraw_api(body: WithdrawalIn, request: Request, number: str = NUMBER, actor: Actor = Depends(require(P.SHARING_REQUEST)),
                 session: Session = Depends(get_db)) -> ShareRequestOut:
    request.state.audit_refusals = AREA
    return _request_out(service.withdraw(session, actor, number, body.note), _Names(session))


@router.get("/api/v1/sharing/subjects/{code}/records",
            summary="部门按用途查询主体的共享信息（无条件共享、已批准的有条件共享、本部门提供的），每次查询留痕")
def subject_api(code: str, request: Request, purpose: str = Query("", max_length=40, description="用途"),
                actor: Actor = Depends(require(P.RECORDS_READ_SHARED)), session: Session = Depends(get_db)) -> SharedRecordsOut:
    request.state.audit_refusals = AREA
    subject = subjects.by_code_or_fail(session, code)
    view = service.read_subject(session, actor, subject.id, purpose=purpose, channel="api", require_purpose=True,
                                detailed=True)
    return _shared_out(view, session)


@router.get("/api/v1/me/reads", summary="谁查看了我的信用信息：各部门查询本主体非公开信息的记录（部门、时间、用途、信息项）")
def reads_api(limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
              actor: Actor = Depends(require(P.SHARING_READ_OWN_LOG)), session: Session = Depends(get_db)) -> list[ReadOut]:
    views, _total = service.reads_of_subject(session, actor, limit=limit, offset=offset)
    return [_read_out(v) for v in views]


# --- pages: requests ----------------------------------------------------------------------------------------

def _requests_page(request: Request, session: Session, actor: Actor, *, status: str = "", page: int = 1,
                   form: dict[str, Any] | None = None, error: DomainError | None = None, flash: str | None = None) -> Any:
    rows, total = service.list_requests(session, actor, status=status or None, limit=PER_PAGE,
                                        offset=(page - 1) * PER_PAGE)
    names = _Names(session)
    conditional = [entry for entry in catalogue.list_items(session) if entry.version.sharing_class == CONDITIONAL]
    department = access.get_department(session, actor.department_id) \
        if actor.department_id is not None and service.is_department(actor) else None
    return render(request, "sharing_requests.html", status_code=error.status if error else 200, title="信息共享",
                  requests=[_request_out(r, names) for r in rows], total=total, page=page, per_page=PER_PAGE,
                  status=status, statuses=REQUEST_STATUS, tags=STATUS_TAGS, conditional=conditional,
                  purposes=service.purposes(session), max_months=service.rules(session)["max_term_months"],
                  department=department, authority=service.is_authority(actor), form=form or {}, error=error,
                  flash=flash, today=clock.today())


@router.get("/sharing/requests", include_in_schema=False)
def requests_page(request: Request, status: str = Query("", pattern=STATUS_PATTERN), page: int = Query(1, ge=1),
                  done: str = Query("", max_length=20), item: str = Query("", max_length=40),
                  actor: Actor = Depends(require(P.SHARING_READ)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    flashes = {"filed": "共享申请已提交，待信用主管部门审核", "approve": "已批准共享申请", "reject": "已决定不予批准",
               "withdrawn": "共享申请已撤回"}
    return _requests_page(request, session, actor, status=status, page=page, flash=flashes.get(done),
                          form={"item": item.strip()})


@router.post("/sharing/requests", include_in_schema=False)
def file_page(request: Request, item: str = Form(""), purpose: str = Form(""), basis: str = Form(""),
              term_months: str = Form(""), actor: Actor = Depends(require(P.SHARING_REQUEST)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"item": item.strip(), "purpose": purpose.strip(), "basis": basis.strip(), "term_months": term_months.strip()}

    def act(data: ShareRequestIn) -> Any:
        service.file_request(session, actor, data)
        return RedirectResponse("/sharing/requests?done=filed", status_code=303)

    return _attempt(request, session, actor, ShareRequestIn, form, act,
                    lambda error: _requests_page(request, session, actor, form=form, error=error))


@router.post("/sharing/requests/{number}/decision", include_in_schema=False)
def decide_page(request: Request, number: str = NUMBER, decision: str = Form(""), note: str = Form(""), starts_on: str = Form(""),
                term_months: str = Form(""), actor: Actor = Depends(require(P.SHARING_APPROVE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"decision": decision, "note": note.strip(), "starts_on": starts_on.strip() or None,
            "term_months": term_months.strip() or None}

    def act(data: DecisionIn) -> Any:
        service.decide(session, actor, number, data)
        return RedirectResponse(f"/sharing/requests?done={data.decision}", status_code=303)

    return _attempt(request, session, actor, DecisionIn, form, act,
                    lambda error: _requests_page(request, session, actor, error=error))


@router.post("/sharing/requests/{number}/withdraw", include_in_schema=False)
def withdraw_page(request: Request, number: str = NUMBER, note: str = Form(""), actor: Actor = Depends(require(P.SHARING_REQUEST)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    def act(data: WithdrawalIn) -> Any:
        service.withdraw(session, actor, number, data.note)
        return RedirectResponse("/sharing/requests?done=withdrawn", status_code=303)

    return _attempt(request, session, actor, WithdrawalIn, {"note": note.strip()}, act,
                    lambda error: _requests_page(request, session, actor, error=error))


# --- pages: a subject's shared records, the subject's read log, the overview --------------------------------

@router.get("/sharing/subjects", include_in_schema=False)
def lookup_page(request: Request, code: str = Query("", max_length=40), purpose: str = Query("", max_length=40),
                actor: Actor = Depends(require(P.RECORDS_READ_SHARED)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    if code.strip():
        return RedirectResponse(f"/sharing/subjects/{quote(code.strip())}?purpose={quote(purpose.strip())}",
                                status_code=303)
    return render(request, "sharing_subject.html", title="共享信息查询", subject=None, view=None,
                  purposes=service.purposes(session), purpose=purpose, basis_labels=BASIS_LABELS)


@router.get("/sharing/subjects/{code}", include_in_schema=False)
def subject_page(code: str, request: Request, purpose: str = Query("", max_length=40),
                 actor: Actor = Depends(require(P.RECORDS_READ_SHARED)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    subject = subjects.by_code_or_fail(session, code)
    purposes = service.purposes(session)
    error = None
    view = None
    if purpose.strip() or service.is_authority(actor):
        request.state.audit_refusals = AREA
        view = service.read_subject(session, actor, subject.id, purpose=purpose, channel="page", require_purpose=True,
                                    detailed=True)
    return render(request, "sharing_subject.html", title=f"共享信息：{subject.name}", subject=subject, view=view,
                  purposes=purposes, purpose=purpose.strip(), error=error, basis_labels=BASIS_LABELS,
                  departments=access.department_names(session), code=subject.uscc or code)


@router.get("/me/reads", include_in_schema=False)
def reads_page(request: Request, page: int = Query(1, ge=1), actor: Actor = Depends(require(P.SHARING_READ_OWN_LOG)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    views, total = service.reads_of_subject(session, actor, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "sharing_reads.html", title="谁查看了我的信用信息", views=views, total=total, page=page,
                  per_page=PER_PAGE)


@router.get("/sharing", include_in_schema=False)
def overview_page(request: Request, actor: Actor = Depends(require(P.SHARING_APPROVE)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    names = _Names(session)
    data = service.overview(session, actor)
    return render(request, "sharing_overview.html", title="政务信息共享概况", data=data, names=names,
                  pending=[_request_out(r, names) for r in data.pending],
                  in_force=[_request_out(r, names) for r in data.in_force], statuses=REQUEST_STATUS, tags=STATUS_TAGS)
