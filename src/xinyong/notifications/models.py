"""Notices (站内通知): messages to a user, or to whoever acts for a subject or a department; and the
e-mail outbox that carries them to the accounts that gave an address (when SMTP is configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class Notice(Base):
    """One message. Addressed to a user, a subject (its accounts) or a department (its accounts).

    ``read_at`` is shared by every account the notice reaches: a department's notice read by one of
    its accounts is read for the department."""

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


class OutboxEmail(Base):
    """One e-mail to one address, queued in the transaction that left the notice (outbox).

    ``xinyong notify send`` delivers it; ``sent_at`` is set only after the server accepted it.
    ``claimed_until`` keeps two senders from sending the same message at once (a sender that died
    mid-send leaves it to be retried when the claim runs out)."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_until: Mapped[datetime | None]
