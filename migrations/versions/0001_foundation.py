"""records of the foundation: departments, catalog, cases, calendar, notices, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 03:28:21.572305
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'key')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_case_id'), ['case_id'], unique=False)

    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', 'source')
    )
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('loaded_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('case_counter',
    sa.Column('process', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('process', 'year')
    )
    op.create_table('deadline_miss',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dept_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('due_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('statutory', sa.Boolean(), nullable=False),
    sa.Column('article', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'step')
    )
    with op.batch_alter_table('deadline_miss', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_miss_dept_code'), ['dept_code'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('person_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dept_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('article', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_case_id'), ['case_id'], unique=False)

    op.create_table('department',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('dept_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('person_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('due_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_time', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'step', 'level', 'person_id', 'channel')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_case_id'), ['case_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('mobile', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('dingtalk_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('data_resource',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_code'], ['department.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_resource_owner_code'), ['owner_code'], unique=False)

    op.create_table('role_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dept_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('since', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('until', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['dept_code'], ['department.code'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('role_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_assignment_dept_code'), ['dept_code'], unique=False)

    op.create_table('catalog_update_case',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('changed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('change_note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('due_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('catalog_update_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_update_case_owner_code'), ['owner_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_update_case_resource_id'), ['resource_id'], unique=False)

    op.create_table('catalog_version',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('encoding_format', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('provider_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('share_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('open_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('update_frequency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('share_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('share_basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('approved_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['data_resource.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id'),
    sa.UniqueConstraint('resource_id', 'version')
    )
    with op.batch_alter_table('catalog_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_version_resource_id'), ['resource_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('catalog_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_version_resource_id'))

    op.drop_table('catalog_version')
    with op.batch_alter_table('catalog_update_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_update_case_resource_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_update_case_owner_code'))

    op.drop_table('catalog_update_case')
    with op.batch_alter_table('role_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_assignment_dept_code'))

    op.drop_table('role_assignment')
    with op.batch_alter_table('data_resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_resource_owner_code'))

    op.drop_table('data_resource')
    op.drop_table('person')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_case_id'))

    op.drop_table('notice')
    op.drop_table('department')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_case_id'))

    op.drop_table('decision')
    with op.batch_alter_table('deadline_miss', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_miss_dept_code'))

    op.drop_table('deadline_miss')
    op.drop_table('case_counter')
    op.drop_table('calendar_year')
    op.drop_table('calendar_day')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_case_id'))

    op.drop_table('audit_event')
