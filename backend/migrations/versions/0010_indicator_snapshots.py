"""indicator snapshots of closed periods (cells per district, institution, month, category)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:50:00.000000

No backfill here: a period without a snapshot is counted live (exact, slower), and taking a
snapshot runs the indicator definitions of content/ against the city's calendar, which a
migration must not depend on. `flask --app backend indicators snapshot --from … --to …`
backfills set-based (one INSERT … SELECT per indicator and period); the nightly job keeps the
last months.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_snapshots',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('taken_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_snapshots')),
    sa.UniqueConstraint('code', 'period_start', 'period_end', name=op.f('uq_indicator_snapshots_code'))
    )
    op.create_table('indicator_cells',
    sa.Column('snapshot_id', sa.Uuid(), nullable=False),
    sa.Column('row', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('monthly', sa.Boolean(), nullable=False),
    sa.Column('district_code', sa.String(length=16), nullable=True),
    sa.Column('institution_id', sa.Uuid(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('numerator', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['indicator_snapshots.id'], name=op.f('fk_indicator_cells_snapshot_id_indicator_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'row', name=op.f('pk_indicator_cells'))
    )
    with op.batch_alter_table('indicator_cells', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_cells_period', ['period_start', 'code', 'monthly', 'period_end', 'category', 'district_code', 'numerator', 'denominator'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('indicator_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_cells_period')

    op.drop_table('indicator_cells')
    op.drop_table('indicator_snapshots')
