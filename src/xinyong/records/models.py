"""The one store of credit information (信用信息记录). Append-only: facts are never updated in place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class Record(Base):
    """One fact about a subject under a catalogue item version.

    ``kind`` is ``original``, ``correction`` (replaces the payload of ``supersedes_id``) or
    ``revocation`` (withdraws ``supersedes_id``). The current view is derived: a record is current
    when nothing supersedes it and it is not itself a revocation.

    Publication (公示) is fixed when the fact is stored, from its catalogue item version, severity,
    payload and subject (``disclosure.publication``): ``published`` says whether the public ever
    sees it, from ``publication_starts_at`` up to but not including ``publication_ends_at``. Readers
    compare those with the clock at read time, so publication ends without anyone acting.
    """

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_chain", "department_id", "item_code", "natural_key", "subject_id"),
                      Index("ix_records_public_list", "item_code", "published", "decision_date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_item_versions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))  # indexed by ix_records_chain
    kind: Mapped[str] = mapped_column(String(12), default="original")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    natural_key: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    severity: Mapped[str | None] = mapped_column(String(10))
    decision_date: Mapped[date | None] = mapped_column(index=True)
    received_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    source_row: Mapped[int | None]  # the row of the batch's file it came from
    published: Mapped[bool | None]  # 是否向社会公示; None: stored before windows existed, not yet computed
    publication_starts_at: Mapped[datetime | None]
    publication_ends_at: Mapped[datetime | None]  # exclusive; None: no end (守信/中性 information)
