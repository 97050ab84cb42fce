"""Evaluation models, runs and grades: the authority and departments manage, subjects see their own."""

from __future__ import annotations

from contextlib import suppress
from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import DomainError, Invalid
from xinyong.evaluation import service
from xinyong.evaluation.schemas import (
    KIND_LABELS,
    PURPOSE_LABELS,
    IndicatorExplanation,
    ModelSpec,
    ModelSummary,
    RevisionIn,
    RunIn,
    RunOut,
    SubjectGrade,
)
from xinyong.sharing import service as sharing
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["信用评价"])
PER_PAGE = 50


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("EVAL_AS_OF_INVALID", f"评价基准日格式应为 YYYY-MM-DD，收到“{text[:20]}”", field="as_of") from None


def _run(request: Request, session: Session, actor: Actor, code: str, as_of: str) -> int:
    """Run a model now, in its own transactions (a failed run is kept, marked failed)."""
    run_id = service.start_run(session, actor, code, _as_of(as_of))
    session.commit()  # the run is on record, and SQLite's write lock is free for the run's own transactions
    factory = request.app.state.session_factory
    with suppress(DomainError):  # a refusal is recorded on the run, which the caller shows
        service.execute_run(factory, run_id)
    return run_id


# --- API -------------------------------------------------------------------------------------------------

@router.get("/api/v1/evaluation/models", summary="评价模型列表")
def models_api(_: Actor = Depends(require(P.EVALUATION_READ)), session: Session = Depends(get_db)) -> list[ModelSummary]:
    return [service.summary(m) for m in service.list_models(session)]


@router.get("/api/v1/evaluation/models/{code}", summary="评价模型定义（现行版本）")
def model_api(code: str, _: Actor = Depends(require(P.EVALUATION_READ)), session: Session = Depends(get_db)) -> ModelSpec:
    return service.get_model(session, code).spec


