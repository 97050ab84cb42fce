"""One injectable "now" for the whole platform.

Publication periods, deadlines and audit times all read the time from here, never from
``datetime.now()``, so that tests (and a demo) can move the clock across a boundary.
All times are timezone-aware and shown in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(SHANGHAI) + _offset


def today() -> date:
    return now().date()


def freeze(at: datetime) -> None:
    """Stop the clock at ``at`` (naive values are taken as Shanghai time)."""
    global _frozen
    _frozen = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or not."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


@contextmanager
def pinned(at: datetime) -> Iterator[None]:
    """Run a block at ``at`` (e.g. back-dated demo data), then restore whatever the clock was."""
    global _frozen
    previous = _frozen
    freeze(at)
    try:
        yield
    finally:
        _frozen = previous


def reset() -> None:
    global _frozen, _offset
    _frozen = None
    _offset = timedelta(0)


def start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in Shanghai: when a date-bounded period begins or ends."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def local(at: datetime) -> datetime:
    """``at`` in Shanghai time; naive database values are UTC."""
    if at.tzinfo is None:
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return at.astimezone(SHANGHAI)
