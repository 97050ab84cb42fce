"""File readers: every format gives the same header, values and row numbers; every file problem its code."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from unittest.mock import patch

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from xinyong.errors import Invalid
from xinyong.ingest import readers
from xinyong.ingest.readers import FileProblem, SourceFile, open_source

HEADER = ["行政相对人名称", "统一社会信用代码", "处罚决定书文号", "罚款金额（万元）", "处罚决定日期"]
# Values as every reader must give them back (None: empty cell). Row 2 holds a comma and a newline,
# so CSV row numbers after it only come out right if records, not lines, are counted.
TABLE: list[list[str | None]] = [
    ["南京示范科技有限公司", "91320104MA1XY0Q7X1", "宁市监罚〔2024〕1号", "2", "2024-01-05"],
    [
        "江苏某某贸易有限公司,南京分公司\n（原名：某某商行）",
        "91320104MA1XY0Q7X2",
        "宁市监罚〔2024〕2号",
        "2.5",
        "2024-02-10",
    ],
    ["张三𠮷餐饮店（䶮）", "92320104MA1XY0Q7X3", "宁市监罚〔2024〕3号", "100", "2024-03-15"],
    ["李四商行", None, "宁市监罚〔2024〕4号", "0.3", "2024-04-20"],
    ['王五"联合"工作室', "91320104MA1XY0Q7X5", "宁市监罚〔2024〕5号", "10", "2024-05-25"],
]
# GBK has neither 𠮷 nor 䶮 (GB18030 does): the GBK file carries ordinary characters instead.
GBK_TABLE = [[cell.replace("𠮷", "吉").replace("䶮", "龚") if cell else cell for cell in row] for row in TABLE]
AMOUNT, DATE = 3, 4


# --- writers -------------------------------------------------------------------------------------


def csv_text(table: list[list[str | None]], *, separator: str = ",", newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows([[cell or "" for cell in row] for row in table])
    return buffer.getvalue()


def write_xlsx(path: Path, table: list[list[str | None]]) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("行政处罚")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for index, row in enumerate(table, start=1):
        for column, cell in enumerate(row):
            if cell is None:
                continue
            if column == AMOUNT:
                sheet.write_number(index, column, float(cell))
            elif column == DATE:
                sheet.write_datetime(index, column, datetime.strptime(cell, "%Y-%m-%d"), date_format)
            else:
                sheet.write_string(index, column, cell)
    workbook.close()


def json_objects(table: list[list[str | None]]) -> list[dict[str, object]]:
    """Amounts as JSON numbers (floats: 2.0 must come back as "2"); an empty cell as null or missing."""
    objects: list[dict[str, object]] = []
    for index, row in enumerate(table):
        item: dict[str, object] = {}
        for name, cell in zip(HEADER, row, strict=True):
            if cell is None and index % 2:
                continue
            item[name] = float(cell) if name == HEADER[AMOUNT] and cell else cell
        objects.append(item)
    return objects


def write_case(kind: str, directory: Path) -> Path:
    if kind in ("utf-8", "utf-8-sig", "gb18030"):
        path = directory / f"处罚_{kind}.csv"
        path.write_bytes(csv_text(TABLE, newline="\n" if kind == "utf-8" else "\r\n").encode(kind))
    elif kind == "gbk":
        path = directory / "处罚_gbk.csv"
        path.write_bytes(csv_text(GBK_TABLE).encode("gbk"))
    elif kind == "tsv":
        path = directory / "处罚.txt"
        path.write_bytes(csv_text(TABLE, separator="\t").encode("utf-8"))
    elif kind == "xlsx":
        path = directory / "处罚.xlsx"
        write_xlsx(path, TABLE)
    elif kind == "json":
        path = directory / "处罚.json"
        path.write_text(json.dumps(json_objects(TABLE), ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path = directory / "处罚.ndjson"
        lines = [json.dumps(item, ensure_ascii=False) for item in json_objects(TABLE)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_all(source: SourceFile, **options: int) -> pl.DataFrame:
    return pl.concat(list(source.chunks(**options)))


def values(frame: pl.DataFrame) -> list[list[str | None]]:
    return [list(row) for row in frame.drop(readers.ROW_COLUMN).rows()]


def problem(path: Path, **options: str) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        open_source(path, **options)
    return caught.value


def chunk_problem(path: Path) -> FileProblem:
    source = open_source(path)
    with pytest.raises(FileProblem) as caught:
        list(source.chunks(chunk_rows=2))
    return caught.value


# --- the same table in every format ------------------------------------------------------------

CASES = {
    # kind: (format, encoding, expected table, row number of the first data row)
    "utf-8": ("csv", "utf-8", TABLE, 2),
    "utf-8-sig": ("csv", "utf-8-sig", TABLE, 2),
    "gbk": ("csv", "gb18030", GBK_TABLE, 2),
    "gb18030": ("csv", "gb18030", TABLE, 2),
    "tsv": ("csv", "utf-8", TABLE, 2),
    "xlsx": ("xlsx", "", TABLE, 2),
    "json": ("json", "utf-8", TABLE, 1),
    "ndjson": ("ndjson", "utf-8", TABLE, 1),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_every_format_gives_the_same_header_values_and_rows(kind: str, tmp_path: Path) -> None:
    file_format, encoding, table, first_row = CASES[kind]
    source = open_source(write_case(kind, tmp_path))

    assert (source.file_format, source.encoding, source.header) == (file_format, encoding, HEADER)
    frame = read_all(source)
    assert frame.columns == ["c0", "c1", "c2", "c3", "c4", "__row"]
    assert frame.schema == pl.Schema({**dict.fromkeys(frame.columns[:-1], pl.String), "__row": pl.Int64})
    assert values(frame) == table
    assert frame["__row"].to_list() == list(range(first_row, first_row + len(table)))


@pytest.mark.parametrize("kind", list(CASES))
def test_chunks_cover_every_row_once_and_resume_skips_exactly(kind: str, tmp_path: Path) -> None:
    source = open_source(write_case(kind, tmp_path))
    everything = read_all(source)

    chunks = list(source.chunks(chunk_rows=2))
    assert [chunk.height for chunk in chunks] == [2, 2, 1]
    assert pl.concat(chunks).equals(everything)
    for start_row in range(6):
        resumed = list(source.chunks(start_row=start_row, chunk_rows=2))
        assert (pl.concat(resumed) if resumed else everything.clear()).equals(everything.slice(start_row))


def test_the_format_is_found_by_content_when_the_extension_is_missing_or_wrong(tmp_path: Path) -> None:
    for kind, file_format in [("xlsx", "xlsx"), ("json", "json"), ("ndjson", "ndjson"), ("gbk", "csv")]:
        path = write_case(kind, tmp_path)
        renamed = path.rename(tmp_path / f"upload_{kind}")
        assert open_source(renamed).file_format == file_format
    disguised = write_case("xlsx", tmp_path).rename(tmp_path / "sent_as.csv")
    assert open_source(disguised).file_format == "xlsx"
    ndjson_named_json = write_case("ndjson", tmp_path).rename(tmp_path / "lines.json")
    assert open_source(ndjson_named_json).file_format == "ndjson"


def test_declared_format_wins(tmp_path: Path) -> None:
    path = write_case("utf-8", tmp_path).rename(tmp_path / "data.dat")
    assert open_source(path, declared_format="CSV").file_format == "csv"


def test_a_declared_encoding_settles_bytes_that_are_valid_in_both(tmp_path: Path) -> None:
    path = tmp_path / "ambiguous.csv"
    path.write_bytes("名称\n应\n".encode("gbk").replace("名称".encode("gbk"), b"name"))
    assert "应".encode("gbk").decode("utf-8") != "应"  # the same bytes are valid (other) UTF-8

    assert open_source(path).encoding == "utf-8"
    source = open_source(path, declared_encoding="GBK")
    assert source.encoding == "gb18030"
    assert values(read_all(source)) == [["应"]]
    assert open_source(write_case("utf-8-sig", tmp_path), declared_encoding="utf8").encoding == "utf-8-sig"


def test_xlsx_dates_and_numbers_come_out_as_text(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["日期", "时间", "整数", "小数", "文本"])
    sheet.write_datetime(1, 0, datetime(2024, 1, 5), workbook.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_datetime(
        1, 1, datetime(2024, 1, 5, 13, 45, 10), workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    )
    sheet.write_number(1, 2, 2.0)
    sheet.write_number(1, 3, 2.5)
    sheet.write_string(1, 4, "007")
    sheet.write_number(3, 2, 123456789012)  # row 3 left empty: skipped, but counted
    workbook.close()

    frame = read_all(open_source(path))
    assert frame.rows() == [
        ("2024-01-05", "2024-01-05 13:45:10", "2", "2.5", "007", 2),
        (None, None, "123456789012", None, None, 4),
    ]


def test_blank_lines_and_crlf_and_a_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b'a,b\r\n1,2\r\n\r\n\n3,"x\r\ny"\r\n4,5')
    source = open_source(path)
    assert read_all(source).rows() == [("1", "2", 2), ("3", "x\r\ny", 5), ("4", "5", 6)]
    assert read_all(source, start_row=1).rows() == [("3", "x\r\ny", 5), ("4", "5", 6)]


def test_ndjson_rows_are_line_numbers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "rows.ndjson"
    path.write_text('{"a": 1, "b": true}\n\n   \n{"b": null, "a": "x", "c": 2.50}\n', encoding="utf-8")
    source = open_source(path)
    assert source.header == ["a", "b", "c"]
    assert read_all(source).rows() == [("1", "true", None, 1), ("x", None, "2.50", 4)]


def test_a_20_mb_cell_is_read_as_a_value(tmp_path: Path) -> None:
    path = tmp_path / "huge_cell.csv"
    cell = "罚" * (10 * 1024 * 1024)  # 20 MB in GBK
    path.write_bytes(f'名称,金额\n"{cell}",1\n短,2\n'.encode("gbk"))
    frame = read_all(open_source(path))
    assert frame["c0"].str.len_chars().to_list() == [len(cell), 1]
    assert frame["__row"].to_list() == [2, 3]

    json_path = tmp_path / "huge_cell.ndjson"
    json_path.write_text(json.dumps({"名称": cell}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_all(open_source(json_path))["c0"].str.len_chars().to_list() == [len(cell)]


# --- one crafted file per problem ----------------------------------------------------------------


def test_file_problems_are_domain_errors_with_stable_codes(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    error = problem(path)
    assert isinstance(error, Invalid)
    assert error.status == 422
    assert error.as_dict()["code"] == "FILE_EMPTY"
    assert "空" in error.message


@pytest.mark.parametrize("content", [b"", b"  \r\n\t\n ", b"\xef\xbb\xbf\n"])
def test_empty(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert problem(path).code == "FILE_EMPTY"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("header.csv", "行政相对人名称,统一社会信用代码\r\n"),
        ("header_no_newline.csv", "行政相对人名称,统一社会信用代码"),
        ("header_blank_lines.csv", "行政相对人名称,统一社会信用代码\n\n\r\n"),
        ("empty.json", "[ ]"),
    ],
)
def test_no_rows(name: str, content: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert problem(path).code == "FILE_NO_ROWS"


def test_no_rows_in_xlsx(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "header.xlsx", [])
    assert problem(tmp_path / "header.xlsx").code == "FILE_NO_ROWS"


def test_no_header_names_the_empty_columns(tmp_path: Path) -> None:
    path = tmp_path / "no_header.csv"
    path.write_text("行政相对人名称, ,处罚决定书文号,\n张三,1,2,3\n", encoding="utf-8")
    error = problem(path)
    assert error.code == "FILE_NO_HEADER"
    assert "第 2、4 列" in error.message
    assert error.details["columns"] == [2, 4]

    path.write_text("\n张三,1\n", encoding="utf-8")
    assert problem(path).code == "FILE_NO_HEADER"

    workbook_path = tmp_path / "no_header.xlsx"
    workbook = xlsxwriter.Workbook(str(workbook_path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["名称", None, "金额"])
    sheet.write_row(1, 0, ["张三", "x", "1"])
    workbook.close()
    error = problem(workbook_path)
    assert (error.code, error.details["columns"]) == ("FILE_NO_HEADER", [2])


def test_encoding_that_is_neither_utf8_nor_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("名称,金额\n张三,1\n".encode() + b"\xff\xfe,2\n")
    error = problem(path)
    assert error.code == "FILE_ENCODING"
    assert "偏移" in error.message
    assert error.details["line"] == 3


def test_gbk_claimed_but_the_file_is_utf8(tmp_path: Path) -> None:
    path = write_case("utf-8", tmp_path)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("gb18030")  # the UTF-8 Chinese here is not valid GBK/GB18030
    error = problem(path, declared_encoding="gbk")
    assert error.code == "FILE_ENCODING_MISMATCH"
    assert "gbk" in error.message
    assert "UTF-8" in error.message
    assert f"偏移 {error.details['offset']} 字节" in error.message
    assert error.details["detected_encoding"] == "utf-8"


def test_utf8_claimed_on_a_gbk_file(tmp_path: Path) -> None:
    path = write_case("gbk", tmp_path)
    error = problem(path, declared_encoding="UTF-8")
    assert error.code == "FILE_ENCODING_MISMATCH"
    assert error.details["offset"] == 0  # the header's first byte is already GBK
    assert error.details["detected_encoding"] == "gb18030"
    assert "GB18030" in error.message


def test_an_unsupported_declared_encoding(tmp_path: Path) -> None:
    assert problem(write_case("utf-8", tmp_path), declared_encoding="big5").code == "FILE_ENCODING"


def test_truncated_inside_a_quoted_field(tmp_path: Path) -> None:
    text = csv_text(TABLE)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.index("（原名")], encoding="utf-8")
    error = chunk_problem(path)
    assert (error.code, error.details["row"]) == ("FILE_TRUNCATED", 3)
    assert "第 3 行" in error.message


@pytest.mark.parametrize(
    ("content", "row", "fields"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n", 4, 2),
        ('a,b,c\n1,2,3\n\n4,"5\n,",6,7\n', 4, 4),
    ],
)
def test_ragged_rows_are_raised_from_the_generator_with_their_row(
    content: str, row: int, fields: int, tmp_path: Path
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(content, encoding="utf-8")
    error = chunk_problem(path)
    assert (error.code, error.details["row"], error.details["fields"]) == ("FILE_RAGGED", row, fields)
    assert f"第 {row} 行" in error.message


@pytest.mark.parametrize("block", [1, 2, 3, 5, 8, 1024])
@pytest.mark.parametrize(
    ("content", "code", "row"),
    [
        ('a,b\n1,2\n3,"x"y\n', "FILE_CSV_INVALID", 3),
        ('a,b\n1,2\n3,x"y"\n', "FILE_CSV_INVALID", 3),
        ('a,b\n"1""",2\n3, "4"\n', "FILE_CSV_INVALID", 3),
        ('a,b\n1,"2\n\n3,4\n', "FILE_TRUNCATED", 2),
        ('a,b\n1,2\n"3\n",4,5\n', "FILE_RAGGED", 3),
        ("a,b\n1,2\n\n3\n", "FILE_RAGGED", 4),
        ('a,b\n1,2\n3,4,5\n6,"x"y\n', "FILE_RAGGED", 3),
    ],
)
def test_csv_problems_are_found_at_any_block_size(
    block: int, content: str, code: str, row: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_BLOCK", block)
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    error = chunk_problem(path)
    assert (error.code, error.details["row"]) == (code, row)


def test_a_stray_quote_is_invalid_csv(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text('a,b\n1,2\n3,他说"你好"\n', encoding="utf-8")
    error = chunk_problem(path)
    assert (error.code, error.details["row"]) == ("FILE_CSV_INVALID", 3)


def test_truncated_xlsx_is_corrupt(tmp_path: Path) -> None:
    path = write_case("xlsx", tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    error = problem(path)
    assert error.code == "FILE_CORRUPT"
    assert "损坏" in error.message


def test_json_with_an_invalid_utf8_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    before = '[{"名称": "张三"},\n {"名称": "'.encode()
    path.write_bytes(before + "测试".encode("gbk") + b'"}]')
    error = problem(path)
    assert error.code == "FILE_ENCODING"
    assert (error.details["offset"], error.details["line"]) == (len(before), 2)
    assert f"偏移 {len(before)} 字节" in error.message


def test_truncated_json(tmp_path: Path) -> None:
    path = write_case("json", tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    error = problem(path)
    assert error.code == "FILE_JSON_INVALID"
    assert "截断" in error.message
    assert error.details["line"] > 1


def test_json_syntax_error_in_ndjson_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"a": 1}\n\n{"a": 2,, "b": 3}\n', encoding="utf-8")
    error = problem(path)
    assert (error.code, error.details["line"]) == ("FILE_JSON_INVALID", 3)
    assert "第 3 行" in error.message


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_nested_json(suffix: str, tmp_path: Path) -> None:
    objects = [{"名称": "张三"}, {"名称": "李四", "处罚": {"金额": 1}}]
    path = tmp_path / f"nested{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(objects, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(item, ensure_ascii=False) for item in objects), encoding="utf-8")
    error = problem(path)
    assert (error.code, error.details["row"], error.details["key"]) == ("FILE_JSON_NESTED", 2, "处罚")
    assert "处罚" in error.message


def test_unknown_declared_format(tmp_path: Path) -> None:
    error = problem(write_case("utf-8", tmp_path), declared_format="xls")
    assert error.code == "FILE_FORMAT_UNKNOWN"
    assert "xls" in error.message


def test_json_over_the_limit_is_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_case("json", tmp_path)
    monkeypatch.setattr(readers, "JSON_MAX_BYTES", path.stat().st_size - 1)
    error = problem(path)
    assert error.code == "FILE_TOO_LARGE"
    assert "NDJSON" in error.message


# --- the CSV record scan against Python's csv module ---------------------------------------------

FIELD = st.text(alphabet=["a", "中", "𠮷", ",", '"', "\n", "\r", " ", "\t"], max_size=6)


@given(
    width=st.integers(1, 4),
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
    block=st.integers(1, 16),
    piece=st.integers(1, 64),
    chunk_rows=st.integers(1, 4),
)
def test_csv_scan_matches_the_csv_module_at_any_block_size(
    width: int, data: st.DataObject, encoding: str, block: int, piece: int, chunk_rows: int
) -> None:
    rows = data.draw(st.lists(st.lists(FIELD, min_size=width, max_size=width), min_size=1, max_size=8))
    blank_after = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # so fields holding "\r" get quoted
    writer.writerow([f"列{index}" for index in range(width)])
    expected_rows, row_number = [], 2
    for row, blank in zip(rows, blank_after, strict=True):
        writer.writerow(row)
        expected_rows.append(row_number)
        row_number += 1
        if blank:
            buffer.write(data.draw(st.sampled_from(["\n", "\r\n"])))
            row_number += 1
    expected = [[cell or None for cell in row] for row in rows]
    start_row = data.draw(st.integers(0, len(rows)))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        with patch.object(readers, "_BLOCK", block), patch.object(readers, "_PIECE", piece):
            source = open_source(path)
            chunks = list(source.chunks(start_row=start_row, chunk_rows=chunk_rows))
    frame = pl.concat(chunks) if chunks else pl.DataFrame()
    assert all(0 < chunk.height <= chunk_rows for chunk in chunks)
    assert (values(frame) if chunks else []) == expected[start_row:]
    assert (frame["__row"].to_list() if chunks else []) == expected_rows[start_row:]


# --- a big GBK file streams in flat memory -------------------------------------------------------

BIG_ROWS = 200_000
MEASURE = """
import json, resource, sys, time
from pathlib import Path
from xinyong.ingest.readers import open_source
for chunk in open_source(Path(sys.argv[2])).chunks():  # warm up polars' thread pool and allocator
    pass
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
source = open_source(Path(sys.argv[1]))
rows = last = 0
for chunk in source.chunks(chunk_rows=5_000):
    rows += chunk.height
    last = chunk["__row"][-1]
seconds = time.perf_counter() - started
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"encoding": source.encoding, "rows": rows, "last": last, "seconds": seconds, "growth": growth}))
"""


def write_big_gbk(path: Path, rows: int) -> None:
    """16 columns of realistic penalty data, about 500 bytes a row in GBK, written a row at a time."""
    header = [*HEADER, "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容", "没收违法所得（万元）"]
    header += ["暂扣或吊销证照名称", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "备注"]
    facts = "当事人在其经营场所及网络平台发布含有虚假内容的广告，误导消费者，违法所得经核定" * 2
    with path.open("w", encoding="gbk", newline="") as f:
        f.write(",".join(header) + "\r\n")
        for i in range(rows):
            f.write(
                f"南京示范科技有限公司第{i}分公司,91320104MA{i:08d},宁市监罚〔2024〕{i}号,{i % 100}.5,2024-01-{i % 28 + 1:02d},"
                f'虚假宣传,"{facts}，金额{i}元",《中华人民共和国广告法》第五十五条,罚款,罚款人民币{i % 50}万元,0,,'
                f'南京市市场监督管理局,11320100MB1234567X,南京市市场监督管理局,"备注，第{i}条"\r\n'
            )


def test_a_200k_row_gbk_csv_streams_in_flat_memory(tmp_path: Path) -> None:
    path, warm = tmp_path / "big_gbk.csv", tmp_path / "warm.csv"
    write_big_gbk(path, BIG_ROWS)
    write_big_gbk(warm, 10)
    size = path.stat().st_size
    assert size > 60 * 1024 * 1024

    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(warm)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    measured = json.loads(result.stdout)
    assert (measured["encoding"], measured["rows"], measured["last"]) == ("gb18030", BIG_ROWS, BIG_ROWS + 1)
    assert measured["growth"] < size, measured  # far below 3 × the file: no whole-file buffer or string
    assert measured["seconds"] < 20, measured

    tracemalloc.start()
    try:
        rows = sum(chunk.height for chunk in open_source(path).chunks())
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == BIG_ROWS
    assert python_peak < size / 4  # Python holds a block or a piece at a time, never the file


def test_chunks_rejects_bad_arguments(tmp_path: Path) -> None:
    source = open_source(write_case("utf-8", tmp_path))
    bad_calls: list[Callable[[], object]] = [
        lambda: list(source.chunks(start_row=-1)),
        lambda: list(source.chunks(chunk_rows=0)),
    ]
    for call in bad_calls:
        with pytest.raises(ValueError):
            call()
