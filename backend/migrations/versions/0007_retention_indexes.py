"""retention purge: indexes on the instants that stored answers, tokens and log-in failures
expire by

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_access_tokens_expires_at', 'access_tokens', ['expires_at'])
    op.create_index('ix_access_tokens_revoked_at', 'access_tokens', ['revoked_at'])
    op.create_index('ix_login_failures_at', 'login_failures', ['at'])
    op.create_index('ix_idempotency_records_created_at', 'idempotency_records', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_records_created_at', table_name='idempotency_records')
    op.drop_index('ix_login_failures_at', table_name='login_failures')
    op.drop_index('ix_access_tokens_revoked_at', table_name='access_tokens')
    op.drop_index('ix_access_tokens_expires_at', table_name='access_tokens')
