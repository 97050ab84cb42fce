"""Walk every route of the app, through included routers (used by the permission-matrix test and docs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from xinyong.web.deps import require


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def declared_permission(route: APIRoute) -> Any:
    """The permission a route declares through ``require``, or None."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, require):
            return dependant.call.permission
        pending.extend(dependant.dependencies)
    return None
