"""the audit log as a hash chain: each row carries the hash of the one before it and its own

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types
from models.audit import GENESIS, chain_hash


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The table as this revision knows it, typed so that the rows read back as the model writes them.
audit_event = sa.table(
    'audit_event',
    sa.column('id', sa.Integer()),
    sa.column('case_id', sa.String()),
    sa.column('key', sa.String()),
    sa.column('event', sa.String()),
    sa.column('person_id', sa.String()),
    sa.column('at', models.types.UTCDateTime(timezone=True)),
    sa.column('detail', sa.JSON()),
    sa.column('recorded_at', models.types.UTCDateTime(timezone=True)),
    sa.column('prev_hash', sa.String()),
    sa.column('row_hash', sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    # The rows kept so far are chained as they stand, in id order: the chain vouches for them from now on.
    bind = op.get_bind()
    prev = GENESIS
    last_id = 0
    while True:
        rows = bind.execute(sa.select(audit_event).where(audit_event.c.id > last_id)
                            .order_by(audit_event.c.id).limit(1000)).mappings().all()
        for row in rows:
            digest = chain_hash(dict(row), prev)
            bind.execute(audit_event.update().where(audit_event.c.id == row['id'])
                         .values(prev_hash=prev, row_hash=digest))
            prev, last_id = digest, row['id']
        if len(rows) < 1000:
            break

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
