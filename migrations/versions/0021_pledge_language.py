"""Languages (issue 17), continued: the language a transfer pledge was made in
(transfer_pledges.language), for the donor record made when the money arrives.

Revision ID: 0021_pledge_language
Revises: 0020_reports_sqlite
Create Date: 2026-12-02 05:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0021_pledge_language"
down_revision = "0020_reports_sqlite"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("transfer_pledges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("transfer_pledges", schema=None) as batch_op:
        batch_op.drop_column("language")
