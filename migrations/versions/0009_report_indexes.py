"""Indexes behind the reports (release day, first attempts, tracking, SLA starts)

Revision ID: 0009
Revises: 0006, 0007
Create Date: 2026-11-22 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: tuple[str, ...] = ("0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pass-fail, first-time-pass, outcome-releases: a range of release instants, read
    # without visiting the table for the aggregates.
    op.create_index(
        "ix_outcomes_released",
        "outcomes",
        ["released_at", "id"],
        postgresql_include=["kind", "grade", "release_method", "candidate_id", "element_id"],
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )
    op.create_index(
        "ix_outcomes_release_method",
        "outcomes",
        ["release_method", "released_at", "id"],
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )
    # first-time-pass: "is there an earlier non-void attempt of this candidate?"
    op.create_index(
        "ix_outcomes_attempts",
        "outcomes",
        ["candidate_id", "kind", "submitted_at", "id"],
        postgresql_where=sa.text("grade <> 'VOID'"),
    )
    # result-tracking (and the outcome lists): newest submissions of a kind first.
    op.create_index("ix_outcomes_submitted", "outcomes", ["kind", "submitted_at", "id"])
    op.create_index("ix_sla_instances_started", "sla_instances", ["started_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sla_instances_started", table_name="sla_instances")
    op.drop_index("ix_outcomes_submitted", table_name="outcomes")
    op.drop_index("ix_outcomes_attempts", table_name="outcomes")
    op.drop_index("ix_outcomes_release_method", table_name="outcomes")
    op.drop_index("ix_outcomes_released", table_name="outcomes")
