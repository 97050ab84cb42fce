"""Data-quality assessment of collection and sharing (归集共享质效评估), per department and month.

A department is assessed for each calendar month in Asia/Shanghai time: its records by the month
they were received, its batches by the month they were submitted (``created_at``; only finished
batches count, since only they have a final row count).

Metrics
    volume (归集量)          records stored: originals and corrections. Revocations (撤销) are
                             counted separately and do not add to the volume.
    timeliness (及时率)      on-time records / records with a due date. The due date is the
                             decision date + n working days (policy ``timeliness_working_days``,
                             per item); on time means received (Shanghai date) on or before it.
                             Items without a limit, and records without a decision date, do not
                             count.
    completeness (完整率)    mean over stored records of: filled optional fields / optional fields
                             of the record's catalogue item version (1 when it has none). Required
                             fields are always filled in an accepted record, so they are left out.
    accuracy (准确率)        1 − rejected rows / rows submitted (rows submitted = the batches'
                             total rows).
    duplicate rate (重复率)  rows recognised as duplicates / rows submitted.
    conflict rate (赋码冲突率) rows flagged SUBJECT_NAME_MISMATCH (name differs from the subject
                             registry for that code) / rows submitted.

Score (综合得分, 0–100), with the weights of policy ``quality_weights`` (seeded: timeliness 25,
completeness 20, accuracy 30, duplicates 10, conflicts 15)::

    score = 100 × Σ wᵢ·sᵢ / Σ wᵢ
    s = timeliness, completeness, accuracy, 1 − duplicate rate, 1 − conflict rate

Both sums run over the components defined for that department and month (a department that only
submitted single records through the API has no batch rows, so its score rests on timeliness and
completeness). The score is rounded to two decimals.

Rank (排名): among the departments with a score in the month, by score, highest first; equal
(rounded) scores share a rank and the next rank is skipped (1, 1, 3). Within a tie, and for the
list, larger volume comes first, then the department code. Data-providing departments that
existed in the month but stored nothing are listed last, without score or rank.

The numbers are computed by ``quality.engine`` as a columnar batch job (see there).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import xlsxwriter
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department
from xinyong.errors import Invalid
from xinyong.policy import service as policy
from xinyong.quality import engine

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
RATE_DIGITS = 4

METRIC_LABELS = {"timeliness": "及时率", "completeness": "完整率", "accuracy": "准确率", "duplicates": "重复率",
                 "conflicts": "赋码冲突率"}
COMPONENT_LABELS = {"timeliness": "及时率", "completeness": "完整率", "accuracy": "准确率",
                    "duplicates": "（1 − 重复率）", "conflicts": "（1 − 赋码冲突率）"}


@dataclass(frozen=True)
class DepartmentQuality:
    """One department's assessment for one month. Rates are fractions (0–1); None when undefined."""

    department_id: int
    department_code: str
    department_name: str
    month: str
    volume: int = 0
    revocations: int = 0
    timed: int = 0  # records with a due date
    on_time: int = 0
    submitted: int = 0  # rows in finished batches
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    timeliness: float | None = None
    completeness: float | None = None
    accuracy: float | None = None
    duplicate_rate: float | None = None
    conflict_rate: float | None = None
    score: float | None = None
    rank: int | None = None


@dataclass(frozen=True)
class Overview:
    """What the quality page shows: one month's ranking and every department's score over time."""

    month: str
    months: list[str]
    rows: list[DepartmentQuality]
    trend: dict[str, list[float | None]] = field(default_factory=dict)  # department name -> score per month


# --- months -----------------------------------------------------------------------------------------

def check_month(month: str) -> str:
    if not re.fullmatch(MONTH_PATTERN, month):
        raise Invalid("QUALITY_MONTH_INVALID", f"月份格式应为YYYY-MM：{month}", field="month")
    return month


def _month_of(at: datetime) -> str:
    return clock.local(at).strftime("%Y-%m")


