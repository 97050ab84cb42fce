"""What a receiving platform remembers about each feed it pulls from: cursor, counters, failures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class FeedSource(Base):
    """A lower-level platform this one pulls from; ``cursor`` is the last feed id applied."""

    __tablename__ = "feed_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_url: Mapped[str] = mapped_column(String(500), unique=True)
    cursor: Mapped[int] = mapped_column(default=0)
    last_pulled_at: Mapped[datetime | None]
    applied: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)


class FeedFailure(Base):
    """A feed entry this platform could not apply (e.g. refused by its own catalogue)."""

    __tablename__ = "feed_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_url: Mapped[str] = mapped_column(String(500), index=True)
    feed_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime]


class FeedReader(Base):
    """A higher platform reading this one's feed. Asking for the entries after N acknowledges every
    entry up to N: that is how a repair notice is known to have arrived (送达确认)."""

    __tablename__ = "feed_readers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    acknowledged_through: Mapped[int] = mapped_column(default=0)
    first_read_at: Mapped[datetime]
    last_read_at: Mapped[datetime]
