"""open scope: who asked, ways of access (issue 12)

Art. 32 counts people: each public request for data not in the open catalog (and each application
refused because the data is unopened, linked by its case id) carries person_key, a keyed hash of the
requester's identity number. Requests recorded before had none: each counts as one person, as they
were already counted one per contact. Art. 31 (四): an application's other way of access is described
in access_way_note.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

open_request = sa.table('open_request', sa.column('id', sa.Integer()), sa.column('person_key', sa.String()))


def upgrade() -> None:
    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_way_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    with op.batch_alter_table('open_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column('application_case_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    bind = op.get_bind()
    # One person per earlier request (they were kept one per contact): never merged with a hash.
    bind.execute(open_request.update().where(open_request.c.person_key.is_(None))
                 .values(person_key=sa.literal('legacy-') + sa.cast(open_request.c.id, sa.String())))
    with op.batch_alter_table('open_request', schema=None) as batch_op:
        batch_op.alter_column('person_key', existing_type=sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False)
        batch_op.create_index(batch_op.f('ix_open_request_person_key'), ['person_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_request_application_case_id'), ['application_case_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('open_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_request_application_case_id'))
        batch_op.drop_index(batch_op.f('ix_open_request_person_key'))
        batch_op.drop_column('application_case_id')
        batch_op.drop_column('person_key')

    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.drop_column('access_way_note')
