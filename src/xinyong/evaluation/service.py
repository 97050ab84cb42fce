"""Evaluation models (评价模型) and batch runs (评价批次): define, version, run, read, explain.

Models are stored as declarative specs (``schemas.ModelSpec``), checked against the catalogue in
force by ``definition.check_model`` whenever they are saved *and* whenever they run (an item may
have lost its evaluation-usable mark since). A run writes its results in one transaction: a
failed run leaves the previous results in place and is kept, marked failed, with its reason.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.db import RawJSON, bulk_insert, in_values, read_only, utcnow
from xinyong.errors import Forbidden, Invalid, NotFound
from xinyong.evaluation import definition, engine, reference
from xinyong.evaluation.models import EvaluationModel, EvaluationModelVersion, EvaluationResult, EvaluationRun
from xinyong.evaluation.schemas import IndicatorExplanation, ModelSpec, ModelSummary, RunOut, SubjectGrade
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import INDUSTRIES, SUBJECT_KINDS, kind_label
from xinyong.web.forms import parse_form

RESULT_BATCH = 20_000


@dataclass(frozen=True)
class Model:
    """A model with the version in force."""

    model: EvaluationModel
    version: EvaluationModelVersion
    spec: ModelSpec

    @property
    def code(self) -> str:
        return self.model.code


# --- specs: YAML in and out, checks against the catalogue ----------------------------------------------

def parse_spec(data: Any) -> ModelSpec:
    """A spec from plain data, or a Chinese ``Invalid`` naming the first bad field."""
    if not isinstance(data, dict):
        raise Invalid("MODEL_SPEC_INVALID", "评价模型定义应为一个映射（键: 值）", field="spec")
    return parse_form(ModelSpec, data, "MODEL_SPEC_INVALID")


def spec_from_yaml(text: str) -> ModelSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid("MODEL_YAML_INVALID", f"不是有效的YAML：{error}", field="yaml") from None
    return parse_spec(data)


def spec_to_yaml(spec: ModelSpec) -> str:
    return yaml.safe_dump(spec.model_dump(exclude_defaults=True), allow_unicode=True, sort_keys=False, width=120)


def item_facts(session: Session) -> dict[str, definition.ItemFacts]:
    return {entry.code: definition.ItemFacts(code=entry.code, name=entry.version.name,
                                             evaluation_usable=entry.version.evaluation_usable,
                                             fields={f["name"]: f for f in entry.version.fields})
            for entry in catalogue.list_items(session)}


def check(session: Session, spec: ModelSpec) -> None:
    definition.check_model(spec, item_facts(session), SUBJECT_KINDS)


# --- models -------------------------------------------------------------------------------------------

def _may_edit(actor: Actor, model: EvaluationModel | None) -> None:
    """The authority edits every model; a department only the industry models it owns."""
    if actor.role == "authority_admin" or actor.is_system:
        return
    if model is not None and model.department_id is not None and model.department_id == actor.department_id:
        return
    if model is None and actor.department_id is not None:
        return
    raise Forbidden("MODEL_NOT_YOURS", "只能修改本部门制定的行业信用评价模型")


def create_model(session: Session, actor: Actor, spec: ModelSpec) -> Model:
    _may_edit(actor, None)
    check(session, spec)
    if session.scalar(select(EvaluationModel.id).where(EvaluationModel.code == spec.code)) is not None:
        raise Invalid("MODEL_CODE_TAKEN", f"模型代码“{spec.code}”已存在", field="code")
    department_id = None if actor.role == "authority_admin" or actor.is_system else actor.department_id
    model = EvaluationModel(code=spec.code, department_id=department_id, current_version=1, created_at=utcnow())
    session.add(model)
    session.flush()
    version = _add_version(session, actor, model, spec, 1, "新建")
    audit.append(session, actor, "evaluation.model_create", object_type="evaluation_model", object_id=model.id,
                 detail={"code": spec.code, "version": 1})
    return Model(model, version, spec)


def revise_model(session: Session, actor: Actor, code: str, spec: ModelSpec, note: str) -> Model:
    current = get_model(session, code)
    _may_edit(actor, current.model)
    if spec.code != code:
        raise Invalid("MODEL_CODE_CHANGED", "不能修改模型代码", field="code")
    if len(note.strip()) < 2:
        raise Invalid("MODEL_NOTE_REQUIRED", "请说明修订内容", field="note")
    check(session, spec)
    number = current.model.current_version + 1
    version = _add_version(session, actor, current.model, spec, number, note.strip())
    current.model.current_version = number
    audit.append(session, actor, "evaluation.model_revise", object_type="evaluation_model",
                 object_id=current.model.id, detail={"code": code, "version": number, "note": note.strip()})
    return Model(current.model, version, spec)


def _add_version(session: Session, actor: Actor, model: EvaluationModel, spec: ModelSpec, number: int,
                 note: str) -> EvaluationModelVersion:
    version = EvaluationModelVersion(model_id=model.id, version=number, spec=spec.model_dump(), change_note=note,
                                     created_at=utcnow(), created_by=actor.username)
    session.add(version)
    session.flush()
    return version


def get_model(session: Session, code: str) -> Model:
    model = session.scalar(select(EvaluationModel).where(EvaluationModel.code == code))
    if model is None:
        raise NotFound("MODEL_UNKNOWN", f"没有评价模型“{code}”")
    version = session.scalar(select(EvaluationModelVersion).where(
        EvaluationModelVersion.model_id == model.id, EvaluationModelVersion.version == model.current_version))
    assert version is not None
    return Model(model, version, ModelSpec.model_validate(version.spec))


def get_version(session: Session, version_id: int) -> tuple[EvaluationModel, EvaluationModelVersion, ModelSpec]:
    version = session.get(EvaluationModelVersion, version_id)
    if version is None:
        raise NotFound("MODEL_VERSION_UNKNOWN", f"评价模型版本不存在：{version_id}")
    model = session.get(EvaluationModel, version.model_id)
    assert model is not None
    return model, version, ModelSpec.model_validate(version.spec)


def list_models(session: Session) -> list[Model]:
    return [get_model(session, code) for code in session.scalars(select(EvaluationModel.code).order_by(EvaluationModel.id))]


def versions(session: Session, code: str) -> list[EvaluationModelVersion]:
    model = get_model(session, code).model
    return list(session.scalars(select(EvaluationModelVersion).where(EvaluationModelVersion.model_id == model.id)
                                .order_by(EvaluationModelVersion.version.desc())))


def seed_specs() -> list[dict[str, Any]]:
    text = resources.files("xinyong.seed").joinpath("evaluation_models.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def seed(session: Session, actor: Actor) -> int:
    """Create the seeded models that are missing; never touch what the authority changed."""
    existing = set(session.scalars(select(EvaluationModel.code)))
    added = 0
    for data in seed_specs():
        if data["code"] not in existing:
            create_model(session, actor, parse_spec(data))
            added += 1
    return added


# --- runs -----------------------------------------------------------------------------------------------

def start_run(session: Session, actor: Actor, code: str, as_of: date, *, cutoff: datetime | None = None) -> int:
    """Check and record a run about to start; returns its id (``execute_run`` does the work)."""
    current = get_model(session, code)
    _may_edit(actor, current.model)
    if as_of > clock.today():
        raise Invalid("EVAL_AS_OF_FUTURE", f"评价基准日{as_of.isoformat()}晚于今天，不能评价尚未发生的情况", field="as_of")
    check(session, current.spec)  # the catalogue may have changed since the model was saved
    run = EvaluationRun(model_version_id=current.version.id, as_of=as_of, data_cutoff=cutoff or clock.now(),
                        status="running", grade_counts={}, started_at=utcnow(), started_by=actor.username)
    session.add(run)
    session.flush()
    audit.append(session, actor, "evaluation.run_start", object_type="evaluation_run", object_id=run.id,
                 detail={"model": code, "version": current.version.version, "as_of": as_of.isoformat()})
    return run.id


def execute_run(factory: sessionmaker[Session], run_id: int, *, workdir: Path | None = None) -> EvaluationRun:
    """Export, compute and store one run's results, all or nothing."""
    started = time.perf_counter()
    with factory() as session:
        run = _run(session, run_id)
        _model, _version, spec = get_version(session, run.model_version_id)
        as_of, cutoff = run.as_of, run.data_cutoff
    try:
        with tempfile.TemporaryDirectory(dir=workdir) as folder:
            with read_only(factory)() as session:  # long reads must not hold SQLite's write lock
                exported = engine.export(session, spec, as_of, cutoff, Path(folder))
            if exported.population_count == 0:
                raise Invalid("EVAL_POPULATION_EMPTY", "该模型适用的主体类型下没有任何主体，无法评价")
            table = engine.run_duckdb(exported, spec, as_of)
        with factory() as session, session.begin():
            grades = _store(session, run_id, table)
            run = _run(session, run_id)
            run.status, run.population, run.facts = "succeeded", table.num_rows, exported.fact_count
            run.grade_counts = dict(sorted(grades.items()))
            _finish(run, started)
    except Exception as error:
        with factory() as session, session.begin():
            run = _run(session, run_id)
            run.status, run.error = "failed", (getattr(error, "message", None) or repr(error))[:1000]
            _finish(run, started)
        raise
    with factory() as session:
        return _run(session, run_id)


