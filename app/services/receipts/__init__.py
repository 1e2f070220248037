"""Receipts: issuing and voiding (`issuing`), the PDF documents (`documents`) and their e-mail
(`mail`). Receipts depend on donations, never the reverse."""
