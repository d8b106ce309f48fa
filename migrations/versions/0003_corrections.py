"""correction reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:15:26.516643
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correction_report',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reporter_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('found', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expected', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('proof_provided', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('outcome_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('corrected_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reported_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('correction_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_report_reporter_code'), ['reporter_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_report_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_report_source_code'), ['source_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('correction_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_report_source_code'))
        batch_op.drop_index(batch_op.f('ix_correction_report_resource_id'))
        batch_op.drop_index(batch_op.f('ix_correction_report_reporter_code'))

    op.drop_table('correction_report')
