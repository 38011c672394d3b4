"""Induction outcomes: reports of kind `outcome`, and the status a closing one writes

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-02 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0008"  # the induction tables

# At most one outcome closes a teacher's induction (PASSED or FAILED), whatever the race.
CLOSING_INDEX = "uq_induction_reports_closing"


def upgrade() -> None:
    op.add_column(
        "inductions",
        sa.Column(
            "status",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            server_default="OPEN",
            nullable=False,
        ),
    )
    op.add_column("inductions", sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16)))
    op.add_column(
        "induction_reports", sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16))
    )
    op.add_column("induction_reports", sa.Column("completed_on", sa.Date()))
    op.create_index(
        CLOSING_INDEX,
        "induction_reports",
        ["trn"],
        unique=True,
        postgresql_where=sa.text("kind = 'outcome' AND outcome IN ('PASSED', 'FAILED')"),
    )


def downgrade() -> None:
    op.drop_index(CLOSING_INDEX, table_name="induction_reports")
    op.drop_column("induction_reports", "completed_on")
    op.drop_column("induction_reports", "outcome")
    op.drop_column("inductions", "outcome")
    op.drop_column("inductions", "status")