def _finish(run: EvaluationRun, started: float) -> None:
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)


def _store(session: Session, run_id: int, table: Any) -> Counter[str]:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    values = pl.struct([pl.col(c).alias(c[2:]) for c in frame.columns if c.startswith("v_")]).struct.json_encode()
    frame = frame.select("subject_id", "score", "grade", values.alias("indicator_values"))
    grades: Counter[str] = Counter(dict(frame.group_by("grade").len().iter_rows()))
    for chunk in frame.iter_slices(RESULT_BATCH):
        bulk_insert(session, EvaluationResult.__table__, [
            {"run_id": run_id, "subject_id": subject_id, "score": score, "grade": grade,
             "indicator_values": RawJSON(encoded)} for subject_id, score, grade, encoded in chunk.iter_rows()])
    return grades


def _run(session: Session, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound("EVAL_RUN_UNKNOWN", f"评价批次不存在：{run_id}")
    return run


def run_model(factory: sessionmaker[Session], actor: Actor, code: str, as_of: date, *,
              cutoff: datetime | None = None) -> EvaluationRun:
    """Start and execute a run in one call (CLI, tests)."""
    with factory() as session, session.begin():
        run_id = start_run(session, actor, code, as_of, cutoff=cutoff)
    return execute_run(factory, run_id)


def get_run(session: Session, run_id: int) -> EvaluationRun:
    return _run(session, run_id)


def runs(session: Session, *, code: str | None = None, limit: int = 50) -> list[EvaluationRun]:
    query = select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)
    if code:
        model = get_model(session, code).model
        ids = select(EvaluationModelVersion.id).where(EvaluationModelVersion.model_id == model.id)
        query = query.where(EvaluationRun.model_version_id.in_(ids))
    return list(session.scalars(query))


