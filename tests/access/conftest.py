from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.world import PASSWORD, World, build_world
from xinyong.app import create_app
from xinyong.config import Settings


@pytest.fixture
def world(seeded: Session) -> World:
    return build_world(seeded)


@pytest.fixture
def client_for(settings: Settings, world: World) -> Iterator[Callable[[str], TestClient]]:
    """A logged-in TestClient per role (``public`` is anonymous)."""
    app = create_app(settings)
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=True)
        clients.append(client)
        if role != "public":
            response = client.post("/login", data={"username": world.usernames[role], "password": PASSWORD},
                                   follow_redirects=False)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()
