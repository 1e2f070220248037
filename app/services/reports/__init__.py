"""Reports the fund owes (BRIEF "Reports the fund owes"): one plain data function per report,
the shared figures they are built from, and the documents they print as.

Pages, PDF/XLSX/CSV, the CLI and the API all read these functions; no figure is computed twice.
"""
