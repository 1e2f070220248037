"""Reports (part B): two covering indexes on donations (bench/reports.py): the public
ledger's (sao kê, newest first, every filter column inside, so a page of /cong-khai/sao-ke
and /api/v1/ledger is read in order from the index alone) and the reports' (counted rows of
a period with programme, donor, channel, amount, reversal and case).

Revision ID: 0017_reports_b
Revises: 0010_reports
Create Date: 2026-12-02 01:20:00

"""
from alembic import op


revision = "0017_reports_b"
down_revision = "0015_bank_more"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.create_index("ix_donations_ledger", ["received_at", "id", "status", "amount", "channel",
                                                      "donor_id", "reverses_id"], unique=False)
        batch_op.create_index("ix_donations_reports", ["status", "received_at", "programme_id", "donor_id",
                                                       "channel", "amount", "reverses_id", "case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_index("ix_donations_reports")
        batch_op.drop_index("ix_donations_ledger")
