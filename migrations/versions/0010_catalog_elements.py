"""catalog entries carry their data items and share modes, an Art. 29 ground when forbidden, and the
source's Art. 39 保密审查 record; data classed forbidden without a ground becomes "unopened"

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

catalog_version = sa.table('catalog_version', sa.column('resource_id', sa.String()),
                           sa.column('items', sa.JSON()), sa.column('share_modes', sa.JSON()),
                           sa.column('open_attribute', sa.String()), sa.column('forbidden_ground', sa.String()))
data_resource = sa.table('data_resource', sa.column('id', sa.String()), sa.column('items', sa.JSON()),
                         sa.column('share_modes', sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table('catalog_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forbidden_ground', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('items', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('share_modes', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('secrecy_reviewer', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('secrecy_reviewed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('secrecy_conclusion', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    bind = op.get_bind()
    # Every version records the items and modes its resource offered when this revision ran.
    for row in bind.execute(sa.select(data_resource)).mappings().all():
        bind.execute(catalog_version.update().where(catalog_version.c.resource_id == row['id'])
                     .values(items=row['items'], share_modes=row['share_modes']))
    # No Art. 29 ground was ever recorded: such data was not opened, not found forbidden.
    bind.execute(catalog_version.update().where(catalog_version.c.open_attribute == 'forbidden',
                                                catalog_version.c.forbidden_ground.is_(None))
                 .values(open_attribute='unopened'))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(catalog_version.update().where(catalog_version.c.open_attribute == 'unopened')
                 .values(open_attribute='forbidden'))
    with op.batch_alter_table('catalog_version', schema=None) as batch_op:
        batch_op.drop_column('secrecy_conclusion')
        batch_op.drop_column('secrecy_reviewed_on')
        batch_op.drop_column('secrecy_reviewer')
        batch_op.drop_column('share_modes')
        batch_op.drop_column('items')
        batch_op.drop_column('forbidden_ground')
