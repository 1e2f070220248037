"""Bank transfers: pledges and their codes, bank lines from any source, matching and
reconciliation. See docs/bank-transfers.md."""
