"""Receipt e-mail through the outbox, against a real SMTP server (aiosmtpd) on 127.0.0.1."""
from __future__ import annotations

import email
import email.policy
import socket
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus, Receipt, Role
from app.services.donations import ledger as donations
from app.services.receipts import mail as receipt_mail
from app.services.receipts import issuing as receipts
from app.timeutil import utcnow
from tests import factories


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def mail_config(app, monkeypatch, smtp_port, tmp_path):
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_USE_TLS": False,
                       "MAIL_USERNAME": None, "MAIL_TIMEOUT": 2, "MAIL_FOLDER": str(tmp_path / "mail"),
                       "MAIL_FROM": "Quỹ Bảo trợ trẻ em <quy@example.org>",
                       "MAIL_SEND_AFTER_COMMIT": "inline"}.items():
        monkeypatch.setitem(app.config, key, value)
    return app.config


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_issuing_queues_the_mail_in_the_same_transaction():
    donor = factories.donor(email="an@example.com")
    pending = factories.donation(donor, confirm=False)
    donations.confirm_in_tx(donations.lock_donation(pending.id), factories.SYSTEM)
    assert len(outbox()) == 1  # written in the issuing transaction, not yet committed
    db.session.rollback()
    assert outbox() == []  # rolled back together with the receipt

    donations.confirm_donation(pending.id, factories.SYSTEM)
    [message] = outbox()
    receipt = receipts.valid_receipt_for(pending.id)
    assert message.receipt_id == receipt.id and message.to_address == "an@example.com"
    assert message.status == OutboxStatus.PENDING.value  # tests send nothing unless asked
    assert receipt.number in message.subject


def test_no_address_no_mail():
    factories.donation(factories.donor(email=None))
    assert outbox() == []


def test_receipt_is_mailed_after_commit_with_the_pdf(mail_config, smtp_server):
    donor = factories.organization(email="ketoan@thep.example.com", tax_code="0201234567")
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)

    [sent] = smtp_server.messages
    assert sent["To"] == "ketoan@thep.example.com"
    assert sent["Subject"].startswith(f"Giấy chứng nhận ủng hộ số {receipt.number}")
    body = sent.get_body(("plain",)).get_content()
    assert "Kính gửi Công ty TNHH Thép Hải Phòng" in body
    assert "50.000.000\u00a0₫" in body
    assert f"http://localhost/receipts/verify/{receipt.verification_token}" in body
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == f"{receipt.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    [message] = outbox()
    assert message.status == OutboxStatus.SENT.value and message.attempts == 1
    assert message.sent_at is not None and message.last_error is None


def test_smtp_down_keeps_the_receipt_and_a_later_retry_delivers(mail_config, smtp_port, runner):
    # Nothing listens on smtp_port yet: the connection is refused.
    donation = factories.donation(factories.donor(email="an@example.com"), 2_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    assert receipt is not None and not receipt.is_void
    [message] = outbox()
    assert message.status == OutboxStatus.PENDING.value
    assert message.attempts == 1 and message.sent_at is None
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > utcnow() + timedelta(minutes=4)

    # Not due yet: cron leaves it alone.
    result = runner.invoke(args=["receipts", "send-pending"])
    assert "Đã gửi 0 thư" in result.output
    # Make it due, start the server, run the cron command.
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result = runner.invoke(args=["receipts", "send-pending"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "Đã gửi 1 thư" in result.output
    assert [m["To"] for m in inbox.messages] == ["an@example.com"]
    [message] = outbox()
    assert message.status == OutboxStatus.SENT.value and message.attempts == 2


def test_gives_up_after_max_attempts_and_staff_can_retry(mail_config, smtp_port, client, login_as,
                                                         monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    factories.donation(factories.donor(email="an@example.com"))
    [message] = outbox()
    receipt_mail.deliver(now=utcnow() + timedelta(days=1))
    [message] = outbox()
    assert message.status == OutboxStatus.FAILED.value and message.attempts == 2

    login_as(Role.ACCOUNTANT)
    page = client.get("/staff/receipts/mail")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "an@example.com" in text and "ConnectionRefusedError" in text and "Gửi lỗi" in text

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        response = client.post(f"/staff/receipts/mail/{message.id}/retry")
    finally:
        controller.stop()
    assert response.status_code == 302
    assert len(inbox.messages) == 1
    [message] = outbox()
    assert message.status == OutboxStatus.SENT.value
    assert "Không có thư gửi lỗi" in client.get("/staff/receipts/mail").get_data(as_text=True)


def test_without_mail_server_mail_is_written_to_a_folder(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "inline")
    donation = factories.donation(factories.donor(email="an@example.com"))
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "an@example.com"
    assert receipts.valid_receipt_for(donation.id).number in parsed["Subject"]
    assert outbox()[0].status == OutboxStatus.SENT.value


def test_background_thread_mode_sends_without_holding_the_caller(mail_config, smtp_server, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "thread")
    factories.donation(factories.donor(email="an@example.com"))
    db.session.commit()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not smtp_server.messages:
        time.sleep(0.05)
    assert [m["To"] for m in smtp_server.messages] == ["an@example.com"]
    for _ in range(100):
        if outbox()[0].status == OutboxStatus.SENT.value:
            break
        db.session.commit()
        time.sleep(0.05)
    assert outbox()[0].status == OutboxStatus.SENT.value


def test_a_receipt_voided_before_sending_is_not_mailed(mail_config, smtp_server, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "off")
    donation = factories.donation(factories.donor(email="an@example.com"))
    receipt = receipts.valid_receipt_for(donation.id)
    receipts.void_receipt(receipt.id, factories.SYSTEM, "Nhầm nhà hảo tâm")
    result = receipt_mail.deliver()
    assert result.cancelled == 1 and smtp_server.messages == []
    assert outbox()[0].status == OutboxStatus.CANCELLED.value


def test_staff_resend_and_reissue_mail_again(mail_config, smtp_server, client, login_as):
    donation = factories.donation(factories.donor(email="an@example.com"))
    receipt = receipts.valid_receipt_for(donation.id)
    login_as(Role.ACCOUNTANT)
    response = client.post(f"/staff/receipts/{receipt.id}/resend", data={"to": "ke.toan@example.org"})
    assert response.status_code == 302
    response = client.post(f"/staff/receipts/{receipt.id}/reissue", data={"reason": "Sai địa chỉ"})
    assert response.status_code == 302
    new = db.session.scalars(sa.select(Receipt).where(Receipt.replaces_id == receipt.id)).one()
    assert [(m["To"], m["Subject"].split(" — ")[0]) for m in smtp_server.messages] == [
        ("an@example.com", f"Giấy chứng nhận ủng hộ số {receipt.number}"),
        ("ke.toan@example.org", f"Giấy chứng nhận ủng hộ số {receipt.number}"),
        ("an@example.com", f"Giấy chứng nhận ủng hộ số {new.number}"),
    ]


def test_a_claimed_message_is_not_sent_twice(mail_config, smtp_server, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "off")
    factories.donation(factories.donor(email="an@example.com"))
    [message] = outbox()
    assert receipt_mail._claim(message.id, utcnow())  # another sender is busy with it
    assert receipt_mail.deliver().attempted == 0
    assert receipt_mail.deliver([message.id]).attempted == 0
    assert smtp_server.messages == []
    # A claim left by a crashed sender expires.
    assert receipt_mail.deliver(now=utcnow() + receipt_mail.CLAIM_FOR + timedelta(seconds=1)).sent == 1
    assert len(smtp_server.messages) == 1
    assert receipt_mail.deliver(now=utcnow() + timedelta(days=1)).attempted == 0
