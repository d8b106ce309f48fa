"""rectification orders (issue 13, helper C)

Art. 46: the center proposes, the county government or 县大数据发展管理局 orders a department to
correct a failing; one row per case, which the yearly report (Art. 41) counts per department.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 20:00:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rectification_case',
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('dept_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('failings', sa.JSON(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column('proposed_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('authority_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('ordered_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('ordered_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('evidence_cases', sa.JSON(), nullable=False),
        sa.Column('correct', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('working_days', sa.Integer(), nullable=False),
        sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['dept_code'], ['department.code']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index(op.f('ix_rectification_case_dept_code'), 'rectification_case', ['dept_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rectification_case_dept_code'), table_name='rectification_case')
    op.drop_table('rectification_case')
