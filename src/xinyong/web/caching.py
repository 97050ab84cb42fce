"""Conditional GET for JSON responses: a strong ETag from the body, 304 when the client has it."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel

# Publication ends by the clock, not by an edit: clients must revalidate every time (cheaply, by ETag).
CACHE_CONTROL = "no-cache"


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def json_with_etag(request: Request, body: BaseModel) -> Response:
    content = body.model_dump_json().encode()
    return conditional_json(request, content, etag_of(content))


def client_has(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak forms and ``*`` included)."""
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in wanted or "*" in wanted


def conditional_json(request: Request, content: bytes, etag: str) -> Response:
    """``content`` with its ETag, or 304 when the client already has it."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if client_has(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)
