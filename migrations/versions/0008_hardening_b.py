"""Hardening: users.session_version (ends every session of a user on sign-out, password
change and deactivation).

Revision ID: 0008_hardening_b
Revises: 0007_hardening_a
"""
from alembic import op
import sqlalchemy as sa


revision = "0008_hardening_b"
down_revision = "0007_hardening_a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_version")
