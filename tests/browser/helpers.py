"""Steps the browser tests share."""
import json
import urllib.request

from tests import factories


def sign_in(page, url, email):
    """Sign a staff member in through the login form and wait for the dashboard."""
    page.goto(url + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(url + "/staff/")


def start_mail_inbox(app):
    """Point the live server's mail at a local SMTP server, sending right after each commit.
    Returns (inbox, stop); stop() restores the settings and stops the server."""
    from aiosmtpd.controller import Controller

    from tests.test_receipt_mail import Inbox, free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_SEND_AFTER_COMMIT")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_SEND_AFTER_COMMIT="inline")

    def stop():
        app.config.update(saved)
        controller.stop()

    return inbox, stop


def notify_transfer(live_server, txn: int, content: str, amount: int, when: str = "2026-11-20 09:15:00") -> None:
    """The bank's notification of an incoming transfer, signed as SePay signs it, posted to
    the live server's webhook; asserts it was applied."""
    body = json.dumps({"id": txn, "gateway": "VCB", "transactionDate": when, "accountNumber": "0011001234567",
                       "content": content, "transferType": "in", "transferAmount": amount,
                       "referenceCode": f"FT{txn}"}).encode()
    key = live_server.app.config["SEPAY_DEMO_API_KEY"]
    request = urllib.request.Request(live_server.url + "/payments/sepay/webhook", data=body, method="POST",
                                     headers={"Authorization": f"Apikey {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read())["success"] is True
