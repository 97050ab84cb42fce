"""Submitting and reading credit records: departments submit and revoke, subjects read their own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.records import service
from xinyong.records.schemas import RecordIn, RecordOut, RevocationIn, SubmissionOut
from xinyong.sanctions import service as sanctions
from xinyong.sharing import service as sharing
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["信用记录"])
PER_PAGE = 30


@router.post("/api/v1/records", summary="报送一条信用记录", status_code=201)
def submit_api(body: RecordIn, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
               session: Session = Depends(get_db)) -> SubmissionOut:
    department = access.department_of(session, actor)
    result = service.submit(session, actor, body.item, body.subject, body.payload, department_id=department.id,
                            department_code=department.code)
    return SubmissionOut(created=result.created, outcome=result.outcome, record=RecordOut.model_validate(result.record))


@router.post("/api/v1/records/{record_id}/revocation", summary="撤销信用记录（保留原记录）", status_code=201)
def revoke_api(record_id: int, body: RevocationIn, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
               session: Session = Depends(get_db)) -> RecordOut:
    return RecordOut.model_validate(service.revoke(session, actor, record_id, body.reason))


@router.get("/api/v1/records/{record_id}", summary="信用记录及其更正、撤销历史")
def get_api(record_id: int, purpose: str = Query("", max_length=40, description="用途（有条件共享信息须与已批准的共享申请一致）"),
            actor: Actor = Depends(require(P.RECORDS_READ_SHARED)), session: Session = Depends(get_db)) -> list[RecordOut]:
    chain = sharing.read_record(session, actor, record_id, purpose=purpose)  # what the department may see (docs/sharing.md)
    return [RecordOut.model_validate(r) for r in chain]


@router.get("/api/v1/subjects/{code}/records", summary="主体的现行信用记录（政务共享）")
def subject_records_api(code: str, purpose: str = Query("", max_length=40, description="用途（有条件共享信息须说明）"),
                        actor: Actor = Depends(require(P.RECORDS_READ_SHARED)),
                        session: Session = Depends(get_db)) -> list[RecordOut]:
    subject = subjects.by_code_or_fail(session, code)
    return [RecordOut.model_validate(r) for r in sharing.subject_records(session, actor, subject.id, purpose=purpose)]


@router.get("/api/v1/me/records", summary="本主体的全部现行信用记录")
def own_records_api(actor: Actor = Depends(require(P.RECORDS_READ_OWN)),
                    session: Session = Depends(get_db)) -> list[RecordOut]:
    return [RecordOut.model_validate(r) for r in service.read_subject_records(session, actor, actor.subject_id or 0)]


# --- pages ----------------------------------------------------------------------------------------

@router.get("/records", include_in_schema=False)
def department_records_page(request: Request, page: int = Query(1, ge=1), actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                            session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    department = access.department_of(session, actor)
    rows, total = service.list_for_department(session, department.id, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    names = catalogue.item_names(session)
    return render(request, "records_department.html", title="报送记录", department=department, rows=rows, total=total,
                  page=page, per_page=PER_PAGE, item_names=names)


@router.get("/records/{record_id}", include_in_schema=False)
def record_page(record_id: int, request: Request, purpose: str = Query("", max_length=40),
                actor: Actor = Depends(require(P.RECORDS_READ_SHARED)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _record_view(request, session, actor, record_id, purpose=purpose)


def _record_view(request: Request, session: Session, actor: Actor, record_id: int, purpose: str = "",  # type: ignore[no-untyped-def]
                 **extra: object):
    chain = sharing.read_record(session, actor, record_id, purpose=purpose, channel="page")
    record = service.get(session, record_id)
    version = catalogue.get_version(session, record.item_version_id)
    return render(request, "record_detail.html", title="信用记录", record=record, chain=chain, version=version,
                  subject=subjects.get(session, record.subject_id), departments=access.department_names(session),
                  labels={f["name"]: f["label"] for f in version.fields}, current=service.is_current(session, chain[-1]),
                  **extra)


@router.post("/records/{record_id}/revoke", include_in_schema=False)
def revoke_page(record_id: int, request: Request, reason: str = Form(""), actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    service.revoke(session, actor, record_id, reason)
    return _record_view(request, session, actor, record_id, flash="已撤销，原记录保留可查")


@router.get("/me/credit", include_in_schema=False)
def own_credit_page(request: Request, actor: Actor = Depends(require(P.RECORDS_READ_OWN)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    subject = subjects.get(session, actor.subject_id or 0)
    rows = service.read_subject_records(session, actor, subject.id)
    lists = sanctions.entries(session, subject_id=subject.id, limit=200)[1]
    return render(request, "my_credit.html", title="我的信用", subject=subject, records=rows, lists=lists,
                  departments=access.department_names(session), item_names=catalogue.item_names(session),
                  statuses={r.id: service.publication_status(r) for r in rows})
