"""Shapes of authorised-operation contracts, products and releases (API and forms)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

STATUS_LABELS = {"pending": "未生效", "active": "有效", "expired": "已到期", "terminated": "已终止"}


class ContractIn(BaseModel):
    number: str = Field(min_length=4, max_length=60, pattern=r"^[^/?#%\s]+$", description="协议编号")
    institution_code: str = Field(min_length=15, max_length=18, description="授权运营机构统一社会信用代码")
    products: list[str] = Field(min_length=1, description="允许的数据产品代码")
    purpose: str = Field(min_length=4, max_length=500, description="用途")
    starts_on: date
    ends_on: date
    k: int | None = Field(default=None, ge=1, le=1000, description="最小单元格阈值；不填为政策参数，不得低于政策参数")


class TerminationIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class ContractOut(BaseModel):
    number: str
    institution_code: str
    institution_name: str
    products: list[str]
    purpose: str
    starts_on: date
    ends_on: date
    k: int
    status: str
    status_label: str
    terminated_at: str | None = None
    termination_reason: str = ""


class ProductOffer(BaseModel):
    contract: str
    contract_ends_on: date
    k: int
    code: str
    name: str
    description: str
    parameters: dict[str, str]


class Line(BaseModel):
    key: str
    label: str


class Cell(BaseModel):
    row: str
    column: str
    count: int | None
    flag: str | None = None  # "<k" where suppressed


class ProductRelease(BaseModel):
    release_id: int
    product: str
    name: str
    contract: str
    parameters: dict[str, str]
    released_at: str
    unit: str
    k: int
    suppressed_marker: str
    row_dimension: str
    column_dimension: str
    rows: list[Line]
    columns: list[Line]
    cells: list[Cell]
    row_totals: dict[str, int | None]
    column_totals: dict[str, int | None]
    total: int | None
    suppressed_cells: int
    basis: dict[str, Any]


class ReleaseOut(BaseModel):
    id: int
    contract: str
    institution_name: str
    product: str
    parameters: dict[str, Any]
    cells: int
    suppressed_cells: int
    released_at: str
    released_by: str