def latest_run(session: Session, code: str) -> EvaluationRun | None:
    """The newest succeeded run of a model: its results are the model's current grades."""
    succeeded = [r for r in runs(session, code=code, limit=200) if r.status == "succeeded"]
    return succeeded[0] if succeeded else None


def current_grades(session: Session, code: str, subject_ids: Sequence[int]) -> tuple[int, str, dict[int, str]] | None:
    """(run id, model name, subject id -> grade) from the model's latest succeeded run; None if never run."""
    latest = session.execute(
        select(EvaluationRun.id, EvaluationModelVersion.spec)
        .join(EvaluationModelVersion, EvaluationModelVersion.id == EvaluationRun.model_version_id)
        .join(EvaluationModel, EvaluationModel.id == EvaluationModelVersion.model_id)
        .where(EvaluationModel.code == code, EvaluationRun.status == "succeeded")
        .order_by(EvaluationRun.id.desc()).limit(1)).first()
    if latest is None:
        return None
    run_id, spec = latest
    rows = session.execute(select(EvaluationResult.subject_id, EvaluationResult.grade).where(
        EvaluationResult.run_id == run_id, in_values(session, EvaluationResult.subject_id, subject_ids)))
    return run_id, spec["name"], {subject_id: grade for subject_id, grade in rows}


def result(session: Session, run_id: int, subject_id: int) -> EvaluationResult | None:
    return session.get(EvaluationResult, (run_id, subject_id))


def results(session: Session, run_id: int, *, limit: int = 50, offset: int = 0,
            grade: str | None = None) -> tuple[list[EvaluationResult], int]:
    query = select(EvaluationResult).where(EvaluationResult.run_id == run_id)
    if grade:
        query = query.where(EvaluationResult.grade == grade)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(EvaluationResult.score.desc(), EvaluationResult.subject_id)
                           .limit(limit).offset(offset))
    return list(rows), total


def explain(session: Session, run_id: int, subject_id: int) -> reference.Explanation:
    """The subject's score recomputed from the run's facts, with the records behind each indicator."""
    run = _run(session, run_id)
    _model, _version, spec = get_version(session, run.model_version_id)
    wanted = engine.fields_read(spec)
    facts = []
    if wanted:
        for row in session.execute(records.facts_as_of(run.data_cutoff, wanted, subject_id=subject_id)).mappings():
            fields = {key[2:]: value for key, value in row.items() if key.startswith("f_")}
            facts.append(reference.Fact(row["record_id"], row["item_code"], row["decision_date"], fields))
    return reference.explain(spec, facts, run.as_of)


