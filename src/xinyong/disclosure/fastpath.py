"""The hottest public request — a subject page already in the cache — answered below the framework.

``GET /api/v1/public/subjects/{code}`` is what portals, apps and crawlers hit most. When the page is
in ``app.state.subject_pages`` and still valid (see ``disclosure.cache``: the audit head has not
moved and no publication window has), this ASGI middleware sends it without routing, dependency
injection or a session: one rate-limit check, one ``max(seq)`` on a pooled connection (in a worker
thread, so a busy pool never stalls the event loop), one dictionary look-up. Everything else —
misses, errors, other paths — goes to the application, which fills the cache.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong import clock
from xinyong.subjects import uscc
from xinyong.web.caching import CACHE_CONTROL, client_has
from xinyong.web.ratelimit import RATE_LIMIT_DECIDED, client_key

PREFIX = "/api/v1/public/subjects/"
HEAD_SQL = "SELECT max(seq) FROM audit_log"


def audit_head(engine: Engine) -> int:
    """The audit chain's head on a raw pooled connection (no ORM session: this runs per request)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(HEAD_SQL)
        row = cursor.fetchone()
        cursor.close()
        return int(row[0] or 0) if row else 0
    finally:
        connection.close()  # back to the pool, which rolls back what PostgreSQL began


class CachedSubjectPages:
    def __init__(self, app: ASGIApp, *, security_headers: dict[str, str]) -> None:
        self.app = app
        self.security_headers = [(k.lower().encode(), v.encode()) for k, v in security_headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        code = path[len(PREFIX):]
        state = scope["app"].state
        request = Request(scope)
        limiter = state.public_rate_limiter
        if "/" in code or not code or (limiter is not None and not _admitted(limiter, request)):
            await self.app(scope, receive, send)  # the application answers (404, 429 …) in full
            return
        engine = state.read_session_factory.kw["bind"]
        version = await to_thread.run_sync(audit_head, engine)
        page = state.subject_pages.get(uscc.normalise(code), version=version, now=clock.now())
        if page is None:
            scope.setdefault("state", {})[RATE_LIMIT_DECIDED] = None  # admitted already: not counted twice
            await self.app(scope, receive, send)
            return
        fresh = client_has(request.headers.get("if-none-match", ""), page.etag)
        await self._send(send, 304 if fresh else 200, b"" if fresh else page.body, page.etag)

    async def _send(self, send: Send, status: int, body: bytes, etag: str) -> None:
        headers: list[tuple[bytes, bytes]] = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode()),
                                              (b"vary", b"Accept-Encoding"), *self.security_headers]
        if status == 200:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _admitted(limiter: Any, request: Request) -> bool:
    """Take the client's token here; a refusal goes to the application, which answers 429 in full."""
    wait = limiter.take(client_key(request))
    if wait is None:
        return True
    request.scope.setdefault("state", {})[RATE_LIMIT_DECIDED] = wait
    return False
