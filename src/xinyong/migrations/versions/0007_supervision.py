"""Graded supervision: tier schemes per evaluation model, 双随机 draws and their inspection lists.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["evaluation_models.id"], name=op.f("fk_supervision_schemes_model_id_evaluation_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_schemes")),
        sa.UniqueConstraint("model_id", "version", name=op.f("uq_supervision_schemes_model_id")),
    )
    with op.batch_alter_table("supervision_schemes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_schemes_model_id"), ["model_id"], unique=False)

    op.create_table(
        "supervision_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_number", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("population_filter", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("subject_ceiling", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("population_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_supervision_draws_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["evaluation_models.id"], name=op.f("fk_supervision_draws_model_id_evaluation_models")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_supervision_draws_run_id_evaluation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["supervision_schemes.id"], name=op.f("fk_supervision_draws_scheme_id_supervision_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_draws")),
        sa.UniqueConstraint("plan_number", name=op.f("uq_supervision_draws_plan_number")),
    )
    with op.batch_alter_table("supervision_draws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_draws_department_id"), ["department_id"], unique=False)

    op.create_table(
        "supervision_draw_items",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("ratio", sa.Double(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["supervision_draws.id"], name=op.f("fk_supervision_draw_items_draw_id_supervision_draws")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_supervision_draw_items_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("draw_id", "position", name=op.f("pk_supervision_draw_items")),
    )
    with op.batch_alter_table("supervision_draw_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_draw_items_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("supervision_draw_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_draw_items_subject_id"))

    op.drop_table("supervision_draw_items")
    with op.batch_alter_table("supervision_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_draws_department_id"))

    op.drop_table("supervision_draws")
    with op.batch_alter_table("supervision_schemes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_schemes_model_id"))

    op.drop_table("supervision_schemes")
