"""The evaluation as a columnar batch job (公共信用综合评价的批处理): export, then one Ibis expression.

1. ``export`` writes two Parquet tables: the facts the model reads (current as of the run's data
   cut-off, decided on or before the as-of date, one typed column per field the model reads, the
   age in days at the as-of date) and the population (subjects of the model's kinds). Chunked, so
   memory stays flat whatever the table size.
2. ``score_table`` builds one Ibis expression from the model: a single pass over the facts with
   one conditional aggregate per indicator, a left join onto the population, caps, composites in
   dependency order, the clamped score and the grade. It uses only portable operations (filters,
   ``ifelse``, ``sum``/``max``, ``exp``, ``least``, ``clip``, ``round``, ``cases``), so the same
   expression runs on DuckDB here and on PySpark at national scale (``docs/evaluation.md``); only
   ``run_duckdb`` knows which backend it is.

Values are rounded (6 places; scores 2) so that backends summing floating-point numbers in a
different order still give identical results. Rounding is ``floor(x·10ⁿ + ½) / 10ⁿ`` spelled out,
not the backend's ``round`` (DuckDB, Spark and Python break ties differently; composites with
weight ½ produce ties all the time). ``reference.explain`` uses the same formula.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl
import pyarrow as pa
from sqlalchemy.orm import Session

from xinyong.db import raw_rows
from xinyong.disclosure.publication import add_months
from xinyong.evaluation import definition
from xinyong.evaluation.schemas import Indicator, ModelSpec
from xinyong.records import service as records
from xinyong.subjects import service as subjects

CHUNK_ROWS = 200_000
DAYS_PER_MONTH = 365.2425 / 12
VALUE_PLACES = 6
SCORE_PLACES = 2


@dataclass(frozen=True)
class Export:
    """Parquet file patterns of one export, and how many rows each has."""

    facts: str
    population: str
    fact_count: int
    population_count: int


def fields_read(spec: ModelSpec) -> dict[str, list[str]]:
    """Catalogue item → the payload fields the model reads from it."""
    wanted: dict[str, set[str]] = {}
    for indicator in spec.indicators:
        if indicator.item:
            names = wanted.setdefault(indicator.item, set())
            names.update(f.field for f in indicator.where)
            if indicator.field:
                names.add(indicator.field)
    return {item: sorted(names) for item, names in wanted.items()}


def numeric_fields(spec: ModelSpec) -> set[str]:
    return {i.field for i in spec.indicators if i.kind == "sum" and i.field}


# --- 1. export --------------------------------------------------------------------------------------

def export(session: Session, spec: ModelSpec, as_of: date, cutoff: datetime, directory: Path) -> Export:
    directory.mkdir(parents=True, exist_ok=True)
    wanted = fields_read(spec)
    columns = sorted({f for names in wanted.values() for f in names})
    numeric = numeric_fields(spec)
    schema = {"record_id": pl.Int64, "subject_id": pl.Int64, "item_code": pl.String, "decision_date": pl.Date,
              **{f"f_{f}": pl.String for f in columns}}

    def facts(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(pl.col("decision_date").is_not_null() & (pl.col("decision_date") <= as_of))
        return frame.with_columns(
            age_days=(pl.lit(as_of) - pl.col("decision_date")).dt.total_days().cast(pl.Int64),
            **{f"f_{f}": pl.col(f"f_{f}").cast(pl.Float64, strict=False) for f in numeric})

    fact_count = _write(session, records.facts_as_of(cutoff, wanted) if wanted else None, schema, facts,
                        directory / "facts")
    population_schema = {"subject_id": pl.Int64, "kind": pl.String, "region_code": pl.String, "industry": pl.String}
    population_count = _write(session, subjects.population_query(spec.subject_kinds), population_schema,
                              lambda frame: frame, directory / "population")
    return Export(str(directory / "facts" / "*.parquet"), str(directory / "population" / "*.parquet"),
                  fact_count, population_count)


def _write(session: Session, query: Any, schema: dict[str, Any], transform: Any, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for index, frame in enumerate(_chunks(session, query, schema)):
        frame = transform(frame)
        written += frame.height
        frame.write_parquet(folder / f"part-{index:05d}.parquet")
    if written == 0:  # an empty table still needs its columns
        transform(pl.DataFrame(schema=schema)).write_parquet(folder / "part-00000.parquet")
    return written


def _chunks(session: Session, query: Any, schema: dict[str, Any]) -> Iterator[pl.DataFrame]:
    """The query's rows as frames of ``CHUNK_ROWS``, typed by ``schema`` column-wise."""
    if query is None:
        return
    names = list(schema)
    for rows in raw_rows(session, query, CHUNK_ROWS):
        frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        yield frame.select(_typed(frame, name, kind) for name, kind in schema.items())


