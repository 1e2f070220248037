"""Languages (issue 17): a staff member's chosen language (users.locale) and a donor's
language for e-mails and the courtesy translation of receipts (donors.language).

Revision ID: 0019_languages
Revises: 0018_reports_speed
Create Date: 2026-12-02 04:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0019_languages"
down_revision = "0018_reports_speed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")
