"""The quality assessment as a columnar batch job (归集共享质效评估的批处理).

Two steps, so that nothing loops over records in Python:

1. ``export`` reads the few columns the assessment needs from the ``records``, ``ingest_rows``
   and ``ingest_batches`` tables in chunks of ``CHUNK_ROWS`` (memory stays bounded whatever the
   table size) and writes them as Parquet files. Values that need the catalogue or the time zone
   are derived column-wise with Polars on the way: the Asia/Shanghai month and date, how many
   of the item version's optional fields a record fills, whether a row was a code conflict.
   This read-only export is the one place the assessment reads other contexts' tables: a batch
   job over an export of the records is what the design asks for.
2. ``quality_table`` is one Ibis expression over those tables giving every department's
   counts, metrics, score and rank for every month. It uses only portable Ibis operations
   (filters, joins, conditional counts and means, ``nullif``, a rank window), so the same
   expression runs on DuckDB here and on a distributed backend such as PySpark at national
   scale; only ``run`` knows it is DuckDB.

Due dates (decision date + n working days, ``timeliness_working_days``) come from the working
calendar in Python, once per distinct (item, decision date) pair — a few thousand at most —
and are joined in as a small table. The definitions are in ``quality.service`` and
``docs/quality.md``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from xinyong.catalogue import service as catalogue
from xinyong.ingest.models import IngestBatch, IngestRow
from xinyong.policy import calendar_service
from xinyong.policy import service as policy
from xinyong.records.models import Record

CHUNK_ROWS = 100_000
LOCAL_ZONE = "Asia/Shanghai"
MONTH_FORMAT = "%Y-%m"
COUNTED_OUTCOMES = ("rejected", "duplicate", "flagged")
CONFLICT_CODE = "SUBJECT_NAME_MISMATCH"
METRICS = ("timeliness", "completeness", "accuracy", "duplicates", "conflicts")
KEYS = ("department_id", "month")

_UTC = pl.Datetime("us", "UTC")
_PROBLEMS = pl.List(pl.Struct({"field": pl.String, "code": pl.String, "message": pl.String}))

RECORD_SOURCE = {"department_id": pl.Int64, "item_code": pl.String, "item_version_id": pl.Int64, "kind": pl.String,
                 "decision_date": pl.Date, "received_at": _UTC, "payload": pl.String}
RECORD_SCHEMA = {"department_id": pl.Int64, "item_code": pl.String, "kind": pl.String, "decision_date": pl.Date,
                 "month": pl.String, "received_date": pl.Date, "optional_filled": pl.Int64,
                 "optional_total": pl.Int64}
ROW_SOURCE = {"batch_id": pl.Int64, "outcome": pl.String, "problems": pl.String}
ROW_SCHEMA = {"batch_id": pl.Int64, "outcome": pl.String, "conflict": pl.Boolean}
BATCH_SOURCE = {"batch_id": pl.Int64, "department_id": pl.Int64, "created_at": _UTC, "total_rows": pl.Int64}
BATCH_SCHEMA = {"batch_id": pl.Int64, "department_id": pl.Int64, "month": pl.String, "total_rows": pl.Int64}

Transform = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class Export:
    """Parquet file patterns of one export (``read_parquet`` takes them as they are)."""

    records: str
    rows: str
    batches: str


# --- 1. export --------------------------------------------------------------------------------------

def export(session: Session, directory: Path) -> Export:
    """Write the columns the assessment needs as Parquet files under ``directory``."""
    records = _records_transform(optional_fields(session))
    return Export(
        records=_write(session, _records_query(), RECORD_SOURCE, records, RECORD_SCHEMA, directory / "records"),
        rows=_write(session, _rows_query(), ROW_SOURCE, _rows_transform, ROW_SCHEMA, directory / "rows"),
        batches=_write(session, _batches_query(), BATCH_SOURCE, _batches_transform, BATCH_SCHEMA,
                       directory / "batches"))


def _write(session: Session, query: Select[Any], source: Mapping[str, Any], transform: Transform,
           schema: Mapping[str, Any], directory: Path) -> str:
    """Stream ``query`` in chunks into Parquet parts (an empty part when there are no rows)."""
    directory.mkdir(parents=True)
    chunks = pl.read_database(query, connection=session.connection(), iter_batches=True, batch_size=CHUNK_ROWS,
                              schema_overrides=dict(source))
    parts = 0
    for chunk in chunks:
        if chunk.height:
            frame = transform(chunk.cast(dict(source))).select(list(schema)).cast(dict(schema))
            frame.write_parquet(directory / f"part-{parts:05d}.parquet")
            parts += 1
    if parts == 0:
        pl.DataFrame(schema=dict(schema)).write_parquet(directory / "part-00000.parquet")
    return str(directory / "*.parquet")


def _records_query() -> Select[Any]:
    return select(Record.department_id, Record.item_code, Record.item_version_id, Record.kind, Record.decision_date,
                  Record.received_at, cast(Record.payload, String).label("payload")
                  ).execution_options(stream_results=True)


def _rows_query() -> Select[Any]:
    return select(IngestRow.batch_id, IngestRow.outcome, cast(IngestRow.problems, String).label("problems")
                  ).where(IngestRow.outcome.in_(COUNTED_OUTCOMES)).execution_options(stream_results=True)


def _batches_query() -> Select[Any]:
    return select(IngestBatch.id.label("batch_id"), IngestBatch.department_id, IngestBatch.created_at,
                  IngestBatch.total_rows).where(IngestBatch.status == "done").execution_options(stream_results=True)


def _local(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(LOCAL_ZONE)


def optional_fields(session: Session) -> dict[int, list[str]]:
    """Every catalogue item version (old ones too: records keep theirs) → its optional field names."""
    optional: dict[int, list[str]] = {}
    for entry in catalogue.list_items(session):
        for version in catalogue.versions(session, entry.code):
            optional[version.id] = [f["name"] for f in version.fields if not f.get("required")]
    return optional


def _filled(name: str) -> pl.Expr:
    """Whether the JSON payload has a non-empty value for field ``name`` (field codes are [A-Z0-9_])."""
    value = pl.col("payload").str.json_path_match(f"$.{name}")
    return value.is_not_null() & (value.str.strip_chars() != "")


def _records_transform(optional: Mapping[int, list[str]]) -> Transform:
    versions_by_field: dict[str, list[int]] = {}
    for version_id, names in optional.items():
        for name in names:
            versions_by_field.setdefault(name, []).append(version_id)
    flags = [(_filled(name) & pl.col("item_version_id").is_in(ids)).cast(pl.Int64)
             for name, ids in sorted(versions_by_field.items())]
    filled = pl.sum_horizontal(flags) if flags else pl.lit(0, pl.Int64)
    totals = {version_id: len(names) for version_id, names in optional.items()}
    total = (pl.col("item_version_id").replace_strict(totals, default=0, return_dtype=pl.Int64) if totals
             else pl.lit(0, pl.Int64))

    def transform(chunk: pl.DataFrame) -> pl.DataFrame:
        return chunk.with_columns(month=_local("received_at").dt.strftime(MONTH_FORMAT),
                                  received_date=_local("received_at").dt.date(),
                                  optional_filled=filled, optional_total=total)

    return transform


def _rows_transform(chunk: pl.DataFrame) -> pl.DataFrame:
    codes = pl.col("problems").str.json_decode(_PROBLEMS).list.eval(pl.element().struct.field("code") == CONFLICT_CODE)
    return chunk.with_columns(conflict=codes.list.any().fill_null(False))


def _batches_transform(chunk: pl.DataFrame) -> pl.DataFrame:
    return chunk.with_columns(month=_local("created_at").dt.strftime(MONTH_FORMAT))


def activity_span(session: Session) -> tuple[datetime, datetime] | None:
    """When the first and the last record was received or batch submitted (None: nothing yet)."""
    spans = [session.execute(select(func.min(Record.received_at), func.max(Record.received_at))).one(),
             session.execute(select(func.min(IngestBatch.created_at), func.max(IngestBatch.created_at))).one()]
    times = [at for span in spans for at in span if at is not None]
    return (min(times), max(times)) if times else None


# --- due dates ----------------------------------------------------------------------------------------

def due_dates(session: Session, records: ir.Table) -> ir.Table:
    """(item, decision date) → due date, for the items with a time limit, as a small in-memory table."""
    limits = {code: int(days) for code, days in policy.get(session, "timeliness_working_days").items()}
    schema = {"due_item": pl.String, "due_decision": pl.Date, "due_date": pl.Date}
    if not limits:
        return ibis.memtable(pl.DataFrame(schema=schema))
    pairs = (records.filter(records.item_code.isin(list(limits)), records.decision_date.notnull())
             .select("item_code", "decision_date").distinct().to_polars())
    calendar = calendar_service.working_calendar(session)
    due = [calendar.add_working_days(decided, limits[code]) for code, decided in pairs.iter_rows()]
    frame = pl.DataFrame({"due_item": pairs["item_code"], "due_decision": pairs["decision_date"],
                          "due_date": pl.Series(due, dtype=pl.Date)}, schema=schema)
    return ibis.memtable(frame)


# --- 2. the portable expression -----------------------------------------------------------------------

def _record_stats(records: ir.Table, due: ir.Table) -> ir.Table:
    joined = records.left_join(due, [records.item_code == due.due_item, records.decision_date == due.due_decision])
    stored = joined.kind != "revocation"
    timed = stored & joined.due_date.notnull()
    share = ibis.ifelse(joined.optional_total > 0, joined.optional_filled / joined.optional_total.nullif(0), 1.0)
    return joined.group_by(KEYS).aggregate(
        volume=joined.kind.count(where=stored),
        revocations=joined.kind.count(where=~stored),
        timed=joined.kind.count(where=timed),
        on_time=joined.kind.count(where=timed & (joined.received_date <= joined.due_date)),
        completeness=share.mean(where=stored),
    )


def _batch_stats(rows: ir.Table, batches: ir.Table) -> ir.Table:
    per_batch = rows.group_by("batch_id").aggregate(
        rejected=rows.outcome.count(where=rows.outcome == "rejected"),
        duplicates=rows.outcome.count(where=rows.outcome == "duplicate"),
        conflicts=rows.outcome.count(where=rows.conflict),
    ).rename(row_batch="batch_id")
    joined = batches.left_join(per_batch, batches.batch_id == per_batch.row_batch)
    return joined.group_by(KEYS).aggregate(
        submitted=joined.total_rows.sum(),
        rejected=joined.rejected.sum(),
        duplicates=joined.duplicates.sum(),
        conflicts=joined.conflicts.sum(),
    ).rename(b_department="department_id", b_month="month")


def _zero(value: ir.IntegerValue) -> ir.IntegerValue:
    return value.fill_null(0)


def _combined(record_stats: ir.Table, batch_stats: ir.Table) -> ir.Table:
    joined = record_stats.outer_join(batch_stats, [record_stats.department_id == batch_stats.b_department,
                                                   record_stats.month == batch_stats.b_month])
    return joined.select(
        department_id=ibis.coalesce(joined.department_id, joined.b_department),
        month=ibis.coalesce(joined.month, joined.b_month),
        volume=_zero(joined.volume), revocations=_zero(joined.revocations),
        timed=_zero(joined.timed), on_time=_zero(joined.on_time), completeness=joined.completeness,
        submitted=_zero(joined.submitted), rejected=_zero(joined.rejected),
        duplicates=_zero(joined.duplicates), conflicts=_zero(joined.conflicts),
    )


def _with_metrics(table: ir.Table) -> ir.Table:
    submitted = table.submitted.nullif(0)
    return table.mutate(
        timeliness=table.on_time / table.timed.nullif(0),
        accuracy=1 - table.rejected / submitted,
        duplicate_rate=table.duplicates / submitted,
        conflict_rate=table.conflicts / submitted,
    )


def _with_score(table: ir.Table, weights: Mapping[str, float]) -> ir.Table:
    """Weighted mean of the defined components, on 0–100; undefined components drop out of both sums."""
    components = {"timeliness": table.timeliness, "completeness": table.completeness, "accuracy": table.accuracy,
                  "duplicates": 1 - table.duplicate_rate, "conflicts": 1 - table.conflict_rate}
    points = sum((value.fill_null(0) * float(weights[name]) for name, value in components.items()), ibis.literal(0.0))
    weight = sum((ibis.ifelse(value.isnull(), 0.0, float(weights[name])) for name, value in components.items()),
                 ibis.literal(0.0))
    return table.mutate(score=(points * 100 / weight.nullif(0)).round(2))


def _with_rank(table: ir.Table) -> ir.Table:
    """Competition rank by score within the month (equal scores share a rank: 1, 1, 3)."""
    window = ibis.window(group_by=[table.month, table.score.isnull()], order_by=ibis.desc(table.score))
    rank = ibis.rank().over(window) + 1
    return table.mutate(rank=ibis.ifelse(table.score.isnull(), ibis.null("int64"), rank.cast("int64")))


def quality_table(records: ir.Table, rows: ir.Table, batches: ir.Table, due: ir.Table,
                  weights: Mapping[str, float]) -> ir.Table:
    """Per department and month: counts, metrics, score and rank. Backend-independent Ibis."""
    combined = _combined(_record_stats(records, due), _batch_stats(rows, batches))
    return _with_rank(_with_score(_with_metrics(combined), weights))


# --- running it on DuckDB -----------------------------------------------------------------------------

def weights_of(session: Session) -> dict[str, float]:
    configured = policy.get(session, "quality_weights")
    return {name: float(configured.get(name, 0)) for name in METRICS}


def run(session: Session, month: str | None = None) -> pl.DataFrame:
    """Export, then evaluate ``quality_table`` with DuckDB; one row per department and month."""
    with tempfile.TemporaryDirectory(prefix="xinyong-quality-") as tmp:
        files = export(session, Path(tmp))
        con = ibis.duckdb.connect()
        try:
            records, rows, batches = (con.read_parquet(files.records), con.read_parquet(files.rows),
                                      con.read_parquet(files.batches))
            if month is not None:
                records, batches = records.filter(records.month == month), batches.filter(batches.month == month)
            table = quality_table(records, rows, batches, due_dates(session, records), weights_of(session))
            return con.to_polars(table)
        finally:
            con.disconnect()
