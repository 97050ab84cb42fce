"""Column-wise validation of a chunk of rows: the fast path of collection.

The scalar checks in ``catalogue.validation`` (and ``subjects.uscc``) are the rules. This module
finds, with polars expressions over whole columns, the rows that certainly pass them and computes
their clean values exactly as the scalar path would. Rows it cannot vouch for (any problem, or an
unusual but possibly valid spelling such as ``2026年1月5日``) go through the scalar path, which
accepts them or says precisely what is wrong. Fast-path acceptance therefore never differs from
the scalar verdict; tests check both paths agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from xinyong.catalogue.validation import DECIMAL_PATTERN, INTEGER_PATTERN
from xinyong.ingest.mapping import CITIZEN_ID, SUBJECT_CODE, SUBJECT_NAME
from xinyong.subjects import uscc

FAST_OK = "__fast_ok"
_TRUE = ["是", "true", "1", "y", "yes", "t"]
_FALSE = ["否", "false", "0", "n", "no", "f"]
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


# What Python's str.strip() removes (the scalar rule): polars' default keeps \x1c-\x1f.
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _text(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars(_WHITESPACE)


def _present(name: str) -> pl.Expr:
    return pl.col(name).is_not_null() & (_text(name).str.len_chars() > 0)


def _chars_value(expr: pl.Expr, position: int, alphabet: str) -> pl.Expr:
    return expr.str.slice(position, 1).replace_strict(list(alphabet), list(range(len(alphabet))), default=None,
                                                      return_dtype=pl.Int64)


def uscc_ok(expr: pl.Expr, rules: uscc.UsccRules) -> pl.Expr:
    """True where the (stripped, upper-cased) code passes every GB 32100 check."""
    code = expr.str.strip_chars().str.to_uppercase()
    prefixes = [d + c for d, categories in rules.categories.items() for c in categories]
    regions = sorted(uscc.known_region_codes() | set(rules.extra_region_codes))
    org_sum = pl.sum_horizontal([_chars_value(code, 8 + i, uscc.ORG_CODE_VALUES) * w
                                 for i, w in enumerate(uscc.ORG_CODE_WEIGHTS)])
    org_check = (11 - org_sum % 11).replace_strict(list(range(1, 12)), [*"123456789", "X", "0"], default=None,
                                                   return_dtype=pl.String)
    check_sum = pl.sum_horizontal([_chars_value(code, i, uscc.ALPHABET) * w for i, w in enumerate(_USCC_WEIGHTS)])
    check = ((31 - check_sum % 31) % 31).replace_strict(list(range(31)), list(uscc.ALPHABET), default=None,
                                                         return_dtype=pl.String)
    return (code.str.contains(f"^[{uscc.ALPHABET}]{{18}}$")
            & code.str.slice(0, 2).is_in(prefixes)
            & code.str.slice(2, 6).is_in(regions)
            & (code.str.slice(16, 1) == org_check)
            & (code.str.slice(17, 1) == check)).fill_null(False)


def _field(spec: Mapping[str, Any], df: pl.DataFrame, rules: uscc.UsccRules,
           today: date) -> tuple[pl.Expr, pl.Expr]:
    """(ok, clean) expressions for one field; ok is True where the fast path vouches for the value."""
    name, kind = spec["name"], spec["type"]
    text = _text(name)
    present = _present(name)
    if kind in ("string", "text"):
        limit = spec.get("max_length") or (4000 if kind == "text" else 500)
        ok = text.str.len_chars() <= limit
        if spec.get("pattern"):
            values = df.get_column(name).drop_nulls().str.strip_chars().unique().to_list()
            good = [v for v in values if re.fullmatch(spec["pattern"], v)]
            ok = ok & text.is_in(good)
        clean = text
    elif kind == "date":
        parsed = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        ok = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$") & parsed.is_not_null() & (parsed.dt.year() >= 1)
        if spec.get("decision_date"):
            ok = ok & (parsed <= pl.lit(today))
        clean = parsed.dt.to_string("%Y-%m-%d")
    elif kind in ("decimal", "integer"):
        pattern = DECIMAL_PATTERN if kind == "decimal" else INTEGER_PATTERN
        number_text = text.str.replace_all(",", "", literal=True) if kind == "decimal" else text
        ok = number_text.str.contains(f"^{pattern}$")
        number = number_text.cast(pl.Float64, strict=False)
        if spec.get("min") is not None:
            ok = ok & (number >= spec["min"])
        if spec.get("max") is not None:
            ok = ok & (number <= spec["max"])
        clean = number_text.str.strip_prefix("+") if kind == "decimal" else text.cast(pl.Int64, strict=False)
    elif kind == "boolean":
        lowered = text.str.to_lowercase()
        ok = lowered.is_in(_TRUE + _FALSE)
        clean = lowered.is_in(_TRUE)
    elif kind == "enum":
        ok = text.is_in(spec.get("enum") or [])
        clean = text
    elif kind == "uscc":
        ok = uscc_ok(pl.col(name), rules)
        clean = text.str.to_uppercase()
    else:
        ok, clean = pl.lit(False), text
    missing_ok = pl.lit(not spec.get("required"))
    return pl.when(present).then(ok.fill_null(False)).otherwise(missing_ok), pl.when(present).then(clean)


def fast_validate(df: pl.DataFrame, fields: Sequence[Mapping[str, Any]], rules: uscc.UsccRules,
                  today: date) -> pl.DataFrame:
    """``df`` (string columns named by target, plus ``__row``) → ``__row``, ``__fast_ok`` and clean columns."""
    df = _with_missing_columns(df, fields)
    oks, cleans = [], []
    for spec in fields:
        ok, clean = _field(spec, df, rules, today)
        oks.append(ok)
        cleans.append(clean.alias(spec["name"]))
    subject_ok = _present(SUBJECT_NAME) & uscc_ok(pl.col(SUBJECT_CODE), rules) & ~_present(CITIZEN_ID)
    return df.select(
        pl.col("__row"),
        pl.all_horizontal([subject_ok, *oks]).fill_null(False).alias(FAST_OK),
        _text(SUBJECT_NAME).alias(SUBJECT_NAME),
        _text(SUBJECT_CODE).str.to_uppercase().alias(SUBJECT_CODE),
        *cleans,
    )


def _with_missing_columns(df: pl.DataFrame, fields: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    wanted = [SUBJECT_NAME, SUBJECT_CODE, CITIZEN_ID, *(f["name"] for f in fields)]
    missing = [pl.lit(None, dtype=pl.String).alias(name) for name in wanted if name not in df.columns]
    return df.with_columns(missing) if missing else df
