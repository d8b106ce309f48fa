"""catalog registration and transfers (issue 12)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Art. 10–11: the record of a case registering a new catalog entry; while it is open its
    # resource id is reserved (a partial unique index: a closed one frees the id).
    op.create_table(
        'catalog_register_case',
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('owner_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('elements', sa.JSON(), nullable=False),
        sa.Column('collected', sa.Boolean(), nullable=False),
        sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('approved_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['owner_code'], ['department.code']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index(op.f('ix_catalog_register_case_owner_code'), 'catalog_register_case', ['owner_code'], unique=False)
    op.create_index('uq_catalog_register_open_resource', 'catalog_register_case', ['resource_id'], unique=True,
                    postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_catalog_register_open_resource', table_name='catalog_register_case')
    op.drop_index(op.f('ix_catalog_register_case_owner_code'), table_name='catalog_register_case')
    op.drop_table('catalog_register_case')
