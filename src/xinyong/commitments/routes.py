"""Credit commitments (信用承诺): the subject's page and API, the department's pages and API.

Every state-changing route asks for its refusals to be audited (``request.state.audit_refusals``):
refusals that reach the error handler are recorded there in their own transaction; the ones a
form shows inline are recorded here, after the refused change was rolled back (``_refused``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.commitments import service
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import (
    KIND_HINTS,
    KINDS,
    STATUS_LABELS,
    TOLERANCE,
    CommitmentIn,
    CommitmentOut,
    CommitmentsPage,
    DecisionIn,
    RegistrationIn,
    ToleranceOut,
)
from xinyong.errors import Conflict, DomainError, Invalid
from xinyong.sanctions import service as sanctions
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["信用承诺"])
AUDIT_AREA = "commitment"
FORM_ERRORS = (Invalid, Conflict)  # shown inline (and audited); refusals (403) and missing objects go to the error page
PER_PAGE = 50
STATUS_PATTERN = f"^$|^({'|'.join(STATUS_LABELS)})$"
LABELS = {"kind": "承诺类型", "department_id": "接受承诺的部门", "matter_type": "事项类型", "matter": "承诺事项",
          "content": "承诺内容", "public": "向社会公开", "materials_due_on": "补齐材料期限", "subject_code": "统一社会信用代码",
          "made_on": "承诺日期", "note": "说明"}
STATUS_TAGS = {"in_progress": "info", "fulfilled": "ok", "breached": "bad"}


def _audited(request: Request) -> None:
    request.state.audit_refusals = AUDIT_AREA


def _attempt(request: Request, session: Session, actor: Actor, model: type[BaseModel], form: dict[str, Any],
             optional: tuple[str, ...], act: Callable[[Any], Any], again: Callable[[DomainError], Any]) -> Any:
    """A form post: parse it (empty ``optional`` fields as absent) and ``act`` on it, or show the page
    ``again`` with the refusal — nothing of the attempt kept but its audit entry."""
    _audited(request)
    try:
        return act(parse_form(model, {**form, **{name: form[name] or None for name in optional}}, "COMMITMENT_FORM_INVALID", LABELS))
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, AUDIT_AREA, error)
        return again(error)


def _out(view: service.CommitmentView) -> CommitmentOut:
    c = view.commitment
    return CommitmentOut(id=c.id, number=c.number, subject_code=view.subject_code, subject_name=view.subject_name,
                         department_id=c.department_id, department=view.department, kind=c.kind,
                         matter_type=c.matter_type, matter=c.matter, content=c.content, made_on=c.made_on,
                         public=c.public, materials_due_on=c.materials_due_on, status=c.status,  # type: ignore[arg-type]
                         status_label=view.status_label, channel=c.channel, created_at=c.created_at,
                         decided_at=c.decided_at, decided_by=c.decided_by, decision_note=c.decision_note,
                         record_id=c.record_id, breach_record_id=c.breach_record_id)


def _shown(session: Session, actor: Actor, commitment: Commitment) -> CommitmentOut:
    return _out(service.view_for(session, actor, commitment.id))


# --- API: the subject ---------------------------------------------------------------------------------

@router.post("/api/v1/me/commitments", summary="信用主体作出信用承诺（容缺受理型须符合适用条件，补齐材料期限须为工作日）",
             status_code=201)
def make_api(body: CommitmentIn, request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MAKE)),
             session: Session = Depends(get_db)) -> CommitmentOut:
    _audited(request)
    return _shown(session, actor, service.make(session, actor, body))


@router.get("/api/v1/me/commitments", summary="本主体的信用承诺及履约情况")
def own_api(actor: Actor = Depends(require(P.COMMITMENTS_MAKE)), session: Session = Depends(get_db)) -> list[CommitmentOut]:
    return [_out(v) for v in service.for_subject(session, actor.subject_id or 0)]


@router.get("/api/v1/me/commitments/tolerance", summary="本主体当前是否可以适用容缺受理，及理由")
def tolerance_api(actor: Actor = Depends(require(P.COMMITMENTS_MAKE)), session: Session = Depends(get_db)) -> ToleranceOut:
    allowed, reason = service.tolerance_allowed(session, actor.subject_id or 0)
    return ToleranceOut(allowed=allowed, reason=reason)


# --- API: departments -----------------------------------------------------------------------------------

@router.post("/api/v1/commitments", summary="部门登记主体在窗口作出的书面信用承诺（向本部门作出）", status_code=201)
def register_api(body: RegistrationIn, request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                 session: Session = Depends(get_db)) -> CommitmentOut:
    _audited(request)
    return _shown(session, actor, service.register(session, actor, body))


@router.get("/api/v1/commitments", summary="向本部门作出的信用承诺（信用主管部门：全部）")
def department_api(status: str = Query("", pattern=STATUS_PATTERN), kind: str = "", q: str = "", overdue: bool = False,
                   limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
                   actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                   session: Session = Depends(get_db)) -> CommitmentsPage:
    total, views = service.for_department(session, actor, status=status or None, kind=kind or None, q=q,
                                          overdue=overdue, limit=limit, offset=offset)
    return CommitmentsPage(total=total, items=[_out(v) for v in views])


@router.get("/api/v1/commitments/{commitment_id}", summary="一项信用承诺")
def one_api(commitment_id: int, actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
            session: Session = Depends(get_db)) -> CommitmentOut:
    return _out(service.view_for(session, actor, commitment_id))


@router.post("/api/v1/commitments/{commitment_id}/fulfil", summary="认定已履约（仅限接受承诺的部门）")
def fulfil_api(commitment_id: int, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
               session: Session = Depends(get_db)) -> CommitmentOut:
    _audited(request)
    return _shown(session, actor, service.fulfil(session, actor, commitment_id, body.note))


@router.post("/api/v1/commitments/{commitment_id}/breach",
             summary="认定未履约（仅限接受承诺的部门）：自动生成“信用承诺未履行”失信记录")
def breach_api(commitment_id: int, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
               session: Session = Depends(get_db)) -> CommitmentOut:
    _audited(request)
    return _shown(session, actor, service.breach(session, actor, commitment_id, body.note))


# --- pages: the subject ----------------------------------------------------------------------------------

def _mine(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
          error: Exception | None = None) -> Any:
    subject = subjects.get(session, actor.subject_id or 0)
    allowed, reason = service.tolerance_allowed(session, subject.id)
    return render(request, "commitments_mine.html", status_code=getattr(error, "status", 200), title="我的信用承诺",
                  subject=subject, views=service.for_subject(session, subject.id), departments=service.departments(session),
                  kinds=KINDS, hints=KIND_HINTS, tolerance=TOLERANCE, tolerance_allowed=allowed, tolerance_reason=reason,
                  matters=sanctions.matter_types(session), form=form or {"public": True}, error=error,
                  status_tags=STATUS_TAGS, person=subject.kind == service.PERSON,
                  made=request.query_params.get("made"))


@router.get("/me/commitments", include_in_schema=False)
def mine_page(request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MAKE)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _mine(request, session, actor)


@router.post("/me/commitments", include_in_schema=False)
def make_page(request: Request, kind: str = Form(""), department_id: str = Form(""), matter_type: str = Form(""),
              matter: str = Form(""), content: str = Form(""), public: str = Form(""), materials_due_on: str = Form(""),
              actor: Actor = Depends(require(P.COMMITMENTS_MAKE)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "department_id": department_id.strip(), "matter_type": matter_type.strip(),
            "matter": matter.strip(), "content": content.strip(), "public": public == "on",
            "materials_due_on": materials_due_on.strip()}

    def act(data: CommitmentIn) -> Any:
        made = service.make(session, actor, data)
        return RedirectResponse(f"/me/commitments?made={quote(made.number)}#c-{made.id}", status_code=303)

    return _attempt(request, session, actor, CommitmentIn, form, ("matter_type", "materials_due_on"), act,
                    lambda error: _mine(request, session, actor, form=form, error=error))


# --- pages: departments -------------------------------------------------------------------------------------

def _department_page(request: Request, session: Session, actor: Actor, *, status: str = "", kind: str = "", q: str = "",
                     overdue: bool = False, page: int = 1, form: dict[str, Any] | None = None,
                     error: Exception | None = None) -> Any:
    total, views = service.for_department(session, actor, status=status or None, kind=kind or None, q=q, overdue=overdue,
                                          limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    department = access.get_department(session, actor.department_id) if actor.department_id else None
    query = f"?status={quote(status)}&kind={quote(kind)}&q={quote(q)}&overdue={'true' if overdue else ''}&"
    return render(request, "commitments_department.html", status_code=getattr(error, "status", 200), title="信用承诺",
                  department=department, sees_all=service.sees_all(actor), views=views, total=total, page=page,
                  per_page=PER_PAGE, pager_base=query, status=status, kind=kind, q=q, overdue=overdue,
                  statuses=STATUS_LABELS, status_tags=STATUS_TAGS, kinds=KINDS, tolerance=TOLERANCE,
                  matters=sanctions.matter_types(session), form=form or {"public": True}, error=error)


@router.get("/commitments", include_in_schema=False)
def department_page(request: Request, status: str = Query("", pattern=STATUS_PATTERN), kind: str = "", q: str = "",
                    overdue: bool = False, page: int = Query(1, ge=1), actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _department_page(request, session, actor, status=status, kind=kind, q=q, overdue=overdue, page=page)


@router.post("/commitments", include_in_schema=False)
def register_page(request: Request, subject_code: str = Form(""), kind: str = Form(""), matter_type: str = Form(""),
                  matter: str = Form(""), content: str = Form(""), public: str = Form(""), made_on: str = Form(""),
                  materials_due_on: str = Form(""), actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"subject_code": subject_code.strip(), "kind": kind, "matter_type": matter_type.strip(), "matter": matter.strip(),
            "content": content.strip(), "public": public == "on", "made_on": made_on.strip(),
            "materials_due_on": materials_due_on.strip()}

    def act(data: RegistrationIn) -> Any:
        return RedirectResponse(f"/commitments/{service.register(session, actor, data).id}?registered=1", status_code=303)

    return _attempt(request, session, actor, RegistrationIn, form, ("matter_type", "made_on", "materials_due_on"), act,
                    lambda error: _department_page(request, session, actor, form=form, error=error))


def _detail(request: Request, session: Session, actor: Actor, commitment_id: int, *, note: str = "",
            error: Exception | None = None) -> Any:
    view = service.view_for(session, actor, commitment_id)
    c = view.commitment
    flash = {"registered": "已登记", "fulfilled": "已认定履约", "breached": "已认定未履约，失信记录已生成"}
    shown = next((text for key, text in flash.items() if request.query_params.get(key)), None)
    return render(request, "commitments_detail.html", status_code=getattr(error, "status", 200), title=f"信用承诺 {c.number}",
                  view=view, c=c, may_decide=actor.department_id == c.department_id and c.status == "in_progress",
                  breach_from=c.materials_due_on if c.kind == TOLERANCE else None, note=note, error=error,
                  status_tags=STATUS_TAGS, matters=sanctions.matter_types(session), flash=shown)


@router.get("/commitments/{commitment_id}", include_in_schema=False)
def detail_page(commitment_id: int, request: Request, actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _detail(request, session, actor, commitment_id)


def _decision_page(request: Request, session: Session, actor: Actor, commitment_id: int, note: str, outcome: str) -> Any:
    def act(data: DecisionIn) -> Any:
        (service.fulfil if outcome == "fulfilled" else service.breach)(session, actor, commitment_id, data.note)
        return RedirectResponse(f"/commitments/{commitment_id}?{outcome}=1", status_code=303)

    return _attempt(request, session, actor, DecisionIn, {"note": note.strip()}, (), act,
                    lambda error: _detail(request, session, actor, commitment_id, note=note, error=error))


@router.post("/commitments/{commitment_id}/fulfil", include_in_schema=False)
def fulfil_page(commitment_id: int, request: Request, note: str = Form(""),
                actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _decision_page(request, session, actor, commitment_id, note, "fulfilled")


@router.post("/commitments/{commitment_id}/breach", include_in_schema=False)
def breach_page(commitment_id: int, request: Request, note: str = Form(""),
                actor: Actor = Depends(require(P.COMMITMENTS_MANAGE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _decision_page(request, session, actor, commitment_id, note, "breached")
