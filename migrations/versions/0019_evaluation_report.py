"""the evaluation report (issue 13, helper D)

Art. 41: one row per year, a draft refreshed by the pdw-evaluation-report Schedule or the center,
then published with the center's improvement advice and frozen (figures and html kept as published).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 20:00:00
"""
import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evaluation_report',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('basic_guarantee', sa.Text(), nullable=True),
        sa.Column('remarks', sa.Text(), nullable=True),
        sa.Column('advice', sa.Text(), nullable=True),
        sa.Column('drafted_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('published_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('published_by', sa.String(length=64), nullable=True),
        sa.Column('html', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('year'),
    )


def downgrade() -> None:
    op.drop_table('evaluation_report')
