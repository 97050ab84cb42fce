"""Realistic 双公示 files as departments send them: 行政处罚 and 行政许可 with Chinese headers.

Rows are plain dicts keyed by the department's column names (``None`` or ``""``: empty cell), so a
test can build a clean file, break chosen cells (``inject`` / ``BAD``) and write the same rows in
every format departments use: CSV in UTF-8, UTF-8 with BOM or GBK, XLSX (typed cells, as Excel
users leave them), JSON arrays and NDJSON. Every code comes from ``uscc.build`` and is valid.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import xlsxwriter
from stdnum.cn import ric

from xinyong.subjects import uscc

Row = dict[str, str | None]

DEPARTMENT_NAME = "南京市玄武区市场监督管理局"
DEPARTMENT_CODE = uscc.build("1", "1", "320102", "01400001")  # the same department as tests.support.world
OTHER_DEPARTMENT_NAME = "南京市秦淮区市场监督管理局"
OTHER_DEPARTMENT_CODE = uscc.build("1", "1", "320104", "01400003")

# Column names as a 市场监管 department's export has them (行政处罚, 双公示 standard).
NAME, CODE, CITIZEN_ID = "行政相对人名称", "统一社会信用代码", "证件号码"
CF_WSH, CF_WFXW, CF_SY, CF_YJ = "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据"
CF_CFLB, CF_NR, CF_NR_FK, CF_JDRQ = "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期"
CF_CFJG, CF_CFJGDM, CF_SJLY, CF_SJLYDM = "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "数据来源单位统一社会信用代码"
CF_GSJZQ = "公示截止期"
PENALTY_HEADER = [NAME, CODE, CF_WSH, CF_WFXW, CF_SY, CF_YJ, CF_CFLB, CF_NR, CF_NR_FK, CF_JDRQ, CF_CFJG, CF_CFJGDM,
                  CF_SJLY, CF_SJLYDM]
PENALTY_HEADER_WITH_DEADLINE = [*PENALTY_HEADER, CF_GSJZQ]
# Column name → catalogue field (or identity role) of ADM_PENALTY.
PENALTY_FIELDS = {NAME: "__name", CODE: "__uscc", CF_WSH: "CF_WSH", CF_WFXW: "CF_WFXW", CF_SY: "CF_SY",
                  CF_YJ: "CF_YJ", CF_CFLB: "CF_CFLB", CF_NR: "CF_NR", CF_NR_FK: "CF_NR_FK", CF_JDRQ: "CF_JDRQ",
                  CF_CFJG: "CF_CFJG", CF_CFJGDM: "CF_CFJGDM", CF_SJLY: "CF_SJLY", CF_SJLYDM: "CF_SJLYDM",
                  CF_GSJZQ: "CF_GSJZQ"}

# 行政许可 (双公示) columns.
XK_XKWS, XK_WSH, XK_XKLB, XK_XKZS, XK_XKBH = "行政许可决定文书名称", "行政许可决定文书号", "许可类别", "许可证书名称", "许可编号"
XK_NR, XK_JDRQ, XK_YXQZ, XK_YXQZI = "许可内容", "许可决定日期", "有效期自", "有效期至"
XK_XKJG, XK_XKJGDM, XK_ZT, XK_LYDW, XK_LYDWDM = "许可机关", "许可机关统一社会信用代码", "当前状态", "数据来源单位", \
    "数据来源单位统一社会信用代码"
LICENSE_HEADER = [NAME, CODE, XK_XKWS, XK_WSH, XK_XKLB, XK_XKZS, XK_XKBH, XK_NR, XK_JDRQ, XK_YXQZ, XK_YXQZI, XK_XKJG,
                  XK_XKJGDM, XK_ZT, XK_LYDW, XK_LYDWDM]

DATE_COLUMNS = {CF_JDRQ, CF_GSJZQ, XK_JDRQ, XK_YXQZ, XK_YXQZI}
AMOUNT_COLUMNS = {CF_NR_FK}

_TRADE = ["示范", "恒信", "金陵", "紫金", "秦淮", "玄武", "鼓楼", "栖霞", "雨花", "江宁", "浦口", "六合", "溧水", "高淳",
          "钟山", "莫愁", "石城", "长江", "扬子", "明城", "梧桐", "梅园", "龙蟠", "凤凰"]
_BUSINESS = ["科技", "商贸", "餐饮管理", "建筑工程", "物业管理", "医药连锁", "电子商务", "食品", "运输", "文化传媒",
             "环保工程", "教育咨询"]
_VIOLATIONS = [
    ("虚假宣传", "在网店发布虚假的产品功效宣传，误导消费者", "《中华人民共和国反不正当竞争法》第二十条", "罚款"),
    ("销售过期食品", "经营超过保质期的预包装食品，货值金额较小", "《中华人民共和国食品安全法》第一百二十四条", "罚款"),
    ("未按规定公示年度报告", "未在规定期限内公示年度报告且逾期未改正", "《企业信息公示暂行条例》第十八条", "罚款"),
    ("无证经营", "未取得食品经营许可从事食品经营活动", "《中华人民共和国食品安全法》第一百二十二条", "没收违法所得"),
    ("商标侵权", "销售侵犯注册商标专用权的商品", "《中华人民共和国商标法》第六十条", "没收非法财物"),
    ("计量违法", "使用未经检定的计量器具进行贸易结算", "《中华人民共和国计量法》第二十六条", "罚款"),
]


def subject_code(index: int, region: str = "320102") -> str:
    """The 统一社会信用代码 of the ``index``-th company (企业, 工商登记), valid and stable."""
    return uscc.build("9", "1", region, f"MA{index % 1_000_000:06d}")


def citizen_id(index: int, born: str = "19900101") -> str:
    """A valid 居民身份证号码 (GB 11643) of a person registered in 南京市玄武区."""
    first17 = f"320102{born}{index % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum wants a placeholder check digit


def subject_name(index: int) -> str:
    """A realistic company name, the same for the same index in every file."""
    trade = _TRADE[index % len(_TRADE)] + _TRADE[(index // len(_TRADE)) % len(_TRADE)]
    business = _BUSINESS[(index // len(_TRADE) ** 2 + index) % len(_BUSINESS)]
    return f"南京{trade}{business}有限公司（{index}）"


def penalty_number(index: int, *, year: int = 2026, prefix: str = "宁玄市监处罚") -> str:
    return f"{prefix}〔{year}〕{index}号"


def penalty_row(index: int, *, subject: int | None = None, decision_date: str = "2026-06-10", amount: str | None = None,
                number: str | None = None, department_name: str = DEPARTMENT_NAME,
                department_code: str = DEPARTMENT_CODE, deadline: str | None = None) -> Row:
    """One clean 行政处罚 row; ``subject`` defaults to ``index`` (one company per decision)."""
    who = index if subject is None else subject
    wfxw, sy, yj, cflb = _VIOLATIONS[index % len(_VIOLATIONS)]
    fine = amount if amount is not None else str(Decimal(index % 50 + 1) / 2)  # 0.5 … 25
    row: Row = {
        NAME: subject_name(who), CODE: subject_code(who), CF_WSH: number or penalty_number(index),
        CF_WFXW: wfxw, CF_SY: sy, CF_YJ: yj, CF_CFLB: cflb, CF_NR: f"罚款{fine}万元" if cflb == "罚款" else cflb,
        CF_NR_FK: fine, CF_JDRQ: decision_date, CF_CFJG: department_name, CF_CFJGDM: department_code,
        CF_SJLY: department_name, CF_SJLYDM: department_code,
    }
    if deadline is not None:
        row[CF_GSJZQ] = deadline
    return row


def penalty_rows(count: int, *, start: int = 1, **options: Any) -> list[Row]:
    return [penalty_row(index, **options) for index in range(start, start + count)]


def license_row(index: int, *, subject: int | None = None, decision_date: str = "2026-06-10",
                department_name: str = DEPARTMENT_NAME, department_code: str = DEPARTMENT_CODE) -> Row:
    """One clean 行政许可 row (食品经营许可)."""
    who = index if subject is None else subject
    return {
        NAME: subject_name(who), CODE: subject_code(who), XK_XKWS: "食品经营许可决定书",
        XK_WSH: f"宁玄市监许〔2026〕{index}号", XK_XKLB: "普通", XK_XKZS: "食品经营许可证",
        XK_XKBH: f"JY1320102{index:07d}", XK_NR: "预包装食品（含冷藏冷冻食品）销售；热食类食品制售",
        XK_JDRQ: decision_date, XK_YXQZ: decision_date, XK_YXQZI: "2031-06-09", XK_XKJG: department_name,
        XK_XKJGDM: department_code, XK_ZT: "有效", XK_LYDW: department_name, XK_LYDWDM: department_code,
    }


def license_rows(count: int, *, start: int = 1, **options: Any) -> list[Row]:
    return [license_row(index, **options) for index in range(start, start + count)]


# --- bad rows -------------------------------------------------------------------------------------


def wrong_check_digit(code: str) -> tuple[str, str]:
    """``code`` with a wrong 18th character, and the character the standard expects there."""
    expected = code[17]
    wrong = next(c for c in uscc.ALPHABET if c != expected)
    return code[:17] + wrong, expected


@dataclass(frozen=True)
class Bad:
    """A way to break one cell of a penalty row, and what the platform must say about it."""

    column: str
    value: str | None
    field: str  # catalogue field or identity role reported
    code: str  # stable error code
    message: str  # a fragment of the Chinese message


_WRONG_CODE, _EXPECTED = wrong_check_digit(subject_code(7))
BAD: dict[str, Bad] = {
    "missing_required": Bad(CF_SY, "", "CF_SY", "FIELD_REQUIRED", "违法事实为必填项"),
    "bad_date": Bad(CF_JDRQ, "2026-02-30", "CF_JDRQ", "FIELD_DATE", "处罚决定日期“2026-02-30”不是有效日期"),
    "future_date": Bad(CF_JDRQ, "2099-01-05", "CF_JDRQ", "DECISION_DATE_FUTURE", "处罚决定日期2099-01-05晚于今天"),
    "enum": Bad(CF_CFLB, "罚金", "CF_CFLB", "FIELD_ENUM", "处罚类别“罚金”不在允许的取值范围内"),
    "amount": Bad(CF_NR_FK, "两万元", "CF_NR_FK", "FIELD_DECIMAL", "罚款金额（万元）“两万元”不是有效数字"),
    "negative_amount": Bad(CF_NR_FK, "-3", "CF_NR_FK", "FIELD_TOO_SMALL", "罚款金额（万元）不得小于0"),
    "check_digit": Bad(CODE, _WRONG_CODE, "__uscc", "USCC_CHECK_DIGIT", f"第18位校验码应为“{_EXPECTED}”"),
    "no_subject_ref": Bad(CODE, "", "__uscc", "SUBJECT_REF_MISSING", "统一社会信用代码和证件号码不能同时为空"),
}


def inject(rows: Sequence[Row], changes: dict[int, str | Bad | dict[str, str | None]]) -> list[Row]:
    """A copy of ``rows`` with cells replaced: ``{row index: BAD key | Bad | {column: value}}``."""
    out = [dict(row) for row in rows]
    for index, change in changes.items():
        if isinstance(change, str):
            change = BAD[change]
        if isinstance(change, Bad):
            out[index][change.column] = change.value
        else:
            out[index].update(change)
    return out


# --- writers --------------------------------------------------------------------------------------

FORMATS = ("csv-utf8", "csv-bom", "csv-gbk", "xlsx", "json", "ndjson")
_SUFFIX = {"csv-utf8": ".csv", "csv-bom": ".csv", "csv-gbk": ".csv", "xlsx": ".xlsx", "json": ".json",
           "ndjson": ".ndjson"}
_ENCODING = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}


def header_of(rows: Sequence[Row]) -> list[str]:
    """Every column of the rows, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def csv_bytes(rows: Sequence[Row], *, header: Sequence[str] | None = None, encoding: str = "utf-8",
              separator: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    columns = list(header or header_of(rows))
    writer.writerow(columns)
    writer.writerows([[row.get(column) or "" for column in columns] for row in rows])
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, rows: Sequence[Row], *, header: Sequence[str] | None = None, encoding: str = "utf-8",
              separator: str = ",") -> Path:
    path.write_bytes(csv_bytes(rows, header=header, encoding=encoding, separator=separator))
    return path


