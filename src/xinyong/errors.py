"""Domain errors: a stable code, a Chinese message, and the HTTP status the API answers with.

Every refusal in the platform is one of these. Codes are part of the public contract
(departments script against them); messages are for people.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class Invalid(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class NotAuthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class RateLimited(DomainError):
    """Too many requests from one client; ``retry_after`` seconds until the next is admitted."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("RATE_LIMITED", f"请求过于频繁，请{retry_after}秒后再试", retry_after=retry_after)
        self.retry_after = retry_after
