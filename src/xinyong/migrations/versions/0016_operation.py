"""Authorised operation (授权运营) contracts and data-product releases; internet platform data partners
and the list events they pull (互联网平台数据合作).

Revision ID: 0016
Revises: 0015


Migrations are self-contained: they never import ``xinyong`` (the models move on, a
migration must keep meaning what it meant when it was written).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_feed_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_feed_state")),
    )
    op.create_table(
        "data_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("list_types", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminated_by", sa.String(length=64), nullable=True),
        sa.Column("termination_reason", sa.String(length=500), nullable=False),
        sa.Column("delivered_through", sa.Integer(), nullable=False),
        sa.Column("acknowledged_through", sa.Integer(), nullable=False),
        sa.Column("last_pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_data_partners_institution_id_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_partners")),
        sa.UniqueConstraint("number", name=op.f("uq_data_partners_number")),
    )
    with op.batch_alter_table("data_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_partners_institution_id"), ["institution_id"], unique=False)

    op.create_table(
        "operation_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("products", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("k_threshold", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminated_by", sa.String(length=64), nullable=True),
        sa.Column("termination_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_operation_contracts_institution_id_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_operation_contracts_number")),
    )
    with op.batch_alter_table("operation_contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operation_contracts_institution_id"), ["institution_id"], unique=False)

    op.create_table(
        "operation_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("suppressed_cells", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["operation_contracts.id"],
            name=op.f("fk_operation_releases_contract_id_operation_contracts"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_operation_releases_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_releases")),
    )
    with op.batch_alter_table("operation_releases", schema=None) as batch_op:
        batch_op.create_index("ix_operation_releases_contract", ["contract_id", "released_at"], unique=False)

    op.create_table(
        "partner_list_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=8), nullable=False),
        sa.Column("list_type", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("person", sa.Boolean(), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("exit_decision", sa.String(length=100), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["list_entries.id"], name=op.f("fk_partner_list_events_entry_id_list_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_list_events")),
        sa.UniqueConstraint("entry_id", "event", name=op.f("uq_partner_list_events_entry_id")),
    )
    with op.batch_alter_table("partner_list_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_list_events_list_type"), ["list_type"], unique=False)
        batch_op.create_index("ix_partner_list_events_open", ["event", "ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_list_events", schema=None) as batch_op:
        batch_op.drop_index("ix_partner_list_events_open")
        batch_op.drop_index(batch_op.f("ix_partner_list_events_list_type"))

    op.drop_table("partner_list_events")
    with op.batch_alter_table("operation_releases", schema=None) as batch_op:
        batch_op.drop_index("ix_operation_releases_contract")

    op.drop_table("operation_releases")
    with op.batch_alter_table("operation_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operation_contracts_institution_id"))

    op.drop_table("operation_contracts")
    with op.batch_alter_table("data_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_partners_institution_id"))

    op.drop_table("data_partners")
    op.drop_table("partner_feed_state")
