"""pregnancies: optional discharge date of the birth record

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pregnancies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discharged_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pregnancies', schema=None) as batch_op:
        batch_op.drop_column('discharged_on')
