"""From the columns a department sends to the fields of a catalogue item.

A column matches a field by its code (``CF_WSH``), its Chinese label (``行政处罚决定书文号``), or
one of its aliases; the subject is identified by the 双公示 identity columns. A department's
saved mapping wins over all of these. Unknown and duplicated columns are file-level errors:
guessing would put data in the wrong field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from xinyong.errors import Invalid

SUBJECT_NAME, SUBJECT_CODE, CITIZEN_ID, ID_TYPE = "__name", "__uscc", "__citizen_id", "__id_type"
IGNORED = ""
# The error report's note columns: a department may send the fixed report back as it is.
REPORT_NOTE_COLUMNS = ("原行号", "处理结果", "错误代码", "错误说明")

IDENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    SUBJECT_NAME: ("行政相对人名称", "相对人名称", "主体名称", "企业名称", "名称", "当事人名称", "被执行人名称",
                   "XDR_MC", "CF_XDR_MC", "XK_XDR_MC"),
    SUBJECT_CODE: ("统一社会信用代码", "行政相对人代码_1（统一社会信用代码）", "社会信用代码", "TYSHXYDM",
                   "XDR_SHXYM", "CF_XDR_SHXYM", "XK_XDR_SHXYM"),
    CITIZEN_ID: ("证件号码", "身份证号码", "居民身份证号码", "ZJHM", "XDR_ZJHM", "CF_XDR_ZJHM", "XK_XDR_ZJHM"),
    ID_TYPE: ("证件类型", "ZJLX", "XDR_ZJLX", "CF_XDR_ZJLX", "XK_XDR_ZJLX"),
}
IDENTITY_LABELS = {SUBJECT_NAME: "行政相对人名称", SUBJECT_CODE: "统一社会信用代码", CITIZEN_ID: "证件号码",
                   ID_TYPE: "证件类型"}


def _key(text: str) -> str:
    """Compare column names ignoring width, case, spaces and bracket style."""
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return "".join(folded.split())


def known_columns(fields: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every accepted column name (folded) → target (field name or identity role)."""
    known: dict[str, str] = {}
    for role, names in IDENTITY_COLUMNS.items():
        for name in names:
            known[_key(name)] = role
    for spec in fields:
        for name in (spec["name"], spec["label"], *spec.get("aliases", [])):
            known[_key(name)] = spec["name"]
    return known


def label_of(target: str, fields: Sequence[Mapping[str, Any]]) -> str:
    if target in IDENTITY_LABELS:
        return IDENTITY_LABELS[target]
    return next((f["label"] for f in fields if f["name"] == target), target)


def resolve(header: Sequence[str], fields: Sequence[Mapping[str, Any]],
            saved: Mapping[str, str] | None = None) -> list[str]:
    """The target of each column, in order (``IGNORED`` for columns the saved mapping drops)."""
    known = known_columns(fields)
    saved_keys = {_key(k): v for k, v in (saved or {}).items()}
    targets, unknown = [], []
    for column in header:
        key = _key(column)
        if column in REPORT_NOTE_COLUMNS:
            targets.append(IGNORED)
            continue
        target = saved_keys.get(key, known.get(key))
        if target is None:
            unknown.append(column)
        targets.append(target or IGNORED)
    if unknown:
        raise Invalid("FILE_UNKNOWN_COLUMNS", f"文件包含目录信息项中没有的列：{'、'.join(unknown)}。"
                      "请核对列名，或在“列映射”中指定这些列对应的字段或忽略它们", columns=unknown)
    _check_duplicates(header, targets, fields)
    _check_required(targets, fields)
    return targets


def _check_duplicates(header: Sequence[str], targets: Sequence[str], fields: Sequence[Mapping[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for column, target in zip(header, targets, strict=True):
        if target == IGNORED:
            continue
        if target in seen:
            raise Invalid("FILE_DUPLICATE_COLUMNS", f"列“{seen[target]}”和列“{column}”都对应字段"
                          f"“{label_of(target, fields)}”，请删除其中一列", columns=[seen[target], column])
        seen[target] = column


def _check_required(targets: Sequence[str], fields: Sequence[Mapping[str, Any]]) -> None:
    present = set(targets)
    missing = [f["label"] for f in fields if f.get("required") and f["name"] not in present]
    if SUBJECT_NAME not in present:
        missing.insert(0, IDENTITY_LABELS[SUBJECT_NAME])
    if SUBJECT_CODE not in present and CITIZEN_ID not in present:
        missing.insert(1, "统一社会信用代码（或证件号码）")
    if missing:
        raise Invalid("FILE_MISSING_COLUMNS", f"文件缺少必填列：{'、'.join(missing)}", columns=missing)
