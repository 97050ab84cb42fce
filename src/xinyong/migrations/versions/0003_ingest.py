"""Collection: ingest batches, row outcomes, saved column mappings; records remember their batch row.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("mapping", _json(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_ingest_batches_department_id_departments")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], name=op.f("fk_ingest_batches_submitted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
        sa.UniqueConstraint("department_id", "item_code", "file_sha256",
                            name=op.f("uq_ingest_batches_department_id")),
    )
    op.create_index(op.f("ix_ingest_batches_department_id"), "ingest_batches", ["department_id"], unique=False)
    op.create_table(
        "ingest_column_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("mapping", _json(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_ingest_column_mappings_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_column_mappings")),
        sa.UniqueConstraint("department_id", "item_code", name=op.f("uq_ingest_column_mappings_department_id")),
    )
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("source_row", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_records_batch_id_ingest_batches"), "ingest_batches", ["batch_id"], ["id"])
        batch.create_index(op.f("ix_records_batch_id"), ["batch_id"], unique=False)
    op.create_table(
        "ingest_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("problems", _json(), nullable=False),
        sa.Column("source", _json(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batches.id"], name=op.f("fk_ingest_rows_batch_id_ingest_batches")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_ingest_rows_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_rows")),
        sa.UniqueConstraint("batch_id", "row_number", name=op.f("uq_ingest_rows_batch_id")),
    )


def downgrade() -> None:
    op.drop_table("ingest_rows")
    with op.batch_alter_table("records") as batch:
        batch.drop_index(op.f("ix_records_batch_id"))
        batch.drop_constraint(op.f("fk_records_batch_id_ingest_batches"), type_="foreignkey")
        batch.drop_column("source_row")
        batch.drop_column("batch_id")
    op.drop_table("ingest_column_mappings")
    op.drop_index(op.f("ix_ingest_batches_department_id"), table_name="ingest_batches")
    op.drop_table("ingest_batches")
