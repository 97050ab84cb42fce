"""Collection (归集): submission batches, per-row outcomes, saved column mappings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class IngestBatch(Base):
    """One submitted file (or API batch) for one catalogue item by one department.

    A batch is identified by department, item and the file's SHA-256, so re-submitting the same
    file finds the same batch: finished, it creates nothing new; interrupted, it resumes after
    ``processed_rows`` (every chunk commits its records, row outcomes and this cursor together).
    """

    __tablename__ = "ingest_batches"
    __table_args__ = (UniqueConstraint("department_id", "item_code", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # upload / cli / api / feed
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(10), default="")
    encoding: Mapped[str] = mapped_column(String(20), default="")
    mapping: Mapped[dict[str, Any]]  # source column -> field name ("" = ignored)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending/running/done/failed
    total_rows: Mapped[int | None]
    processed_rows: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    corrected: Mapped[int] = mapped_column(default=0)
    duplicate: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(1000))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class IngestRow(Base):
    """The outcome of one data row: accepted, correction, duplicate, flagged or rejected."""

    __tablename__ = "ingest_rows"
    __table_args__ = (UniqueConstraint("batch_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"))
    row_number: Mapped[int]  # as the department sees it: spreadsheet row / line / array position
    outcome: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    problems: Mapped[list[Any]]  # [{field, code, message}]
    source: Mapped[dict[str, Any] | None]  # the row as sent, kept for rejected/flagged rows (error report)


class ColumnMapping(Base):
    """A department's saved mapping from its column names to an item's fields."""

    __tablename__ = "ingest_column_mappings"
    __table_args__ = (UniqueConstraint("department_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    mapping: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
