"""E-mails that cannot wait in the outbox: the sign-in link and the new-address check.

Their link is a secret we keep only as a hash, so it is never written to the database;
the message is built and handed to the mail server right away: inline when
MAIL_SEND_AFTER_COMMIT is "inline" (tests), otherwise in a background thread, so the
response takes the same time whether or not an address is known.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app

from app.adapters import mailer
from app.i18n import current
from app.services.accounts import unsubscribe

LOG = logging.getLogger(__name__)


def send_now(to: str, subject: str, body: str) -> None:
    """Build and send at once; call it in the language the mail is written in (the footer
    and the Content-Language header follow it)."""
    app = current_app._get_current_object()
    settings = mailer.MailSettings.from_config(app.config)
    message = mailer.build_message(settings, to=to, subject=subject,
                                   body=unsubscribe.with_footer(body, to),
                                   headers=unsubscribe.headers_for(to), language=current())

    def deliver():
        try:
            mailer.send(settings, message)
        except mailer.MailError as error:  # the donor can ask for another link
            LOG.warning("account mail to %s failed: %s", to, error)

    if app.config.get("MAIL_SEND_AFTER_COMMIT") == "inline":
        deliver()
    else:
        threading.Thread(target=deliver, daemon=True, name="account-mail").start()