def _month_span(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def months(session: Session) -> list[str]:
    """Every month from the first record or batch to the last, newest first."""
    span = engine.activity_span(session)
    if span is None:
        return []
    return list(reversed(_month_span(_month_of(span[0]), _month_of(span[1]))))


def current_month() -> str:
    return clock.today().strftime("%Y-%m")


def month_or_latest(session: Session, month: str | None) -> str:
    """``month`` checked, or the latest month with data (the current month when there is none)."""
    if month is not None:
        return check_month(month)
    return next(iter(months(session)), current_month())


# --- assessing ----------------------------------------------------------------------------------------

def assess(session: Session, month: str | None = None) -> list[DepartmentQuality]:
    """The ranking for ``month`` (default: the latest month with data, else the current month)."""
    month = month_or_latest(session, month)
    return _ranking(session, engine.run(session, month), month)


def overview(session: Session, month: str | None = None) -> Overview:
    """One month's ranking plus the score trend of every department, from one run of the job."""
    month = month_or_latest(session, month)
    trend_months = sorted(set(months(session)) | {month})
    frame = engine.run(session)
    return Overview(month=month, months=list(reversed(trend_months)),
                    rows=_ranking(session, frame.filter(pl.col("month") == month), month),
                    trend=_trend(session, frame, trend_months))


def _rate(value: Any) -> float | None:
    return None if value is None else round(float(value), RATE_DIGITS)


def _from_engine(values: Mapping[str, Any], department: Department) -> DepartmentQuality:
    counts = {name: int(values[name]) for name in ("volume", "revocations", "timed", "on_time", "submitted",
                                                    "rejected", "duplicates", "conflicts")}
    rates = {name: _rate(values[name]) for name in ("timeliness", "completeness", "accuracy", "duplicate_rate",
                                                     "conflict_rate")}
    score = None if values["score"] is None else round(float(values["score"]), 2)
    rank = None if values["rank"] is None else int(values["rank"])
    return DepartmentQuality(department_id=department.id, department_code=department.code,
                             department_name=department.name, month=values["month"], score=score, rank=rank,
                             **counts, **rates)


def _ranking(session: Session, frame: pl.DataFrame, month: str) -> list[DepartmentQuality]:
    departments = {d.id: d for d in access.departments(session)}
    rows = [_from_engine(values, departments[values["department_id"]]) for values in frame.iter_rows(named=True)]
    assessed = {row.department_id for row in rows}
    idle = [DepartmentQuality(department_id=d.id, department_code=d.code, department_name=d.name, month=month)
            for d in departments.values()
            if d.provides_data and d.id not in assessed and _month_of(d.created_at) <= month]
    return sorted(rows, key=_order) + sorted(idle, key=lambda row: row.department_code)


def _order(row: DepartmentQuality) -> tuple[int, int, str]:
    return (row.rank if row.rank is not None else 1 << 30, -row.volume, row.department_code)


def _trend(session: Session, frame: pl.DataFrame, trend_months: Sequence[str]) -> dict[str, list[float | None]]:
    names = access.department_names(session)
    scores: dict[str, dict[str, float]] = {}
    for department_id, month, score in frame.select("department_id", "month", "score").iter_rows():
        if score is not None:
            scores.setdefault(names.get(department_id, str(department_id)), {})[month] = round(float(score), 2)
    return {name: [by_month.get(m) for m in trend_months] for name, by_month in sorted(scores.items())}


def weights(session: Session) -> dict[str, float]:
    return engine.weights_of(session)


# --- XLSX export ---------------------------------------------------------------------------------------

COLUMNS: list[tuple[str, str, str]] = [  # (attribute, header, kind)
    ("rank", "排名", "int"), ("department_name", "部门", "text"), ("department_code", "部门统一社会信用代码", "text"),
    ("month", "月份", "text"), ("score", "综合得分", "score"), ("volume", "归集量（条）", "int"),
    ("revocations", "撤销（条）", "int"), ("timeliness", "及时率", "rate"), ("completeness", "完整率", "rate"),
    ("accuracy", "准确率", "rate"), ("duplicate_rate", "重复率", "rate"), ("conflict_rate", "赋码冲突率", "rate"),
    ("timed", "有报送时限的记录（条）", "int"), ("on_time", "按时报送（条）", "int"), ("submitted", "批次报送行数", "int"),
    ("rejected", "拒绝行数", "int"), ("duplicates", "重复行数", "int"), ("conflicts", "赋码冲突行数", "int"),
]


def explanation(weights: Mapping[str, float]) -> list[tuple[str, str]]:
    """The formula in words, as shown on the page and in the export's second sheet."""
    total = "＋".join(f"{weights[name]:g}×{COMPONENT_LABELS[name]}" for name in engine.METRICS)
    return [
        ("统计口径", "按部门、按自然月（北京时间）统计：记录按接收时间归月，批次按提交时间归月，只统计已完成的批次。"),
        ("归集量", "本月入库的信用记录条数（原始记录＋更正记录）；撤销记录单独计数，不计入归集量。"),
        ("及时率", "按时报送的记录数 ÷ 有报送时限的记录数。应报日期＝决定日期＋时限（工作日，政策参数“双公示信息报送时限”），"
                  "接收日期不晚于应报日期即为按时；没有时限的信息项、没有决定日期的记录不参与计算。"),
        ("完整率", "各条记录“已填写的非必填字段数 ÷ 该信息项版本的非必填字段数”的平均值（没有非必填字段的信息项记为1）。"),
        ("准确率", "1 − 被拒绝的行数 ÷ 批次报送的总行数。"),
        ("重复率", "被识别为重复（内容与已入库记录相同）的行数 ÷ 批次报送的总行数。"),
        ("赋码冲突率", "因名称与主体库登记名称不一致而标记为赋码冲突的行数 ÷ 批次报送的总行数。"),
        ("综合得分", f"100 ×（{total}）÷ 参与计算的权重之和；某项无法计算（如没有批次报送）时，该项及其权重都不参与计算。"
                    "权重为政策参数“归集共享质效评估权重”，可由信用主管部门调整。"),
        ("排名", "同月有得分的部门按综合得分（保留两位小数）从高到低排名；得分相同的并列同一名次，下一名次顺延（如1、1、3）。"
                "并列时按归集量从多到少、再按部门代码列出。本月没有报送的数据提供部门列在最后，不参与排名。"),
    ]


def export_xlsx(rows: Sequence[DepartmentQuality], weights: Mapping[str, float] | None = None) -> bytes:
    """The ranking as a workbook: sheet 1 the figures, sheet 2 how they are computed."""
    weights = weights or {name: float(value) for name, value in policy.seed_defaults()["quality_weights"]["value"].items()}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    _write_figures(book, rows)
    _write_explanation(book, weights)
    book.close()
    return buffer.getvalue()


def _write_figures(book: xlsxwriter.Workbook, rows: Sequence[DepartmentQuality]) -> None:
    sheet = book.add_worksheet("质效评估")
    header = book.add_format({"bold": True, "bg_color": "#EEF1F5", "border": 1})
    formats = {"rate": book.add_format({"num_format": "0.00%"}), "score": book.add_format({"num_format": "0.00"}),
               "int": book.add_format({"num_format": "0"})}
    for col, (_name, title, kind) in enumerate(COLUMNS):
        sheet.write_string(0, col, title, header)
        sheet.set_column(col, col, 28 if kind == "text" else 14)
    for row_index, row in enumerate(rows, start=1):
        for col, (name, _title, kind) in enumerate(COLUMNS):
            value = getattr(row, name)
            if value is None:
                sheet.write_blank(row_index, col, None)
            elif kind == "text":
                sheet.write_string(row_index, col, str(value))  # never a formula, whatever the text
            else:
                sheet.write_number(row_index, col, value, formats[kind])
    sheet.freeze_panes(1, 0)


def _write_explanation(book: xlsxwriter.Workbook, weights: Mapping[str, float]) -> None:
    sheet = book.add_worksheet("计算方法")
    bold = book.add_format({"bold": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 100)
    sheet.write_string(0, 0, "项目", bold)
    sheet.write_string(0, 1, "计算方法", bold)
    lines = explanation(weights)
    for index, (term, text) in enumerate(lines, start=1):
        sheet.write_string(index, 0, term, bold)
        sheet.write_string(index, 1, text, wrap)
    start = len(lines) + 2
    sheet.write_string(start, 0, "权重", bold)
    for offset, name in enumerate(engine.METRICS, start=1):
        sheet.write_string(start + offset, 0, METRIC_LABELS[name])
        sheet.write_number(start + offset, 1, weights[name])
