"""Art. 32 listing: every objection with its own review, the center's proposal and the source's
answer (Art. 28 ¶3), the source's 保密审查 (Art. 39) and the center's concurrence (Art. 27)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # binds sqlmodel too; autogenerate writes sqlmodel.sql.sqltypes.AutoString
import models.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listing_objection',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('objector_label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('objector_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objector_contact', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objection', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('received_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('answer_reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('proposed_open_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('answered_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['listing_review.case_id'], ),
    sa.PrimaryKeyConstraint('case_id', 'seq')
    )
    with op.batch_alter_table('listing_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_objection_ref'), ['ref'], unique=False)

    # The one objection a case could hold so far becomes its first (its review's answer with it).
    op.execute(
        "INSERT INTO listing_objection (case_id, seq, ref, objector_label, objector_name, objector_contact, "
        "objection, received_at, answer, answer_reasons) "
        "SELECT case_id, 1, '1', '', objector_name, objector_contact, objection, started_at, "
        "CASE review_outcome WHEN 'upheld' THEN 'upheld' WHEN 'overturned' THEN 'suggested' END, review_reasons "
        "FROM listing_review WHERE objection IS NOT NULL"
    )
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_open_attribute', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('proposal_answer', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('dispute_case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('secrecy_reviewer', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('secrecy_reviewed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('secrecy_conclusion', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('concurred_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('concurred_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('listed_as', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.drop_column('objector_name')
        batch_op.drop_column('objector_contact')
        batch_op.drop_column('objection')
        batch_op.drop_column('review_outcome')
        batch_op.drop_column('review_reasons')


def downgrade() -> None:
    with op.batch_alter_table('listing_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('review_outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('objection', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('objector_contact', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('objector_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.drop_column('listed_as')
        batch_op.drop_column('concurred_at')
        batch_op.drop_column('concurred_by')
        batch_op.drop_column('secrecy_conclusion')
        batch_op.drop_column('secrecy_reviewed_on')
        batch_op.drop_column('secrecy_reviewer')
        batch_op.drop_column('dispute_case_id')
        batch_op.drop_column('proposal_answer')
        batch_op.drop_column('proposed_open_attribute')

    # Only the first objection of a case fits the old columns.
    op.execute(
        "UPDATE listing_review SET objector_name = o.objector_name, objector_contact = o.objector_contact, "
        "objection = o.objection, review_reasons = o.answer_reasons, "
        "review_outcome = CASE o.answer WHEN 'upheld' THEN 'upheld' WHEN 'suggested' THEN 'overturned' END "
        "FROM listing_objection o WHERE o.case_id = listing_review.case_id AND o.seq = 1"
    )
    with op.batch_alter_table('listing_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_objection_ref'))

    op.drop_table('listing_objection')
