"""Graded supervision and 双随机 draws: the authority's tier schemes, departments' draws and inspection lists."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.permissions import P, role_allows
from xinyong.actor import Actor
from xinyong.errors import DomainError, Invalid, NotFound
from xinyong.evaluation import service, supervision
from xinyong.evaluation.schemas import PURPOSE_LABELS
from xinyong.evaluation.supervision_schemas import (
    DrawIn,
    DrawOut,
    PopulationFilter,
    SchemeIn,
    SchemeOut,
    SchemeSpec,
    VerificationOut,
)
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import INDUSTRIES, SUBJECT_KINDS
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form
from xinyong.web.templating import render

router = APIRouter(tags=["分级分类监管"])
PER_PAGE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNGRADED_KEY = "_"


def _download(export: supervision.Export) -> Response:
    fallback = re.sub(r"[^A-Za-z0-9._-]", "", export.filename) or "draw.xlsx"
    return Response(export.content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(export.filename)}"})


# --- API ---------------------------------------------------------------------------------------------------

@router.get("/api/v1/supervision/schemes", summary="各评价模型现行的分级分类监管方案")
def schemes_api(_: Actor = Depends(require(P.SUPERVISION_READ)), session: Session = Depends(get_db)) -> list[SchemeOut]:
    return [supervision.scheme_out(session, row) for _entry, row in supervision.supervision_models(session) if row]


@router.get("/api/v1/supervision/schemes/{model_code}", summary="评价模型现行的分级分类监管方案")
def scheme_api(model_code: str, _: Actor = Depends(require(P.SUPERVISION_READ)),
               session: Session = Depends(get_db)) -> SchemeOut:
    row = supervision.scheme(session, model_code)
    if row is None:
        raise NotFound("SUPERVISION_SCHEME_MISSING", f"评价模型“{model_code}”尚未制定分级分类监管方案")
    return supervision.scheme_out(session, row)


@router.put("/api/v1/supervision/schemes/{model_code}", summary="制定或修订分级分类监管方案（生成新版本）")
def scheme_save_api(model_code: str, body: SchemeIn, actor: Actor = Depends(require(P.SUPERVISION_EDIT)),
                    session: Session = Depends(get_db)) -> SchemeOut:
    return supervision.scheme_out(session, supervision.save_scheme(session, actor, model_code, body.spec, body.note))


@router.post("/api/v1/supervision/draws", summary="双随机抽取检查对象（部门只能为本部门抽取）", status_code=201)
def draw_api(body: DrawIn, actor: Actor = Depends(require(P.SUPERVISION_DRAW)),
             session: Session = Depends(get_db)) -> DrawOut:
    row = supervision.draw(session, actor, body.department_id, body.model_code, body.filter, body.seed)
    return supervision.draw_out(session, row, with_items=True)


@router.get("/api/v1/supervision/draws", summary="抽查记录（信用主管部门看全部，部门看本部门）")
def draws_api(actor: Actor = Depends(require(P.SUPERVISION_READ)), session: Session = Depends(get_db)) -> list[DrawOut]:
    return [supervision.draw_out(session, row) for row in supervision.list_draws(session, actor)]


@router.get("/api/v1/supervision/draws/{draw_id}", summary="抽查记录及检查对象名单")
def draw_get_api(draw_id: int, actor: Actor = Depends(require(P.SUPERVISION_READ)),
                 session: Session = Depends(get_db)) -> DrawOut:
    return supervision.draw_out(session, supervision.get_draw(session, actor, draw_id), with_items=True)


@router.get("/api/v1/supervision/draws/{draw_id}/verification", summary="以记录的随机种子复核抽取结果")
def verify_api(draw_id: int, actor: Actor = Depends(require(P.SUPERVISION_READ)),
               session: Session = Depends(get_db)) -> VerificationOut:
    return supervision.verify(session, actor, draw_id)


@router.get("/api/v1/supervision/draws/{draw_id}/inspection-list.xlsx", summary="下载检查对象名单（XLSX）",
            response_class=Response)
def inspection_list_api(draw_id: int, actor: Actor = Depends(require(P.SUPERVISION_READ)),
                        session: Session = Depends(get_db)) -> Response:
    return _download(supervision.inspection_list_xlsx(session, actor, draw_id))


@router.get("/api/v1/supervision/draws/{draw_id}/results-template.xlsx",
            summary="下载检查结果报送模板（XLSX，按信息项 INSPECTION_RESULT 上传）", response_class=Response)
def results_template_api(draw_id: int, actor: Actor = Depends(require(P.SUPERVISION_READ)),
                         session: Session = Depends(get_db)) -> Response:
    return _download(supervision.results_template_xlsx(session, actor, draw_id))


# --- pages: schemes ----------------------------------------------------------------------------------------

@router.get("/supervision", include_in_schema=False)
def index_page(request: Request, actor: Actor = Depends(require(P.SUPERVISION_READ)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    schemes = [(entry, SchemeSpec.model_validate(row.spec) if row else None, row)
               for entry, row in supervision.supervision_models(session)]
    excluded = [entry for entry in service.list_models(session) if entry.spec.purpose != "supervision"]
    return render(request, "supervision_index.html", title="双随机抽查", schemes=schemes, excluded=excluded,
                  draws=[supervision.draw_out(session, row) for row in supervision.list_draws(session, actor)])


def _scheme_page(request: Request, session: Session, model_code: str, *, error: DomainError | None = None,
                 form: dict[str, Any] | None = None, note: str = "") -> Any:
    entry = service.get_model(session, model_code)
    current = supervision.scheme(session, model_code) if entry.spec.purpose == "supervision" else None
    spec = SchemeSpec.model_validate(current.spec) if current else None
    if form is None:
        form = {}
        if spec:
            for g in [*spec.grades, spec.ungraded]:
                key = getattr(g, "grade", UNGRADED_KEY)
                form |= {f"tier:{key}": g.tier, f"ratio:{key}": _format_percent(g.ratio), f"frequency:{key}": g.frequency}
    return render(request, "supervision_scheme.html", status_code=error.status if error else 200,
                  title=f"分级分类监管方案：{entry.spec.name}", entry=entry, current=current, spec=spec,
                  versions=supervision.scheme_versions(session, model_code), purpose_labels=PURPOSE_LABELS,
                  form=form, note=note, error=error,
                  form_rows=[*((g.code, f"{g.code}（{g.label}）") for g in entry.spec.grades), (UNGRADED_KEY, "未评价")])


def _format_percent(ratio: float) -> str:
    return format((Decimal(str(ratio)) * 100).normalize(), "f")


def _ratio(text: str, label: str, field: str) -> float:
    try:
        value = Decimal(text.strip().rstrip("%％").strip()) / 100
    except InvalidOperation:
        raise Invalid("SUPERVISION_RATIO_INVALID", f"{label}的抽查比例应为 0–100 之间的百分数", field=field) from None
    if not 0 <= value <= 1:
        raise Invalid("SUPERVISION_RATIO_INVALID", f"{label}的抽查比例应为 0–100 之间的百分数", field=field)
    return float(value)


def scheme_from_form(grades: list[str], form: dict[str, Any]) -> SchemeSpec:
    """The scheme a browser form sends: per grade (and ``_`` for the ungraded) tier, ratio in %, frequency."""
    def tier(key: str, label: str) -> dict[str, Any]:
        return {"tier": str(form.get(f"tier:{key}", "")).strip(),
                "ratio": _ratio(str(form.get(f"ratio:{key}", "")), label, f"ratio:{key}"),
                "frequency": str(form.get(f"frequency:{key}", "")).strip()}

    data = {"grades": [{"grade": g, **tier(g, f"{g}级")} for g in grades], "ungraded": tier(UNGRADED_KEY, "未评价主体")}
    return supervision.parse_scheme(data)


@router.get("/supervision/models/{model_code}", include_in_schema=False)
def scheme_page(model_code: str, request: Request, _: Actor = Depends(require(P.SUPERVISION_READ)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _scheme_page(request, session, model_code)


@router.post("/supervision/models/{model_code}", include_in_schema=False)
async def scheme_save_page(model_code: str, request: Request, actor: Actor = Depends(require(P.SUPERVISION_EDIT)),
                           session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {key: str(value) for key, value in (await request.form()).items()}
    entry = service.get_model(session, model_code)
    try:
        spec = scheme_from_form([g.code for g in entry.spec.grades], form)
        supervision.save_scheme(session, actor, model_code, spec, form.get("note", ""))
    except DomainError as error:
        session.rollback()
        return _scheme_page(request, session, model_code, error=error, form=form, note=form.get("note", ""))
    return RedirectResponse(f"/supervision/models/{model_code}", status_code=303)


# --- pages: draws ------------------------------------------------------------------------------------------

def _new_draw_page(request: Request, session: Session, actor: Actor, *, form: dict[str, Any] | None = None,
                   error: DomainError | None = None) -> Any:
    authority = actor.role == "authority_admin"
    models = [(entry, row) for entry, row in supervision.supervision_models(session) if row is not None]
    form = form or {"department_id": "" if authority else str(actor.department_id or ""),
                    "model_code": models[0][0].code if models else "", "subject_kinds": []}
    own = None if authority or actor.department_id is None else access.get_department(session, actor.department_id)
    return render(request, "supervision_draw_new.html", status_code=error.status if error else 200, title="抽取检查对象",
                  models=models, departments=access.departments(session) if authority else [], own=own,
                  kinds={k: v for k, v in SUBJECT_KINDS.items() if k != "natural_person"}, industries=INDUSTRIES,
                  form=form, error=error)


def _optional_int(text: str, code: str, message: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,20}", text):
        raise Invalid(code, message, field=field)
    return int(text)


@router.get("/supervision/draws/new", include_in_schema=False)
def new_draw_page(request: Request, actor: Actor = Depends(require(P.SUPERVISION_DRAW)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _new_draw_page(request, session, actor)


@router.post("/supervision/draws", include_in_schema=False)
def draw_page(request: Request, department_id: str = Form(""), model_code: str = Form(""),
              region_prefix: str = Form(""), industry: str = Form(""), subject_kinds: list[str] = Form(default=[]),
              codes: str = Form(""), seed: str = Form(""), actor: Actor = Depends(require(P.SUPERVISION_DRAW)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"department_id": department_id, "model_code": model_code, "region_prefix": region_prefix,
            "industry": industry, "subject_kinds": subject_kinds, "codes": codes, "seed": seed}
    try:
        wanted = parse_form(PopulationFilter, {
            "region_prefix": region_prefix.strip() or None, "industry": industry.strip() or None,
            "subject_kinds": subject_kinds, "codes": [c for c in re.split(r"[\s,，;；、]+", codes) if c]},
            "SUPERVISION_FILTER_INVALID")
        row = supervision.draw(
            session, actor, _optional_int(department_id, "SUPERVISION_DEPARTMENT_REQUIRED", "请选择实施检查的部门", "department_id"),
            model_code.strip(), wanted,
            _optional_int(seed, "SUPERVISION_SEED_INVALID", "随机种子应为非负整数，或留空由系统生成", "seed"))
    except DomainError as error:
        session.rollback()
        return _new_draw_page(request, session, actor, form=form, error=error)
    return RedirectResponse(f"/supervision/draws/{row.id}", status_code=303)


@router.get("/supervision/draws/{draw_id}", include_in_schema=False)
def draw_detail_page(draw_id: int, request: Request, page: int = Query(1, ge=1), verify: bool = False,
                     actor: Actor = Depends(require(P.SUPERVISION_READ)),
                     session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    row = supervision.get_draw(session, actor, draw_id)
    items = supervision.with_subjects(session, supervision.draw_items(session, draw_id, limit=PER_PAGE,
                                                                      offset=(page - 1) * PER_PAGE))
    can_report = role_allows(actor.role, P.RECORDS_SUBMIT) and actor.department_id == row.department_id
    return render(request, "supervision_draw.html", title=f"抽查计划 {row.plan_number}", draw=supervision.draw_out(session, row),
                  filter_text=supervision.describe(row.population_filter), items=items, page=page, per_page=PER_PAGE,
                  verification=supervision.verify(session, actor, draw_id) if verify else None, can_report=can_report,
                  region_name=lambda code: uscc.region_name(code) or code, ungraded=supervision.UNGRADED_LABEL,
                  item=supervision.RESULT_ITEM)


def _result_page(request: Request, session: Session, actor: Actor, draw_id: int, subject_id: int, *,
                 form: dict[str, str] | None = None, error: DomainError | None = None) -> Any:
    row = supervision.get_draw(session, actor, draw_id)
    return render(request, "supervision_result.html", status_code=error.status if error else 200, title="报送检查结果",
                  draw=row, subject=subjects.get(session, subject_id),
                  department=access.get_department(session, row.department_id),
                  outcomes=supervision.result_outcomes(session),
                  form=form or {"inspected_on": clock.today().isoformat()}, error=error)


@router.get("/supervision/draws/{draw_id}/subjects/{subject_id}/result", include_in_schema=False)
def result_page(draw_id: int, subject_id: int, request: Request, actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _result_page(request, session, actor, draw_id, subject_id)


@router.post("/supervision/draws/{draw_id}/subjects/{subject_id}/result", include_in_schema=False)
def result_save_page(draw_id: int, subject_id: int, request: Request, matter: str = Form(""),
                     inspected_on: str = Form(""), outcome: str = Form(""), note: str = Form(""),
                     actor: Actor = Depends(require(P.RECORDS_SUBMIT)),
                     session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"matter": matter, "inspected_on": inspected_on, "outcome": outcome, "note": note}
    try:
        submission = supervision.submit_result(session, actor, draw_id, subject_id, matter=matter,
                                               inspected_on=inspected_on, outcome=outcome, note=note)
    except DomainError as error:
        session.rollback()
        return _result_page(request, session, actor, draw_id, subject_id, form=form, error=error)
    return RedirectResponse(f"/records/{submission.record.id}", status_code=303)
