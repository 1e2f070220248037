"""Sending e-mail: a small adapter over smtplib, or a folder of .eml files.

Configured from the app config (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD,
MAIL_USE_TLS, MAIL_FROM, MAIL_TIMEOUT). With no MAIL_SERVER, each message is written to
MAIL_FOLDER (instance/mail/ by default) as an .eml file, so a developer sees what would
have been sent. Either way a failure raises `MailError` with a short description.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path


class MailError(Exception):
    """Sending failed; the message says why (kept on the outbox row)."""


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str
    timeout: float
    folder: str

    @classmethod
    def from_config(cls, config) -> "MailSettings":
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config.get("MAIL_PORT") or 587),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            use_tls=bool(config.get("MAIL_USE_TLS")),
            sender=config.get("MAIL_FROM") or "no-reply@localhost",
            timeout=float(config.get("MAIL_TIMEOUT") or 5),
            folder=config.get("MAIL_FOLDER") or "instance/mail",
        )


def build_message(settings: MailSettings, *, to: str, subject: str, body: str,
                  attachments: list[tuple[str, bytes, str]] = (),
                  headers: dict[str, str] | None = None, language: str | None = None) -> EmailMessage:
    """A UTF-8 message; attachments are (file name, bytes, MIME type); `headers` adds
    more (List-Unsubscribe…); `language` ("vi", "en") is its Content-Language."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2].strip("> ") or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    if language:  # after the content: set_content() replaces every Content-* header
        message["Content-Language"] = language
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    if not settings.server:
        _write_eml(settings.folder, message)
        return
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError, socket.timeout, ssl.SSLError) as error:
        raise MailError(f"{type(error).__name__}: {error}"[:1000]) from error


def _write_eml(folder: str, message: EmailMessage) -> Path:
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        msgid = (message["Message-ID"] or "message").strip("<>").split("@")[0]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        target = path / f"{stamp}-{msgid}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(message))
        os.replace(partial, target)
    except OSError as error:
        raise MailError(f"Cannot write {folder}: {error}") from error
    return target
