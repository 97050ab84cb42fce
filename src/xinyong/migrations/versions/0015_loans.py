"""信易贷: loan products, applications and outcomes (filled in by the loans work).

Revision ID: 0015
Revises: 0014


Migrations are self-contained: they never import ``xinyong`` (the models move on, a
migration must keep meaning what it meant when it was written).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("max_amount", sa.Double(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("rate_min", sa.Double(), nullable=False),
        sa.Column("rate_max", sa.Double(), nullable=False),
        sa.Column("unsecured", sa.Boolean(), nullable=False),
        sa.Column("target_kinds", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_loan_products_institution_id_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_products")),
        sa.UniqueConstraint("number", name=op.f("uq_loan_products_number")),
    )
    with op.batch_alter_table("loan_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_products_institution_id"), ["institution_id"], unique=False)

    op.create_table(
        "loan_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("industry", sa.String(length=4), nullable=True),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("grant_number", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("applied_month", sa.String(length=7), nullable=False),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("granted_amount", sa.Double(), nullable=True),
        sa.Column("granted_rate", sa.Double(), nullable=True),
        sa.Column("granted_term_months", sa.Integer(), nullable=True),
        sa.Column("granted_unsecured", sa.Boolean(), nullable=True),
        sa.Column("first_loan", sa.Boolean(), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdraw_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_loan_applications_institution_id_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["loan_products.id"], name=op.f("fk_loan_applications_product_id_loan_products")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_loan_applications_subject_id_subjects")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_loan_applications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_loan_applications_number")),
    )
    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_applications_applied_month"), ["applied_month"], unique=False)
        batch_op.create_index("ix_loan_applications_institution_status", ["institution_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_applications_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index("ix_loan_applications_subject_product", ["subject_id", "product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_applications_subject_product")
        batch_op.drop_index(batch_op.f("ix_loan_applications_subject_id"))
        batch_op.drop_index("ix_loan_applications_institution_status")
        batch_op.drop_index(batch_op.f("ix_loan_applications_applied_month"))

    op.drop_table("loan_applications")
    with op.batch_alter_table("loan_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_products_institution_id"))

    op.drop_table("loan_products")
