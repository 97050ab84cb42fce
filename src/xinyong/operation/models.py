"""Authorised-operation contracts (授权运营协议) and the log of every data-product release.

A contract is never deleted or rewritten: termination is recorded on it once (who, when, why).
A release is appended for every product an operator received, with its parameters and how many
cells were suppressed; refused requests leave no release, only their audit entry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class OperationContract(Base):
    """授权运营协议: which products an operator may receive, for what purpose, until when, with which k."""

    __tablename__ = "operation_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)  # 协议编号, as signed
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    products: Mapped[list[Any]]  # product codes (operation.products.PRODUCTS)
    purpose: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # last day in force (inclusive)
    k_threshold: Mapped[int]  # never below the policy minimum
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    terminated_at: Mapped[datetime | None]
    terminated_by: Mapped[str | None] = mapped_column(String(64))
    termination_reason: Mapped[str] = mapped_column(String(500), default="")


class OperationRelease(Base):
    """One data product delivered to an operator under a contract (发布记录)."""

    __tablename__ = "operation_releases"
    __table_args__ = (Index("ix_operation_releases_contract", "contract_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("operation_contracts.id"))
    product: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]]
    cells: Mapped[int]
    suppressed_cells: Mapped[int]
    released_at: Mapped[datetime]
    released_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
