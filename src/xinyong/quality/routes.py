"""The credit authority's view of how well departments collect and share (归集共享质效评估)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.quality import service
from xinyong.quality.service import Overview
from xinyong.web.deps import get_db, require
from xinyong.web.templating import templates

router = APIRouter(tags=["归集质效评估"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# This context's templates first, then the shared ones (base.html, macros, filters and globals are shared).
_templates = Jinja2Templates(env=templates.env.overlay(loader=ChoiceLoader([
    FileSystemLoader(str(Path(__file__).resolve().parent / "templates")), templates.env.loader])))


class QualityOut(BaseModel):
    department_id: int
    department_code: str
    department_name: str
    month: str
    volume: int
    revocations: int
    timed: int
    on_time: int
    submitted: int
    rejected: int
    duplicates: int
    conflicts: int
    timeliness: float | None
    completeness: float | None
    accuracy: float | None
    duplicate_rate: float | None
    conflict_rate: float | None
    score: float | None
    rank: int | None


def _month_query() -> Any:
    return Query(None, pattern=service.MONTH_PATTERN, description="月份，YYYY-MM；缺省为有数据的最近一个月")


@router.get("/api/v1/quality", summary="各部门归集共享质效评估（按月：归集量、及时率、完整率、准确率、重复率、赋码冲突率、得分、排名）")
def quality_api(month: str | None = _month_query(), actor: Actor = Depends(require(P.QUALITY_READ)),
                session: Session = Depends(get_db)) -> list[QualityOut]:
    return [QualityOut.model_validate(row, from_attributes=True) for row in service.assess(session, month)]


@router.get("/quality/export.xlsx", include_in_schema=False)
def quality_export(month: str | None = _month_query(), actor: Actor = Depends(require(P.QUALITY_READ)),
                   session: Session = Depends(get_db)) -> Response:
    month = service.month_or_latest(session, month)
    data = service.export_xlsx(service.assess(session, month), service.weights(session))
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="quality-{month}.xlsx"'})


def _chart_data(view: Overview) -> dict[str, Any]:
    """What the charts draw (the ranking table on the page is their text alternative)."""
    scored = [row for row in view.rows if row.score is not None]
    return {"month": view.month,
            "bars": {"names": [row.department_name for row in scored], "scores": [row.score for row in scored]},
            "trend": {"months": sorted(view.months), "series": [{"name": name, "scores": scores}
                                                                for name, scores in view.trend.items()]}}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@router.get("/quality", include_in_schema=False)
def quality_page(request: Request, month: str | None = _month_query(), actor: Actor = Depends(require(P.QUALITY_READ)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    view = service.overview(session, month)
    weights = service.weights(session)
    return _templates.TemplateResponse(request, "quality.html", {
        "actor": actor, "title": "归集共享质效评估", "view": view, "rows": view.rows, "chart": _chart_data(view),
        "percent": _percent, "explanation": service.explanation(weights), "weights": weights,
        "labels": service.METRIC_LABELS})
