"""Monthly giving by bank transfer: standing pledges (transfer_pledges.recurring_gift_id),
the month each transfer paid (donations.recurring_month), recurring_gifts.due_from and donor_note.

Revision ID: 0013_recurring_bank
Revises: 0010_reports
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_recurring_bank"
down_revision = "0010_reports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recurring_gifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("donor_note", sa.Text(), nullable=True))

    with op.batch_alter_table("transfer_pledges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurring_gift_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_transfer_pledges_recurring_gift_id"), ["recurring_gift_id"])
        batch_op.create_foreign_key(batch_op.f("fk_transfer_pledges_recurring_gift_id_recurring_gifts"),
                                    "recurring_gifts", ["recurring_gift_id"], ["id"])

    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurring_month", sa.String(length=7), nullable=True))
        batch_op.create_unique_constraint("uq_donations_recurring_month", ["recurring_gift_id", "recurring_month"])


def downgrade():
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_donations_recurring_month", type_="unique")
        batch_op.drop_column("recurring_month")

    with op.batch_alter_table("transfer_pledges", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_transfer_pledges_recurring_gift_id_recurring_gifts"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_transfer_pledges_recurring_gift_id"), type_="unique")
        batch_op.drop_column("recurring_gift_id")

    with op.batch_alter_table("recurring_gifts", schema=None) as batch_op:
        batch_op.drop_column("donor_note")
        batch_op.drop_column("due_from")
