"""Receipt e-mails through a transactional outbox.

`queue_receipt_mail` adds an `OutboxMessage` in the caller's transaction (the one that
issues the receipt), so the mail is committed with the receipt or not at all. After the
commit, the messages queued in it are sent (`MAIL_SEND_AFTER_COMMIT`: by the worker through
the task queue, in a background thread, inline, or not at all). Sending never runs inside a database transaction and
uses a short SMTP timeout; a failure leaves the message pending with the attempt count,
the error and the time of the next try, and `flask --app wsgi receipts send-pending`
(cron) retries what is due. After MAIL_MAX_ATTEMPTS failures a message is marked failed;
staff see failed and retrying messages at /staff/receipts/mail and can retry them.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.extensions import db
from app.i18n import _, current, language, language_of, money
from app.models import OutboxMessage, OutboxStatus, Receipt
from app.services import audit
from app.adapters import mailer
from app.services.accounts import unsubscribe
from app.services.audit import Actor
from app.timeutil import utcnow

LOG = logging.getLogger(__name__)
KIND_RECEIPT = "receipt"
KIND_DATA_REQUEST = "data_request"  # the answer to a personal-data request: always sent
KIND_NOTICE = "notice"  # optional mail (payment failed…): not sent to an unsubscribed address
KIND_STATEMENT = "statement"
KIND_REMINDER = "reminder"  # a monthly transfer reminder (optional; the VietQR attached)
OPTIONAL_KINDS = (KIND_NOTICE, KIND_REMINDER)
_SESSION_KEY = "outbox_ids_to_send"
_SESSION_DUE_KEY = "outbox_send_due"  # bulk paths: send whatever is due after the commit
DUE_ROUNDS = 200  # deliver_due: at most this many batches of 500 in one run
CLAIM_FOR = timedelta(minutes=10)  # longer than any send; a crashed sender's claim expires
RETRY_BASE = timedelta(minutes=5)


# --------------------------------------------------------------------------- queueing

def receipt_mail_text(receipt: Receipt, amount: int | None = None) -> tuple[str, str]:
    """In the donor's language (`Donor.language`), whoever issues the receipt.
    `amount`: the donation's net amount when the caller knows it (saves a query)."""
    from app.services.receipts.documents import net_amount

    donation = receipt.donation
    return receipt_mail_text_for(receipt.number, donation.shown_name,
                                 net_amount(donation) if amount is None else amount, receipt.verification_token,
                                 language=language_of(donation.donor))


def receipt_mail_text_for(number: str, donor_name: str, amount: int, token: str,
                          settings=None, language: str | None = None) -> tuple[str, str]:
    """Subject and body of a receipt mail from plain values, in `language` (None: Vietnamese)."""
    return receipt_mail_composer(settings)(number, donor_name, amount, token, language)


def receipt_mail_composer(settings=None):
    """`receipt_mail_text_for` with the fund's settings read once: a function
    (number, donor name, amount, verification token, language=None) → (subject, body), for
    bulk paths that queue thousands of mails. `language` is the donor's (`Donor.language`;
    None: Vietnamese); each language's wording is looked up once."""
    from app.services.receipts.documents import public_url
    from app.services.setup import get_settings

    settings = settings or get_settings()
    contact = " · ".join(part for part in (settings.address, settings.phone, settings.email) if part)
    verify = public_url("/receipts/verify/")
    wordings: dict[str, tuple[str, str]] = {}
    amounts: dict[tuple[str, int], str] = {}

    def wording(code: str) -> tuple[str, str]:
        found = wordings.get(code)
        if found is None:
            with language(code):
                found = wordings[code] = (
                    _("Giấy chứng nhận ủng hộ số %(number)s — %(fund)s"),
                    _("Kính gửi %(name)s,\n\n%(fund)s trân trọng cảm ơn Quý vị đã ủng hộ %(amount)s vì trẻ em có "
                      "hoàn cảnh đặc biệt.\n\nĐính kèm thư này là Giấy chứng nhận ủng hộ số %(number)s (tệp PDF).\n"
                      "Quý vị có thể kiểm tra giấy chứng nhận tại:\n%(link)s\n\nTrân trọng,\n%(operator)s\n"
                      "%(contact)s\n"))
        return found

    def compose(number: str, donor_name: str, amount: int, token: str,
                language_code: str | None = None) -> tuple[str, str]:
        code = "en" if language_code == "en" else "vi"
        subject, body = wording(code)
        shown = amounts.get((code, amount))
        if shown is None:
            with language(code):
                shown = amounts[(code, amount)] = money(amount)
        values = {"name": donor_name, "fund": settings.fund_name, "amount": shown, "number": number,
                  "link": f"{verify}{token}", "operator": settings.operator_name, "contact": contact}
        return subject % values, body % values

    return compose


