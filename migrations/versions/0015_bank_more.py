"""Bank transfers, continued: admin-edited statement layouts can be deactivated.

Revision ID: 0015_bank_more
Revises: 0010_reports
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_bank_more"
down_revision = "0014_bank_speed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bank_layouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("bank_layouts", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("is_active")
