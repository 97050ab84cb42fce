"""Every route × every role against the one declared matrix (access.permissions.ROLE_PERMISSIONS)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response

from tests.support.world import SUBJECT_CODE, World
from xinyong.access.permissions import ROLE_LABELS, Role, role_allows
from xinyong.app import create_app
from xinyong.web.introspection import api_routes, declared_permission

ROLES = [*(r.value for r in Role), "public"]
DENIAL_CODES = ("AUTH_REQUIRED", "PERMISSION_DENIED", "TOKEN_SCOPE_MISSING")


def all_routes() -> list[APIRoute]:
    return list(api_routes(create_app().routes))


def test_every_route_declares_a_permission() -> None:
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in all_routes() if declared_permission(r) is None]
    assert undeclared == [], f"routes without a declared permission: {undeclared}"


def test_every_role_has_a_chinese_label() -> None:
    assert all(role in ROLE_LABELS for role in ROLES)


def _fill(path: str, world: World) -> str:
    values = {"subject_id": world.subject_id, "record_id": world.record_id, "conflict_id": 1, "user_id": 1,
              "token_id": 1, "key": "publication_periods", "year": 2027, "batch_id": 1, "item": "ADM_PENALTY",
              "kind": "csv", "run_id": 1, "draw_id": 1, "model_code": "PUBLIC_CREDIT_ORG", "check_id": 1, "entry_id": 1,
              "notice_id": 1, "commitment_id": 1, "application_id": 1, "objection_id": 1, "material_id": 1,
              "action": "accept", "number": "XYBG0000", "key_id": "0123456789abcdef"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "code":
            return SUBJECT_CODE if path.startswith("/api/v1/subjects") else "ADM_PENALTY"
        return str(values[name])

    return re.sub(r"\{(\w+)\}", value, path)


def _denied(response: Response) -> bool:
    if response.status_code == 303:
        return response.headers["location"].startswith("/login")
    return response.status_code in (401, 403) and any(code in response.text for code in DENIAL_CODES)


def test_every_route_for_every_role(client_for: Callable[[str], TestClient], world: World) -> None:
    routes = all_routes()
    assert len(routes) > 30
    mismatches = []
    for role in ROLES:
        client = client_for(role)
        for route in routes:
            permission = declared_permission(route)
            for method in sorted(route.methods - {"HEAD"}):
                path = _fill(route.path, world)
                if path == "/logout":
                    continue  # public, and it would end this client's session; tested on its own
                kwargs = {"json": {}} if path.startswith("/api/") else {"data": {}}
                body_kwargs = kwargs if method in ("POST", "PUT", "PATCH") else {}
                response = client.request(method, path, follow_redirects=False, **body_kwargs)
                assert response.status_code < 500, f"{role} {method} {path}: {response.status_code} {response.text[:300]}"
                expected_allowed = role_allows(role, permission)
                if _denied(response) == expected_allowed:
                    mismatches.append(f"{role} {method} {path}: expected {'allow' if expected_allowed else 'deny'}, "
                                      f"got {response.status_code}")
    assert mismatches == []
