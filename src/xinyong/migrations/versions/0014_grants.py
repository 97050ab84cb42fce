"""Subject authorisations (授权) for institutions, cross-border marking of catalogue items (filled in by the grants work).

Revision ID: 0014
Revises: 0013


Migrations are self-contained: they never import ``xinyong`` (the models move on, a
migration must keep meaning what it meant when it was written).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("catalogue_item_versions") as batch:
        batch.add_column(sa.Column("cross_border", sa.String(length=10), nullable=False, server_default="需出境评估"))
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("scope", _json(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"], name=op.f("fk_grants_institution_id_institutions")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_grants_subject_id_subjects")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_grants_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("number", name=op.f("uq_grants_number")),
    )
    with op.batch_alter_table("grants") as batch:
        batch.create_index("ix_grants_institution_subject", ["institution_id", "subject_id"], unique=False)
        batch.create_index(batch.f("ix_grants_subject_id"), ["subject_id"], unique=False)
    op.create_table(
        "grant_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("asked_key", sa.String(length=64), nullable=False),
        sa.Column("scope_item", sa.String(length=60), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("sections", _json(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], name=op.f("fk_grant_queries_grant_id_grants")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_grant_queries_institution_id_institutions")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_grant_queries_subject_id_subjects")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_grant_queries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_queries")),
    )
    with op.batch_alter_table("grant_queries") as batch:
        batch.create_index("ix_grant_queries_institution_at", ["institution_id", "at"], unique=False)
        batch.create_index(batch.f("ix_grant_queries_grant_id"), ["grant_id"], unique=False)
    op.create_table(
        "grant_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("raised_at", _utc(), nullable=False),
        sa.Column("until", _utc(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("distinct_subjects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_grant_alerts_institution_id_institutions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_alerts")),
    )
    with op.batch_alter_table("grant_alerts") as batch:
        batch.create_index("ix_grant_alerts_institution_until", ["institution_id", "until"], unique=False)
    op.create_table(
        "cross_border_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("scope_item", sa.String(length=60), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("decided_at", _utc(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_cross_border_reviews_institution_id_institutions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_border_reviews")),
    )
    with op.batch_alter_table("cross_border_reviews") as batch:
        batch.create_index("ix_cross_border_reviews_institution_item", ["institution_id", "scope_item"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cross_border_reviews") as batch:
        batch.drop_index("ix_cross_border_reviews_institution_item")
    op.drop_table("cross_border_reviews")
    with op.batch_alter_table("grant_alerts") as batch:
        batch.drop_index("ix_grant_alerts_institution_until")
    op.drop_table("grant_alerts")
    with op.batch_alter_table("grant_queries") as batch:
        batch.drop_index(batch.f("ix_grant_queries_grant_id"))
        batch.drop_index("ix_grant_queries_institution_at")
    op.drop_table("grant_queries")
    with op.batch_alter_table("grants") as batch:
        batch.drop_index(batch.f("ix_grants_subject_id"))
        batch.drop_index("ix_grants_institution_subject")
    op.drop_table("grants")
    with op.batch_alter_table("catalogue_item_versions") as batch:
        batch.drop_column("cross_border")
