"""checklist sync

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checklist_syncs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('template_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('template_versions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('synced', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('cursor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_checklist_syncs_status'), 'checklist_syncs', ['status'], unique=False)
    op.create_table('checklist_sync_changes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('sync_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('application_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('assessment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['sync_id'], ['checklist_syncs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sync_id', 'assessment_id', 'section')
    )
    op.create_index('ix_checklist_sync_changes_sync', 'checklist_sync_changes', ['sync_id', 'kind', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_checklist_sync_changes_sync', table_name='checklist_sync_changes')
    op.drop_table('checklist_sync_changes')
    op.drop_index(op.f('ix_checklist_syncs_status'), table_name='checklist_syncs')
    op.drop_table('checklist_syncs')