# --- read models for pages and the API -----------------------------------------------------------------

def summary(entry: Model) -> ModelSummary:
    return ModelSummary(code=entry.code, name=entry.spec.name, version=entry.version.version,
                        purpose=entry.spec.purpose, owner=entry.spec.owner,
                        industry_department_id=entry.model.department_id)


def run_out(session: Session, run: EvaluationRun) -> RunOut:
    model, version, _spec = get_version(session, run.model_version_id)
    return RunOut(id=run.id, model_code=model.code, model_version=version.version, as_of=run.as_of.isoformat(),
                  data_cutoff=clock.local(run.data_cutoff).isoformat(), status=run.status,
                  population=run.population, facts=run.facts, grade_counts=run.grade_counts, error=run.error,
                  duration_ms=run.duration_ms)


def indicator_rows(spec: ModelSpec, explanation: reference.Explanation) -> list[IndicatorExplanation]:
    return [IndicatorExplanation(code=i.code, name=i.name, dimension=i.dimension, value=explanation.values[i.code],
                                 weight=i.weight if i.code in explanation.contributions else None,
                                 contribution=explanation.contributions.get(i.code),
                                 record_ids=explanation.records.get(i.code, []))
            for i in spec.indicators]


def subject_grades(session: Session, subject_id: int, *, explained: bool = False) -> list[SubjectGrade]:
    """The subject's grade under every model's latest run (with the explanation when asked)."""
    grades = []
    for entry in list_models(session):
        run = latest_run(session, entry.code)
        found = result(session, run.id, subject_id) if run else None
        if run is None or found is None:
            continue
        _model, _version, spec = get_version(session, run.model_version_id)
        labels = {g.code: g.label for g in spec.grades}
        rows = indicator_rows(spec, explain(session, run.id, subject_id)) if explained else None
        grades.append(SubjectGrade(run_id=run.id, model_code=entry.code, model_name=spec.name,
                                   as_of=run.as_of.isoformat(), score=found.score, grade=found.grade,
                                   grade_label=labels.get(found.grade, found.grade), indicators=rows))
    return grades


# --- dashboards ----------------------------------------------------------------------------------------

DIMENSIONS = {"region": "所在地区", "industry": "所属行业", "kind": "主体类型"}


def distribution(session: Session, run_id: int, by: str) -> dict[str, dict[str, int]]:
    """Grade counts of a run per region, industry or subject kind (等级分布)."""
    if by not in DIMENSIONS:
        raise Invalid("EVAL_DIMENSION_UNKNOWN", f"没有“{by}”这一分组，应为 region、industry 或 kind", field="by")
    people = subjects.population_query(list(SUBJECT_KINDS)).subquery()
    column = {"region": people.c.region_code, "industry": people.c.industry, "kind": people.c.kind}[by]
    rows = session.execute(select(column, EvaluationResult.grade, func.count())
                           .join(people, people.c.subject_id == EvaluationResult.subject_id)
                           .where(EvaluationResult.run_id == run_id).group_by(column, EvaluationResult.grade))
    table: dict[str, dict[str, int]] = {}
    for key, grade, count in rows:
        table.setdefault(_label(by, key), {})[grade] = count
    return dict(sorted(table.items(), key=lambda item: -sum(item[1].values())))


def _label(by: str, key: str | None) -> str:
    if key is None:
        return "未填写"
    if by == "region":
        return uscc.region_name(key) or key
    if by == "industry":
        return INDUSTRIES.get(key, key)
    return kind_label(key)


@dataclass(frozen=True)
class Movement:
    """How subjects moved between a run and the previous succeeded run of the same model (等级变动)."""

    previous_run_id: int | None
    matrix: dict[str, dict[str, int]]  # previous grade -> this run's grade -> subjects
    entered: int  # evaluated now, not before
    left: int  # evaluated before, not now


