"""Engine, sessions and the declarative base shared by every context.

One schema for SQLite and PostgreSQL. The only database-specific code paths are here:
SQLite gets WAL, foreign keys and ``BEGIN IMMEDIATE`` (so that two writers cannot both read
the audit chain head and fork it); PostgreSQL serialises chain appends with an advisory lock
(see ``audit.service``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    MetaData,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from xinyong.config import Settings, get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_literal_param(self, value: datetime | None, dialect: Any) -> Any:
        # Statements rendered with literal values (batch exports) must compare as bound ones do.
        return self.process_bind_param(value, dialect)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


_engines: dict[str, Engine] = {}
READ_ONLY = "xinyong_read_only"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (no upgrade deadlocks); readers never queue for it.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.sqlalchemy_url
    if url not in _engines:
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, echo=settings.echo_sql, connect_args={"check_same_thread": False})
            _configure_sqlite(engine)
        else:
            # No server-side prepared statements: psycopg would switch to them after five executions,
            # and generic plans for large IN lists (collection's chain look-ups) are far slower.
            engine = create_engine(url, echo=settings.echo_sql, pool_pre_ping=True,
                                   connect_args={"prepare_threshold": None})
        _engines[url] = engine
    return _engines[url]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(settings), expire_on_commit=False)


def read_session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions that only read (the public portal): a deferred transaction on SQLite, so public
    readers never wait for the write lock, and a READ ONLY transaction on PostgreSQL."""
    return read_only(session_factory(settings))


def read_only(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The same database as ``factory``, in read-only transactions (see ``read_session_factory``)."""
    engine = factory.kw["bind"]
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


def raw_rows(session: Session, statement: Any, batch_rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """Run a SELECT on the session's own connection, straight through the driver, in batches of tuples.

    For batch exports: no ORM rows and no per-value type processing (SQLite dates stay ISO text,
    converted column-wise later), which otherwise dominates an export. The statement is rendered
    with its values inline — they are the job's own parameters, never user text.
    """
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    # PostgreSQL: a server-side cursor, so rows arrive batch by batch instead of all at once.
    cursor = driver.cursor(name="xinyong_batch_export") if connection.dialect.name == "postgresql" \
        else driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch_rows):
            yield rows
    finally:
        cursor.close()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def session_scope(settings: Settings | None = None) -> AbstractContextManager[Session]:
    """A unit of work on the configured database (CLI, scripts)."""
    return unit_of_work(session_factory(settings))


def allocate_ids(session: Session, table: Any, count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``table`` for a bulk insert with explicit ids.

    PostgreSQL draws them from the table's sequence (safe under concurrency). On SQLite the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``), so the next ids
    after the current maximum cannot be taken by anyone else before commit.
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = f"{table.name}_id_seq"
        rows = session.execute(text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": count})
        return [row[0] for row in rows]
    start = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + count))


class RawJSON(str):
    """A value already serialised to JSON text, stored as it is by ``bulk_insert``."""


def _bulk_converter(column_type: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How a column's Python value is written by the driver's bulk path (None: as it is)."""
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else (v if isinstance(v, RawJSON) else json.dumps(v, ensure_ascii=False))
    if dialect == "postgresql":
        return None
    if isinstance(column_type, UTCDateTime):
        return lru_cache(maxsize=1024)(lambda v: None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    if isinstance(column_type, Date):
        return lru_cache(maxsize=4096)(lambda v: None if v is None else v.isoformat())
    if isinstance(column_type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows through the driver's own bulk path, inside the session's transaction.

    SQLite: ``executemany``; PostgreSQL: ``COPY``. Values are converted as the column types would
    convert them (JSON, timestamps, dates, booleans), without SQLAlchemy's per-row overhead — the
    collection pipeline inserts hundreds of thousands of rows at a time. Every row has the same keys.
    """
    if not rows:
        return
    names = [c.name for c in table.columns if c.name in rows[0]]
    insert_tuples(session, table, names, [tuple(row[name] for name in names) for row in rows])


def insert_tuples(session: Session, table: Any, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """``bulk_insert`` for rows already laid out as tuples in the order of ``names``."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    converters = [(i, convert) for i, name in enumerate(names)
                  if (convert := _bulk_converter(table.c[name].type, dialect)) is not None]
    if converters:
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                values[index] = convert(values[index])
            converted.append(tuple(values))
        rows = converted
    connection = session.connection()
    if dialect == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows)


def in_values(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """``column IN values`` with the values as ONE bound parameter, however many there are.

    A plain ``in_`` renders one parameter per value: for a batch of 100,000 ids that is hundreds of
    statements of 900 parameters each, and the rendering costs more than the look-ups. PostgreSQL
    takes an array (``= ANY``); SQLite a JSON array read with ``json_each``.
    """
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))
    table = func.json_each(bindparam(None, json.dumps(listed, ensure_ascii=False), type_=String())).table_valued("value")
    return column.in_(select(table.c.value))


def utcnow() -> datetime:
    from xinyong import clock

    return clock.now().astimezone(UTC)


def import_all_models() -> None:
    """Register every context's tables on ``Base.metadata`` (migrations, create_all)."""
    from xinyong.access import models as _access  # noqa: F401
    from xinyong.audit import models as _audit  # noqa: F401
    from xinyong.catalogue import models as _catalogue  # noqa: F401
    from xinyong.commitments import models as _commitments  # noqa: F401
    from xinyong.evaluation import models as _evaluation  # noqa: F401
    from xinyong.feed import models as _feed  # noqa: F401
    from xinyong.grants import models as _grants  # noqa: F401
    from xinyong.ingest import models as _ingest  # noqa: F401
    from xinyong.loans import models as _loans  # noqa: F401
    from xinyong.notifications import models as _notifications  # noqa: F401
    from xinyong.operation import models as _operation  # noqa: F401
    from xinyong.partners import models as _partners  # noqa: F401
    from xinyong.policy import models as _policy  # noqa: F401
    from xinyong.records import models as _records  # noqa: F401
    from xinyong.repair import models as _repair  # noqa: F401
    from xinyong.reports import models as _reports  # noqa: F401
    from xinyong.sanctions import models as _sanctions  # noqa: F401
    from xinyong.sharing import models as _sharing  # noqa: F401
    from xinyong.subjects import models as _subjects  # noqa: F401
