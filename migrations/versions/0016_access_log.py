"""the access log (issue 13, helper A)

Art. 25: every read of shared data a system reports (access_read, by batch: access_batch, once per
batch id), with its verdict against the grants (Art. 22); Art. 19: the sources' data-refresh events
(data_refresh); Art. 22: misuse cases, one case under review per using department and resource (a partial
unique index, so that two batches at once cannot open two).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 20:00:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.types

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString
OPEN_ONLY = sa.text("status = 'under_review'")  # models/access.py: the one case a bad read joins


def upgrade() -> None:
    op.create_table('access_batch',
    sa.Column('batch_id', AutoString(length=64), nullable=False),
    sa.Column('system', AutoString(length=64), nullable=False),
    sa.Column('kind', AutoString(length=16), nullable=False),
    sa.Column('received_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('digest', AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('access_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', AutoString(length=64), nullable=False),
    sa.Column('read_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reader_dept', AutoString(length=32), nullable=True),
    sa.Column('reader_person', AutoString(length=64), nullable=True),
    sa.Column('resource_id', AutoString(length=64), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('application_case_id', AutoString(length=64), nullable=True),
    sa.Column('verdict', AutoString(length=32), nullable=False),
    sa.Column('misuse_case_id', AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    for column in ('batch_id', 'read_at', 'misuse_case_id'):
        op.create_index(op.f(f'ix_access_read_{column}'), 'access_read', [column], unique=False)
    # Art. 25's queries by resource, grant and department, newest first, paged by (read_at, id).
    for name, column in (('resource_time', 'resource_id'), ('grant_time', 'grant_id'), ('reader_time', 'reader_dept')):
        op.create_index(f'ix_access_read_{name}', 'access_read', [column, 'read_at', 'id'], unique=False)
    op.create_table('data_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', AutoString(length=64), nullable=False),
    sa.Column('resource_id', AutoString(length=64), nullable=False),
    sa.Column('refreshed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    for column in ('batch_id', 'resource_id', 'refreshed_at'):
        op.create_index(op.f(f'ix_data_refresh_{column}'), 'data_refresh', [column], unique=False)
    op.create_table('misuse_case',
    sa.Column('case_id', AutoString(length=64), nullable=False),
    sa.Column('grantee_code', AutoString(length=32), nullable=False),
    sa.Column('resource_id', AutoString(length=64), nullable=False),
    sa.Column('source_code', AutoString(length=32), nullable=False),
    sa.Column('status', AutoString(length=32), nullable=False),
    sa.Column('outcome', AutoString(length=16), nullable=True),
    sa.Column('opened_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reads', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    for column in ('grantee_code', 'resource_id', 'source_code'):
        op.create_index(op.f(f'ix_misuse_case_{column}'), 'misuse_case', [column], unique=False)
    op.create_index('uq_misuse_case_open', 'misuse_case', ['grantee_code', 'resource_id'], unique=True,
                    postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY)


def downgrade() -> None:
    op.drop_table('misuse_case')
    op.drop_table('data_refresh')
    op.drop_table('access_read')
    op.drop_table('access_batch')
