"""Departmental sharing: share requests for 有条件共享 items, approvals, read log.

Revision ID: 0013
Revises: 0012


Migrations are self-contained: they never import ``xinyong`` (the models move on, a
migration must keep meaning what it meant when it was written).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "share_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("basis", sa.String(length=1000), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_share_requests_department_id_departments")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_share_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_share_requests_number")),
    )
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.create_index("ix_share_requests_department_item", ["department_id", "item_code", "status"],
                              unique=False)

    op.create_table(
        "share_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("item_codes", _json(), nullable=False),
        sa.Column("record_ids", _json(), nullable=False),
        sa.Column("request_ids", _json(), nullable=False),
        sa.Column("non_public", sa.Boolean(), nullable=False),
        sa.Column("non_public_items", _json(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_share_reads_department_id_departments")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_share_reads_subject_id_subjects")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_share_reads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_reads")),
    )
    with op.batch_alter_table("share_reads", schema=None) as batch_op:
        batch_op.create_index("ix_share_reads_department_at", ["department_id", "at"], unique=False)
        batch_op.create_index("ix_share_reads_subject_at", ["subject_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_share_reads_subject_at")
        batch_op.drop_index("ix_share_reads_department_at")
    op.drop_table("share_reads")
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_share_requests_department_item")
    op.drop_table("share_requests")
