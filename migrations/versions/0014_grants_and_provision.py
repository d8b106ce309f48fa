"""providing uncollected data and grant expiry (issue 12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Art. 22: a share request may renew a grant; Art. 20: when uncollected data was provided.
    with op.batch_alter_table('share_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renews_grant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('provided_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('share_request', schema=None) as batch_op:
        batch_op.drop_column('provided_at')
        batch_op.drop_column('renews_grant_id')
