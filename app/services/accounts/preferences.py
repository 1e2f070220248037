"""The unsubscribe link's effect: every optional e-mail to the address stops at once."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Donor
from app.services import audit
from app.services.accounts.unsubscribe import donors_with_email
from app.services.audit import Actor


def unsubscribe(email: str, *, ip: str | None = None) -> int:
    donors = list(db.session.scalars(sa.select(Donor).where(donors_with_email(email))))
    actor = Actor(None, f"donor:{email}", ip)
    for donor in donors:
        if donor.email_news or donor.email_reminders:
            audit.record(actor, "donor.unsubscribe", donor,
                         before={"email_news": donor.email_news, "email_reminders": donor.email_reminders},
                         after={"email_news": False, "email_reminders": False})
        donor.email_news = False
        donor.email_reminders = False
    db.session.commit()
    return len(donors)
