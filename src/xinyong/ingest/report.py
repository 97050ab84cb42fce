"""The error report a department downloads, fixes and sends again (XLSX and CSV).

The original columns come first, with the values as sent, so the fixed file has the layout the
department submitted; the platform's notes follow in columns the importer ignores.
Cells that a spreadsheet would run as a formula are neutralised (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

import xlsxwriter

from xinyong.ingest.mapping import REPORT_NOTE_COLUMNS as NOTE_COLUMNS
from xinyong.ingest.models import IngestBatch, IngestRow
from xinyong.ingest.service import OUTCOME_LABELS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def neutralise(value: Any) -> str:
    """Text a spreadsheet shows as typed: a leading formula character gets a quote (numbers stay)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def report_rows(batch: IngestBatch, rows: Sequence[IngestRow]) -> tuple[list[str], list[list[str]]]:
    columns = list(batch.mapping.get("columns", []))
    table = []
    for row in rows:
        sent = row.source or {}
        codes = "；".join(p["code"] for p in row.problems)
        messages = "；".join(p["message"] for p in row.problems)
        table.append([neutralise(sent.get(c)) for c in columns]
                     + [str(row.row_number), OUTCOME_LABELS[row.outcome], codes, neutralise(messages)])
    return [*(neutralise(c) for c in columns), *NOTE_COLUMNS], table


def as_csv(header: list[str], table: list[list[str]]) -> bytes:
    """UTF-8 with BOM, so spreadsheet programs on Chinese Windows open it correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(table)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(header: list[str], table: list[list[str]], title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(title[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF1F5"})
    note = workbook.add_format({"font_color": "#A8141B"})
    for col, name in enumerate(header):
        sheet.write_string(0, col, name, bold)
        sheet.set_column(col, col, 18)
    first_note = len(header) - len(NOTE_COLUMNS)
    for r, values in enumerate(table, start=1):
        for col, value in enumerate(values):
            sheet.write_string(r, col, value, note if col >= first_note else None)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
