"""Graded supervision (分级分类监管) and 双随机 random inspection draws.

The authority maps each grade of an evaluation model to a supervision tier — its name, the share of
the grade's subjects inspected per draw and the inspections per year — in a versioned scheme
(every change a new version). Models for incentives only (守信激励, natural persons) get no scheme:
more inspection is a restrictive measure.

A department draws the subjects it will inspect from a population (region, industry, subject kinds
or a list of codes) graded by the model's latest succeeded run; ``draws.draw`` picks them per grade
with a seed that is recorded (generated with ``secrets`` unless given), so ``verify`` can repeat the
draw and show the list was not chosen by hand. Every draw and every export of its list is audited.
Inspection results come back as ordinary records of the catalogue item ``INSPECTION_RESULT``
(``submit_result``, or a file at /ingest in the layout of ``results_template_xlsx``).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import xlsxwriter
import yaml
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.db import allocate_ids, bulk_insert, utcnow
from xinyong.errors import Forbidden, Invalid, NotFound
from xinyong.evaluation import draws, service
from xinyong.evaluation.models import (
    EvaluationModel,
    EvaluationResult,
    SupervisionDraw,
    SupervisionDrawItem,
    SupervisionScheme,
)
from xinyong.evaluation.supervision_schemas import (
    DrawItemOut,
    DrawOut,
    PopulationFilter,
    SchemeOut,
    SchemeSpec,
    TierCount,
    VerificationOut,
)
from xinyong.ingest.report import neutralise
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import INDUSTRIES, SUBJECT_KINDS, kind_label
from xinyong.web.forms import parse_form

RESULT_ITEM = "INSPECTION_RESULT"  # catalogue item of inspection results (双随机抽查检查结果)
PLAN_FIELD, MATTER_FIELD, DATE_FIELD, OUTCOME_FIELD, AUTHORITY_FIELD, NOTE_FIELD = (
    "CC_JHBH", "CC_JCSX", "CC_JCRQ", "CC_JG", "CC_JCJG", "BZ")
UNGRADED_LABEL = "未评价"
MAX_CODES = 2000


# --- schemes --------------------------------------------------------------------------------------------

def parse_scheme(data: Any) -> SchemeSpec:
    if not isinstance(data, dict):
        raise Invalid("SUPERVISION_SCHEME_INVALID", "监管方案应为一个映射（键: 值）", field="spec")
    return parse_form(SchemeSpec, data, "SUPERVISION_SCHEME_INVALID")


def _refuse_incentive(entry: service.Model) -> None:
    if entry.spec.purpose == "incentive":
        raise Invalid("SUPERVISION_INCENTIVE_MODEL",
                      f"“{entry.spec.name}”仅用于守信激励，其评价结果不得用于分级分类监管：提高抽查比例和频次属于约束性措施",
                      field="model_code")


def check_scheme(entry: service.Model, spec: SchemeSpec) -> None:
    """The scheme maps every grade of the model's version in force exactly once, and nothing else."""
    _refuse_incentive(entry)
    known = [g.code for g in entry.spec.grades]
    mapped = [g.grade for g in spec.grades]
    if len(mapped) != len(set(mapped)):
        twice = sorted({g for g in mapped if mapped.count(g) > 1})
        raise Invalid("SUPERVISION_GRADE_DUPLICATE", f"等级{'、'.join(twice)}在方案中出现了不止一次", field="grades")
    unknown = [g for g in mapped if g not in known]
    if unknown:
        raise Invalid("SUPERVISION_GRADE_UNKNOWN",
                      f"评价模型“{entry.spec.name}”没有等级{'、'.join(unknown)}（现有等级：{'、'.join(known)}）", field="grades")
    missing = [g for g in known if g not in mapped]
    if missing:
        raise Invalid("SUPERVISION_GRADE_MISSING", f"请为等级{'、'.join(missing)}指定监管类别、抽查比例和频次", field="grades")


def _may_edit(actor: Actor) -> None:
    if actor.role != "authority_admin" and not actor.is_system:
        raise Forbidden("SUPERVISION_EDIT_AUTHORITY_ONLY", "分级分类监管方案由信用主管部门制定")


