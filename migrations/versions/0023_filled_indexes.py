"""Bank transfers (issue 13), continued: the indexes of donations and donors on columns most
rows leave empty (a gift's appeal, case, reversal and monthly gift; a donor's MST, phone and
the record it was merged into) become partial, WHERE the column IS NOT NULL, as bank_lines'
did in 0022: a statement import's tens of thousands of donations and donors write no index
entry for an empty value. Every look-up by value still uses them.

Revision ID: 0023_filled_indexes
Revises: 0022_bank_lines_partial
Create Date: 2026-12-03 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0023_filled_indexes"
down_revision = "0022_bank_lines_partial"
branch_labels = None
depends_on = None

_INDEXES = (
    ("donations", ("appeal_id", "case_id", "reverses_id", "recurring_gift_id")),
    ("donors", ("tax_code", "phone", "merged_into_id")),
)


def upgrade():
    for table, columns in _INDEXES:
        for column in columns:
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            where = sa.text(f"{column} IS NOT NULL")
            op.create_index(name, table, [column], postgresql_where=where, sqlite_where=where)


def downgrade():
    for table, columns in _INDEXES:
        for column in columns:
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column])
