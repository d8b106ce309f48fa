"""notice delivery: attempts, sent time, address

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:35:46.213733
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notice', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('notice', sa.Column('sent_at', models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('notice', sa.Column('address', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('attempts')

