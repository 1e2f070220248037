"""Demo data for `flask seed-demo`: fictional donors, gifts and cases. Not business rules."""