def scheme(session: Session, model_code: str) -> SupervisionScheme | None:
    """The scheme version in force for a model (the newest), or None."""
    model = service.get_model(session, model_code).model
    return session.scalar(select(SupervisionScheme).where(SupervisionScheme.model_id == model.id)
                          .order_by(SupervisionScheme.version.desc()).limit(1))


def scheme_versions(session: Session, model_code: str) -> list[SupervisionScheme]:
    model = service.get_model(session, model_code).model
    return list(session.scalars(select(SupervisionScheme).where(SupervisionScheme.model_id == model.id)
                                .order_by(SupervisionScheme.version.desc())))


def save_scheme(session: Session, actor: Actor, model_code: str, spec: SchemeSpec, note: str) -> SupervisionScheme:
    """Record a new version of the model's scheme (the first one too); earlier versions stay as they were."""
    _may_edit(actor)
    entry = service.get_model(session, model_code)
    check_scheme(entry, spec)
    if len(note.strip()) < 2:
        raise Invalid("SUPERVISION_NOTE_REQUIRED", "请说明制定或修订监管方案的理由", field="note")
    current = scheme(session, model_code)
    if current is not None and SchemeSpec.model_validate(current.spec) == spec:
        raise Invalid("SUPERVISION_SCHEME_UNCHANGED", "内容没有变化，未生成新版本")
    number = (current.version if current else 0) + 1
    row = SupervisionScheme(model_id=entry.model.id, version=number, spec=spec.model_dump(), change_note=note.strip(),
                            created_at=utcnow(), created_by=actor.username)
    session.add(row)
    session.flush()
    audit.append(session, actor, "supervision.scheme", object_type="supervision_scheme", object_id=row.id,
                 detail={"model": model_code, "version": number, "note": note.strip(), "spec": spec.model_dump()})
    return row


def scheme_out(session: Session, row: SupervisionScheme) -> SchemeOut:
    entry = _model_of(session, row.model_id)
    return SchemeOut(model_code=entry.code, model_name=entry.spec.name, version=row.version,
                     spec=SchemeSpec.model_validate(row.spec), note=row.change_note,
                     created_at=clock.local(row.created_at).isoformat(), created_by=row.created_by)


def _model_of(session: Session, model_id: int) -> service.Model:
    model = session.get(EvaluationModel, model_id)
    assert model is not None
    return service.get_model(session, model.code)


def supervision_models(session: Session) -> list[tuple[service.Model, SupervisionScheme | None]]:
    """Every model that may be used for supervision, with its scheme in force (None: not yet made)."""
    return [(entry, scheme(session, entry.code)) for entry in service.list_models(session)
            if entry.spec.purpose == "supervision"]


