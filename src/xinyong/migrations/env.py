"""Alembic environment for xinyong.

Runs against a connection handed in by ``xinyong.migrate`` (``config.attributes["connection"]``)
or, failing that, against the URL in the Alembic config (plain ``alembic`` command line).
SQLite gets batch mode so that ALTERs become copy-and-rename.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import JSON, Connection, create_engine, make_url, pool
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from xinyong.db import Base, import_all_models
from xinyong.migrate import include_object

import_all_models()
target_metadata = Base.metadata
config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the project's types as the plain SQLAlchemy types they store as, so that
    generated migrations never import ``xinyong`` (review them by hand all the same)."""
    if type_ != "type":
        return False
    if isinstance(obj, TypeDecorator):
        impl: TypeEngine[Any] = obj.impl_instance
        return f"sa.{impl!r}"
    if isinstance(obj, JSON) and isinstance(obj._variant_mapping.get("postgresql"), JSONB):
        # Alembic's own rendering leaves JSONB's ``astext_type=Text()`` without its ``sa.``.
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
        "compare_type": True,
        "include_object": include_object,
    }


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from xinyong.config import get_settings

    return get_settings().sqlalchemy_url


def run_migrations_offline() -> None:
    url = _url()
    dialect_name = make_url(url).get_backend_name()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
                      **_options(dialect_name))
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
