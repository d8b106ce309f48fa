"""a receipt per submission (issue 12 review)

Every request for listing gets a receipt of its own, whoever asked before (the answer never tells
whether that person did): several receipts may name the one open_request row that counts a person
(Art. 32), so public_receipt.request_id is indexed, no longer unique.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('public_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_receipt_request_id'))
        batch_op.create_index(batch_op.f('ix_public_receipt_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    # One receipt per request row again: the later receipts of a row keep their number and token but
    # lose the link (they read as "受理中" and hear no notices).
    op.get_bind().execute(sa.text(
        "UPDATE public_receipt SET request_id = NULL WHERE request_id IS NOT NULL AND number NOT IN "
        "(SELECT MIN(number) FROM public_receipt WHERE request_id IS NOT NULL GROUP BY request_id)"))
    with op.batch_alter_table('public_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_receipt_request_id'))
        batch_op.create_index(batch_op.f('ix_public_receipt_request_id'), ['request_id'], unique=True)
