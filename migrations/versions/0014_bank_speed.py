"""Bank speed: restore ix_donors_email_lower on SQLite.

0012_donor_accounts altered `donors` in batch mode, which on SQLite rebuilds the table
and drops expression indexes it cannot reflect: the donor look-up by e-mail of every
online gift and bank webhook became a scan of all donors. PostgreSQL kept the index; IF
NOT EXISTS makes this a no-op there.

Revision ID: 0014_bank_speed
Revises: 0010_reports
Create Date: 2026-12-02 01:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0014_bank_speed"
down_revision = "0013_recurring_bank"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE INDEX IF NOT EXISTS ix_donors_email_lower ON donors (lower(email))")


def downgrade():
    pass  # the index belongs to 0009_bank's schema; it stays
