"""Reports speed: a partial covering index for the public ledger's name search (the folded
names of the donors who consented to be named and are not anonymous), so the search reads
a small index instead of the whole donors table.

Revision ID: 0018_reports_speed
Revises: 0017_reports_b
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0018_reports_speed"
down_revision = "0017_reports_b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.create_index(
            "ix_donors_named_search", ["search_text", "id", "public_listing_consent", "anonymous"], unique=False,
            sqlite_where=sa.text("public_listing_consent IS 1 AND anonymous IS 0"),
            postgresql_where=sa.text("public_listing_consent IS true AND anonymous IS false"))


def downgrade():
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.drop_index("ix_donors_named_search")
