"""Donor accounts (issue 16): sign-in links, the donor's own pages, personal-data rights,
e-mail preferences and unsubscribe, and monthly giving. See docs/donor-accounts.md."""