def movement(session: Session, run_id: int) -> Movement:
    run = _run(session, run_id)
    previous = session.scalar(select(EvaluationRun.id).where(
        EvaluationRun.model_version_id.in_(select(EvaluationModelVersion.id).where(
            EvaluationModelVersion.model_id == select(EvaluationModelVersion.model_id).where(
                EvaluationModelVersion.id == run.model_version_id).scalar_subquery())),
        EvaluationRun.status == "succeeded", EvaluationRun.id < run_id).order_by(EvaluationRun.id.desc()).limit(1))
    if previous is None:
        return Movement(None, {}, 0, 0)
    before = select(EvaluationResult.subject_id, EvaluationResult.grade).where(
        EvaluationResult.run_id == previous).subquery()
    now = select(EvaluationResult.subject_id, EvaluationResult.grade).where(EvaluationResult.run_id == run_id).subquery()
    matrix: dict[str, dict[str, int]] = {}
    for old, new, count in session.execute(select(before.c.grade, now.c.grade, func.count())
                                           .join(now, now.c.subject_id == before.c.subject_id)
                                           .group_by(before.c.grade, now.c.grade)):
        matrix.setdefault(old, {})[new] = count
    moved = sum(sum(row.values()) for row in matrix.values())
    total_now = session.scalar(select(func.count()).select_from(now)) or 0
    total_before = session.scalar(select(func.count()).select_from(before)) or 0
    return Movement(previous, matrix, total_now - moved, total_before - moved)


# --- industry evaluations flow back as records ------------------------------------------------------------

RESULT_ITEM = "EVAL_RESULT"  # 行业信用评价结果


def publish_as_records(session: Session, actor: Actor, run_id: int) -> int:
    """An industry model's results become the department's 行业信用评价结果 records (one per organisation).

    Idempotent: publishing the same run again recognises the records already held; a later run of
    the same year corrects them (same natural key: evaluation type and year).
    """
    run = _run(session, run_id)
    model, _version, spec = get_version(session, run.model_version_id)
    if model.department_id is None:
        raise Invalid("EVAL_NOT_INDUSTRY_MODEL", "只有行业信用评价模型的结果作为部门报送的信用记录回流")
    _may_edit(actor, model)
    if run.status != "succeeded":
        raise Invalid("EVAL_RUN_NOT_SUCCEEDED", "只能发布已完成的评价批次")
    department = access.get_department(session, model.department_id)
    labels = {g.code: g.label for g in spec.grades}
    published = 0
    rows = session.execute(select(EvaluationResult.subject_id, EvaluationResult.grade)
                           .where(EvaluationResult.run_id == run_id).order_by(EvaluationResult.subject_id)).all()
    people = {s.id: s for s in subjects.by_ids(session, [subject_id for subject_id, _ in rows])}
    for subject_id, grade in rows:
        subject = people[subject_id]
        if not subject.uscc:
            continue  # natural persons are not referenced by code; incentive results stay on the platform
        payload = {"PJLX": spec.name, "PJND": run.as_of.year, "PJDJ": f"{grade}（{labels.get(grade, grade)}）",
                   "PJJG": department.name, "PJRQ": run.as_of.isoformat()}
        records.submit(session, actor, RESULT_ITEM, SubjectRef(uscc=subject.uscc, name=subject.name), payload,
                       department_id=department.id, department_code=department.code)
        published += 1
    audit.append(session, actor, "evaluation.publish_records", object_type="evaluation_run", object_id=run_id,
                 detail={"model": model.code, "records": published})
    return published


# --- aggregated grade counts (授权运营 data products, xinyong.operation) ----------------------------------

@dataclass(frozen=True)
class GradeCells:
    """Counts of the latest succeeded run's grades by (industry, region code, grade)."""

    run_id: int
    as_of: date
    grades: list[str]  # the model's grade codes, best first
    counts: list[tuple[str | None, str, str, int]]  # (industry letter or None, region code, grade, subjects)


def latest_grade_cells(session: Session, code: str, *, region_prefix: str | None = None) -> GradeCells | None:
    """Grade counts of the model's latest succeeded run by industry × region (optionally inside a
    region prefix); None if the model never ran. Raises NotFound for an unknown model."""
    get_model(session, code)
    run = latest_run(session, code)
    if run is None:
        return None
    _model, _version, spec = get_version(session, run.model_version_id)
    people = subjects.population_query(list(SUBJECT_KINDS)).subquery()
    query = (select(people.c.industry, people.c.region_code, EvaluationResult.grade, func.count())
             .join(people, people.c.subject_id == EvaluationResult.subject_id)
             .where(EvaluationResult.run_id == run.id)
             .group_by(people.c.industry, people.c.region_code, EvaluationResult.grade))
    if region_prefix:
        query = query.where(people.c.region_code.startswith(region_prefix))
    counts = [(industry, region, grade, int(n)) for industry, region, grade, n in session.execute(query)]
    return GradeCells(run.id, run.as_of, [g.code for g in spec.grades], counts)
