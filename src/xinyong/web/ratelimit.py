"""Per-client rate limits for the public API (限流): a token bucket per client, in process memory.

A client is its API token when it sends one, else its IP address (behind a reverse proxy, run
uvicorn with ``--proxy-headers --forwarded-allow-ips`` so the address is the real client's). Each
process keeps its own buckets: with N workers a client gets up to N times the limit, which is the
usual trade for needing no shared store. Real time (monotonic), not the platform clock: tests move
the platform clock across publication periods without touching anyone's quota.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

from fastapi import Request

from xinyong.errors import RateLimited


class RateLimiter:
    """``per_minute`` requests a minute, in bursts of up to ``per_minute``."""

    def __init__(self, per_minute: int, *, max_clients: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> int | None:
        """Admit one request (None) or say how many whole seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                self._forget_idle(now)
                return None
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        # Bound memory: clients whose bucket has refilled completely carry no state worth keeping.
        if len(self._buckets) <= self.max_clients:
            return
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for client in full:
            del self._buckets[client]


# Set in the request state by a layer that already took the client's token (``disclosure.fastpath``):
# None when admitted, else the seconds to wait.
RATE_LIMIT_DECIDED = "rate_limit_decided"


def client_key(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:24]
    return "ip:" + (request.client.host if request.client else "unknown")


def public_rate_limit(request: Request) -> None:
    """Dependency for public API routes: 429 with Retry-After once the client's bucket is empty."""
    limiter: RateLimiter | None = getattr(request.app.state, "public_rate_limiter", None)
    if limiter is None:
        return
    decided = request.scope.get("state", {})
    wait = decided[RATE_LIMIT_DECIDED] if RATE_LIMIT_DECIDED in decided else limiter.take(client_key(request))
    if wait is not None:
        raise RateLimited(wait)
