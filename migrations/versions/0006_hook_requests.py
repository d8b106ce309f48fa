"""hook requests by idempotency key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:48:00.504281
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hook_request',
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('process', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'idempotency_key')
    )


def downgrade() -> None:
    op.drop_table('hook_request')