def _typed(frame: pl.DataFrame, name: str, kind: Any) -> pl.Expr:
    # SQLite hands dates over as ISO text, PostgreSQL as dates: convert column-wise, not per value.
    if kind == pl.Date and frame.schema[name] == pl.String:
        return pl.col(name).str.to_date(strict=False)
    return pl.col(name).cast(kind, strict=False)


# --- 2. the expression -------------------------------------------------------------------------------

def _rounded(value: ir.NumericValue, places: int) -> ir.NumericValue:
    scale = 10.0 ** places
    return (value * scale + 0.5).floor().cast("float64") / scale


def _column(name: str) -> str:
    return f"v_{name}"


def _leaf(facts: ir.Table, indicator: Indicator, as_of: date) -> ir.NumericScalar:
    condition = facts.item_code == indicator.item
    for where in indicator.where:
        condition &= facts[f"f_{where.field}"].isin(where.values)
    if indicator.window_months:
        condition &= facts.decision_date > ibis.date(add_months(as_of, -indicator.window_months))
    if indicator.kind == "exists":
        return ibis.ifelse(condition, 1.0, 0.0).max()
    weight: ir.NumericValue = ibis.literal(1.0)
    if indicator.half_life_months:
        rate = -math.log(2) / (indicator.half_life_months * DAYS_PER_MONTH)
        weight = (facts.age_days * rate).exp()
    if indicator.kind == "sum":
        weight = weight * facts[f"f_{indicator.field}"].fill_null(0.0)
    return ibis.ifelse(condition, weight, 0.0).sum()


def score_table(facts: ir.Table, population: ir.Table, spec: ModelSpec, as_of: date) -> ir.Table:
    """One row per subject in scope: ``subject_id``, ``score``, ``grade`` and ``v_<indicator>`` values."""
    order = definition.check_order(spec)
    by_code = {i.code: i for i in spec.indicators}
    leaves = [by_code[code] for code in order if by_code[code].kind != "composite"]
    people = population.filter(population.kind.isin(spec.subject_kinds)).select("subject_id")
    if leaves:
        totals = facts.group_by("subject_id").aggregate(
            **{_column(i.code): _leaf(facts, i, as_of) for i in leaves})
        table = people.left_join(totals, "subject_id").select(
            "subject_id", *(totals[_column(i.code)] for i in leaves))
    else:
        table = people
    values: dict[str, ir.NumericValue] = {}
    for code in order:
        indicator = by_code[code]
        if indicator.kind == "composite":
            value: ir.NumericValue = sum((values[name] * weight for name, weight
                                          in zip(indicator.inputs, indicator.input_weights, strict=True)),
                                         ibis.literal(0.0))
        else:
            value = table[_column(code)].fill_null(0.0)
        if indicator.cap is not None:
            value = ibis.least(value, indicator.cap)
        values[code] = _rounded(value, VALUE_PLACES)
    raw = sum((values[i.code] * i.weight for i in definition.scored(spec)), ibis.literal(float(spec.base_score)))
    score = _rounded(raw.clip(spec.min_score, spec.max_score), SCORE_PLACES)
    table = table.select("subject_id", score=score, **{_column(code): v for code, v in values.items()})
    grade = ibis.cases(*((table.score >= g.min_score, g.code) for g in spec.grades[:-1]), else_=spec.grades[-1].code)
    return table.mutate(grade=grade)


def run_duckdb(exported: Export, spec: ModelSpec, as_of: date) -> pa.Table:
    """Compute on the embedded DuckDB backend; results ordered by subject."""
    connection = ibis.duckdb.connect()
    try:
        facts = connection.read_parquet(exported.facts, table_name="facts")
        population = connection.read_parquet(exported.population, table_name="population")
        return connection.to_pyarrow(score_table(facts, population, spec, as_of).order_by("subject_id"))
    finally:
        connection.disconnect()
