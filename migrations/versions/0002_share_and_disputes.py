"""share requests, grants and disputes; resource collection state, items and modes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:45:05.079230
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispute',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parent_case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parties', sa.JSON(), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_parent_case_id'), ['parent_case_id'], unique=False)

    op.create_table('grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('grantee_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('desensitised', sa.Boolean(), nullable=False),
    sa.Column('valid_from', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_grantee_code'), ['grantee_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_resource_id'), ['resource_id'], unique=False)

    op.create_table('share_request',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requester_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('share_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('collected', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('dispute_case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('share_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_request_requester_code'), ['requester_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_request_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_request_source_code'), ['source_code'], unique=False)

    op.add_column('data_resource', sa.Column('collected', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('data_resource', sa.Column('items', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('data_resource', sa.Column('share_modes', sa.JSON(), server_default='["verification", "query", "batch"]', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('data_resource', schema=None) as batch_op:
        batch_op.drop_column('share_modes')
        batch_op.drop_column('items')
        batch_op.drop_column('collected')

    with op.batch_alter_table('share_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_request_source_code'))
        batch_op.drop_index(batch_op.f('ix_share_request_resource_id'))
        batch_op.drop_index(batch_op.f('ix_share_request_requester_code'))

    op.drop_table('share_request')
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_resource_id'))
        batch_op.drop_index(batch_op.f('ix_grant_grantee_code'))

    op.drop_table('grant')
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_parent_case_id'))

    op.drop_table('dispute')
