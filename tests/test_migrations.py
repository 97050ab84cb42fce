"""The packaged Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import make_settings
from xinyong import migrate
from xinyong.config import Settings
from xinyong.db import Base, get_engine, import_all_models


@pytest.fixture
def migration_settings(empty_database_url: str, tmp_path: Path) -> Settings:
    return make_settings(empty_database_url, tmp_path / "data")


def head_revision(settings: Settings) -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config(settings)).get_current_head()
    assert head is not None
    return head


def schema_differences(settings: Settings) -> list[Any]:
    import_all_models()
    with get_engine(settings).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                 "include_object": migrate.include_object})
        return list(compare_metadata(context, Base.metadata))


def table_names(settings: Settings) -> set[str]:
    return set(inspect(get_engine(settings)).get_table_names())


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(migration_settings: Settings) -> None:
    assert migrate.current(migration_settings) is None

    migrate.upgrade(migration_settings)
    assert migrate.current(migration_settings) == head_revision(migration_settings)
    assert table_names(migration_settings) >= set(Base.metadata.tables)
    assert schema_differences(migration_settings) == []

    migrate.downgrade(migration_settings, "base")
    assert migrate.current(migration_settings) is None
    assert table_names(migration_settings) <= {"alembic_version"}

    migrate.upgrade(migration_settings)
    assert migrate.current(migration_settings) == head_revision(migration_settings)
    assert schema_differences(migration_settings) == []


def test_upgrade_without_a_connection_uses_the_configured_url(migration_settings: Settings) -> None:
    """The plain ``alembic`` path: env.py opens its own connection from sqlalchemy.url."""
    command.upgrade(migrate.alembic_config(migration_settings), "head")
    assert migrate.current(migration_settings) == head_revision(migration_settings)
    assert schema_differences(migration_settings) == []


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
def test_sqlite_foreign_keys_are_enforced_again_after_migrating(migration_settings: Settings) -> None:
    migrate.upgrade(migration_settings)
    with get_engine(migration_settings).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_migration_scripts_are_self_contained() -> None:
    scripts = sorted((migrate.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert scripts, "no migration scripts found"
    for script in scripts:
        assert not any(m.split(".")[0] == "xinyong" for m in _imported_modules(script)), script.name
