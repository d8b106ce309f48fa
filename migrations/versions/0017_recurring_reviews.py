"""recurring reviews (issue 13, helper B)

Art. 28 ¶4, Art. 30 ¶2, Art. 19: the review cases the review Schedules open, one per kind, source
department and period (a unique constraint: a repeated or retried round opens nothing twice).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 20:00:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.types

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('review_case',
    sa.Column('case_id', AutoString(length=64), nullable=False),
    sa.Column('kind', AutoString(length=16), nullable=False),
    sa.Column('dept_code', AutoString(length=32), nullable=False),
    sa.Column('period', AutoString(length=16), nullable=False),
    sa.Column('resource_ids', sa.JSON(), nullable=False),
    sa.Column('status', AutoString(length=32), nullable=False),
    sa.Column('outcome', AutoString(length=16), nullable=True),
    sa.Column('opened_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dept_code'], ['department.code'], ),
    sa.PrimaryKeyConstraint('case_id'),
    sa.UniqueConstraint('kind', 'dept_code', 'period', name='uq_review_case_kind_dept_period')
    )
    op.create_index(op.f('ix_review_case_dept_code'), 'review_case', ['dept_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_case_dept_code'), table_name='review_case')
    op.drop_table('review_case')
