"""What a receiving platform remembers about each feed it pulls from: cursor, counters, failures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
