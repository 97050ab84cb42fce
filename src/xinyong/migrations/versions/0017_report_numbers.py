"""Report numbers reserved from a counter per prefix (issuing outside the write transaction); 核验码;
the reason a recognised certificate stopped being trusted.

Revision ID: 0017
Revises: 0016


Migrations are self-contained: they never import ``xinyong`` (the models move on, a
migration must keep meaning what it meant when it was written).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL_DIGITS = 6  # XYBG + 6-digit 行政区划代码 + year + a 6-digit serial


def upgrade() -> None:
    counters = op.create_table(
        "report_number_counters",
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_report_number_counters")),
    )
    # Reports issued before: numbering goes on after the highest serial of each prefix.
    last: dict[str, int] = {}
    for (number,) in op.get_bind().execute(sa.text("SELECT number FROM credit_reports")):
        prefix, serial = number[:-SERIAL_DIGITS], number[-SERIAL_DIGITS:]
        if serial.isdigit():
            last[prefix] = max(last.get(prefix, 0), int(serial))
    if last:
        op.bulk_insert(counters, [{"prefix": p, "last": n} for p, n in last.items()])
    with op.batch_alter_table("credit_reports") as batch:
        batch.add_column(sa.Column("check_code", sa.String(length=12), nullable=True))
    with op.batch_alter_table("report_trusted_keys") as batch:
        batch.add_column(sa.Column("revocation_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_trusted_keys") as batch:
        batch.drop_column("revocation_reason")
    with op.batch_alter_table("credit_reports") as batch:
        batch.drop_column("check_code")
    op.drop_table("report_number_counters")