def queue_receipt_mail(receipt: Receipt, *, to: str | None = None, created_by: str | None = None,
                       amount: int | None = None) -> OutboxMessage | None:
    """Queue the receipt's mail in the current transaction; None when there is no address.
    `amount`: the donation's net amount, when the caller knows it."""
    to = (to or receipt.donation.mail_address or "").strip()
    if not to:
        return None
    subject, body = receipt_mail_text(receipt, amount)
    message = OutboxMessage(kind=KIND_RECEIPT, receipt=receipt, to_address=to, subject=subject,
                            body=body, status=OutboxStatus.PENDING.value, next_attempt_at=utcnow(),
                            created_by=created_by)
    db.session.add(message)
    db.session.flush()
    _send_after_commit(message.id)
    return message


def queue_notice(to: str, subject: str, body: str, *, created_by: str | None = None,
                 kind: str = KIND_NOTICE, dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue an optional e-mail in the current transaction. It is cancelled at sending
    time if the address has unsubscribed by then. `dedupe_key` (unique) makes it once
    per thing; a reminder (KIND_REMINDER) gets its standing pledge's VietQR attached."""
    assert kind in OPTIONAL_KINDS
    to = (to or "").strip()
    if not to:
        return None
    message = OutboxMessage(kind=kind, to_address=to, subject=subject, body=body,
                            status=OutboxStatus.PENDING.value, next_attempt_at=utcnow(),
                            created_by=created_by, dedupe_key=dedupe_key)
    db.session.add(message)
    db.session.flush()
    _send_after_commit(message.id)
    return message


def statement_key(year: int, donor_id: int) -> str:
    return f"statement:{year}:{donor_id}"


def queue_statement_mails(year: int, donors: list[tuple[int, str, str]], *,
                          created_by: str | None = None) -> list[int]:
    """Queue the annual statement of `year` for each (donor id, name, address), in the
    current transaction, once per donor and year ever (`dedupe_key`): a resumed or repeated
    run queues nothing twice. The PDF is rendered when the mail is sent. Returns new ids."""
    from app.services.setup import get_settings

    keys = {statement_key(year, donor_id): (donor_id, name, to) for donor_id, name, to in donors}
    existing = set(db.session.scalars(sa.select(OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.dedupe_key.in_(list(keys)))))
    from app.models import Donor

    settings = get_settings()
    contact = " · ".join(part for part in (settings.address, settings.phone, settings.email) if part)
    # Each mail in its donor's language (the statement PDF itself stays Vietnamese).
    languages = dict(db.session.execute(sa.select(Donor.id, Donor.language).where(
        Donor.id.in_([donor_id for donor_id, _name, _to in keys.values()] or [0]))).all())
    wordings: dict[str, tuple[str, str]] = {}
    messages = []
    for key, (donor_id, name, to) in keys.items():
        if key in existing:
            continue
        code = "en" if languages.get(donor_id) == "en" else "vi"
        if code not in wordings:
            with language(code):
                wordings[code] = (
                    _("Sao kê ủng hộ năm %(year)s — %(fund)s"),
                    _("Kính gửi %(name)s,\n\n%(fund)s trân trọng cảm ơn Quý vị đã đồng hành cùng trẻ em có hoàn "
                      "cảnh đặc biệt trong năm %(year)s.\n\nĐính kèm thư này là sao kê các khoản ủng hộ của Quý vị "
                      "trong năm %(year)s (tệp PDF).\n\nTrân trọng,\n%(operator)s\n%(contact)s\n"))
        subject, body = wordings[code]
        values = {"name": name, "fund": settings.fund_name, "year": year,
                  "operator": settings.operator_name, "contact": contact}
        messages.append(OutboxMessage(
            kind=KIND_STATEMENT, to_address=to, dedupe_key=key, body=body % values,
            subject=subject % values,
            status=OutboxStatus.PENDING.value, next_attempt_at=utcnow(), created_by=created_by))
    db.session.add_all(messages)
    db.session.flush()
    for message in messages:
        _send_after_commit(message.id)
    return [m.id for m in messages]


def _send_after_commit(message_id: int) -> None:
    db.session().info.setdefault(_SESSION_KEY, []).append(message_id)


def send_due_after_commit() -> None:
    """Have every due message sent right after the current transaction commits, as
    MAIL_SEND_AFTER_COMMIT says. For bulk paths that insert outbox rows without ORM ids (a
    statement import confirms thousands of gifts): one task sends them all, instead of
    leaving them to cron or the worker's periodic run."""
    db.session().info[_SESSION_DUE_KEY] = True


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    ids = session.info.pop(_SESSION_KEY, None)
    due = session.info.pop(_SESSION_DUE_KEY, False)
    if due:
        dispatch(None)  # the due messages include these ids
    elif ids:
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)  # those rows are gone with the transaction
    session.info.pop(_SESSION_DUE_KEY, None)


