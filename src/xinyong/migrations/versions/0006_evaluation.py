"""Evaluation models and their versions, batch runs, per-subject results.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_evaluation_models_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_models")),
        sa.UniqueConstraint("code", name=op.f("uq_evaluation_models_code")),
    )
    op.create_table(
        "evaluation_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["evaluation_models.id"], name=op.f("fk_evaluation_model_versions_model_id_evaluation_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_model_versions")),
        sa.UniqueConstraint("model_id", "version", name=op.f("uq_evaluation_model_versions_model_id")),
    )
    with op.batch_alter_table("evaluation_model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_model_versions_model_id"), ["model_id"], unique=False)

    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("data_cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        sa.Column("grade_counts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["evaluation_model_versions.id"],
            name=op.f("fk_evaluation_runs_model_version_id_evaluation_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_runs_model_version_id"), ["model_version_id"], unique=False)

    op.create_table(
        "evaluation_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("indicator_values", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_results_run_id_evaluation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_results_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("run_id", "subject_id", name=op.f("pk_evaluation_results")),
    )
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_results_subject", ["subject_id", "run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_results_subject")

    op.drop_table("evaluation_results")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_runs_model_version_id"))

    op.drop_table("evaluation_runs")
    with op.batch_alter_table("evaluation_model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_model_versions_model_id"))

    op.drop_table("evaluation_model_versions")
    op.drop_table("evaluation_models")
