"""The credit subject registry (信用主体库) and its conflict list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


def _binary_text(length: int) -> String:
    """Text compared by code point on both databases, so range look-ups (prefix search) agree."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")  # type: ignore[return-value]


class Subject(Base):
    """A credit subject, keyed by 统一社会信用代码 or, for a natural person, by a keyed hash of the ID.

    ``search_pairs`` feeds the public search's two-character look-ups (see ``subjects.search``);
    on SQLite the FTS5 table ``subject_search`` mirrors it by triggers, on PostgreSQL pg_trgm GIN
    indexes cover it (both made by migration 0005, outside the models).
    """

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # see subjects.kinds
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    person_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    masked_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    normalised_name: Mapped[str] = mapped_column(_binary_text(200), index=True)
    name_initials: Mapped[str] = mapped_column(_binary_text(200), default="", index=True)  # 拼音首字母
    search_pairs: Mapped[str] = mapped_column(String(800), default="")
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry: Mapped[str | None] = mapped_column(String(4))  # GB/T 4754 门类
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registration_authority: Mapped[str | None] = mapped_column(String(100))
    registered_on: Mapped[date | None]
    registered_capital: Mapped[float | None]  # 万元
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="存续")
    created_at: Mapped[datetime]


class SubjectAttestation(Base):
    """What one source said about a code: name and registration authority (used to find 一码多赋)."""

    __tablename__ = "subject_attestations"
    __table_args__ = (UniqueConstraint("subject_id", "source", "name", "registration_authority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))  # department code, or "registry"
    name: Mapped[str] = mapped_column(String(200))
    registration_authority: Mapped[str] = mapped_column(String(100), default="")
    seen_at: Mapped[datetime]


class SubjectConflict(Base):
    """A suspected 重复赋码 (one organisation, several codes) or 一码多赋 (one code, several organisations)."""

    __tablename__ = "subject_conflicts"
    __table_args__ = (UniqueConstraint("kind", "conflict_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # duplicate_code / code_conflict
    conflict_key: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[dict[str, Any]]
    detected_at: Mapped[datetime]


class ConflictDecision(Base):
    """The authority's recorded decision on a conflict; a later decision supersedes an earlier one."""

    __tablename__ = "subject_conflict_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("subject_conflicts.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(30))  # see subjects.service.CONFLICT_OUTCOMES
    note: Mapped[str] = mapped_column(String(1000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime]
