"""A cache of public subject pages that can never show a record past its publication end.

An entry is used only while both hold:

- nothing was written since it was made: the version is the audit chain's head, and every write
  in the platform (records, repairs, renames, catalogue edits) appends to the chain in the same
  transaction — so the check is one indexed ``max`` and covers writes from other processes too;
- the clock has not reached the page's next publication boundary (the earliest moment a shown
  record's window ends or a stored one's begins), nor the entry's time to live.

So visibility is still decided at read time; the cache only saves recomputing identical answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

TIME_TO_LIVE = timedelta(minutes=5)


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    version: int
    expires_at: datetime


class PageCache:
    """A bounded, thread-safe LRU of rendered pages, keyed by what identifies the page."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, *, version: int, now: datetime) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if page.version != version or now >= page.expires_at:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: CachedPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
