"""Donations: the ledger of money received (confirm, reverse, record), the queries over it,
online giving and bulk import."""
