"""Bank statement files (XLSX/CSV from internet banking) → `ParsedLine`s.

Every layout — the five built in (layouts.py) and any an admin defines — is one mapping of
the same shape, read by one engine (engine.py): title words that recognise it, header
words for each column (bilingual headers with line breaks are folded first), whether blank
dates mean "same as above", whether the date cell also carries the bank reference, and the
words of opening/closing balance and total rows. Nothing here touches the database.
"""
from app.adapters.statements.engine import (  # noqa: F401
    Statement, StatementError, detect_layout, parse_amount, parse_statement, read_rows,
)
from app.adapters.statements.layouts import BUILT_IN, LAYOUT_KEYS  # noqa: F401
