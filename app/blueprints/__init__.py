"""Blueprints by audience: public site, auth, staff back office (/staff), payments, API."""
