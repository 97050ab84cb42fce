"""Notices (站内通知): messages to a user, or to whoever acts for a subject or a department."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class Notice(Base):
    """One message. Addressed to a user, a subject (its accounts) or a department (its accounts)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