@router.get("/api/v1/evaluation/models/{code}/yaml", summary="导出评价模型定义（YAML）", response_class=PlainTextResponse)
def model_yaml_api(code: str, _: Actor = Depends(require(P.EVALUATION_READ)),
                   session: Session = Depends(get_db)) -> PlainTextResponse:
    text = service.spec_to_yaml(service.get_model(session, code).spec)
    return PlainTextResponse(text, media_type="application/yaml; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{code}.yaml"'})


@router.post("/api/v1/evaluation/models", summary="新建评价模型（部门新建的为行业信用评价模型）", status_code=201)
def create_api(spec: ModelSpec, actor: Actor = Depends(require(P.EVALUATION_MODELS)),
               session: Session = Depends(get_db)) -> ModelSummary:
    return service.summary(service.create_model(session, actor, spec))


@router.put("/api/v1/evaluation/models/{code}", summary="修订评价模型（生成新版本）")
def revise_api(code: str, body: RevisionIn, actor: Actor = Depends(require(P.EVALUATION_MODELS)),
               session: Session = Depends(get_db)) -> ModelSummary:
    return service.summary(service.revise_model(session, actor, code, body.spec, body.note))


@router.post("/api/v1/evaluation/models/{code}/runs", summary="按评价基准日运行评价批次", status_code=201)
def run_api(code: str, body: RunIn, request: Request, actor: Actor = Depends(require(P.EVALUATION_MODELS)),
            session: Session = Depends(get_db)) -> RunOut:
    run_id = _run(request, session, actor, code, body.as_of)
    return service.run_out(session, service.get_run(session, run_id))


@router.post("/api/v1/evaluation/runs/{run_id}/records", summary="行业信用评价结果作为本部门的信用记录回流")
def publish_api(run_id: int, actor: Actor = Depends(require(P.EVALUATION_MODELS)),
                session: Session = Depends(get_db)) -> dict[str, int]:
    return {"records": service.publish_as_records(session, actor, run_id)}


@router.post("/evaluation/runs/{run_id}/records", include_in_schema=False)
def publish_page(run_id: int, request: Request, actor: Actor = Depends(require(P.EVALUATION_MODELS)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    count = service.publish_as_records(session, actor, run_id)
    return RedirectResponse(f"/evaluation/runs/{run_id}?published={count}", status_code=303)


@router.get("/api/v1/evaluation/runs/{run_id}", summary="评价批次")
def run_get_api(run_id: int, _: Actor = Depends(require(P.EVALUATION_READ)), session: Session = Depends(get_db)) -> RunOut:
    return service.run_out(session, service.get_run(session, run_id))


@router.get("/api/v1/evaluation/subjects/{code}", summary="主体在各评价模型最新批次中的得分和等级")
def subject_grades_api(code: str, _: Actor = Depends(require(P.EVALUATION_READ)),
                       session: Session = Depends(get_db)) -> list[SubjectGrade]:
    return service.subject_grades(session, subjects.by_code_or_fail(session, code).id)


@router.get("/api/v1/me/evaluation", summary="本主体的评价等级及评价说明")
def own_grades_api(actor: Actor = Depends(require(P.EVALUATION_READ_OWN)),
                   session: Session = Depends(get_db)) -> list[SubjectGrade]:
    return service.subject_grades(session, actor.subject_id or 0, explained=True)


# --- pages -------------------------------------------------------------------------------------------------

def _labels() -> dict[str, object]:
    return {"purpose_labels": PURPOSE_LABELS, "kind_labels": KIND_LABELS}


@router.get("/evaluation", include_in_schema=False)
def models_page(request: Request, _: Actor = Depends(require(P.EVALUATION_READ)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    runs = [service.run_out(session, r) for r in service.runs(session, limit=20)]
    return render(request, "evaluation_models.html", title="信用评价", models=service.list_models(session), runs=runs,
                  **_labels())


@router.get("/evaluation/models/new", include_in_schema=False)
def new_page(request: Request, _: Actor = Depends(require(P.EVALUATION_MODELS))):  # type: ignore[no-untyped-def]
    template = service.spec_to_yaml(service.parse_spec(service.seed_specs()[0]))
    return render(request, "evaluation_edit.html", title="新建评价模型", code=None, text=template, note="")


@router.post("/evaluation/models/new", include_in_schema=False)
def create_page(request: Request, yaml_text: str = Form(""), actor: Actor = Depends(require(P.EVALUATION_MODELS)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        entry = service.create_model(session, actor, service.spec_from_yaml(yaml_text))
    except DomainError as error:
        session.rollback()
        return render(request, "evaluation_edit.html", status_code=error.status, title="新建评价模型", code=None,
                      text=yaml_text, note="", error=error)
    return RedirectResponse(f"/evaluation/models/{entry.code}", status_code=303)


@router.get("/evaluation/models/{code}", include_in_schema=False)
def model_page(code: str, request: Request, _: Actor = Depends(require(P.EVALUATION_READ)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    entry = service.get_model(session, code)
    runs = [service.run_out(session, r) for r in service.runs(session, code=code, limit=20)]
    return render(request, "evaluation_model.html", title=entry.spec.name, entry=entry, runs=runs,
                  versions=service.versions(session, code), scored={i.code for i in service.definition.scored(entry.spec)},
                  **_labels())


@router.get("/evaluation/models/{code}/edit", include_in_schema=False)
def edit_page(code: str, request: Request, _: Actor = Depends(require(P.EVALUATION_MODELS)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    entry = service.get_model(session, code)
    return render(request, "evaluation_edit.html", title=f"修订：{entry.spec.name}", code=code,
                  text=service.spec_to_yaml(entry.spec), note="")


@router.post("/evaluation/models/{code}/edit", include_in_schema=False)
def revise_page(code: str, request: Request, yaml_text: str = Form(""), note: str = Form(""),
                actor: Actor = Depends(require(P.EVALUATION_MODELS)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        service.revise_model(session, actor, code, service.spec_from_yaml(yaml_text), note)
    except DomainError as error:
        session.rollback()
        return render(request, "evaluation_edit.html", status_code=error.status, title="修订评价模型", code=code,
                      text=yaml_text, note=note, error=error)
    return RedirectResponse(f"/evaluation/models/{code}", status_code=303)


@router.post("/evaluation/models/{code}/run", include_in_schema=False)
def run_page(code: str, request: Request, as_of: str = Form(""), actor: Actor = Depends(require(P.EVALUATION_MODELS)),
             session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return RedirectResponse(f"/evaluation/runs/{_run(request, session, actor, code, as_of)}", status_code=303)


@router.get("/evaluation/runs/{run_id}", include_in_schema=False)
def run_page_get(run_id: int, request: Request, grade: str = "", page: int = Query(1, ge=1), published: int | None = None,
                 _: Actor = Depends(require(P.EVALUATION_READ)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    run = service.get_run(session, run_id)
    _model, _version, spec = service.get_version(session, run.model_version_id)
    rows, total = service.results(session, run_id, grade=grade or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    names = {s.id: s for s in subjects.by_ids(session, [r.subject_id for r in rows])}
    charts = {by: service.distribution(session, run_id, by) for by in service.DIMENSIONS}
    return render(request, "evaluation_run.html", title=f"评价批次 {run_id}", run=service.run_out(session, run), spec=spec,
                  rows=rows, subjects=names, total=total, page=page, per_page=PER_PAGE, grade=grade,
                  charts=charts, dimensions=service.DIMENSIONS, movement=service.movement(session, run_id),
                  grade_codes=[g.code for g in spec.grades], industry=_model.department_id is not None,
                  flash=f"已作为行业信用评价结果报送 {published} 条信用记录" if published is not None else None)


@router.get("/evaluation/runs/{run_id}/subjects/{subject_id}", include_in_schema=False)
def explanation_page(run_id: int, subject_id: int, request: Request, actor: Actor = Depends(require(P.EVALUATION_READ)),
                     session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    run = service.get_run(session, run_id)
    _model, _version, spec = service.get_version(session, run.model_version_id)
    stored = service.result(session, run_id, subject_id)
    if stored is None:
        raise Invalid("EVAL_SUBJECT_NOT_IN_RUN", "该主体不在此评价批次的评价范围内")
    explanation = service.explain(session, run_id, subject_id)
    return render(request, "evaluation_explanation.html", title="评价说明", run=service.run_out(session, run), spec=spec,
                  subject=subjects.get(session, subject_id), stored=stored,
                  rows=_shareable(session, actor, service.indicator_rows(spec, explanation)),
                  grades={g.code: g.label for g in spec.grades})


def _shareable(session: Session, actor: Actor, rows: list[IndicatorExplanation]) -> list[IndicatorExplanation]:
    """A department sees no indicator value drawn from records it may not be given (以共享为原则, but
    有条件共享 only under an approved request): the row stays, its value, score and records do not."""
    hidden = sharing.withheld_records(session, actor, [i for row in rows for i in row.record_ids])
    return [row.model_copy(update={"value": 0.0, "contribution": None, "withheld": True,
                                   "record_ids": [i for i in row.record_ids if i not in hidden]})
            if hidden.intersection(row.record_ids) else row for row in rows]


@router.get("/me/evaluation", include_in_schema=False)
def own_page(request: Request, actor: Actor = Depends(require(P.EVALUATION_READ_OWN)),
             session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "evaluation_own.html", title="我的评价", subject=subjects.get(session, actor.subject_id or 0),
                  grades=service.subject_grades(session, actor.subject_id or 0, explained=True))
