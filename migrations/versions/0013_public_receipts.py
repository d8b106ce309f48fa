"""receipts, public rate limits and applicants' notices (issue 12)

The public's receipts (number, token hash, the contact notices go to), the rate-limit counters the
API replicas share, the end of the Art. 32 objection window on the listing review, and the erasure
of applicants' personal data after their retention period (个人信息保护法): names, identity numbers
and contacts become nullable and each row records when it was purged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString
# The columns the purge erases, by table, with their type (made nullable here).
ERASED = {
    'open_application': [('applicant_name', AutoString()), ('id_number', AutoString(length=64)),
                         ('contact', AutoString())],
    'open_request': [('requester_name', AutoString()), ('contact', AutoString())],
}


def upgrade() -> None:
    op.create_table('public_receipt',
    sa.Column('number', AutoString(length=32), nullable=False),
    sa.Column('token_hash', AutoString(length=64), nullable=False),
    sa.Column('kind', AutoString(length=16), nullable=False),
    sa.Column('resource_id', AutoString(length=64), nullable=False),
    sa.Column('case_id', AutoString(length=64), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('objection_ref', AutoString(length=32), nullable=True),
    sa.Column('label', AutoString(), nullable=False),
    sa.Column('contact', AutoString(), nullable=True),
    sa.Column('notify', AutoString(length=8), nullable=False),
    sa.Column('idem', AutoString(length=64), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purged_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('public_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_receipt_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_receipt_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_receipt_request_id'), ['request_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_public_receipt_idem'), ['idem'], unique=True)

    op.create_table('rate_limit',
    sa.Column('bucket', AutoString(length=128), nullable=False),
    sa.Column('window_start', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window_start')
    )

    for table, columns in ERASED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.alter_column(name, existing_type=type_, nullable=True)
            batch_op.add_column(sa.Column('purged_at', models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('listing_objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objection_ends_at', models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.drop_column('objection_ends_at')
    with op.batch_alter_table('listing_objection', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
    bind = op.get_bind()
    for table, columns in ERASED.items():
        # Erased values cannot come back: an empty text stands where NOT NULL needs one.
        for name, _type in columns:
            bind.execute(sa.text(f"UPDATE {table} SET {name} = '' WHERE {name} IS NULL"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('purged_at')
            for name, type_ in columns:
                batch_op.alter_column(name, existing_type=type_, nullable=False)

    op.drop_table('rate_limit')
    with op.batch_alter_table('public_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_receipt_idem'))
        batch_op.drop_index(batch_op.f('ix_public_receipt_request_id'))
        batch_op.drop_index(batch_op.f('ix_public_receipt_case_id'))
        batch_op.drop_index(batch_op.f('ix_public_receipt_resource_id'))
    op.drop_table('public_receipt')
