"""The working-day calendar: the authority loads each year's holiday schedule; anyone may read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import DomainError, Invalid
from xinyong.policy import calendar_service as service
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["工作日历"])

MAX_UPLOAD_BYTES = 64 * 1024


def _view(request: Request, session: Session, year: int, status_code: int = 200, **extra: Any) -> Any:
    overview = service.year_overview(session, year)
    extra.setdefault("schedule", service.loaded_schedule_text(session, year))
    extra.setdefault("source", overview.loaded[-1].source if overview.loaded else "")
    return render(request, "calendar.html", status_code=status_code, title=f"工作日历 {year}年", overview=overview,
                  weekdays="一二三四五六日", **extra)


def _decode(content: bytes) -> str:
    if len(content) > MAX_UPLOAD_BYTES:
        raise Invalid("CALENDAR_FILE_TOO_LARGE", f"文件不能超过{MAX_UPLOAD_BYTES // 1024}KB", field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("CALENDAR_FILE_ENCODING", "文件编码无法识别，请保存为UTF-8或GBK编码的文本/CSV文件", field="file")


@router.get("/admin/calendar", include_in_schema=False)
def calendar_page(request: Request, year: int | None = Query(None), actor: Actor = Depends(require(P.POLICY_EDIT)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _view(request, session, year or clock.today().year)


@router.post("/admin/calendar/{year}", include_in_schema=False)
async def load_page(year: int, request: Request, schedule: str = Form(""), source: str = Form(""),
                    file: UploadFile | None = File(None), actor: Actor = Depends(require(P.POLICY_EDIT)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        if file is not None and file.filename:
            schedule = _decode(await file.read(MAX_UPLOAD_BYTES + 1))
        count = service.load_year(session, actor, year, service.parse_schedule(schedule), source)
    except DomainError as error:
        session.rollback()
        return _view(request, session, year, status_code=error.status, error=error, schedule=schedule, source=source)
    return _view(request, session, year, flash=f"已载入{year}年节假日安排（{count}天），变更已记入审计日志")


@router.get("/api/v1/calendar/{year}", summary="某年的节假日与调休安排", dependencies=[Depends(require(P.PUBLIC))])
def calendar_api(year: int, session: Session = Depends(get_db)) -> dict[str, Any]:
    overview = service.year_overview(session, year)
    return {
        "year": year,
        "covers": overview.covered,
        "working_days": overview.working_day_count,
        "days": [{"date": info.day.isoformat(), "is_working_day": info.is_working_day, "name": info.name,
                  "kind": str(info.kind), "source": str(info.source)} for info in overview.special],
    }
