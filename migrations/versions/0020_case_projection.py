"""the case projection (issue 14, helper 1)

One row per case and one per step awaited now, kept current by each case's workflow: the inbox,
the overdue list, pdw stuck, the daily digest and pdw show read these, not Temporal visibility.
A closed case's row outlives Temporal's retention (Art. 41: the yearly evaluation reads a year).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 22:10:00
"""
import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_view',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('case_type', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('status_zh', sa.String(), nullable=False),
        sa.Column('departments', sa.JSON(), nullable=False),
        sa.Column('awaiting', sa.JSON(), nullable=False),
        sa.Column('escalation', sa.Integer(), nullable=False),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.Column('stuck', sa.Boolean(), nullable=False),
        sa.Column('details', sa.String(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('opened_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_event_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('closed_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_case_view_open_last_event', 'case_view', ['closed_at', 'last_event_at'])
    op.create_index('ix_case_view_stuck', 'case_view', ['stuck', 'closed_at'])
    op.create_table(
        'case_party',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('dept_code', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_view.case_id']),
        sa.PrimaryKeyConstraint('case_id', 'dept_code'),
    )
    op.create_index('ix_case_party_dept', 'case_party', ['dept_code', 'case_id'])
    op.create_table(
        'case_step',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('step', sa.String(length=128), nullable=False),
        sa.Column('dept_code', sa.String(length=32), nullable=False),
        sa.Column('step_zh', sa.String(), nullable=False),
        sa.Column('article', sa.String(), nullable=False),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_view.case_id']),
        sa.PrimaryKeyConstraint('case_id', 'step'),
    )
    op.create_index('ix_case_step_inbox', 'case_step', ['dept_code', 'due_at'])
    op.create_index('ix_case_step_overdue', 'case_step', ['due_at', 'level'])


def downgrade() -> None:
    op.drop_table('case_step')
    op.drop_table('case_party')
    op.drop_table('case_view')
