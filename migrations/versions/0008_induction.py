"""induction registrations: reports, claims, discrepancies

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-22 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inductions',
    sa.Column('trn', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('trn')
    )
    op.create_table('induction_reports',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('trn', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reporter', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('appropriate_body_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('programme_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trn'], ['inductions.trn'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trn', 'seq')
    )
    op.create_index(op.f('ix_induction_reports_reporter'), 'induction_reports', ['reporter'], unique=False)
    op.create_table('induction_claims',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('trn', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('appropriate_body_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['trn'], ['inductions.trn'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_induction_claims_trn'), 'induction_claims', ['trn'], unique=False)
    op.create_index('uq_induction_claims_open', 'induction_claims', ['trn'], unique=True, postgresql_where=sa.text('released_at IS NULL'))
    op.create_table('induction_discrepancies',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('trn', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('school_value', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('school_reporter', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('ab_value', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('ab_reporter', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['trn'], ['inductions.trn'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index(op.f('ix_induction_discrepancies_trn'), 'induction_discrepancies', ['trn'], unique=False)
    op.create_index('uq_induction_discrepancies_open', 'induction_discrepancies', ['trn', 'field'], unique=True, postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_induction_discrepancies_open', table_name='induction_discrepancies')
    op.drop_index(op.f('ix_induction_discrepancies_trn'), table_name='induction_discrepancies')
    op.drop_table('induction_discrepancies')
    op.drop_index('uq_induction_claims_open', table_name='induction_claims')
    op.drop_index(op.f('ix_induction_claims_trn'), table_name='induction_claims')
    op.drop_table('induction_claims')
    op.drop_index(op.f('ix_induction_reports_reporter'), table_name='induction_reports')
    op.drop_table('induction_reports')
    op.drop_table('inductions')
