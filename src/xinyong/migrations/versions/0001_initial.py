"""Initial schema: subjects, catalogue, records, policy, access and the audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-06-15

Self-contained on purpose: no ``xinyong`` import. The model types are spelled out as what
they store: ``UTCDateTime`` is ``DateTime(timezone=True)`` (TIMESTAMPTZ on PostgreSQL) and
``JSONType`` is JSON, JSONB on PostgreSQL. Constraint names follow ``xinyong.db.NAMING``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("change_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_subject_id"), "audit_log", ["subject_id"], unique=False)
    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_items")),
        sa.UniqueConstraint("code", name=op.f("uq_catalogue_items_code")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("provides_data", sa.Boolean(), nullable=False),
        sa.Column("applies_data", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("foreign", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("code", name=op.f("uq_institutions_code")),
    )
    op.create_table(
        "policy_parameters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("value", _json(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_policy_parameters")),
    )
    op.create_table(
        "subject_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("conflict_key", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("detected_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_conflicts")),
        sa.UniqueConstraint("kind", "conflict_key", name=op.f("uq_subject_conflicts_kind")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("masked_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("normalised_name", sa.String(length=200), nullable=False),
        sa.Column("name_initials", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=4), nullable=True),
        sa.Column("legal_representative", sa.String(length=100), nullable=True),
        sa.Column("registration_authority", sa.String(length=100), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("registered_capital", sa.Double(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("person_key", name=op.f("uq_subjects_person_key")),
        sa.UniqueConstraint("uscc", name=op.f("uq_subjects_uscc")),
    )
    op.create_index(op.f("ix_subjects_kind"), "subjects", ["kind"], unique=False)
    op.create_index(op.f("ix_subjects_normalised_name"), "subjects", ["normalised_name"], unique=False)
    op.create_index(op.f("ix_subjects_region_code"), "subjects", ["region_code"], unique=False)
    op.create_table(
        "catalogue_item_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("providing_departments", _json(), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("natural_key", _json(), nullable=False),
        sa.Column("legal_basis_document", sa.String(length=300), nullable=False),
        sa.Column("legal_basis_article", sa.String(length=100), nullable=False),
        sa.Column("legal_basis_level", sa.String(length=20), nullable=False),
        sa.Column("sharing_class", sa.String(length=20), nullable=False),
        sa.Column("disclosure_class", sa.String(length=20), nullable=False),
        sa.Column("credit_nature", sa.String(length=10), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("min_publication_months", sa.Integer(), nullable=True),
        sa.Column("max_publication_months", sa.Integer(), nullable=True),
        sa.Column("evaluation_usable", sa.Boolean(), nullable=False),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["catalogue_items.id"],
            name=op.f("fk_catalogue_item_versions_item_id_catalogue_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_item_versions")),
        sa.UniqueConstraint("item_id", "version", name=op.f("uq_catalogue_item_versions_item_id")),
    )
    op.create_index(
        op.f("ix_catalogue_item_versions_item_id"), "catalogue_item_versions", ["item_id"], unique=False
    )
    op.create_table(
        "subject_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registration_authority", sa.String(length=100), nullable=False),
        sa.Column("seen_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_attestations_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_attestations")),
        sa.UniqueConstraint(
            "subject_id",
            "source",
            "name",
            "registration_authority",
            name=op.f("uq_subject_attestations_subject_id"),
        ),
    )
    op.create_index(
        op.f("ix_subject_attestations_subject_id"), "subject_attestations", ["subject_id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_users_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_users_institution_id_institutions")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_users_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scopes", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("item_version_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("natural_key", sa.String(length=300), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_records_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["item_version_id"],
            ["catalogue_item_versions.id"],
            name=op.f("fk_records_item_version_id_catalogue_item_versions"),
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], name=op.f("fk_records_submitted_by_users")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["records.id"], name=op.f("fk_records_supersedes_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    op.create_index(op.f("ix_records_decision_date"), "records", ["decision_date"], unique=False)
    op.create_index(op.f("ix_records_item_code"), "records", ["item_code"], unique=False)
    op.create_index(
        "ix_records_chain", "records", ["department_id", "item_code", "natural_key", "subject_id"], unique=False
    )
    op.create_index(op.f("ix_records_subject_id"), "records", ["subject_id"], unique=False)
    op.create_index(op.f("ix_records_supersedes_id"), "records", ["supersedes_id"], unique=False)
    op.create_table(
        "subject_conflict_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=False),
        sa.Column("decided_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conflict_id"],
            ["subject_conflicts.id"],
            name=op.f("fk_subject_conflict_decisions_conflict_id_subject_conflicts"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_subject_conflict_decisions_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_conflict_decisions")),
    )
    op.create_index(
        op.f("ix_subject_conflict_decisions_conflict_id"),
        "subject_conflict_decisions",
        ["conflict_id"],
        unique=False,
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop every table, dependents first (their indexes go with them)."""
    op.drop_table("web_sessions")
    op.drop_table("subject_conflict_decisions")
    op.drop_table("records")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("subject_attestations")
    op.drop_table("catalogue_item_versions")
    op.drop_table("subjects")
    op.drop_table("subject_conflicts")
    op.drop_table("policy_parameters")
    op.drop_table("institutions")
    op.drop_table("departments")
    op.drop_table("catalogue_items")
    op.drop_table("audit_log")
