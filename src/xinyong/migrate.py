"""Schema migrations: Alembic, driven from code (no alembic.ini needed).

The migration scripts ship inside the package (``xinyong/migrations``), so an installed
wheel can upgrade its own database. On SQLite, foreign-key enforcement is switched off for
the duration of a migration (batch mode rebuilds tables by copy-and-rename, which must not
cascade or fail on references) and checked again before the migration commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from xinyong.config import Settings
from xinyong.db import get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# Search structures made by migration 0005 outside the models (FTS5 table and its shadow tables on
# SQLite, pg_trgm indexes on PostgreSQL): schema comparison must not mistake them for strays.
SEARCH_OBJECT_PREFIX = "subject_search"
SEARCH_INDEX_SUFFIX = "_trgm"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic ``include_object`` hook: leave the search structures out of autogenerate."""
    if type_ == "table" and reflected and (name or "").startswith(SEARCH_OBJECT_PREFIX):
        return False
    return not (type_ == "index" and reflected and (name or "").endswith(SEARCH_INDEX_SUFFIX))


def alembic_config(settings: Settings, connection: Connection | None = None) -> Config:
    """An Alembic configuration for ``settings``' database, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal "%" (e.g. in an encoded password) must be doubled.
    config.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    # PRAGMA foreign_keys is a no-op inside a transaction: run it on the raw connection,
    # which ``db`` keeps in autocommit mode between transactions.
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"迁移后存在违反外键约束的数据：{broken[:5]}")


@contextmanager
def _migration_connection(settings: Settings) -> Iterator[Connection]:
    """One connection and one transaction for a whole migration run."""
    engine = get_engine(settings)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            _sqlite_foreign_keys(connection, False)
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, True)


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (the newest by default)."""
    with _migration_connection(settings) as connection:
        command.upgrade(alembic_config(settings, connection), revision)


def downgrade(settings: Settings, revision: str) -> None:
    """Take the database back to ``revision`` (``"base"`` drops every table)."""
    with _migration_connection(settings) as connection:
        command.downgrade(alembic_config(settings, connection), revision)


def current(settings: Settings) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    with get_engine(settings).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
