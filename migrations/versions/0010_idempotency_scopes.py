"""Idempotency keys scoped to caller, method and path, stored byte for byte, with expiry

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Stored answers are kept 24 h at most, so the old rows are dropped, not converted.
    op.drop_table("idempotent_requests")
    op.create_table(
        "idempotent_requests",
        sa.Column("principal", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", "scope"),
    )
    op.create_index("ix_idempotent_requests_expires_at", "idempotent_requests", ["expires_at"])
    op.create_table(
        "idempotent_changes",
        sa.Column("principal", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", "scope"),
    )
    op.create_index("ix_idempotent_changes_expires_at", "idempotent_changes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotent_changes_expires_at", table_name="idempotent_changes")
    op.drop_table("idempotent_changes")
    op.drop_index("ix_idempotent_requests_expires_at", table_name="idempotent_requests")
    op.drop_table("idempotent_requests")
    op.create_table(
        "idempotent_requests",
        sa.Column("principal", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key"),
    )
