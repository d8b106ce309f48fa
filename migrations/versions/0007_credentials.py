"""personal tokens and used hook signatures

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
import models.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('issued_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_token_person_id'), 'api_token', ['person_id'], unique=False)
    op.create_table('hook_signature',
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'signature')
    )
    op.create_index(op.f('ix_hook_signature_seen_at'), 'hook_signature', ['seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_hook_signature_seen_at'), table_name='hook_signature')
    op.drop_table('hook_signature')
    op.drop_index(op.f('ix_api_token_person_id'), table_name='api_token')
    op.drop_table('api_token')
