"""Submitting files (web upload and API), following a batch, downloading its error report."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.errors import Invalid
from xinyong.ingest import mapping, report, service
from xinyong.ingest.models import IngestBatch
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["信用信息归集"])
MAX_API_RECORDS = 10_000


class BatchOut(BaseModel):
    id: int
    item_code: str
    filename: str
    status: str
    file_format: str
    encoding: str
    total_rows: int | None
    processed_rows: int
    accepted: int
    corrected: int
    duplicate: int
    flagged: int
    rejected: int
    error_code: str | None
    error_message: str | None
    created_at: datetime
    finished_at: datetime | None


class RowOut(BaseModel):
    row_number: int
    outcome: str
    record_id: int | None
    problems: list[dict[str, Any]]


class RecordsBatchIn(BaseModel):
    item: str = Field(description="目录信息项代码")
    records: list[dict[str, Any]] = Field(min_length=1, description="每条一个对象，键为列名（中文列名或字段代码）")


def _out(batch: IngestBatch) -> BatchOut:
    return BatchOut.model_validate(batch, from_attributes=True)


async def _spool(upload: UploadFile) -> Path:
    """The upload on disk (streamed: files can be large)."""
    with tempfile.NamedTemporaryFile(delete=False, suffix=Path(upload.filename or "").suffix[:8]) as handle:
        while block := await upload.read(1 << 20):
            handle.write(block)
    return Path(handle.name)


def _start(request: Request, tasks: BackgroundTasks, batch: IngestBatch) -> None:
    if batch.status == "pending":
        tasks.add_task(service.run_batch, request.app.state.session_factory, batch.id)


# --- API ------------------------------------------------------------------------------------------

@router.post("/api/v1/ingest/batches", summary="上传文件报送（CSV/XLSX/JSON/NDJSON，后台导入）", status_code=202)
async def upload_api(request: Request, tasks: BackgroundTasks, item: str = Form(...), file: UploadFile = File(...),
                     encoding: str | None = Form(None), actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                     session: Session = Depends(get_db)) -> BatchOut:
    path = await _spool(file)
    try:
        batch = service.submit_file(session, actor, item, path, file.filename or "upload", channel="api",
                                    declared_encoding=encoding or None)
    finally:
        path.unlink(missing_ok=True)
    session.commit()
    _start(request, tasks, batch)
    return _out(batch)


@router.post("/api/v1/ingest/records", summary="批量报送记录（JSON，同步处理）", status_code=201)
def records_api(body: RecordsBatchIn, request: Request, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                session: Session = Depends(get_db)) -> BatchOut:
    if len(body.records) > MAX_API_RECORDS:
        raise Invalid("BATCH_TOO_LARGE", f"单次最多报送{MAX_API_RECORDS}条，请改用文件上传", field="records")
    text = "\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in body.records) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    path = Path(handle.name)
    try:
        batch = service.submit_file(session, actor, body.item, path, "api.ndjson", channel="api")
    finally:
        path.unlink(missing_ok=True)
    session.commit()
    if batch.status == "pending":
        batch = service.run_batch(request.app.state.session_factory, batch.id)
    return _out(batch)


@router.get("/api/v1/ingest/batches/{batch_id}", summary="报送批次状态")
def batch_api(batch_id: int, actor: Actor = Depends(require(P.INGEST_READ)), session: Session = Depends(get_db)) -> BatchOut:
    return _out(service.batch_for(session, actor, batch_id))


@router.get("/api/v1/ingest/batches/{batch_id}/rows", summary="批次中被拒绝、标记、更正或重复的行")
def rows_api(batch_id: int, outcome: str | None = Query(None, pattern="^(rejected|flagged|correction|duplicate)$"),
             actor: Actor = Depends(require(P.INGEST_READ)), session: Session = Depends(get_db)) -> list[RowOut]:
    batch = service.batch_for(session, actor, batch_id)
    rows = service.row_outcomes(session, batch, (outcome,) if outcome else None)
    return [RowOut.model_validate(r, from_attributes=True) for r in rows]


@router.put("/api/v1/ingest/mappings/{item}", summary="保存本部门的列映射（列名 → 字段代码，空串表示忽略）")
def mapping_api(item: str, columns: dict[str, str], actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                session: Session = Depends(get_db)) -> dict[str, str]:
    return dict(service.save_mapping(session, actor, item, columns).mapping)


# --- pages ----------------------------------------------------------------------------------------

def _list_view(request: Request, session: Session, actor: Actor, **extra: object):  # type: ignore[no-untyped-def]
    department_id = None if actor.role == "authority_admin" else actor.department_id
    return render(request, "ingest_list.html", title="信用信息归集", batches=service.batches(session, department_id=department_id),
                  items=catalogue.list_items(session), departments=access.department_names(session),
                  can_submit=actor.department_id is not None, **extra)


@router.get("/ingest", include_in_schema=False)
def ingest_page(request: Request, actor: Actor = Depends(require(P.INGEST_READ)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _list_view(request, session, actor)


@router.post("/ingest", include_in_schema=False)
async def upload_page(request: Request, tasks: BackgroundTasks, item: str = Form(""), file: UploadFile = File(...),
                      encoding: str = Form(""), actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                      session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    path = await _spool(file)
    try:
        batch = service.submit_file(session, actor, item, path, file.filename or "upload", declared_encoding=encoding or None)
    finally:
        path.unlink(missing_ok=True)
    session.commit()
    _start(request, tasks, batch)
    return RedirectResponse(f"/ingest/batches/{batch.id}", status_code=303)


@router.get("/ingest/batches/{batch_id}", include_in_schema=False)
def batch_page(batch_id: int, request: Request, actor: Actor = Depends(require(P.INGEST_READ)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    batch = service.batch_for(session, actor, batch_id)
    rows = service.row_outcomes(session, batch, ("rejected", "flagged"))[:200]
    template = "ingest_progress.html" if request.headers.get("hx-request") else "ingest_batch.html"
    return render(request, template, title=f"报送批次 {batch.id}", batch=batch, rows=rows,
                  labels=service.OUTCOME_LABELS, item_name=catalogue.item_names(session).get(batch.item_code, batch.item_code),
                  field_labels={**mapping.IDENTITY_LABELS, **catalogue.get_item(session, batch.item_code).field_labels})


@router.post("/ingest/batches/{batch_id}/resume", include_in_schema=False)
def resume_page(batch_id: int, request: Request, tasks: BackgroundTasks, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                session: Session = Depends(get_db)) -> RedirectResponse:
    batch = service.batch_for(session, actor, batch_id)
    if batch.status in ("pending", "running"):
        tasks.add_task(service.run_batch, request.app.state.session_factory, batch.id)
    return RedirectResponse(f"/ingest/batches/{batch.id}", status_code=303)


@router.get("/ingest/batches/{batch_id}/errors.{kind}", include_in_schema=False)
def error_report(batch_id: int, kind: str, actor: Actor = Depends(require(P.INGEST_READ)),
                 session: Session = Depends(get_db)) -> Response:
    batch = service.batch_for(session, actor, batch_id)
    header, table = report.report_rows(batch, service.row_outcomes(session, batch, ("rejected", "flagged")))
    name = f"batch-{batch.id}-errors"
    if kind == "csv":
        return Response(report.as_csv(header, table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if kind == "xlsx":
        return Response(report.as_xlsx(header, table, "错误报告"),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    raise Invalid("REPORT_FORMAT_UNKNOWN", "错误报告只提供 xlsx 和 csv 两种格式")


@router.get("/ingest/mappings/{item}", include_in_schema=False)
def mapping_page(item: str, request: Request, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    department = access.department_of(session, actor)
    entry = catalogue.get_item(session, item)
    return render(request, "ingest_mapping.html", title="列映射", entry=entry,
                  saved=service.saved_mapping(session, department.id, item), identity=mapping.IDENTITY_LABELS)


@router.post("/ingest/mappings/{item}", include_in_schema=False)
async def mapping_save(item: str, request: Request, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                       session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = await request.form()
    columns = {str(v).strip(): k.removeprefix("col:") for k, v in form.items() if k.startswith("col:") and str(v).strip()}
    service.save_mapping(session, actor, item, columns)
    return RedirectResponse(f"/ingest/mappings/{item}", status_code=303)
