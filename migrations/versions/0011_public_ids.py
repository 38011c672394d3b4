"""Opaque public ids for actions, induction discrepancies and outbox events

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0008"  # induction_discrepancies

# The integer keys stay (order, joins, the feed's position); bodies show these instead.
# The database draws them, so no writer (row by row, set-based or raw SQL) has to.
TABLES = ("actions", "induction_discrepancies", "outbox_events")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "public_id",
                postgresql.UUID(as_uuid=True),
                server_default=sa.text("gen_random_uuid()"),
                nullable=False,
            ),
        )
        op.create_unique_constraint(f"{table}_public_id_key", table, ["public_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"{table}_public_id_key", table, type_="unique")
        op.drop_column(table, "public_id")
