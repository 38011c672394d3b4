"""Reviewer deadlines: an assignment's due date and since when it is overdue

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("due_at", "overdue_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column(
            "assignments", sa.Column(column, sa.DateTime(timezone=True), nullable=True)
        )
    op.create_index("ix_assignments_due_at", "assignments", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_assignments_due_at", table_name="assignments")
    for column in COLUMNS:
        op.drop_column("assignments", column)