def seed_specs() -> list[dict[str, Any]]:
    text = resources.files("xinyong.seed").joinpath("supervision_schemes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def seed(session: Session, actor: Actor) -> int:
    """Give seeded models their seeded scheme when they have none; never touch what the authority made."""
    added = 0
    existing = {entry.code for entry in service.list_models(session)}
    for data in seed_specs():
        if data["model"] in existing and scheme(session, data["model"]) is None:
            spec = parse_scheme({"grades": data["grades"], "ungraded": data["ungraded"]})
            save_scheme(session, actor, data["model"], spec, data.get("note", "初始方案"))
            added += 1
    return added


def tiers_of(spec: SchemeSpec) -> tuple[dict[str, draws.Tier], draws.Tier]:
    tiers = {g.grade: draws.Tier(g.tier, g.ratio, g.frequency) for g in spec.grades}
    return tiers, draws.Tier(spec.ungraded.tier, spec.ungraded.ratio, spec.ungraded.frequency)


# --- populations --------------------------------------------------------------------------------------

def region_label(prefix: str) -> str:
    name = uscc.region_name(prefix.ljust(6, "0")) if len(prefix) in (2, 4, 6) else None
    return f"{name}（{prefix}）" if name else prefix


def describe(population_filter: dict[str, Any]) -> str:
    """The population of a draw in words (pages, the exported list)."""
    parts = []
    if population_filter.get("region_prefix"):
        parts.append(f"所在地区：{region_label(population_filter['region_prefix'])}")
    if population_filter.get("industry"):
        code = population_filter["industry"]
        parts.append(f"行业：{code} {INDUSTRIES.get(code, '')}".rstrip())
    parts.append("主体类型：" + "、".join(kind_label(k) for k in population_filter.get("subject_kinds", [])))
    if population_filter.get("codes"):
        parts.append(f"指定名单：{len(population_filter['codes'])} 个主体")
    return "；".join(parts)


def _effective_filter(session: Session, entry: service.Model, wanted: PopulationFilter) -> dict[str, Any]:
    """The filter as recorded: checked, subject kinds resolved against the model, codes normalised."""
    in_model = [k for k in entry.spec.subject_kinds if k != "natural_person"]
    kinds = list(dict.fromkeys(wanted.subject_kinds))
    for kind in kinds:
        if kind not in SUBJECT_KINDS:
            raise Invalid("SUPERVISION_KIND_UNKNOWN", f"主体类型“{kind}”无效", field="subject_kinds")
        if kind == "natural_person":
            raise Invalid("SUPERVISION_PERSONS_EXCLUDED", "双随机抽查的对象是市场主体和其他组织，不从自然人中抽取",
                          field="subject_kinds")
        if kind not in in_model:
            raise Invalid("SUPERVISION_KIND_NOT_IN_MODEL",
                          f"评价模型“{entry.spec.name}”不评价{kind_label(kind)}，无法按其等级抽取", field="subject_kinds")
    kinds = [k for k in in_model if not kinds or k in kinds]
    if wanted.industry and wanted.industry not in INDUSTRIES:
        raise Invalid("SUPERVISION_INDUSTRY_UNKNOWN", f"行业门类“{wanted.industry}”无效", field="industry")
    codes = sorted({uscc.normalise(c) for c in wanted.codes if c.strip()})
    if len(codes) > MAX_CODES:
        raise Invalid("SUPERVISION_CODES_TOO_MANY", f"指定名单最多{MAX_CODES}个主体", field="codes")
    return {"region_prefix": wanted.region_prefix or None, "industry": wanted.industry or None,
            "subject_kinds": kinds, "codes": codes}


def _listed_ids(session: Session, codes: Sequence[str], kinds: Sequence[str]) -> set[int]:
    found, unknown, outside = set(), [], []
    for code in codes:
        subject = subjects.by_code(session, code)
        if subject is None:
            unknown.append(code)
        elif subject.kind not in kinds:
            outside.append(code)
        else:
            found.add(subject.id)
    if unknown:
        raise Invalid("SUPERVISION_CODES_UNKNOWN", f"主体库中没有以下主体：{'、'.join(unknown[:10])}"
                      + (f" 等{len(unknown)}个" if len(unknown) > 10 else ""), field="codes")
    if outside:
        raise Invalid("SUPERVISION_CODES_OUT_OF_SCOPE", f"以下主体不在所选主体类型和评价模型的适用范围内：{'、'.join(outside[:10])}"
                      + (f" 等{len(outside)}个" if len(outside) > 10 else ""), field="codes")
    return found


def population(session: Session, run_id: int, population_filter: dict[str, Any],
               ceiling: int | None = None) -> list[tuple[int, str | None]]:
    """(subject id, grade in the run or None) of every subject the filter admits, ids ascending."""
    people = subjects.population_query(population_filter["subject_kinds"]).subquery()
    query = (select(people.c.subject_id, EvaluationResult.grade)
             .outerjoin(EvaluationResult, and_(EvaluationResult.run_id == run_id,
                                               EvaluationResult.subject_id == people.c.subject_id)))
    if population_filter.get("region_prefix"):
        query = query.where(people.c.region_code.startswith(population_filter["region_prefix"]))
    if population_filter.get("industry"):
        query = query.where(people.c.industry == population_filter["industry"])
    if ceiling is not None:
        query = query.where(people.c.subject_id <= ceiling)
    rows = [(subject_id, grade) for subject_id, grade in session.execute(query.order_by(people.c.subject_id))]
    if population_filter.get("codes"):
        listed = _listed_ids(session, population_filter["codes"], population_filter["subject_kinds"])
        rows = [row for row in rows if row[0] in listed]
    return rows


# --- draws -----------------------------------------------------------------------------------------------

def _department_for(session: Session, actor: Actor, department_id: int | None) -> Any:
    """The inspecting department: any for the authority, only its own for a department."""
    if actor.role == "authority_admin" or actor.is_system:
        if department_id is None:
            raise Invalid("SUPERVISION_DEPARTMENT_REQUIRED", "请选择实施检查的部门", field="department_id")
        return access.get_department(session, department_id)
    if actor.department_id is None:
        raise Forbidden("SUPERVISION_NO_DEPARTMENT", "当前账号不属于任何部门，不能抽取检查对象")
    if department_id is not None and department_id != actor.department_id:
        raise Forbidden("SUPERVISION_DRAW_NOT_YOURS", "只能为本部门抽取检查对象")
    return access.get_department(session, actor.department_id)


def draw(session: Session, actor: Actor, department_id: int | None, model_code: str,
         population_filter: PopulationFilter, seed: int | None = None) -> SupervisionDraw:
    """Draw the subjects a department inspects, record the list, and audit the draw."""
    department = _department_for(session, actor, department_id)
    entry = service.get_model(session, model_code)
    _refuse_incentive(entry)
    current = scheme(session, model_code)
    if current is None:
        raise Invalid("SUPERVISION_SCHEME_MISSING", f"评价模型“{entry.spec.name}”尚未制定分级分类监管方案", field="model_code")
    run = service.latest_run(session, model_code)
    if run is None:
        raise Invalid("SUPERVISION_NO_RUN", f"评价模型“{entry.spec.name}”还没有成功的评价批次，请先运行评价", field="model_code")
    _model, _version, run_spec = service.get_version(session, run.model_version_id)
    if run_spec.purpose == "incentive":
        raise Invalid("SUPERVISION_INCENTIVE_MODEL", "所用评价批次的模型版本仅用于守信激励，不得用于分级分类监管")
    spec = SchemeSpec.model_validate(current.spec)
    tiers, default = tiers_of(spec)
    unmapped = [g.code for g in run_spec.grades if g.code not in tiers]
    if unmapped:
        raise Invalid("SUPERVISION_SCHEME_STALE", f"评价批次#{run.id}中的等级{'、'.join(unmapped)}在监管方案中没有对应的监管类别，请先修订方案")
    if seed is not None and not 0 <= seed < draws.SEED_LIMIT:
        raise Invalid("SUPERVISION_SEED_INVALID", f"随机种子应为 0 至 {draws.SEED_LIMIT - 1} 之间的整数", field="seed")
    recorded = _effective_filter(session, entry, population_filter)
    members = population(session, run.id, recorded) if recorded["subject_kinds"] else []
    if not members:
        raise Invalid("SUPERVISION_POPULATION_EMPTY", "抽取范围内没有任何主体，无法抽取检查对象，请调整地区、行业、主体类型或名单")
    generated = seed is None
    seed = secrets.randbelow(draws.SEED_LIMIT) if seed is None else seed
    result = draws.draw(members, tiers, default, seed)
    if not result.picks:
        raise Invalid("SUPERVISION_SAMPLE_EMPTY", "按监管方案的抽查比例，本次抽取范围内没有应抽取的主体")
    counts = [{"grade": s.grade, "tier": s.tier.name, "ratio": s.tier.ratio, "frequency": s.tier.frequency,
               "population": s.population, "sample": s.sample} for s in result.strata]
    (draw_id,) = allocate_ids(session, SupervisionDraw.__table__, 1)
    row = SupervisionDraw(
        id=draw_id, plan_number=f"SJCC-{clock.now():%Y%m%d}-{draw_id:05d}", department_id=department.id,
        model_id=entry.model.id, scheme_id=current.id, run_id=run.id, population_filter=recorded,
        subject_ceiling=members[-1][0], seed=seed, population=len(members), sample=len(result.picks), counts=counts,
        population_digest=draws.population_digest(members), created_at=utcnow(), created_by=actor.username)
    session.add(row)
    session.flush()
    bulk_insert(session, SupervisionDrawItem.__table__, [
        {"draw_id": draw_id, "position": p.position, "subject_id": p.subject_id, "grade": p.grade, "tier": p.tier.name,
         "ratio": p.tier.ratio, "frequency": p.tier.frequency} for p in result.picks])
    audit.append(session, actor, "supervision.draw", object_type="supervision_draw", object_id=draw_id,
                 detail={"plan_number": row.plan_number, "department": department.id, "model": model_code,
                         "run": run.id, "scheme_version": current.version, "seed": seed, "seed_generated": generated,
                         "filter": recorded, "population": len(members), "sample": len(result.picks),
                         "counts": [{k: c[k] for k in ("grade", "tier", "population", "sample")} for c in counts]})
    return row


def _visible(actor: Actor, row: SupervisionDraw) -> None:
    if actor.role == "authority_admin" or actor.is_system:
        return
    if actor.department_id is None or actor.department_id != row.department_id:
        raise Forbidden("SUPERVISION_DRAW_NOT_YOURS", "抽查名单仅实施检查的部门和信用主管部门可以查看")


def get_draw(session: Session, actor: Actor, draw_id: int) -> SupervisionDraw:
    row = session.get(SupervisionDraw, draw_id)
    if row is None:
        raise NotFound("SUPERVISION_DRAW_UNKNOWN", f"抽查记录不存在：{draw_id}")
    _visible(actor, row)
    return row


def list_draws(session: Session, actor: Actor, *, limit: int = 50) -> list[SupervisionDraw]:
    """The draws the actor may see, newest first: all for the authority, its own for a department."""
    query = select(SupervisionDraw).order_by(SupervisionDraw.id.desc()).limit(limit)
    if not (actor.role == "authority_admin" or actor.is_system):
        if actor.department_id is None:
            return []
        query = query.where(SupervisionDraw.department_id == actor.department_id)
    return list(session.scalars(query))


def draw_items(session: Session, draw_id: int, *, limit: int | None = None,
               offset: int = 0) -> list[SupervisionDrawItem]:
    """A draw's inspection list in order (a page of it with ``limit``/``offset``)."""
    query = (select(SupervisionDrawItem).where(SupervisionDrawItem.draw_id == draw_id)
             .order_by(SupervisionDrawItem.position).offset(offset))
    return list(session.scalars(query.limit(limit) if limit is not None else query))


def with_subjects(session: Session, items: list[SupervisionDrawItem]) -> list[tuple[SupervisionDrawItem, Any]]:
    """Each item with its subject (name, code, region) for pages and exports."""
    found = {s.id: s for s in subjects.by_ids(session, [i.subject_id for i in items])}
    return [(i, found[i.subject_id]) for i in items]


def draw_out(session: Session, row: SupervisionDraw, *, with_items: bool = False) -> DrawOut:
    scheme_row = session.get(SupervisionScheme, row.scheme_id)
    run = service.get_run(session, row.run_id)
    model_code = _model_of(session, row.model_id).code
    items = None
    if with_items:
        items = [DrawItemOut(position=i.position, subject_id=s.id, uscc=s.uscc, name=s.name, region_code=s.region_code,
                             grade=i.grade, tier=i.tier, ratio=i.ratio, frequency=i.frequency)
                 for i, s in with_subjects(session, draw_items(session, row.id))]
    return DrawOut(id=row.id, plan_number=row.plan_number, department_id=row.department_id,
                   department_name=access.get_department(session, row.department_id).name, model_code=model_code,
                   scheme_version=scheme_row.version if scheme_row else 0, run_id=row.run_id,
                   run_as_of=run.as_of.isoformat(), filter=PopulationFilter.model_validate(row.population_filter),
                   seed=row.seed, population=row.population, sample=row.sample,
                   counts=[TierCount.model_validate(c) for c in row.counts],
                   created_at=clock.local(row.created_at).isoformat(), created_by=row.created_by, items=items)


def verify(session: Session, actor: Actor, draw_id: int) -> VerificationOut:
    """Draw again with the recorded seed over the same run, scheme version and population; compare."""
    row = get_draw(session, actor, draw_id)
    scheme_row = session.get(SupervisionScheme, row.scheme_id)
    assert scheme_row is not None
    tiers, default = tiers_of(SchemeSpec.model_validate(scheme_row.spec))
    members = population(session, row.run_id, row.population_filter, row.subject_ceiling)
    unchanged = draws.population_digest(members) == row.population_digest
    again = [(p.subject_id, p.grade, p.tier.name) for p in draws.draw(members, tiers, default, row.seed).picks]
    stored = [(i.subject_id, i.grade, i.tier) for i in draw_items(session, row.id)]
    reproduced = again == stored
    if reproduced:
        message = f"以记录的随机种子 {row.seed} 重新抽取，名单与记录一致（{len(stored)} 个主体）"
    elif not unchanged:
        message = "抽取范围内的主体或其等级与抽取时不一致，无法复现名单"
    else:
        message = "抽取范围与抽取时一致，但重新抽取的名单与记录不符：记录的名单可能被改动"
    return VerificationOut(draw_id=row.id, reproduced=reproduced, population_unchanged=unchanged, message=message)


# --- the inspection list (XLSX) and results ----------------------------------------------------------------

LIST_COLUMNS = ["序号", "统一社会信用代码", "主体名称", "主体类型", "所在地区", "信用等级", "监管类别", "抽查比例",
                "年度抽查频次（次/年）"]


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


def _grade_label(grade: str | None) -> str:
    return grade if grade is not None else UNGRADED_LABEL


def _counts_text(row: SupervisionDraw) -> str:
    parts = [f"{c['tier']}（{_grade_label(c['grade'])}，{c['ratio']:.0%}）{c['sample']}/{c['population']}"
             for c in row.counts]
    return f"范围内 {row.population} 个主体，抽取 {row.sample} 个：" + "；".join(parts)


def inspection_list_xlsx(session: Session, actor: Actor, draw_id: int) -> Export:
    """The inspection list as a workbook: a header block (department, time, seed, run), then one row per subject."""
    row = get_draw(session, actor, draw_id)
    run = service.get_run(session, row.run_id)
    model, run_version, spec = service.get_version(session, run.model_version_id)
    scheme_row = session.get(SupervisionScheme, row.scheme_id)
    department = access.get_department(session, row.department_id)
    header = [
        ("抽查计划编号", row.plan_number),
        ("检查部门", department.name),
        ("抽取时间", clock.local(row.created_at).strftime("%Y-%m-%d %H:%M:%S")),
        ("抽取人", row.created_by),
        ("随机种子", str(row.seed)),
        ("评价模型", f"{spec.name}（{model.code}）第{run_version.version}版"),
        ("评价批次", f"#{run.id}，评价基准日 {run.as_of.isoformat()}"),
        ("监管方案", f"第{scheme_row.version if scheme_row else '?'}版"),
        ("抽取范围", describe(row.population_filter)),
        ("抽取结果", _counts_text(row)),
    ]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("检查对象名单")
    title = workbook.add_format({"bold": True, "font_size": 14})
    label = workbook.add_format({"bold": True})
    head = workbook.add_format({"bold": True, "bg_color": "#EEF1F5", "border": 1})
    percent = workbook.add_format({"num_format": "0.0%"})
    sheet.write_string(0, 0, "双随机抽查检查对象名单", title)
    for index, (name, value) in enumerate(header, start=1):
        sheet.write_string(index, 0, name, label)
        sheet.write_string(index, 1, neutralise(value))
    first = len(header) + 2
    for col, name in enumerate(LIST_COLUMNS):
        sheet.write_string(first, col, name, head)
    widths = [6, 22, 36, 14, 24, 10, 12, 10, 18]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    for offset, (item, subject) in enumerate(with_subjects(session, draw_items(session, row.id)), start=1):
        r = first + offset
        sheet.write_number(r, 0, item.position)
        sheet.write_string(r, 1, neutralise(subject.uscc or subject.masked_id))
        sheet.write_string(r, 2, neutralise(subject.name))
        sheet.write_string(r, 3, kind_label(subject.kind))
        sheet.write_string(r, 4, neutralise(uscc.region_name(subject.region_code) or subject.region_code))
        sheet.write_string(r, 5, _grade_label(item.grade))
        sheet.write_string(r, 6, neutralise(item.tier))
        sheet.write_number(r, 7, item.ratio, percent)
        sheet.write_number(r, 8, item.frequency)
    sheet.freeze_panes(first + 1, 0)
    workbook.close()
    audit.append(session, actor, "supervision.export", object_type="supervision_draw", object_id=row.id,
                 detail={"plan_number": row.plan_number, "rows": row.sample})
    return Export(f"{row.plan_number}.xlsx", buffer.getvalue())


def results_template_xlsx(session: Session, actor: Actor, draw_id: int) -> Export:
    """A file in the layout /ingest accepts for ``INSPECTION_RESULT``, one row per drawn subject.

    Name, code, plan number and the inspecting authority are filled in; the department adds what it
    inspected, when, and the result, and uploads the file at /ingest as the item 双随机抽查检查结果.
    """
    row = get_draw(session, actor, draw_id)
    department = access.get_department(session, row.department_id)
    fields = catalogue.get_item(session, RESULT_ITEM).version.fields
    columns = ["行政相对人名称", "统一社会信用代码", *(f["label"] for f in fields)]
    prefilled = {PLAN_FIELD: row.plan_number, AUTHORITY_FIELD: department.name}
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("检查结果")
    head = workbook.add_format({"bold": True, "bg_color": "#EEF1F5"})
    for col, name in enumerate(columns):
        sheet.write_string(0, col, name, head)
        sheet.set_column(col, col, 20)
    items = with_subjects(session, draw_items(session, row.id))
    for r, (_item, subject) in enumerate(items, start=1):
        values = [subject.name, subject.uscc or "", *(prefilled.get(f["name"], "") for f in fields)]
        for col, value in enumerate(values):
            if value:
                sheet.write_string(r, col, neutralise(value))
    for col, f in enumerate(fields, start=2):
        if f.get("enum") and items:
            sheet.data_validation(1, col, len(items), col, {"validate": "list", "source": f["enum"]})
    sheet.freeze_panes(1, 0)
    workbook.close()
    return Export(f"{row.plan_number}-检查结果.xlsx", buffer.getvalue())


def submit_result(session: Session, actor: Actor, draw_id: int, subject_id: int, *, matter: str, inspected_on: str,
                  outcome: str, note: str = "") -> records.Submission:
    """The inspection result of one drawn subject, stored as an ordinary ``INSPECTION_RESULT`` record."""
    row = get_draw(session, actor, draw_id)
    if actor.department_id != row.department_id:
        raise Forbidden("SUPERVISION_RESULT_NOT_YOURS", "只有实施检查的部门可以报送本次抽查的检查结果")
    if session.scalar(select(SupervisionDrawItem.position).where(
            SupervisionDrawItem.draw_id == row.id, SupervisionDrawItem.subject_id == subject_id)) is None:
        raise Invalid("SUPERVISION_SUBJECT_NOT_DRAWN", "该主体不在本次抽查的检查对象名单中", field="subject_id")
    subject = subjects.get(session, subject_id)
    if subject.uscc is None:
        raise Invalid("SUPERVISION_SUBJECT_NO_CODE", "该主体没有统一社会信用代码，请通过信息归集报送", field="subject_id")
    department = access.get_department(session, row.department_id)
    payload = {PLAN_FIELD: row.plan_number, MATTER_FIELD: matter.strip(), DATE_FIELD: inspected_on.strip(),
               OUTCOME_FIELD: outcome.strip(), AUTHORITY_FIELD: department.name}
    if note.strip():
        payload[NOTE_FIELD] = note.strip()
    return records.submit(session, actor, RESULT_ITEM, SubjectRef(uscc=subject.uscc, name=subject.name), payload,
                          department_id=department.id, department_code=department.code)


def result_outcomes(session: Session) -> list[str]:
    """The 检查结果 values the catalogue item in force allows (for forms)."""
    fields = catalogue.get_item(session, RESULT_ITEM).version.fields
    return next((f.get("enum") or [] for f in fields if f["name"] == OUTCOME_FIELD), [])
