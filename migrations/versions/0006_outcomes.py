"""outcomes: providers, employers, candidates, elements, outcomes, release batches, rebookings

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "providers",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("auto_release_outcomes", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "release_batches",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uln", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("employer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("standard", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("gateway_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_candidates_employer_id"), "candidates", ["employer_id"], unique=False)
    op.create_index(op.f("ix_candidates_provider_id"), "candidates", ["provider_id"], unique=False)
    op.create_index(op.f("ix_candidates_uln"), "candidates", ["uln"], unique=False)
    op.create_table(
        "release_batch_items",
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["release_batches.id"],
        ),
        sa.PrimaryKeyConstraint("batch_id", "position"),
    )
    op.create_index(
        "ix_release_batch_items_outcome",
        "release_batch_items",
        ["batch_id", "outcome_id"],
        unique=False,
    )
    op.create_index(
        "ix_release_batch_items_state",
        "release_batch_items",
        ["batch_id", "state", "position"],
        unique=False,
    )
    op.create_table(
        "elements",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("candidate_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_elements_candidate_id"), "elements", ["candidate_id"], unique=False)
    op.create_table(
        "outcomes",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("candidate_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("element_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("sampled_for_qa", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amendments", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("scheduled_release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule_owner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'RELEASED') = (released_at IS NOT NULL AND release_method IS NOT NULL)",
            name="ck_outcomes_released",
        ),
        sa.CheckConstraint(
            "kind = 'certification' OR element_id IS NOT NULL", name="ck_outcomes_el"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["element_id"],
            ["elements.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_outcomes_candidate_id"), "outcomes", ["candidate_id"], unique=False)
    op.create_index(op.f("ix_outcomes_element_id"), "outcomes", ["element_id"], unique=False)
    op.create_index("ix_outcomes_pending", "outcomes", ["status", "completed_at"], unique=False)
    op.create_table(
        "rebookings",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("result_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["outcomes.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "result_id"),
    )


def downgrade() -> None:
    op.drop_table("rebookings")
    op.drop_index("ix_outcomes_pending", table_name="outcomes")
    op.drop_index(op.f("ix_outcomes_element_id"), table_name="outcomes")
    op.drop_index(op.f("ix_outcomes_candidate_id"), table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index(op.f("ix_elements_candidate_id"), table_name="elements")
    op.drop_table("elements")
    op.drop_index("ix_release_batch_items_state", table_name="release_batch_items")
    op.drop_index("ix_release_batch_items_outcome", table_name="release_batch_items")
    op.drop_table("release_batch_items")
    op.drop_index(op.f("ix_candidates_uln"), table_name="candidates")
    op.drop_index(op.f("ix_candidates_provider_id"), table_name="candidates")
    op.drop_index(op.f("ix_candidates_employer_id"), table_name="candidates")
    op.drop_table("candidates")
    op.drop_table("release_batches")
    op.drop_table("providers")
    op.drop_table("employers")
