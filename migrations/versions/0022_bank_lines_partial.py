"""Bank transfers (issue 13): bank_lines' indexes on mostly empty columns (provider
transaction id, sender account, pledge, donation) become partial, WHERE the column IS NOT
NULL, so a statement import does not write an index entry for each empty value. The unique
provider transaction index keeps its meaning (NULLs never conflicted).

Revision ID: 0022_bank_lines_partial
Revises: 0021_pledge_language
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0022_bank_lines_partial"
down_revision = "0021_pledge_language"
branch_labels = None
depends_on = None

_INDEXES = (
    ("uq_bank_lines_provider_txn", ["provider", "provider_txn_id"], True),
    ("ix_bank_lines_sender_account", ["sender_account"], False),
    ("ix_bank_lines_pledge_id", ["pledge_id"], False),
    ("ix_bank_lines_donation_id", ["donation_id"], False),
)


def upgrade():
    # The provider transaction's uniqueness was a table constraint (on SQLite part of the
    # table itself: batch mode rebuilds the table without it).
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.drop_constraint("uq_bank_lines_provider_txn", type_="unique")
    for name, columns, unique in _INDEXES:
        if not unique:
            op.drop_index(name, table_name="bank_lines")
        where = sa.text(f"{columns[-1]} IS NOT NULL")
        op.create_index(name, "bank_lines", columns, unique=unique, postgresql_where=where, sqlite_where=where)


def downgrade():
    for name, columns, unique in _INDEXES:
        op.drop_index(name, table_name="bank_lines")
        if not unique:
            op.create_index(name, "bank_lines", columns, unique=False)
    with op.batch_alter_table("bank_lines", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_bank_lines_provider_txn", ["provider", "provider_txn_id"])