def _number(text: str) -> float | None:
    """A plain amount an Excel user would type as a number (not ``1,200.50`` nor `` 2 ``)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    plain = re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) is not None
    return float(value) if plain and value.is_finite() else None


def _iso_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d") if len(text) == 10 else None
    except ValueError:
        return None


def write_xlsx(path: Path, rows: Sequence[Row], *, header: Sequence[str] | None = None, typed: bool = True) -> Path:
    """A workbook as Excel leaves it: amounts as numbers and ISO dates as date cells (when ``typed``)."""
    columns = list(header or header_of(rows))
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    sheet = workbook.add_worksheet("行政处罚")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, columns)
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            value = row.get(column)
            if value is None or value == "":
                continue
            number = _number(value) if typed and column in AMOUNT_COLUMNS else None
            moment = _iso_date(value) if typed and column in DATE_COLUMNS else None
            if number is not None:
                sheet.write_number(r, c, number)
            elif moment is not None:
                sheet.write_datetime(r, c, moment, date_format)
            else:
                sheet.write_string(r, c, value)
    workbook.close()
    return path


def _json_object(row: Row, columns: Sequence[str], typed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in columns:
        value = row.get(column)
        if value is None or value == "":
            out[column] = None
        elif typed and column in AMOUNT_COLUMNS and _number(value) is not None:
            out[column] = json.loads(value)  # 2 → 2, 2.5 → 2.5 (a JSON number, as systems send)
        else:
            out[column] = value
    return out


def write_json(path: Path, rows: Sequence[Row], *, header: Sequence[str] | None = None, typed: bool = True) -> Path:
    columns = list(header or header_of(rows))
    path.write_text(json.dumps([_json_object(row, columns, typed) for row in rows], ensure_ascii=False, indent=1),
                    encoding="utf-8")
    return path


def write_ndjson(path: Path, rows: Sequence[Row], *, header: Sequence[str] | None = None, typed: bool = True) -> Path:
    columns = list(header or header_of(rows))
    path.write_text("".join(json.dumps(_json_object(row, columns, typed), ensure_ascii=False) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def write_rows(directory: Path, file_format: str, rows: Sequence[Row], *, header: Sequence[str] | None = None,
               name: str = "行政处罚") -> Path:
    """``rows`` written in one of ``FORMATS`` under ``directory`` (named after the format)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{file_format}{_SUFFIX[file_format]}"
    if file_format in _ENCODING:
        return write_csv(path, rows, header=header, encoding=_ENCODING[file_format])
    writer = {"xlsx": write_xlsx, "json": write_json, "ndjson": write_ndjson}[file_format]
    return writer(path, rows, header=header)


def stream_penalty_csv(path: Path, count: int, *, encoding: str = "gbk", start: int = 1,
                       decision_date: str = "2026-06-10", subjects: int | None = None) -> Path:
    """A large 行政处罚 CSV written row by row (``subjects`` distinct companies, round robin)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(PENALTY_HEADER)
        for index in range(start, start + count):
            row = penalty_row(index, subject=index % subjects + 1 if subjects else None, decision_date=decision_date)
            writer.writerow([row[column] or "" for column in PENALTY_HEADER])
    return path
