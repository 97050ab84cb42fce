"""The data products an operator can receive (数据产品目录): parameters, and how each table is counted.

Every product is an aggregate table (rows × columns of subject or record counts). Parameters are
declared per product; anything else is refused, and parameters that would name or narrow to one
subject (a code, a name, an id) are refused outright — no product accepts them. Counting reads
the other contexts through their service modules only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.catalogue import service as catalogue
from xinyong.disclosure.publication import add_months
from xinyong.errors import Invalid, NotFound
from xinyong.evaluation import service as evaluation
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import INDUSTRIES, SUBJECT_KINDS

POLICY = "operation_disclosure_control"
PERSON = "natural_person"
ORGANISATION_KINDS = [kind for kind in SUBJECT_KINDS if kind != PERSON]
UNKNOWN = "-"  # a row or column key for "not filled in" (e.g. no industry)

# Parameters that single out a subject: refused by every product, never looked at.
IDENTIFYING = frozenset(
    {
        "subject",
        "subject_id",
        "subject_code",
        "code",
        "uscc",
        "name",
        "subject_name",
        "id",
        "citizen_id",
        "person",
        "person_key",
        "masked_id",
        "entry",
        "record",
        "record_id",
    }
)
_REGION = re.compile(r"^(\d{2}|\d{4}|\d{6})$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Table:
    """What a product counted, before suppression."""

    row_dimension: str
    column_dimension: str
    rows: list[str]
    columns: list[str]
    counts: dict[tuple[str, str], int]
    labels: dict[str, str]  # row/column key -> Chinese label
    unit: str
    basis: dict[str, Any]  # what the table is based on (run id and date, months covered)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    description: str
    parameters: Mapping[str, str]  # name -> Chinese description
    build: Callable[[Session, dict[str, str]], Table]


def _region(params: Mapping[str, str]) -> str | None:
    value = (params.get("region") or "").strip()
    if not value:
        return None
    if _REGION.fullmatch(value) is None:
        raise Invalid(
            "OPERATION_PARAMETER_INVALID", "region 须为2位、4位或6位行政区划代码（省、市、县级）", field="region"
        )
    return value


def _region_label(code: str) -> str:
    return uscc.region_name(code) or code


def _industry_label(code: str) -> str:
    return "未填写行业" if code == UNKNOWN else f"{code} {INDUSTRIES.get(code, code)}"


def _sorted(keys: set[str]) -> list[str]:
    return sorted(keys, key=lambda key: (key == UNKNOWN, key))


def subjects_by_industry_region(session: Session, params: dict[str, str]) -> Table:
    region = _region(params)
    kind = (params.get("kind") or "").strip()
    if kind == PERSON:
        raise Invalid("OPERATION_PARAMETER_INVALID", "自然人不纳入授权运营数据产品", field="kind")
    if kind and kind not in ORGANISATION_KINDS:
        raise Invalid("OPERATION_PARAMETER_INVALID", f"kind 应为{'、'.join(ORGANISATION_KINDS)}之一", field="kind")
    people = subjects.population_query([kind] if kind else ORGANISATION_KINDS).subquery()
    query = select(people.c.industry, people.c.region_code, func.count()).group_by(
        people.c.industry, people.c.region_code
    )
    if region:
        query = query.where(people.c.region_code.startswith(region))
    counts = {(industry or UNKNOWN, code): int(n) for industry, code, n in session.execute(query)}
    rows, columns = _sorted({r for r, _c in counts}), _sorted({c for _r, c in counts})
    labels = {**{r: _industry_label(r) for r in rows}, **{c: _region_label(c) for c in columns}}
    return Table("industry", "region", rows, columns, counts, labels, "主体数", {"as_of": clock.today().isoformat()})


def grade_distribution(session: Session, params: dict[str, str]) -> Table:
    model = (params.get("model") or "").strip()
    if not model:
        raise Invalid("OPERATION_PARAMETER_INVALID", "请用 model 指定评价模型代码", field="model")
    try:
        cells = evaluation.latest_grade_cells(session, model, region_prefix=_region(params))
    except NotFound as error:
        raise Invalid("OPERATION_PARAMETER_INVALID", f"评价模型不存在：{model}", field="model") from error
    if cells is None:
        raise Invalid("OPERATION_PARAMETER_INVALID", f"评价模型 {model} 尚无成功的评价批次", field="model")
    counts: Counter[tuple[str, str]] = Counter()
    for industry, region, grade, n in cells.counts:
        counts[(f"{industry or UNKNOWN}/{region}", grade)] += n
    rows = sorted({r for r, _g in counts}, key=lambda key: (key.startswith(UNKNOWN), key))
    columns = [g for g in cells.grades if any(g == c for _r, c in counts)] or list(cells.grades)
    labels: dict[str, str] = {}
    for row in rows:
        industry, region = row.split("/")
        labels[row] = f"{_industry_label(industry)} · {_region_label(region)}"
    labels.update({g: g for g in columns})
    return Table(
        "industry/region",
        "grade",
        rows,
        columns,
        dict(counts),
        labels,
        "主体数",
        {"model": model, "run_id": cells.run_id, "as_of": cells.as_of.isoformat()},
    )


def _month(value: str, name: str) -> date:
    if _MONTH.fullmatch(value) is None:
        raise Invalid("OPERATION_PARAMETER_INVALID", f"{name} 须为 YYYY-MM 格式的月份", field=name)
    return date(int(value[:4]), int(value[5:7]), 1)


def dishonesty_by_item_month(session: Session, params: dict[str, str]) -> Table:
    limit = int(policy.get(session, POLICY)["dishonesty_max_months"])
    this_month = clock.today().replace(day=1)
    until = _month(params["to"], "to") if params.get("to") else this_month
    since = _month(params["from"], "from") if params.get("from") else add_months(until, -11)
    if since > until:
        raise Invalid("OPERATION_PARAMETER_INVALID", "from 不能晚于 to", field="from")
    months = (until.year - since.year) * 12 + until.month - since.month + 1
    if months > limit:
        raise Invalid("OPERATION_PARAMETER_INVALID", f"统计跨度最长{limit}个月", field="from")
    last_day = add_months(until, 1).toordinal() - 1
    counts: Counter[tuple[str, str]] = Counter()
    for item, day, n in records.dishonesty_counts(
        session, since=since, until=date.fromordinal(last_day), region_prefix=_region(params)
    ):
        counts[(item, f"{day:%Y-%m}")] += n
    columns = [f"{add_months(since, i):%Y-%m}" for i in range(months)]
    rows = sorted({r for r, _c in counts})
    names = catalogue.item_names(session) if rows else {}
    labels = {**{r: names.get(r, r) for r in rows}, **{c: c for c in columns}}
    return Table(
        "item", "month", rows, columns, dict(counts), labels, "失信信息条数", {"from": columns[0], "to": columns[-1]}
    )


PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        Product(
            "subjects_by_industry_region",
            "市场主体行业地区分布",
            "已登记的各类组织（不含自然人）按国民经济行业门类 × 行政区划计数",
            {"region": "行政区划代码前缀（2、4或6位），可选", "kind": "主体类型（不含自然人），可选"},
            subjects_by_industry_region,
        ),
        Product(
            "grade_distribution",
            "公共信用综合评价等级分布",
            "评价模型最近一次成功评价批次的等级，按行业 × 地区计数",
            {"model": "评价模型代码，必填", "region": "行政区划代码前缀（2、4或6位），可选"},
            grade_distribution,
        ),
        Product(
            "dishonesty_by_item_month",
            "失信信息月度统计",
            "现行失信信息（不含已修复、已撤销）按目录信息项 × 决定月份计数",
            {
                "region": "行政区划代码前缀（2、4或6位），可选",
                "from": "起始月份 YYYY-MM，缺省为截止月份前11个月",
                "to": "截止月份 YYYY-MM，缺省为本月",
            },
            dishonesty_by_item_month,
        ),
    )
}
