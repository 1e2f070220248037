"""Sign-in, staff administration (accounts, settings, audit log), background jobs and the
command line in English (issue 17). Vietnamese stays the source and the default; these check
the English side: the messages, form errors and labels a reader of English gets."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g, render_template

from app.extensions import db
from app.models import FundSettings, Job, LoginAttempt, Role, User
from app.services import users
from app.services.audit import Actor
from app.timeutil import utcnow
from tests import factories
from tests.factories import PASSWORD


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


def english_admin(login_as, role=Role.ADMIN):
    user = login_as(role)
    user.locale = "en"
    db.session.commit()
    return user


# ------------------------------------------------------------------ signing in

def test_the_sign_in_page_has_the_switch_and_speaks_english(english):
    english_page = page(english.get("/auth/login"))
    assert 'hreflang="vi"' in english_page and '<html lang="en">' in english_page
    assert "Sign in" in english_page and "Keep me signed in" in english_page and "Đăng nhập" not in english_page


def test_the_sign_in_page_shows_the_switch_in_vietnamese_too(client):
    text = page(client.get("/auth/login"))
    assert 'href="/ngon-ngu/en?next=/auth/login"' in text and "Ghi nhớ đăng nhập" in text


def test_a_failed_sign_in_and_the_throttle_in_english(app, english):
    factories.user(Role.ACCOUNTANT.value, email="kt@example.org")
    wrong = english.post("/auth/login", data={"email": "kt@example.org", "password": "sai-mat-khau"})
    assert wrong.status_code == 401 and "Wrong email or password." in page(wrong)
    assert "không đúng" not in page(wrong)

    empty = english.post("/auth/login", data={"email": "kt@example.org", "password": ""})
    assert empty.status_code == 400 and "Please enter your password." in page(empty)

    attempt = db.session.get(LoginAttempt, "kt@example.org")
    attempt.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    locked = english.post("/auth/login", data={"email": "kt@example.org", "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed sign-ins. Please try again in 10 minutes." in page(locked)
    attempt.locked_until = utcnow() + timedelta(seconds=30)
    db.session.commit()
    waiting = english.post("/auth/login", data={"email": "kt@example.org", "password": PASSWORD})
    assert "seconds, then try again." in page(waiting)


def test_signing_in_as_a_user_whose_language_is_english_shows_english_at_once(client):
    user = factories.user(Role.DIRECTOR.value, email="ld@example.org", name="Lê Đức")
    user.locale = "en"
    db.session.commit()
    # A Vietnamese browser, no cookie: the account's own choice decides from the sign-in on.
    response = client.post("/auth/login", data={"email": "ld@example.org", "password": PASSWORD},
                           headers={"Accept-Language": "vi"}, follow_redirects=True)
    text = page(response)
    assert response.status_code == 200 and '<html lang="en">' in text
    assert "Welcome, Lê Đức." in text and "Xin chào" not in text


def test_changing_the_password_in_english(client, login_as):
    english_admin(login_as, Role.VIEWER)
    text = page(client.get("/auth/password"))
    assert "Current password" in text and "At least 10 characters." in text
    short = client.post("/auth/password", data={"current_password": PASSWORD, "new_password": "ngan",
                                                 "confirm": "ngan"})
    assert "The password must have at least 10 characters." in page(short)
    mismatch = client.post("/auth/password", data={"current_password": PASSWORD, "new_password": "mot-mat-khau-dai",
                                                    "confirm": "mat-khau-khac-han"})
    assert "The two new passwords do not match." in page(mismatch)


# ------------------------------------------------------------------ accounts, settings, audit

def test_the_account_list_in_english_shows_each_persons_language(client, login_as):
    admin = english_admin(login_as)
    factories.user(Role.CASE_WORKER.value, email="ctxh@example.org")
    text = page(client.get("/staff/users"))
    assert "Staff accounts" in text and "Case worker" in text and "Administrator" in text
    assert '<span lang="en">English</span>' in text and "Not chosen" in text
    created = client.post("/staff/users", data={"email": "ctxh@example.org", "name": "B", "role": "viewer",
                                                "password": "mot-mat-khau-dai"})
    assert "This email is already used by another account." in page(created)
    done = client.post("/staff/users", data={"email": "moi@example.org", "name": "C", "role": "viewer",
                                             "password": "mot-mat-khau-dai"}, follow_redirects=True)
    assert "Account moi@example.org created." in page(done)
    assert admin.locale == "en"


def test_deactivating_and_resetting_a_password_in_english(client, login_as):
    english_admin(login_as)
    other = factories.user(Role.VIEWER.value, email="xem@example.org", name="Người Xem")
    off = client.post(f"/staff/users/{other.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "Account xem@example.org deactivated." in page(off) and "Deactivated" in page(off)
    on = client.post(f"/staff/users/{other.id}/active", data={"active": "1"}, follow_redirects=True)
    assert "Account xem@example.org activated." in page(on)
    reset = page(client.post(f"/staff/users/{other.id}/password-reset"))
    assert "Password reset for Người Xem (xem@example.org)" in reset and "Temporary password" in reset


def test_the_account_list_in_vietnamese_is_unchanged(client, login_as):
    login_as(Role.ADMIN)
    text = page(client.get("/staff/users"))
    assert "Tài khoản cán bộ" in text and "Quản trị hệ thống" in text and "Ngôn ngữ" in text


def test_a_settings_validation_error_in_english(client, login_as):
    english_admin(login_as)
    settings = db.session.get(FundSettings, 1)
    form = {name: getattr(settings, name) or "" for name in (
        "fund_name", "operator_name", "parent_agency", "address", "phone", "email", "bank_name",
        "bank_account_number", "bank_account_name", "signatory_name", "signatory_title")}
    form.update(bank_bin="12", commendation_threshold="50.000.000", receipt_number_format="GCN-{year}")
    response = client.post("/staff/settings", data=form)
    text = page(response)
    assert response.status_code == 400
    assert "The bank BIN has 6 digits." in text
    assert "Invalid number pattern: it must have exactly one {year} and one {seq}" in text
    assert "Receipt number pattern" in text and "Save settings" in text
    form.update(bank_bin="970436", receipt_number_format="GCN-{year}-{seq:05d}")
    saved = client.post("/staff/settings", data=form, follow_redirects=True)
    assert "The Fund&#39;s settings have been saved." in page(saved) or "The Fund's settings have been saved." in page(saved)


def test_the_audit_log_in_english(client, login_as):
    admin = english_admin(login_as)
    actor = Actor.for_user(admin, "127.0.0.1")
    created = users.create_user("nv@example.org", "Nhân viên", "viewer", "mot-mat-khau-dai", actor)
    users.set_active(created.id, False, actor)
    text = page(client.get("/staff/audit"))
    assert "Audit log" in text and "Done by" in text
    assert "Create a staff account" in text and "Deactivate a staff account" in text
    assert "Staff accounts #" in text  # the table's label
    assert "Active" in text and "<del>yes</del> → <ins>no</ins>" in text
    assert "Tạo tài khoản cán bộ" not in text and "Khóa tài khoản cán bộ" not in text
    filtered = page(client.get("/staff/audit", query_string={"action": "user.create"}))
    assert '<option value="user.create" selected>Create a staff account</option>' in filtered


def test_audit_labels_are_vietnamese_by_default(client, login_as):
    admin = login_as(Role.ADMIN)
    users.create_user("nv@example.org", "Nhân viên", "viewer", "mot-mat-khau-dai", Actor.for_user(admin, None))
    assert "Tạo tài khoản cán bộ" in page(client.get("/staff/audit"))


def test_a_settings_refusal_flashed_in_any_language_links_to_the_settings(app, login_as):
    from flask_login import login_user

    from app.services.setup import SettingsIncomplete
    from app.i18n import language

    admin = factories.user(Role.ADMIN.value)
    for code, words in (("vi", "Mở Cài đặt"), ("en", "Open Settings")):
        with app.test_request_context("/staff/"), language(code):
            login_user(admin)
            from flask import flash

            flash(SettingsIncomplete("any sentence, in any language").message, "danger")
            flash("Đã lưu.", "success")
            html = render_template("_flashes.html")
        assert html.count('href="/staff/settings"') == 1 and words in html, html
        assert 'alert alert-danger alert-dismissible' in html and 'alert alert-success' in html


def test_the_settings_refusal_reads_as_one_english_sentence(placeholder_settings):
    from app.i18n import language
    from app.services.setup import SettingsIncomplete, require_settings

    with language("en"), pytest.raises(SettingsIncomplete) as refused:
        require_settings("cấp giấy chứng nhận")
    assert refused.value.message == (
        "Receipts cannot be issued yet: an administrator must fill in the signatory's name, the Fund's "
        "address in Settings (now empty or still the sample text).")
    with pytest.raises(SettingsIncomplete, match="Chưa thể chốt danh sách khen thưởng: quản trị viên cần cập nhật "
                                                  "họ tên người ký"):
        require_settings("chốt danh sách khen thưởng")


def test_the_settings_banner_in_english(client, login_as, placeholder_settings):
    english_admin(login_as)
    text = page(client.get("/staff/users"))
    assert "Settings incomplete:" in text and "Update in Settings" in text
    assert "the signatory&#39;s name, the Fund&#39;s address: empty or still the sample text" in text


@pytest.fixture
def placeholder_settings():
    from app.services.setup import DEFAULT_SETTINGS

    settings = db.session.get(FundSettings, 1)
    for name in ("signatory_name", "signatory_title", "address"):
        setattr(settings, name, DEFAULT_SETTINGS[name])
    db.session.commit()


# ------------------------------------------------------------------ background jobs

def test_a_job_page_in_english(client, login_as):
    user = english_admin(login_as, Role.ACCOUNTANT)
    job = Job(kind="donation_import", params={"file_name": "sao-ke.csv", "actor_label": user.email},
              state="failed", error="Tệp có 3 lỗi", attempts=1, done=5, total=10, created_by_id=user.id)
    finished = Job(kind="annual_statements", params={"year": 2025, "email": True, "actor_label": user.email},
                   state="done", attempts=1, done=4, total=4, result={"donors": 3, "emails_queued": 2,
                                                                       "without_email": 1},
                   result_key="jobs/1/sao-ke-2025.zip", result_name="sao-ke-2025.zip")
    db.session.add_all([job, finished])
    db.session.commit()
    text = page(client.get(f"/staff/jobs/{job.id}"))
    assert "Import donations from a file" in text and "Error" in text and "Run again" in text
    assert "Attempts" in text and "Started by" in text and "Progress" in text
    assert "Nhập khoản ủng hộ từ tệp" not in text
    done = page(client.get(f"/staff/jobs/{finished.id}"))
    assert "Annual statements for donors 2025" in done and "Donors with a statement:" in done
    assert "Emails queued: 2; without an email address: 1" in done and "Download the result (sao-ke-2025.zip)" in done
    listing = page(client.get("/staff/jobs"))
    assert "Background jobs" in listing and "Make the annual statements" in listing and "Done" in listing
    refused = client.post("/staff/jobs/statements", data={"year": "1990"})
    assert refused.status_code == 422 and "The year must be between 2000 and 2100." in page(refused)


# ------------------------------------------------------------------ the command line

def invoke(runner, *args):
    g.pop("_flask_babel", None)  # the CLI runs in the test's app context: choose the language afresh
    return runner.invoke(args=list(args))


def test_cli_output_follows_cli_lang(runner, monkeypatch):
    base = ["users", "create", "--name", "A", "--role", "viewer", "--password", "mot-mat-khau-dai"]
    assert "Đã tạo tài khoản a@example.org (viewer)." in invoke(runner, *base, "--email", "a@example.org").output
    assert "hoạt động" in invoke(runner, "users", "list").output
    assert "Đã gửi 0 thư" in invoke(runner, "receipts", "send-pending").output

    monkeypatch.setenv("CLI_LANG", "en")
    created = invoke(runner, *base, "--email", "b@example.org")
    assert created.exit_code == 0 and "Account b@example.org created (viewer)." in created.output
    duplicate = invoke(runner, *base, "--email", "B@example.org")
    assert duplicate.exit_code != 0 and "This email is already used by another account." in duplicate.output
    short = invoke(runner, "users", "create", "--email", "c@example.org", "--name", "C", "--role", "viewer",
                   "--password", "ngan")
    assert "The password must have at least 10 characters." in short.output
    assert " active " in invoke(runner, "users", "list").output
    deactivated = invoke(runner, "users", "deactivate", "b@example.org")
    assert "Account b@example.org deactivated." in deactivated.output
    assert "Account not found." in invoke(runner, "users", "deactivate", "nobody@example.org").output
    assert "Sent 0 mails, 0 failed, 0 cancelled." in invoke(runner, "receipts", "send-pending").output
    purge = invoke(runner, "accounts", "purge").output
    assert purge.startswith("Anonymised 0 records past their retention period")
    assert "not a valid moment (ISO 8601)" in invoke(runner, "accounts", "bank-monthly", "--at", "hôm qua").output
    assert db.session.query(User).filter_by(email="b@example.org").one().is_active_account is False
