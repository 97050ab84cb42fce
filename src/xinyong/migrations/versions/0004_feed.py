"""Upward feed: per-source cursor and counters, and the entries a pull could not apply.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("last_pulled_at", _utc(), nullable=True),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_sources")),
        sa.UniqueConstraint("source_url", name=op.f("uq_feed_sources_source_url")),
    )
    op.create_table(
        "feed_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_failures")),
    )
    op.create_index(op.f("ix_feed_failures_source_url"), "feed_failures", ["source_url"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_failures_source_url"), table_name="feed_failures")
    op.drop_table("feed_failures")
    op.drop_table("feed_sources")
