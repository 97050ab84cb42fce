"""Shared fixtures: one throwaway PostgreSQL cluster per run, SQLite and PostgreSQL per test.

The cluster is started once by the controlling pytest process (before xdist spawns its
workers, which inherit ``XINYONG_TEST_PG_ADMIN_URL``) and stopped when that process ends.
If the variable is already set, that server is used and left alone. Each worker creates its
own databases, named after the worker, so workers never share tables.

Fixtures:

- ``db_url``: parametrized ``sqlite`` / ``postgresql``; a database with the full schema
  (``create_all``, once per worker and backend), emptied after every test.
- ``empty_database_url``: parametrized the same way; a brand-new database with no tables
  (for migration tests).
- ``settings``: ``Settings`` on ``db_url`` with a tmp data dir and fixed keys, made current
  with ``use_settings``.
- ``session``: a ``Session`` from ``session_factory(settings)``; committed (or rolled back
  if the test broke it) and closed afterwards.
- ``seeded``: ``session`` after seeding policy parameters and the catalogue (committed).
- ``frozen_clock``: the clock stopped at 2026-06-15 10:00 Asia/Shanghai (yields that time).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from tests.support import pg
from tests.support.world import PASSWORD, World, build_world
from xinyong import clock, migrate
from xinyong.access import service as access_service
from xinyong.actor import Actor
from xinyong.app import create_app
from xinyong.catalogue import service as catalogue_service
from xinyong.config import Settings, use_settings
from xinyong.db import Base, dispose_engines, import_all_models, session_factory
from xinyong.policy import service as policy_service

PG_ADMIN_URL_ENV = "XINYONG_TEST_PG_ADMIN_URL"
BACKENDS = ("sqlite", "postgresql")
FROZEN_AT = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
_CLUSTER = pytest.StashKey[pg.PgCluster]()

# Real argon2id, cheap parameters: the suite creates many accounts.
access_service.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

hypothesis_settings.register_profile("xinyong", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "xinyong"))


# --- the cluster: controller process only ------------------------------------------------


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_xdist_worker(config) or os.environ.get(PG_ADMIN_URL_ENV):
        return
    try:
        cluster = pg.PgCluster().start()
    except pg.PostgresUnavailable as error:
        raise pytest.UsageError(str(error)) from error
    config.stash[_CLUSTER] = cluster
    os.environ[PG_ADMIN_URL_ENV] = cluster.admin_url


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None:
        cluster.stop()
        os.environ.pop(PG_ADMIN_URL_ENV, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)


# --- per-worker databases -----------------------------------------------------------------


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def empty_tables(engine: Engine) -> None:
    """Remove every row from every table, keeping the schema (and restarting id sequences)."""
    import_all_models()
    tables = Base.metadata.sorted_tables
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            names = ", ".join(engine.dialect.identifier_preparer.format_table(t) for t in tables)
            connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())
            connection.execute(text("INSERT INTO subject_search(subject_search) VALUES ('delete-all')"))


class WorkerDatabases:
    """The databases one worker owns: created on first use, dropped at the end of the run."""

    def __init__(self, admin_url: str, sqlite_dir: Path) -> None:
        self.admin_url = admin_url
        self.sqlite_dir = sqlite_dir
        self._schema: dict[str, tuple[str, Engine]] = {}
        self._pg_names: set[str] = set()

    def new_empty(self, backend: str, label: str) -> str:
        """A database with no tables at all (replacing an earlier one of the same label)."""
        name = f"xinyong_{label}_{_worker()}"
        if backend == "postgresql":
            self._pg_names.add(name)
            return pg.create_database(self.admin_url, name)
        path = self.sqlite_dir / f"{name}.db"
        for leftover in self.sqlite_dir.glob(f"{name}.db*"):
            leftover.unlink()
        return f"sqlite:///{path}"

    def with_schema(self, backend: str) -> tuple[str, Engine]:
        """The worker's test database for ``backend``, with every table created once."""
        if backend not in self._schema:
            url = self.new_empty(backend, "test")
            # The real migrations, not create_all: they also build what the models cannot
            # describe (the search index: FTS5 table and triggers, pg_trgm indexes).
            migrate.upgrade(make_settings(url, self.sqlite_dir / "migrate"))
            self._schema[backend] = (url, create_engine(url))
        return self._schema[backend]

    def close(self) -> None:
        dispose_engines()
        for _url, engine in self._schema.values():
            engine.dispose()
        for name in self._pg_names:
            pg.drop_database(self.admin_url, name)


@pytest.fixture(scope="session")
def worker_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerDatabases]:
    admin_url = os.environ.get(PG_ADMIN_URL_ENV)
    if not admin_url:
        raise RuntimeError(f"{PG_ADMIN_URL_ENV} 未设置：PostgreSQL 测试集群没有启动")
    databases = WorkerDatabases(admin_url, tmp_path_factory.mktemp("sqlite"))
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def db_url(request: pytest.FixtureRequest, worker_databases: WorkerDatabases) -> Iterator[str]:
    url, engine = worker_databases.with_schema(request.param)
    yield url
    dispose_engines()
    empty_tables(engine)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, worker_databases: WorkerDatabases) -> Iterator[str]:
    yield worker_databases.new_empty(request.param, "empty")
    dispose_engines()


# --- settings, sessions, seed data, clock ---------------------------------------------------


def make_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=data_dir, secret_key="test-secret-key",
                    person_id_key="test-person-id-key")


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from xinyong import config

    monkeypatch.setattr(config, "_settings", config._settings)  # restored after the test
    current = make_settings(db_url, tmp_path / "data")
    use_settings(current)
    return current


def close_session(session: Session) -> None:
    """Commit what the test left pending, unless the test broke the transaction; then close."""
    transaction = session.get_transaction()
    try:
        if transaction is not None and transaction.is_active:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    current = session_factory(settings)()
    yield current
    close_session(current)


@pytest.fixture
def seeded(session: Session) -> Session:
    policy_service.seed(session)
    catalogue_service.seed(session, Actor.system())
    session.commit()
    return session


@pytest.fixture
def sanctioned(seeded: Session) -> Session:
    """``seeded`` plus the evaluation models, legal-basis library, list types and measure list."""
    from xinyong.evaluation import service as evaluation_service
    from xinyong.sanctions import service as sanctions_service

    evaluation_service.seed(seeded, Actor.system())
    sanctions_service.seed(seeded, Actor.system())
    seeded.commit()
    return seeded


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    clock.freeze(FROZEN_AT)
    yield FROZEN_AT
    clock.reset()


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.reset()


# --- web: one account per role and a logged-in client for each --------------------------------
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
