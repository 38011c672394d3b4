"""SLA definitions (seeded), instances and their append-only log

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-22 02:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY = 86400
SEEDED = [
    ("result_complete_to_release", "Result complete to result released",
     "result.completed", "result.released", 14 * DAY),
    ("certification_complete_to_release", "Certification complete to certification released",
     "certification.completed", "certification.released", 14 * DAY),
    ("element_scheduled_to_outcome_release", "Element scheduled to outcome released",
     "element.scheduled", "result.released", 30 * DAY),
    ("candidate_time_in_epa", "Candidate time in EPA: gateway approved to certification released",
     "candidate.gateway_approved", "certification.released", 90 * DAY),
]


def upgrade() -> None:
    definitions = op.create_table(
        "sla_definitions",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("start_event", sa.String(64), nullable=False),
        sa.Column("stop_event", sa.String(64), nullable=False),
        sa.Column("pause_rule", sa.String(64), nullable=False),
        sa.Column("goal_s", sa.Integer(), nullable=False),
        sa.Column("warning_fractions", postgresql.JSONB(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", "version"),
    )
    op.create_table(
        "sla_instances",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("candidate_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("goal_s", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition", "subject"),
    )
    op.create_index("ix_sla_instances_definition", "sla_instances", ["definition"])
    op.create_index("ix_sla_instances_subject", "sla_instances", ["subject"])
    op.create_index("ix_sla_instances_candidate_id", "sla_instances", ["candidate_id"])
    op.create_table(
        "sla_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["sla_instances.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "seq"),
    )
    published = datetime(2026, 11, 22, tzinfo=UTC)
    op.bulk_insert(
        definitions,
        [
            {"code": code, "version": 1, "name": name, "start_event": start, "stop_event": stop,
             "pause_rule": "candidate_inactive", "goal_s": goal, "warning_fractions": [0.5, 0.75],
             "published_at": published}
            for code, name, start, stop, goal in SEEDED
        ],
    )


def downgrade() -> None:
    op.drop_table("sla_log")
    op.drop_index("ix_sla_instances_candidate_id", table_name="sla_instances")
    op.drop_index("ix_sla_instances_subject", table_name="sla_instances")
    op.drop_index("ix_sla_instances_definition", table_name="sla_instances")
    op.drop_table("sla_instances")
    op.drop_table("sla_definitions")
