"""Publication windows on records; the public subject search index.

Catalogue versions get ``publish_person_name``. Records get ``published`` / ``publication_starts_at`` / ``publication_ends_at``; for facts already
stored ``published`` stays NULL (never shown) until ``xinyong db upgrade`` / ``xinyong init`` computes
their windows with the application's rules (``records.service.fill_publication_windows``). Subjects get
``search_pairs``; on SQLite an FTS5 ``trigram`` table kept by triggers, on PostgreSQL ``pg_trgm``
GIN indexes and binary collation for the prefix look-ups (see ``xinyong.subjects.search``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
log = logging.getLogger("xinyong")

FTS_TRIGGERS = {
    "subject_search_ai": """CREATE TRIGGER subject_search_ai AFTER INSERT ON subjects
        WHEN new.kind != 'natural_person' BEGIN
          INSERT INTO subject_search(rowid, normalised_name, search_pairs)
          VALUES (new.id, new.normalised_name, new.search_pairs);
        END""",
    "subject_search_ad": """CREATE TRIGGER subject_search_ad AFTER DELETE ON subjects
        WHEN old.kind != 'natural_person' BEGIN
          INSERT INTO subject_search(subject_search, rowid, normalised_name, search_pairs)
          VALUES ('delete', old.id, old.normalised_name, old.search_pairs);
        END""",
    "subject_search_au": """CREATE TRIGGER subject_search_au AFTER UPDATE OF kind, normalised_name, search_pairs
        ON subjects BEGIN
          INSERT INTO subject_search(subject_search, rowid, normalised_name, search_pairs)
          SELECT 'delete', old.id, old.normalised_name, old.search_pairs WHERE old.kind != 'natural_person';
          INSERT INTO subject_search(rowid, normalised_name, search_pairs)
          SELECT new.id, new.normalised_name, new.search_pairs WHERE new.kind != 'natural_person';
        END""",
}
TRGM_INDEXES = {"ix_subjects_normalised_name_trgm": "normalised_name", "ix_subjects_search_pairs_trgm": "search_pairs"}


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("records") as batch:
        # NULL: stored before this revision, window not computed yet (``xinyong db upgrade`` fills it).
        batch.add_column(sa.Column("published", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("publication_starts_at", _utc(), nullable=True))
        batch.add_column(sa.Column("publication_ends_at", _utc(), nullable=True))
        batch.create_index("ix_records_public_list", ["item_code", "published", "decision_date"], unique=False)
    with op.batch_alter_table("catalogue_item_versions") as batch:
        batch.add_column(sa.Column("publish_person_name", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("search_pairs", sa.String(length=800), nullable=False, server_default=""))
        batch.create_index(op.f("ix_subjects_name_initials"), ["name_initials"], unique=False)
    _backfill_search_pairs(bind)
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE subject_search USING fts5(normalised_name, search_pairs, "
                   "content='subjects', content_rowid='id', tokenize='trigram')")
        op.execute("INSERT INTO subject_search(rowid, normalised_name, search_pairs) "
                   "SELECT id, normalised_name, search_pairs FROM subjects WHERE kind != 'natural_person'")
        for statement in FTS_TRIGGERS.values():
            op.execute(statement)
    else:
        _postgresql_search(bind)


def _postgresql_search(bind: sa.Connection) -> None:
    ctype = bind.exec_driver_sql("SHOW lc_ctype").scalar()
    if ctype in ("C", "POSIX"):
        log.warning("数据库 LC_CTYPE 为 %s：pg_trgm 无法为中文建立索引，主体查询将逐行扫描。"
                    "请用 UTF-8 区域设置（如 C.UTF-8 或 zh_CN.UTF-8）创建数据库。", ctype)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("normalised_name", "name_initials"):
        op.execute(f'ALTER TABLE subjects ALTER COLUMN {column} TYPE VARCHAR(200) COLLATE "C"')
    for index, column in TRGM_INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON subjects USING gin ({column} gin_trgm_ops)")


def _pairs(name: str) -> str:
    # Same as xinyong.subjects.search.name_pairs at this revision (migrations import no app code).
    name = name.replace("|", "")
    return "".join(name[i:i + 2] + "|" for i in range(len(name) - 1))


def _backfill_search_pairs(bind: sa.Connection) -> None:
    rows = bind.execute(sa.text("SELECT id, normalised_name FROM subjects WHERE kind != 'natural_person'")).all()
    update = sa.text("UPDATE subjects SET search_pairs = :pairs WHERE id = :id")
    for start in range(0, len(rows), 5000):
        bind.execute(update, [{"id": i, "pairs": _pairs(n)} for i, n in rows[start:start + 5000]])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS subject_search")
    else:
        for index in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {index}")
        for column in ("normalised_name", "name_initials"):
            op.execute(f"ALTER TABLE subjects ALTER COLUMN {column} TYPE VARCHAR(200) COLLATE \"default\"")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_index(op.f("ix_subjects_name_initials"))
        batch.drop_column("search_pairs")
    with op.batch_alter_table("catalogue_item_versions") as batch:
        batch.drop_column("publish_person_name")
    with op.batch_alter_table("records") as batch:
        batch.drop_index("ix_records_public_list")
        batch.drop_column("publication_ends_at")
        batch.drop_column("publication_starts_at")
        batch.drop_column("published")

