"""Streaming readers for the files departments send: CSV, XLSX, JSON and NDJSON.

``open_source`` works out the format and (for CSV) the encoding, reads and checks the header and
returns a ``SourceFile``; ``SourceFile.chunks`` then yields polars frames of strings a chunk at a
time, each row tagged with ``__row``, its number as the department sees it. Every problem with the
file as a whole is a ``FileProblem``: a stable code and a Chinese message saying what and where.

Format: by extension (.csv/.txt/.tsv, .xlsx, .json, .ndjson/.jsonl), but the content wins where the
two disagree: zip bytes are a workbook whatever the name, a ``.json`` file holding one object per
line is NDJSON (and the reverse), and without a known extension the first non-blank byte decides
(``[`` JSON, ``{`` NDJSON, anything else CSV). A CSV whose header has tabs and no commas is
tab-separated.

CSV is cut into records by a vectorised byte scan (quotes, newlines and separators located with
polars on 2 MiB blocks); the records are then parsed, about 1 MiB at a time, by polars' native CSV
reader. The scan is what makes the checks exact and cheap: row numbers count records, not lines (a
quoted field may hold newlines); ragged rows are caught whether they have too many fields or too
few; a file ending inside a quoted field is caught, and so is a quote in the middle of an unquoted
field (``FILE_CSV_INVALID``, which polars would refuse anyway); and resuming after ``start_row``
rows seeks straight to the right byte without parsing what comes before. GB18030 (like GBK) never
uses the bytes ``" , \\t \\r \\n`` inside a multibyte character, so the same scan works on its raw
bytes and every piece, which starts on a record boundary, is transcoded to UTF-8 on its own: no
full-file strings and no temporary files.

Blank lines (CSV and NDJSON) and entirely empty sheet rows (XLSX) are not data rows: they are
skipped, but still counted in row numbers. ``start_row`` counts the data rows ``chunks`` yields.
XLSX: the first sheet; dates come out as ``YYYY-MM-DD`` (with the time if it has one), integral
numbers without ``.0``; trailing columns with neither a name nor a value are ignored. JSON: numbers
as sent, except that integral floats lose their fraction (``2.0`` → ``"2"``); booleans as
``true``/``false``. Empty strings are null everywhere.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NoReturn

import fastexcel
import polars as pl
import pyarrow as pa

from xinyong.errors import Invalid

FORMATS = ("csv", "xlsx", "json", "ndjson")
ROW_COLUMN = "__row"
JSON_MAX_BYTES = 512 * 1024 * 1024

_BLOCK = 2 * 1024 * 1024  # record scan
_DECODE_BLOCK = 1024 * 1024  # encoding checks (a block's text is up to 4x its bytes)
_HEADER_MAX = 1024 * 1024
_PIECE = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WHITESPACE = b" \t\r\n\x0b\x0c"
_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_UTF8_FAMILY = {"utf-8", "utf-8-sig", "ascii"}
_GB_FAMILY = {"gbk", "gb2312", "gb18030"}
_ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GB18030（兼容 GBK）"}
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class FileProblem(Invalid):
    """A problem with a submitted file as a whole (codes ``FILE_*``); row-level checks live elsewhere."""


@dataclass
class SourceFile:
    """An opened submission: its format, encoding and header; ``chunks`` reads the data rows."""

    path: Path
    file_format: str
    encoding: str
    header: list[str]
    _json_keys: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    def chunks(self, start_row: int = 0, chunk_rows: int = 50_000) -> Iterator[pl.DataFrame]:
        """Frames of at most ``chunk_rows`` data rows, after skipping the first ``start_row``.

        Columns ``c0, c1, …`` (by position in the header, all String, null for empty cells) and
        ``__row`` (Int64). A problem found on the way (a ragged CSV row, say) is raised from here
        as soon as the scan reaches it: the chunk holding the bad row is never yielded.
        """
        if start_row < 0 or chunk_rows < 1:
            raise ValueError("start_row must be >= 0 and chunk_rows >= 1")
        readers: dict[str, Callable[[SourceFile, int, int], Iterator[pl.DataFrame]]] = {
            "csv": _csv_chunks,
            "xlsx": _xlsx_chunks,
            "json": _json_chunks,
            "ndjson": _ndjson_chunks,
        }
        if self.file_format not in readers:
            _unknown_format(self.file_format)
        yield from readers[self.file_format](self, start_row, chunk_rows)


def open_source(path: Path, *, declared_format: str | None = None, declared_encoding: str | None = None) -> SourceFile:
    """Detect the format (and CSV encoding), read and check the header; raise ``FileProblem`` if unusable."""
    path = Path(path)
    declared = _declared_format(declared_format)
    first = _first_content_byte(path)
    if first is None:
        raise FileProblem("FILE_EMPTY", "文件为空：没有任何内容（0 字节或只有空白字符）。")
    file_format = declared or _sniff_format(path, first)
    if file_format == "csv":
        return _open_csv(path, declared_encoding)
    if file_format == "xlsx":
        return _open_xlsx(path)
    if file_format == "json":
        return _open_json(path)
    return _open_ndjson(path)


# --- format ---------------------------------------------------------------------------------


def _unknown_format(declared: str) -> NoReturn:
    raise FileProblem(
        "FILE_FORMAT_UNKNOWN",
        f"不支持的文件格式“{declared}”：只接受 CSV、XLSX、JSON、NDJSON。",
        declared_format=declared,
    )


def _first_content_byte(path: Path) -> int | None:
    """The first byte that is not whitespace (nor a UTF-8 BOM), or None if there is none."""
    with path.open("rb") as f:
        block = f.read(_BLOCK)
        block = block.removeprefix(codecs.BOM_UTF8)
        while block:
            rest = block.lstrip(_WHITESPACE)
            if rest:
                return rest[0]
            block = f.read(_BLOCK)
    return None


def _declared_format(declared: str | None) -> str | None:
    if declared is None:
        return None
    wanted = declared.strip().lower()
    if wanted not in FORMATS:
        _unknown_format(declared)
    return wanted


def _sniff_format(path: Path, first: int) -> str:
    """By extension, overridden by the content where the two disagree (see the module docstring)."""
    with path.open("rb") as f:
        magic = f.read(8)
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if magic.startswith(_ZIP_MAGIC):
        return "xlsx"
    if magic.startswith(_OLE_MAGIC):
        raise FileProblem(
            "FILE_FORMAT_UNKNOWN",
            "文件是旧版 Excel（.xls）或加密的工作簿，无法读取：请另存为 .xlsx 或 CSV（不要设置密码）。",
        )
    if by_extension == "xlsx":
        raise FileProblem(
            "FILE_CORRUPT", "文件扩展名为 .xlsx，但内容不是 Excel 工作簿（文件已损坏或并非 Excel 文件）。"
        )
    if by_extension == "csv":
        return "csv"  # a CSV header may start with any character
    by_content = {ord("["): "json", ord("{"): "ndjson"}.get(first, "csv")
    if by_extension in ("json", "ndjson") and by_content == "csv":
        return by_extension  # meant as JSON: let the parser say what is wrong
    return by_content


def _clean_name(value: object) -> str:
    return "" if value is None else str(value).strip().strip("\ufeff").strip()


def _check_header(names: list[str]) -> None:
    empty = [index + 1 for index, name in enumerate(names) if not name]
    if empty:
        positions = "、".join(str(position) for position in empty[:20]) + ("等" if len(empty) > 20 else "")
        raise FileProblem(
            "FILE_NO_HEADER",
            f"首行（列名行）第 {positions} 列的列名为空：首行必须是列名，且每一列都要有名称。",
            columns=empty,
        )


def _no_rows() -> NoReturn:
    raise FileProblem("FILE_NO_ROWS", "文件只有列名，没有数据行。")


# --- CSV: encoding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _BadByte:
    codec: str
    offset: int
    line: int


def _first_bad_byte(path: Path, codec: str, start: int = 0) -> _BadByte | None:
    """Where a strict incremental decode of the file (from ``start``) first fails; None if it never does."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    offset, lines = start, 0
    with path.open("rb") as f:
        f.seek(start)
        while True:
            block = f.read(_DECODE_BLOCK)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                bad = offset + len(block) - len(error.object) + error.start
                return _BadByte(codec, bad, lines + block[: max(bad - offset, 0)].count(b"\n") + 1)
            if not block:
                return None
            offset += len(block)
            lines += block.count(b"\n")


