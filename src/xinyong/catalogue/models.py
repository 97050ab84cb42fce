"""The public credit information catalogue (公共信用信息目录), versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class CatalogueItem(Base):
    """A catalogue item's identity; its content lives in versions."""

    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]


class CatalogueItemVersion(Base):
    """One immutable version of an item. A record keeps the version it was accepted under."""

    __tablename__ = "catalogue_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalogue_items.id"), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    providing_departments: Mapped[list[Any]]  # sectors, e.g. ["市场监管", "税务"]
    fields: Mapped[list[Any]]  # list of FieldSpec dicts
    natural_key: Mapped[list[Any]]  # field names that identify one record for its department
    legal_basis_document: Mapped[str] = mapped_column(String(300))
    legal_basis_article: Mapped[str] = mapped_column(String(100), default="")
    legal_basis_level: Mapped[str] = mapped_column(String(20))
    sharing_class: Mapped[str] = mapped_column(String(20))
    disclosure_class: Mapped[str] = mapped_column(String(20))
    credit_nature: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str | None] = mapped_column(String(10))
    min_publication_months: Mapped[int | None]
    max_publication_months: Mapped[int | None]
    evaluation_usable: Mapped[bool] = mapped_column(default=False)
    publish_person_name: Mapped[bool] = mapped_column(default=False)  # 自然人姓名公开（如失信被执行人）
    cross_border: Mapped[str] = mapped_column(String(10), default="需出境评估", server_default="需出境评估")  # 可出境 / 需出境评估 / 不得出境
    change_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