def dispatch(ids: list[int] | None) -> None:
    """Send just-committed messages (`ids`, or None: every due message) as
    MAIL_SEND_AFTER_COMMIT says. Never raises: the receipt is committed already, and
    whatever is not sent now stays queued."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    mode = app.config.get("MAIL_SEND_AFTER_COMMIT", "thread")
    if mode == "off":
        return
    if mode == "queue":
        try:
            if ids is None:
                app.extensions["queue"].enqueue("mail.deliver_due")
            else:
                app.extensions["queue"].enqueue("mail.deliver", ids)
        except Exception:  # noqa: BLE001 - the queue is down: the rows stay, cron sends them
            LOG.exception("queueing receipt mail %s failed; left to `receipts send-pending`", ids)
    elif mode == "inline":
        _deliver_in_own_context(app, ids)
    else:
        threading.Thread(target=_deliver_in_own_context, args=(app, ids), daemon=True,
                         name="receipt-mail").start()


def _deliver_in_own_context(app, ids: list[int] | None) -> None:
    # A context of its own means a session of its own (Flask-SQLAlchemy scopes sessions
    # by app context), separate from the one that is just finishing its commit.
    try:
        with app.app_context():
            if ids is None:
                deliver_due()
            else:
                deliver(ids)
    except Exception:  # noqa: BLE001 - the outbox row keeps the mail; cron retries
        LOG.exception("sending receipt mail %s after commit failed", ids)


# --------------------------------------------------------------------------- sending

@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.cancelled


def retry_delay(attempts: int) -> timedelta:
    """5 min, 10, 20, 40 … after the 1st, 2nd, 3rd … failure."""
    return RETRY_BASE * (2 ** max(attempts - 1, 0))


def due_ids(now: datetime | None = None, limit: int = 200) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value,
               OutboxMessage.next_attempt_at <= now,
               sa.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def _claim(message_id: int, now: datetime) -> bool:
    """Take a message for sending; False if it is sent, failed or another sender has it."""
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id,
               OutboxMessage.status == OutboxStatus.PENDING.value,
               sa.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now))
        .values(locked_until=now + CLAIM_FOR)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def recipient_language(message: OutboxMessage) -> str:
    """The language a queued mail was written in: its donor's (the receipt's donor, the
    statement's donor, else the donor records of the address), never the sender's (a
    worker, cron, a staff member's thread). Its subject and body were composed in it when
    queued; what is added when it is sent (the unsubscribe footer) follows it."""
    from app.models import Donor

    if message.receipt is not None:
        return language_of(message.receipt.donation.donor)
    if message.kind == KIND_STATEMENT and message.dedupe_key:
        donor = db.session.get(Donor, int(message.dedupe_key.rsplit(":", 1)[1]))
        if donor is not None:
            return language_of(donor)
    return unsubscribe.language_for(message.to_address) or "vi"


def _build(message: OutboxMessage, settings: mailer.MailSettings):
    with language(recipient_language(message)):
        return _build_in_language(message, settings)


def _build_in_language(message: OutboxMessage, settings: mailer.MailSettings):
    from app.services.receipts.documents import receipt_filename, receipt_pdf

    attachments = []
    if message.receipt is not None:
        attachments.append((receipt_filename(message.receipt), receipt_pdf(message.receipt),
                            "application/pdf"))
    elif message.kind == KIND_STATEMENT:
        from app.services.receipts.documents import donor_statement_pdf

        _kind, year, donor_id = message.dedupe_key.split(":")
        attachments.append((*donor_statement_pdf(int(donor_id), int(year)), "application/pdf"))
    elif message.kind == KIND_REMINDER and (message.dedupe_key or "").startswith("bank-reminder:"):
        from app.services.bank.qr import reminder_qr

        qr = reminder_qr(message.dedupe_key)
        if qr is not None:
            attachments.append((*qr, "image/png"))
    # Every mail carries the unsubscribe link and headers, made when it is sent.
    return mailer.build_message(settings, to=message.to_address, subject=message.subject,
                                body=unsubscribe.with_footer(message.body, message.to_address),
                                attachments=attachments,
                                headers=unsubscribe.headers_for(message.to_address), language=current())


def deliver(ids: list[int] | None = None, *, now: datetime | None = None,
            limit: int = 200) -> DeliveryResult:
    """Send the given messages, or every message that is due. Each is claimed, built (the
    PDF rendered) and then sent with no database transaction open, and its outcome
    committed on its own: one bad address or an SMTP outage never blocks the others."""
    settings = mailer.MailSettings.from_config(current_app.config)
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8))
    result = DeliveryResult()
    db.session.commit()  # start clean: nothing of ours is left open while we send
    for message_id in (ids if ids is not None else due_ids(now, limit)):
        started = now or utcnow()
        if not _claim(message_id, started):
            continue
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        error: str | None = None
        cancel_reason = None
        if message.receipt is not None and message.receipt.is_void:
            cancel_reason = "Giấy chứng nhận đã bị hủy trước khi thư được gửi."
        elif message.kind in OPTIONAL_KINDS and not unsubscribe.accepts_optional_mail(message.to_address):
            cancel_reason = "Người nhận đã hủy nhận thư thông báo."
        if cancel_reason:
            message.status = OutboxStatus.CANCELLED.value
            message.last_error = cancel_reason
            message.locked_until = None
            db.session.commit()
            result.cancelled += 1
            continue
        try:
            email = _build(message, settings)
        except Exception as exc:  # noqa: BLE001 - kept on the row, retried later
            LOG.exception("building mail %s failed", message_id)
            email, error = None, f"Không tạo được thư: {type(exc).__name__}: {exc}"[:1000]
        db.session.commit()  # release the database before talking to the SMTP server
        if email is not None:
            try:
                mailer.send(settings, email)
            except mailer.MailError as exc:
                error = str(exc)
        message = db.session.get(OutboxMessage, message_id)
        message.attempts += 1
        message.locked_until = None
        if error is None:
            message.status = OutboxStatus.SENT.value
            message.sent_at = utcnow()
            message.last_error = None
            result.sent += 1
        else:
            LOG.warning("mail %s to %s failed (attempt %s): %s", message_id,
                        message.to_address, message.attempts, error)
            message.last_error = error
            message.next_attempt_at = started + retry_delay(message.attempts)
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED.value
            result.failed += 1
        db.session.commit()
    return result


def deliver_due(*, batch: int = 500) -> DeliveryResult:
    """Send every message that is due now, batch after batch, until none is left (or
    DUE_ROUNDS batches: the periodic run and cron take over from there). A message that
    fails is due again only later, so it is not retried within this run."""
    total = DeliveryResult()
    for _round in range(DUE_ROUNDS):
        result = deliver(limit=batch)
        total.sent += result.sent
        total.failed += result.failed
        total.cancelled += result.cancelled
        if result.attempted == 0:
            break
    return total


# --------------------------------------------------------------------------- staff

def retry_message(message_id: int, actor: Actor) -> OutboxMessage:
    """Staff's "send again": back in the queue, due now, sent right after the commit."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_("Không tìm thấy thư."))
    if message.status in (OutboxStatus.SENT.value, OutboxStatus.CANCELLED.value):
        raise Conflict(_("Thư này không còn chờ gửi; hãy dùng “Gửi lại email” ở giấy chứng nhận."))
    before = {"status": message.status, "attempts": message.attempts}
    message.status = OutboxStatus.PENDING.value
    message.next_attempt_at = utcnow()
    message.locked_until = None
    audit.record(actor, "mail.retry", message, before=before,
                 after={"status": message.status, "to": message.to_address})
    _send_after_commit(message.id)
    db.session.commit()
    return message


def _is_problem():
    """Failed, or pending after at least one failure."""
    return sa.or_(OutboxMessage.status == OutboxStatus.FAILED.value,
                  sa.and_(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.attempts > 0))


def problem_messages(limit: int = 200) -> list[OutboxMessage]:
    """Messages staff should look at (`_is_problem`), newest first."""
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(_is_problem())
        .order_by(OutboxMessage.created_at.desc()).limit(limit)))


def problem_count() -> int:
    """How many messages `problem_messages` lists (the dashboard's figure)."""
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(_is_problem())))


def outbox_counts() -> dict[str, int]:
    return {status: count for status, count in db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))}