def _has_bom(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(3) == codecs.BOM_UTF8


def _sniff_encoding(path: Path) -> tuple[str | None, list[_BadByte]]:
    """The detected encoding (None if neither UTF-8 nor GB18030 fits) and the failed attempts."""
    if _has_bom(path):
        bad = _first_bad_byte(path, "utf-8", 3)
        return ("utf-8-sig", []) if bad is None else (None, [bad])
    utf8 = _first_bad_byte(path, "utf-8")
    if utf8 is None:
        return "utf-8", []
    gb = _first_bad_byte(path, "gb18030")
    return ("gb18030", [utf8]) if gb is None else (None, [utf8, gb])


def _undecodable(failures: list[_BadByte]) -> NoReturn:
    worst = max(failures, key=lambda bad: bad.offset)
    tried = "、".join(_ENCODING_LABELS.get(bad.codec, bad.codec.upper()) for bad in failures)
    raise FileProblem(
        "FILE_ENCODING",
        f"无法识别文件编码：按 {tried} 解码都失败（第 {worst.line} 行，文件偏移 {worst.offset} 字节处出现无法识别的字节）。"
        "请将文件另存为 UTF-8 编码的 CSV。",
        offset=worst.offset,
        line=worst.line,
    )


def _detect_encoding(path: Path) -> str:
    encoding, failures = _sniff_encoding(path)
    if encoding is None:
        _undecodable(failures)
    return encoding


def _declared_family(declared: str) -> str:
    try:
        name = codecs.lookup(declared.strip()).name
    except LookupError:
        name = declared
    if name in _UTF8_FAMILY:
        return "utf-8"
    if name in _GB_FAMILY:
        return "gb18030"
    raise FileProblem(
        "FILE_ENCODING",
        f"不支持声明的编码“{declared}”：CSV 文件只接受 UTF-8 或 GBK/GB18030 编码。",
        declared_encoding=declared,
    )


def _check_declared(path: Path, declared: str) -> str:
    family = _declared_family(declared)
    bom = _has_bom(path)
    if family == "utf-8":
        bad = _first_bad_byte(path, "utf-8", 3 if bom else 0)
    else:
        bad = _BadByte("gb18030", 0, 1) if bom else _first_bad_byte(path, "gb18030")
    if bad is not None:
        _mismatch(path, declared, bad)
    if family == "utf-8":
        return "utf-8-sig" if bom else "utf-8"
    return "gb18030"


def _mismatch(path: Path, declared: str, bad: _BadByte) -> NoReturn:
    detected, _ = _sniff_encoding(path)
    found = f"检测到的编码为 {_ENCODING_LABELS[detected]}" if detected else "也无法识别为 UTF-8 或 GBK/GB18030"
    raise FileProblem(
        "FILE_ENCODING_MISMATCH",
        f"声明的编码为“{declared}”，但文件不是该编码：第 {bad.line} 行（文件偏移 {bad.offset} 字节处）"
        f"出现不符合该编码的字节；{found}。请确认文件编码后重新提交。",
        declared_encoding=declared,
        detected_encoding=detected,
        offset=bad.offset,
        line=bad.line,
    )


# --- CSV: header --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvLayout:
    header: list[str]
    separator: str
    data_offset: int  # first byte after the header record


def _header_record(path: Path, start: int) -> tuple[bytes, int]:
    """The header record's bytes and the offset just after it (past its newline)."""
    with path.open("rb") as f:
        f.seek(start)
        buffer = f.read(_HEADER_MAX)
        at_eof = len(buffer) < _HEADER_MAX or not f.read(1)
    newline = buffer.find(b"\n")
    while newline != -1 and buffer.count(b'"', 0, newline) % 2:
        newline = buffer.find(b"\n", newline + 1)
    if newline != -1:
        return buffer[:newline], start + newline + 1
    if not at_eof:
        raise FileProblem("FILE_NO_HEADER", "首行超过 1 MiB 仍未结束，不是有效的列名行。")
    if buffer.count(b'"') % 2:
        raise FileProblem("FILE_TRUNCATED", "文件在首行的引号字段内结束：引号没有闭合，文件可能被截断。", row=1)
    return buffer, start + len(buffer)


def _parse_header(raw: bytes, encoding: str) -> tuple[list[str], str]:
    try:
        text = raw.decode("utf-8" if encoding == "utf-8-sig" else encoding).removesuffix("\r")
    except UnicodeDecodeError as error:
        raise FileProblem("FILE_ENCODING", f"首行（列名行）不是合法的 {encoding} 编码。", offset=error.start) from error
    separator = "\t" if "\t" in text and "," not in text else ","
    try:
        names = next(csv.reader([text], delimiter=separator, quotechar='"', strict=True))
    except (csv.Error, StopIteration) as error:
        raise FileProblem("FILE_CSV_INVALID", "首行（列名行）的引号使用不规范，无法解析。", row=1) from error
    return [_clean_name(name) for name in names], separator


def _csv_layout(path: Path, encoding: str) -> _CsvLayout:
    start = 3 if encoding == "utf-8-sig" else 0
    raw, data_offset = _header_record(path, start)
    header, separator = _parse_header(raw, encoding)
    if not any(header):
        raise FileProblem("FILE_NO_HEADER", "首行为空：首行必须是列名。")
    _check_header(header)
    return _CsvLayout(header, separator, data_offset)


def _has_data(path: Path, offset: int) -> bool:
    """Whether anything but line breaks follows ``offset`` (a data row, possibly a bad one)."""
    with path.open("rb") as f:
        f.seek(offset)
        while block := f.read(_BLOCK):
            if block.translate(None, b"\r\n"):
                return True
    return False


def _open_csv(path: Path, declared_encoding: str | None) -> SourceFile:
    encoding = _check_declared(path, declared_encoding) if declared_encoding else _detect_encoding(path)
    layout = _csv_layout(path, encoding)
    if not _has_data(path, layout.data_offset):
        _no_rows()
    return SourceFile(path, "csv", encoding, layout.header)


# --- CSV: record scan ---------------------------------------------------------------------------


@dataclass
class _Cursor:
    """Where the record scan stands between two blocks."""

    offset: int  # absolute offset of the next block
    record_start: int  # where the open (not yet ended) record starts
    row: int  # row number of the open record
    separator: int
    columns: int
    in_quote: bool = False
    separators: int = 0  # separators already seen in the open record
    last_byte: int = _LF  # the byte before ``offset``
    open_quote_row: int = 0  # row where the current quoted field opened
    closing_quote_row: int | None = None  # a quote that ended the last block: check the next byte


def _bytes_series(block: bytes) -> pl.Series:
    array = pa.Array.from_buffers(pa.uint8(), len(block), [None, pa.py_buffer(block)])
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series


def _outside_quotes(positions: pl.Series, quotes: pl.Series, in_quote: bool) -> pl.Series:
    """The positions not inside a quoted field (given the quote positions of the same block)."""
    if quotes.len() == 0:
        return positions.clear() if in_quote else positions
    parity = (quotes.search_sorted(positions).cast(pl.Int64) + int(in_quote)) % 2
    return positions.filter(parity == 0)


def _bad_quote(row: int) -> NoReturn:
    raise FileProblem(
        "FILE_CSV_INVALID",
        f"第 {row} 行的引号使用不规范：字段中的双引号必须写成两个双引号，且整个字段要用双引号括起来。",
        row=row,
    )


def _neighbours(block: pl.Series, positions: pl.Series, last_byte: int) -> tuple[pl.Series, pl.Series]:
    """The byte before and the byte after each position (before the block: ``last_byte``)."""
    at = positions.cast(pl.Int64)
    before = block.gather((at - 1).clip(0))
    if positions[0] == 0:
        before = before.scatter(0, last_byte)
    after = block.gather((at + 1).clip(upper_bound=block.len() - 1))
    return before, after


def _bad_quote_row(block: pl.Series, quotes: pl.Series, newlines: pl.Series, cursor: _Cursor) -> int | None:
    """Row of the first quote that neither opens a field, closes one, nor is doubled (escaped)."""
    if cursor.closing_quote_row is not None and block[0] not in (cursor.separator, _LF, _CR, _QUOTE):
        return cursor.closing_quote_row
    if quotes.len() == 0:
        return None
    before, after = _neighbours(block, quotes, cursor.last_byte)
    last = block.len() - 1
    frame = pl.DataFrame({"at": quotes.cast(pl.Int64), "before": before, "after": after}).with_columns(
        closing=(pl.int_range(pl.len(), dtype=pl.Int64) + int(cursor.in_quote)) % 2 == 1
    )
    opens_well = pl.col("before").is_in([cursor.separator, _LF, _QUOTE])
    closes_well = pl.col("after").is_in([cursor.separator, _LF, _CR, _QUOTE]) | (pl.col("at") == last)
    bad = frame.filter(pl.when(pl.col("closing")).then(~closes_well).otherwise(~opens_well))
    if bad.height:
        return cursor.row + int(newlines.search_sorted(bad["at"][0]))
    return None


def _quote_at_end_row(quotes: pl.Series, newlines: pl.Series, cursor: _Cursor, size: int) -> int | None:
    """If the block ends with a closing quote, its row (the next block's first byte must suit it)."""
    if quotes.len() == 0 or quotes[-1] != size - 1 or (quotes.len() + int(cursor.in_quote)) % 2:
        return None
    return cursor.row + newlines.len()


def _open_quote_row(quotes: pl.Series, newlines: pl.Series, cursor: _Cursor) -> int:
    """Row of the quoted field still open at the end of the block (0 if none)."""
    if (quotes.len() + int(cursor.in_quote)) % 2 == 0:
        return 0
    if quotes.len() == 0:
        return cursor.open_quote_row
    return cursor.row + int(newlines.search_sorted(quotes[-1]))


_RECORD_SCHEMA = {"start": pl.Int64, "end": pl.Int64, "row": pl.Int64, "fields": pl.Int64, "blank": pl.Boolean}


def _records(block: pl.Series, newlines: pl.Series, separators: pl.Series, cursor: _Cursor) -> pl.DataFrame:
    """The records ending in this block: start, end (offset of the newline), row, fields, blank."""
    if newlines.len() == 0:
        return pl.DataFrame(schema=_RECORD_SCHEMA)
    at = newlines.cast(pl.Int64)
    last_bytes = block.gather((at - 1).clip(0))
    if newlines[0] == 0:
        last_bytes = last_bytes.scatter(0, cursor.last_byte)
    frame = pl.DataFrame(
        {"end": at + cursor.offset, "before": separators.search_sorted(newlines).cast(pl.Int64), "last": last_bytes}
    )
    frame = frame.with_columns(
        start=pl.col("end").shift(1, fill_value=cursor.record_start - 1) + 1,
        row=pl.int_range(pl.len(), dtype=pl.Int64) + cursor.row,
        fields=pl.col("before").diff().fill_null(pl.col("before") + cursor.separators) + 1,
    )
    length = pl.col("end") - pl.col("start")
    frame = frame.with_columns(blank=(length == 0) | ((length == 1) & (pl.col("last") == _CR)))
    return frame.select(list(_RECORD_SCHEMA))


def _ragged_row(records: pl.DataFrame, columns: int) -> tuple[int, int] | None:
    """Row and field count of the first non-blank record whose field count is not ``columns``."""
    bad = records.filter(~pl.col("blank") & (pl.col("fields") != columns))
    return (int(bad["row"][0]), int(bad["fields"][0])) if bad.height else None


def _raise_ragged(row: int, fields: int, columns: int) -> NoReturn:
    raise FileProblem(
        "FILE_RAGGED",
        f"第 {row} 行有 {fields} 个字段，而列名行有 {columns} 列：这一行多了或少了分隔符（或引号不配对）。",
        row=row,
        fields=fields,
        expected=columns,
    )


def _check_records(records: pl.DataFrame, bad_quote: int | None, columns: int) -> None:
    """Raise the earliest problem of the block: a misplaced quote or a ragged record."""
    ragged = _ragged_row(records, columns)
    if bad_quote is not None and (ragged is None or bad_quote <= ragged[0]):
        _bad_quote(bad_quote)
    if ragged is not None:
        _raise_ragged(ragged[0], ragged[1], columns)


def _advance(cursor: _Cursor, raw: bytes, quotes: pl.Series, newlines: pl.Series, separators: pl.Series) -> None:
    cursor.closing_quote_row = _quote_at_end_row(quotes, newlines, cursor, len(raw))
    cursor.open_quote_row = _open_quote_row(quotes, newlines, cursor)
    cursor.in_quote = (quotes.len() + int(cursor.in_quote)) % 2 == 1
    if newlines.len():
        cursor.separators = separators.len() - int(separators.search_sorted(newlines[-1]))
        cursor.record_start = cursor.offset + int(newlines[-1]) + 1
        cursor.row += newlines.len()
    else:
        cursor.separators += separators.len()
    cursor.offset += len(raw)
    cursor.last_byte = raw[-1]


def _scan_block(raw: bytes, cursor: _Cursor) -> pl.DataFrame:
    block = _bytes_series(raw)
    quotes = (block == _QUOTE).arg_true()
    newlines = _outside_quotes((block == _LF).arg_true(), quotes, cursor.in_quote)
    separators = _outside_quotes((block == cursor.separator).arg_true(), quotes, cursor.in_quote)
    records = _records(block, newlines, separators, cursor)
    _check_records(records, _bad_quote_row(block, quotes, newlines, cursor), cursor.columns)
    _advance(cursor, raw, quotes, newlines, separators)
    return records


def _final_record(cursor: _Cursor) -> pl.DataFrame:
    """The last record when the file does not end with a newline."""
    if cursor.in_quote:
        row = cursor.open_quote_row
        raise FileProblem(
            "FILE_TRUNCATED",
            f"文件在第 {row} 行开始的引号字段内结束：引号没有闭合，文件可能被截断（上传或导出不完整），"
            "也可能是该字段中的双引号没有写成两个双引号。",
            row=row,
        )
    length = cursor.offset - cursor.record_start
    blank = length == 0 or (length == 1 and cursor.last_byte == _CR)
    record = {"start": cursor.record_start, "end": cursor.offset, "row": cursor.row}
    records = pl.DataFrame([{**record, "fields": cursor.separators + 1, "blank": blank}], schema=_RECORD_SCHEMA)
    _check_records(records, None, cursor.columns)
    return records.filter(pl.col("end") > pl.col("start"))


def _scan_records(path: Path, layout: _CsvLayout) -> Iterator[pl.DataFrame]:
    """Every record after the header, a block at a time, checked for quotes and field counts."""
    offset = layout.data_offset
    cursor = _Cursor(offset, offset, 2, ord(layout.separator), len(layout.header))
    with path.open("rb") as f:
        f.seek(offset)
        while raw := f.read(_BLOCK):
            yield _scan_block(raw, cursor)
    yield _final_record(cursor)


# --- CSV: chunks -------------------------------------------------------------------------------


def _plan_chunks(records: Iterable[pl.DataFrame], start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Group the non-blank records (start, end, row) into chunks, after skipping ``start_row``."""
    pending: list[pl.DataFrame] = []
    count, skip = 0, start_row
    for frame in records:
        rows = frame.filter(~pl.col("blank")).select("start", "end", "row")
        dropped = min(skip, rows.height)
        rows, skip = rows.slice(dropped), skip - dropped
        if rows.height == 0:
            continue
        pending.append(rows)
        count += rows.height
        while count >= chunk_rows:
            joined = pl.concat(pending)
            yield joined.head(chunk_rows)
            pending, count = [joined.slice(chunk_rows)], count - chunk_rows
    if count:
        yield pl.concat(pending)


def _chunk_bytes(f: IO[bytes], plan: pl.DataFrame) -> bytes:
    """The bytes of the planned records (each with its newline), leaving out blank lines between them."""
    starts, ends = plan["start"], plan["end"]
    gaps = (starts.slice(1) != ends.slice(0, plan.height - 1) + 1).arg_true() + 1
    bounds = [0, *gaps.to_list(), plan.height]
    parts = []
    for first, stop in itertools.pairwise(bounds):
        f.seek(starts[first])
        parts.append(f.read(ends[stop - 1] + 1 - starts[first]))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _to_utf8(data: bytes, encoding: str, plan: pl.DataFrame) -> bytes:
    """Polars reads UTF-8 only: transcode a GB18030 piece (it starts on a record, so on a character)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as error:
        offset = int(plan["start"][0]) + error.start
        raise FileProblem(
            "FILE_ENCODING",
            f"文件偏移约 {offset} 字节处（第 {plan['row'][0]}–{plan['row'][-1]} 行之间）不是合法的 {encoding} 编码。",
            offset=offset,
        ) from error


def _names(width: int) -> list[str]:
    return [f"c{index}" for index in range(width)]


def _unparsable(plan: pl.DataFrame, reason: str) -> FileProblem:
    first, last = int(plan["row"][0]), int(plan["row"][-1])
    return FileProblem(
        "FILE_CSV_INVALID",
        f"第 {first}–{last} 行之间有无法解析的内容（引号或分隔符不规范）。",
        row=first,
        reason=reason[:300],
    )


def _parse_chunk(data: bytes, plan: pl.DataFrame, separator: str, width: int) -> pl.DataFrame:
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            schema=dict.fromkeys(_names(width), pl.String),
            separator=separator,
            quote_char='"',
            null_values=[""],
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as error:
        raise _unparsable(plan, str(error)) from error
    if frame.height != plan.height:
        raise _unparsable(plan, f"expected {plan.height} rows, parsed {frame.height}")
    return frame.with_columns(plan["row"].alias(ROW_COLUMN))


def _pieces(plan: pl.DataFrame) -> list[pl.DataFrame]:
    """The chunk's records in runs of about ``_PIECE`` bytes (bytes, text and parse buffers stay small)."""
    if int(plan["end"][-1]) - int(plan["start"][0]) <= _PIECE:
        return [plan]
    piece = (pl.col("end") - plan["start"][0]) // _PIECE
    return plan.with_columns(piece=piece).partition_by("piece", maintain_order=True, include_key=False)


def _read_chunk(f: IO[bytes], plan: pl.DataFrame, encoding: str, separator: str, width: int) -> pl.DataFrame:
    frames = [
        _parse_chunk(_to_utf8(_chunk_bytes(f, piece), encoding, piece), piece, separator, width)
        for piece in _pieces(plan)
    ]
    return frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)


def _csv_chunks(source: SourceFile, start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    layout = _csv_layout(source.path, source.encoding)
    width = len(layout.header)
    plans = _plan_chunks(_scan_records(source.path, layout), start_row, chunk_rows)
    with source.path.open("rb") as f, closing(plans):
        for plan in plans:
            yield _read_chunk(f, plan, source.encoding, layout.separator, width)


def _slices(frame: pl.DataFrame, start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    for offset in range(start_row, frame.height, chunk_rows):
        yield frame.slice(offset, chunk_rows)


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_cells(path: Path) -> pl.DataFrame:
    """The first sheet as strings; frame row ``i`` is sheet row ``i + 1``."""
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, skip_rows=0, dtypes="string")
        return sheet.to_polars()
    except fastexcel.FastExcelError as error:
        raise FileProblem(
            "FILE_CORRUPT",
            "无法打开 Excel 工作簿：文件已损坏或不完整（可能上传中断被截断）。请重新导出为 .xlsx 后提交。",
            reason=str(error).splitlines()[0][:300],
        ) from error


def _without_empty_tail(cells: pl.DataFrame) -> pl.DataFrame:
    """Drop trailing columns with nothing in them at all (not even a column name)."""
    used = cells.select(pl.all().is_not_null().any()).row(0)
    width = max((index + 1 for index, present in enumerate(used) if present), default=0)
    if width == 0:
        raise FileProblem("FILE_EMPTY", "工作簿的第一个工作表是空的。")
    return cells.select(cells.columns[:width])


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: pl.DataFrame  # c0, c1, …, __row


def _xlsx_table(path: Path) -> _Table:
    cells = _xlsx_cells(path)
    if cells.height == 0 or cells.width == 0:
        raise FileProblem("FILE_EMPTY", "工作簿的第一个工作表是空的。")
    cells = _without_empty_tail(cells)
    header = [_clean_name(value) for value in cells.row(0)]
    if not any(header):
        raise FileProblem("FILE_NO_HEADER", "工作表第 1 行为空：第 1 行必须是列名。")
    _check_header(header)
    names = _names(len(header))
    rows = cells.slice(1).rename(dict(zip(cells.columns, names, strict=True)))
    rows = rows.with_columns(pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(ROW_COLUMN))
    rows = rows.filter(~pl.all_horizontal(pl.col(names).is_null()))
    if rows.height == 0:
        _no_rows()
    return _Table(header, rows.with_columns(pl.col(names).str.replace(_MIDNIGHT, "${1}")))


def _open_xlsx(path: Path) -> SourceFile:
    return SourceFile(path, "xlsx", "", _xlsx_table(path).header)


def _xlsx_chunks(source: SourceFile, start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    yield from _slices(_xlsx_table(source.path).rows, start_row, chunk_rows)


# --- JSON and NDJSON -----------------------------------------------------------------------------


class _NonStandardNumber(ValueError):
    pass


_JSON_REASONS = {
    "Expecting value": "此处缺少值",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Expecting property name enclosed in double quotes": "字段名必须用双引号括起来",
    "Unterminated string starting at": "字符串没有结束",
    "Invalid control character at": "字符串中有未转义的控制字符",
    "Invalid \\escape": "无效的转义字符",
    "Extra data": "JSON 结束后还有多余内容",
}


def _float_text(literal: str) -> str:
    """A JSON float as text: integral values without the fraction (2.0 → "2"), others as sent."""
    try:
        number = Decimal(literal)
    except InvalidOperation:
        return literal
    if number == number.to_integral_value() and abs(number.adjusted()) <= 30:
        return str(int(number))
    return literal


def _reject_constant(name: str) -> NoReturn:
    raise _NonStandardNumber(name)


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=str, parse_float=_float_text, parse_constant=_reject_constant)


def _json_reason(error: json.JSONDecodeError) -> str:
    return _JSON_REASONS.get(error.msg, "语法错误")


def _json_syntax(error: json.JSONDecodeError) -> FileProblem:
    where = f"第 {error.lineno} 行第 {error.colno} 列"
    if error.pos >= len(error.doc.rstrip()):
        message = f"JSON 在{where}意外结束：文件不完整，可能被截断。"
    else:
        message = f"JSON 格式错误：{where}{_json_reason(error)}。"
    return FileProblem("FILE_JSON_INVALID", message, line=error.lineno, column=error.colno, reason=error.msg)


def _json_document(path: Path) -> str:
    size = path.stat().st_size
    if size > JSON_MAX_BYTES:
        raise FileProblem(
            "FILE_TOO_LARGE",
            f"JSON 文件有 {size // (1024 * 1024)} MiB，超过 {JSON_MAX_BYTES // (1024 * 1024)} MiB 的上限："
            "大文件请改用 NDJSON（每行一个 JSON 对象）或 CSV 提交。",
            size=size,
        )
    data = path.read_bytes()
    skipped = 3 if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        _bad_utf8(offset, data.count(b"\n", 0, offset) + 1)


def _bad_utf8(offset: int, line: int) -> NoReturn:
    raise FileProblem(
        "FILE_ENCODING",
        f"JSON 文件必须是 UTF-8 编码，但第 {line} 行（文件偏移 {offset} 字节处）出现了不是 UTF-8 的字节。",
        offset=offset,
        line=line,
    )


def _non_standard(where: str, error: Exception) -> FileProblem:
    return FileProblem("FILE_JSON_INVALID", f"{where}含有 JSON 不允许的值 {error}（NaN/Infinity）。", reason=str(error))


def _json_array(path: Path) -> list[Any]:
    try:
        document = _loads(_json_document(path))
    except json.JSONDecodeError as error:
        raise _json_syntax(error) from error
    except _NonStandardNumber as error:
        raise _non_standard("JSON 文件", error) from error
    except RecursionError as error:
        raise FileProblem("FILE_JSON_INVALID", "JSON 嵌套层次过深，无法解析。") from error
    if not isinstance(document, list):
        raise FileProblem("FILE_JSON_INVALID", "JSON 文件的顶层必须是对象数组（以 [ 开头），每个对象是一行数据。")
    if not document:
        _no_rows()
    return document


def _where(file_format: str, row: int) -> str:
    return f"第 {row} 行" if file_format == "ndjson" else f"数组第 {row} 个元素"


def _check_object(file_format: str, row: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise FileProblem(
            "FILE_JSON_INVALID", f"{_where(file_format, row)}不是 JSON 对象：每行数据必须是一个 {{…}} 对象。", row=row
        )
    for key, value in item.items():
        if isinstance(value, dict | list):
            raise FileProblem(
                "FILE_JSON_NESTED",
                f"{_where(file_format, row)}的字段“{key}”是嵌套的对象或数组：字段的值只能是文本、数字、布尔值或 null。",
                row=row,
                key=key,
            )
    return item


def _json_keys(file_format: str, items: Iterable[tuple[int, Any]]) -> list[str]:
    """Every key in first-seen order (checking each object on the way)."""
    keys: dict[str, None] = {}
    count = 0
    for row, item in items:
        keys.update(dict.fromkeys(_check_object(file_format, row, item)))
        count += 1
    if count == 0:
        _no_rows()
    if not keys:
        raise FileProblem("FILE_NO_HEADER", "所有 JSON 对象都是空的 {}，没有任何字段。")
    return list(keys)


def _json_header(keys: list[str]) -> list[str]:
    header = [_clean_name(key) for key in keys]
    empty = [index + 1 for index, name in enumerate(header) if not name]
    if empty:
        raise FileProblem(
            "FILE_NO_HEADER",
            f"JSON 对象中有名称为空的字段（按首次出现的顺序为第 {'、'.join(map(str, empty))} 个字段）。",
            columns=empty,
        )
    return header


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _objects_frame(objects: list[tuple[int, dict[str, Any]]], keys: list[str]) -> pl.DataFrame:
    positions = {key: index for index, key in enumerate(keys)}
    columns: list[list[str | None]] = [[None] * len(objects) for _ in keys]
    for index, (_, item) in enumerate(objects):
        for key, value in item.items():
            columns[positions[key]][index] = _cell(value)
    data = {
        name: pl.Series(name, column, dtype=pl.String) for name, column in zip(_names(len(keys)), columns, strict=True)
    }
    data[ROW_COLUMN] = pl.Series(ROW_COLUMN, [row for row, _ in objects], dtype=pl.Int64)
    return pl.DataFrame(data)


def _open_json(path: Path) -> SourceFile:
    keys = _json_keys("json", enumerate(_json_array(path), start=1))
    source = SourceFile(path, "json", "utf-8", _json_header(keys))
    source._json_keys = keys
    return source


def _json_chunks(source: SourceFile, start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    items = list(enumerate(_json_array(source.path), start=1))
    keys = _json_keys("json", items)
    for offset in range(start_row, len(items), chunk_rows):
        yield _objects_frame(items[offset : offset + chunk_rows], keys)


def _ndjson_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Line number, byte offset and bytes of every non-blank line."""
    with path.open("rb") as f:
        offset = 0
        for number, line in enumerate(f, start=1):
            content = line.removeprefix(codecs.BOM_UTF8) if number == 1 else line
            if content.strip(_WHITESPACE):
                yield number, offset + len(line) - len(content), content
            offset += len(line)


def _ndjson_object(number: int, offset: int, line: bytes) -> Any:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        _bad_utf8(offset + error.start, number)
    try:
        return _loads(text.strip())
    except json.JSONDecodeError as error:
        raise _ndjson_syntax(number, error) from error
    except _NonStandardNumber as error:
        raise _non_standard(f"第 {number} 行", error) from error
    except RecursionError as error:
        raise FileProblem("FILE_JSON_INVALID", f"第 {number} 行 JSON 嵌套层次过深。", line=number) from error


def _ndjson_syntax(number: int, error: json.JSONDecodeError) -> FileProblem:
    if error.pos >= len(error.doc):
        what = "不完整（可能被截断）"
    else:
        what = f"不是合法的 JSON（第 {error.colno} 列{_json_reason(error)}）"
    return FileProblem(
        "FILE_JSON_INVALID",
        f"第 {number} 行{what}：NDJSON 要求每行一个完整的 JSON 对象。",
        line=number,
        column=error.colno,
        reason=error.msg,
    )


def _ndjson_items(path: Path) -> Iterator[tuple[int, Any]]:
    for number, offset, line in _ndjson_lines(path):
        yield number, _ndjson_object(number, offset, line)


def _open_ndjson(path: Path) -> SourceFile:
    keys = _json_keys("ndjson", _ndjson_items(path))
    source = SourceFile(path, "ndjson", "utf-8", _json_header(keys))
    source._json_keys = keys
    return source


def _ndjson_chunks(source: SourceFile, start_row: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    keys = source._json_keys or _json_keys("ndjson", _ndjson_items(source.path))
    batch: list[tuple[int, dict[str, Any]]] = []
    for index, (number, offset, line) in enumerate(_ndjson_lines(source.path)):
        if index < start_row:
            continue
        batch.append((number, _check_object("ndjson", number, _ndjson_object(number, offset, line))))
        if len(batch) == chunk_rows:
            yield _objects_frame(batch, keys)
            batch = []
    if batch:
        yield _objects_frame(batch, keys)
