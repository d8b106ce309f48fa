"""open data applications, requests and listing reviews

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 04:18:49.522716
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listing_review',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('request_count', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('answer_reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objector_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objector_contact', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objection', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('review_outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('review_reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_review_resource_id'), ['resource_id'], unique=False)

    op.create_table('open_application',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('applicant_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('id_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('applicant_label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('access_way', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('open_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('access_mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('applied_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_application_resource_id'), ['resource_id'], unique=False)

    op.create_table('open_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requester_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('open_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_request_resource_id'), ['resource_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('open_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_request_resource_id'))

    op.drop_table('open_request')
    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_application_resource_id'))

    op.drop_table('open_application')
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_review_resource_id'))

    op.drop_table('listing_review')
