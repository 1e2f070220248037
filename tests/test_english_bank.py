"""Issue 17: the back office's bank transfers in English — the queue, a line and its
actions, statement import (preview, bad files and bad rows), accounts, layouts and the
layout editor — for a staff member who chose English. Statement contents, bank and account
names and the reasons recorded on lines are data and stay as they are; what is stored
(a line's reason, a statement's balance differences) stays Vietnamese whoever acted."""
from __future__ import annotations

import io
from datetime import datetime

import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.models import BankLine, BankStatementImport, Role
from app.services.audit import Actor
from app.services.bank import statements
from tests import bank_helpers as bh
from tests import bank_statements as gen
from tests import factories
from tests.test_english_pages import leftovers, stored_texts

ACTOR = Actor.system("tests")
ROWS = [
    (datetime(2026, 11, 20, 9, 15), None, 1_000_000, "ung ho quy tre em", "FT26324001", "NGUYEN VAN A"),
    (datetime(2026, 11, 20, 16, 40), 11_000, None, "Phi quan ly tai khoan", "FT26324003", None),
    (datetime(2026, 11, 21, 8, 5), None, 300_000, "CONG TY TNHH ABC UNG HO MO TIM", "FT26325001", "CONG TY TNHH ABC"),
]


def english(login_as, role=Role.ACCOUNTANT):
    user = login_as(role)
    user.locale = "en"
    db.session.commit()
    return user


def upload(client, data: bytes, name: str, **form):
    return client.post("/staff/bank/import", data={"file": (io.BytesIO(data), name), "layout": "auto", **form},
                       content_type="multipart/form-data")


def no_vietnamese(html: str, allowed: tuple[str, ...] = ()) -> None:
    """No Vietnamese in the page's own content (the header, with the role's name, is not ours)."""
    main = "<html>" + html[html.index("<main"):html.index("</main>") + len("</main>")] + "</html>"
    assert leftovers(main, [*stored_texts(), *allowed]) == []


def imported(rows=ROWS):
    statements.import_file(gen.xlsx(gen.table("mb", rows)), "mb.xlsx", ACTOR)
    db.session.expire_all()


def line(amount) -> BankLine:
    db.session.expire_all()
    return db.session.scalars(sa.select(BankLine).where(BankLine.amount == amount)).one()


def test_a_statement_that_cannot_be_read_is_refused_in_english(client, login_as):
    bh.account()
    english(login_as)
    response = upload(client, b"a,b\n1,2\n", "x.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Statement layout not recognised: a statement from Vietcombank, VietinBank" in html
    assert "Không nhận ra mẫu sao kê" not in html
    no_vietnamese(html)
    old_excel = upload(client, b"\xd0\xcf\x11\xe0 old excel", "x.xls").get_data(as_text=True)
    assert "Old Excel .xls files are not supported" in old_excel


def test_bad_rows_are_listed_in_english_with_their_numbers(client, login_as):
    bh.account()
    english(login_as)
    cells = gen.table("vietcombank", gen.sample_rows())
    cells[6][4] = "500.000,50"  # fractional đồng
    cells[7][1] = "32/13/2026"
    response = upload(client, gen.xlsx(cells), "x.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The file has 2 bad rows; nothing was saved." in html
    assert "Row 7: the amount 500.000,50 is not a whole number of dong" in html
    assert "Row 8: unreadable date: &#39;32/13/2026&#39; (dd/mm/yyyy needed)" in html
    no_vietnamese(html)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0


def test_the_preview_and_the_import_in_english_store_differences_in_vietnamese(client, login_as):
    bh.account()
    english(login_as)
    data = gen.xlsx(gen.table("mb", ROWS, closing=99_000_000))  # the bank's closing balance disagrees
    preview = upload(client, data, "mb.xlsx")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<strong>3 new</strong>, 0 already recorded" in html and "Import 3 new transactions" in html
    assert "Opening balance + credits − debits = 11,289,000, the bank prints a closing balance of 99,000,000" in html
    assert "1,000,000\u00a0₫" in html
    no_vietnamese(html)
    token = html.split('name="token" value="')[1].split('"')[0]
    done = client.post("/staff/bank/import/confirm", data={"token": token, "file_name": "mb.xlsx", "layout": "auto",
                                                           "account": "0011001234567"}, follow_redirects=True)
    assert "Statement imported: 3 new transactions out of 3 rows." in done.get_data(as_text=True)
    (record,) = db.session.scalars(sa.select(BankStatementImport)).all()
    assert record.differences == ["Số dư đầu kỳ + ghi có − ghi nợ = 11.289.000, ngân hàng in số dư cuối kỳ "
                                  "99.000.000: chênh 87.711.000."]
    queue = client.get("/staff/bank").get_data(as_text=True)  # the stored difference, read back in English
    assert "the bank prints a closing balance of 99,000,000: a difference of 87,711,000." in queue
    no_vietnamese(queue)


def test_the_queue_in_english_with_english_amounts(client, login_as):
    bh.account()
    imported()
    english(login_as)
    html = client.get("/staff/bank?state=all").get_data(as_text=True)
    assert "<h1 class=\"h3 mb-0\">Bank transfer reconciliation</h1>" in html
    assert "1,000,000\u00a0₫" in html and "1.000.000" not in html
    assert "Unmatched" in html and "Not a donation" in html and "Balance check (imported statements)" in html
    # the reasons recorded by the matcher (in Vietnamese) are read back in English
    assert "Debit (money out): not a donation." in html and 'lang="vi"' not in html.split("<main")[1]
    assert line(11_000).state_reason == "Ghi nợ (tiền ra): không phải khoản ủng hộ."
    no_vietnamese(html)
    vietnamese = login_as(Role.ACCOUNTANT)
    assert vietnamese.locale is None
    page = client.get("/staff/bank?state=all").get_data(as_text=True)
    assert "Đối chiếu chuyển khoản" in page and "1.000.000\u00a0₫" in page


def test_matching_a_line_by_hand_flashes_in_english(client, login_as):
    bh.account()
    imported()
    english(login_as)
    donor = factories.donor("Lê Văn C")
    target = line(300_000)
    page = client.get(f"/staff/bank/lines/{target.id}").get_data(as_text=True)
    assert "Match by hand" in page and "Bank transaction #" in page and "300,000\u00a0₫" in page
    no_vietnamese(page)
    done = client.post(f"/staff/bank/lines/{target.id}/match", data={"donor_id": str(donor.id)}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "The donation was recorded." in html and "Đã ghi nhận" not in html
    assert line(300_000).state == "matched"
    from app.services.audit_display import ACTION_LABELS  # the audit log's labels are translated with it

    no_vietnamese(html, tuple(str(label) for label in ACTION_LABELS.values()))
    refused = client.post(f"/staff/bank/lines/{target.id}/ignore", data={"reason": "interest"}, follow_redirects=True)
    assert "The transaction is already a donation: undo it first." in refused.get_data(as_text=True)
    missing = client.post(f"/staff/bank/lines/{target.id}/undo", data={"reason": ""}, follow_redirects=True)
    assert "Please enter the reason for the undo." in missing.get_data(as_text=True)
    assert client.post("/staff/bank/lines/999999/confirm").status_code == 404


def test_a_reason_chosen_in_english_is_stored_in_vietnamese(client, login_as):
    bh.account()
    imported([*ROWS, (datetime(2026, 11, 21, 8, 30), None, 1_234, "Tra lai tien gui", "FT26325002", None)])
    english(login_as)
    interest = line(1_234)
    page = client.get(f"/staff/bank/lines/{interest.id}").get_data(as_text=True)
    assert '<option value="interest">Deposit interest</option>' in page
    done = client.post(f"/staff/bank/lines/{interest.id}/ignore", data={"reason": "interest"}, follow_redirects=True)
    assert "Marked as not a donation." in done.get_data(as_text=True)
    assert line(1_234).state_reason == "Lãi tiền gửi"
    confirmed = client.post("/staff/bank/confirm", data={}, follow_redirects=True).get_data(as_text=True)
    assert "No transaction selected." in confirmed


def test_accounts_layouts_and_the_layout_editor_in_english(client, login_as):
    bh.account()
    english(login_as, Role.ADMIN)
    accounts = client.get("/staff/bank/accounts").get_data(as_text=True)
    assert "The Fund&#39;s bank accounts" in accounts or "The Fund's bank accounts" in accounts
    no_vietnamese(accounts)
    bad = client.post("/staff/bank/accounts", data={"bank_bin": "000000", "account_number": "1", "account_name": "X"})
    assert bad.status_code == 422
    layouts = client.get("/staff/bank/layouts").get_data(as_text=True)
    assert "No layouts yet." in layouts
    no_vietnamese(layouts)
    editor = client.post("/staff/bank/layouts/new", data={"name": "Không hợp lệ", "header_row": "x",
                                                          "amount_mode": "split", "action": "save"},
                         content_type="multipart/form-data")
    html = editor.get_data(as_text=True)
    assert editor.status_code == 422
    assert "Please check the fields marked below." in html and "Please enter a whole number." in html
    assert "Transaction date column" in html and "Two columns: credit and debit" in html
    no_vietnamese(html.replace("Không hợp lệ", ""))
    form = {"name": "acb", "label": "ACB", "amount_mode": "signed", "col_date": "ngay gd", "col_amount": "so tien",
            "col_memo": "C", "col_reference": "C", "date_formats": ["%d/%m/%Y"], "action": "save"}
    clash = client.post("/staff/bank/layouts/new", data=form, content_type="multipart/form-data").get_data(as_text=True)
    assert "Column C is declared for both “Description” and “Reference number”." in clash
    cells = [["ACB"], ["Số tài khoản: 0011001234567"], [], ["Ngày GD", "Diễn giải", "Số tiền"],
             ["20/11/2026", "ung ho", "1.000.000"], ["21/11/2026", "phi", "-5.000,50"]]
    tried = client.post("/staff/bank/layouts/new", data={**form, "col_reference": "", "action": "preview",
                                                         "file": (io.BytesIO(gen.csv_bytes(cells)), "acb.csv")},
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "The file has 1 bad row (on import, the whole file is refused):" in tried
    assert "Row 6: the amount -5.000,50 is not a whole number of dong" in tried
    assert "Heading row: <strong>4</strong>" in tried and "Transaction date: column <strong>A</strong>" in tried
    saved = client.post("/staff/bank/layouts/new", data={**form, "col_reference": "", "col_memo": "dien giai"},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Statement layout “acb” saved." in saved and "Transaction date:" in saved and "In use" in saved
    no_vietnamese(saved)
    from app.models import BankLayout

    layout_id = db.session.scalar(sa.select(BankLayout.id))
    edit = client.get(f"/staff/bank/layouts/{layout_id}").get_data(as_text=True)
    assert "Edit statement layout “acb”" in edit and "12/31/2026 (month before day)" in edit
    no_vietnamese(edit)
    off = client.post(f"/staff/bank/layouts/{layout_id}/active", data={"active": "0"}, follow_redirects=True)
    listed = off.get_data(as_text=True)
    assert "Statement layout “acb” deactivated." in listed and "Not in use" in listed and "Use again" in listed


def test_the_cli_speaks_cli_lang(runner, monkeypatch, tmp_path):
    bh.account()
    path = tmp_path / "x.xlsx"
    path.write_bytes(gen.xlsx(gen.table("mb", ROWS)))
    vietnamese = runner.invoke(args=["bank", "import", str(path), "--account", "123456789"])
    assert vietnamese.exit_code != 0 and "không phải tài khoản 123456789" in vietnamese.output
    monkeypatch.setenv("CLI_LANG", "en")
    g.pop("_flask_babel", None)  # a new process in real life: the tests share one app context
    english_run = runner.invoke(args=["bank", "import", str(path), "--account", "123456789"])
    assert english_run.exit_code != 0 and "not the chosen account 123456789" in english_run.output
    done = runner.invoke(args=["bank", "import", str(path)])
    assert done.exit_code == 0 and "3 new" in done.output  # the summary line stays English


def test_every_reason_the_matcher_and_the_accountant_write_reads_back_in_english(app):
    """The stored reasons (Vietnamese) of every kind, read back in English (reasons.py)."""
    from app.i18n import language
    from app.services.bank.reasons import shown, translate

    stored = {
        "Khớp mã chuyển khoản QBTE7K3M9XA. Số tiền nhận 500.000\u00a0₫ khác số đăng ký 1.000.000\u00a0₫: ghi nhận "
        "theo số tiền thực nhận. Mã đã hết hạn nhưng tiền vẫn đến: khôi phục và ghi nhận.":
            "Matches transfer code QBTE7K3M9XA. The amount received, 500,000\u00a0₫, differs from the pledged "
            "1,000,000\u00a0₫: recorded as received. The code had expired but the money still arrived: revived and "
            "recorded.",
        "Khớp mã ủng hộ hằng tháng QBTEM4NTHLY.": "Matches monthly giving code QBTEM4NTHLY.",
        "Tài khoản gửi 0123456789 đã ủng hộ trước đây; Nội dung nhắc chương trình “mo tim”.":
            "The sending account 0123456789 has given before; The description mentions the programme “mo tim”.",
        "Cán bộ xác nhận gợi ý (60%): Tên nhà hảo tâm có trong nội dung chuyển khoản.":
            "Suggestion confirmed by staff (60%): A donor's name is in the transfer description.",
        "Cán bộ khớp thủ công. Gặp trực tiếp": "Matched by hand by staff. Gặp trực tiếp",
        "Khác: chuyển nhầm từ quỹ khác": "Other: chuyển nhầm từ quỹ khác",
        "Lãi tiền gửi": "Deposit interest",
        "Đã hoàn tác: Nhầm nhà hảo tâm": "Undone: Nhầm nhà hảo tâm",
        "Không tìm thấy mã chuyển khoản hay nhà hảo tâm phù hợp.": "No matching transfer code or donor found.",
    }
    with app.test_request_context(), language("en"):
        assert {text: translate(text) for text in stored} == stored
        assert translate("Một lý do viết theo cách cũ.") is None
        old = shown("Một lý do viết theo cách cũ.")
        assert (old.text, old.translated) == ("Một lý do viết theo cách cũ.", False)
        from app.services.bank.reasons import difference

        assert difference("Dòng 12: số dư in 1.500.000 khác số dư tính được -2.000.") == \
            "Row 12: the printed balance 1,500,000 differs from the computed balance -2,000."
    with app.test_request_context(), language("vi"):
        assert shown("Lãi tiền gửi").text == "Lãi tiền gửi"
        assert difference("Dòng 12: số dư in 1.500.000 khác số dư tính được -2.000.").startswith("Dòng 12")


def test_the_monthly_reminder_and_lapse_notice_speak_the_donors_language(client):
    from app.models import OutboxMessage
    from app.services.bank import standing
    from tests.test_monthly_bank import at, from_account

    bh.account()
    gift = from_account(client, started=at(2026, 11, 10))
    subject, body = standing.reminder_text(gift, gift.standing_pledge, "2026-12")
    assert subject.startswith("Nhắc ủng hộ hằng tháng 12/2026") and "200.000\u00a0₫" in body
    gift.donor.language = "en"
    db.session.commit()
    subject, body = standing.reminder_text(gift, gift.standing_pledge, "2026-12")
    assert subject.startswith("Monthly giving reminder 12/2026 — ")
    assert body.startswith("Dear Hoàng Thị Lan,\n\n") and "give 200,000\u00a0₫ a month" in body
    assert f"Transfer description: {gift.standing_pledge.code}" in body and "Yours sincerely," in body
    standing._lapse(gift, ["2027-01", "2026-12"], at(2027, 2, 10))
    db.session.commit()
    notice = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("bank-lapse%"))).one()
    assert notice.subject == "Your monthly giving has been paused"
    assert "Paused because no bank transfer arrived for 2 months in a row (12/2026, 01/2027)." in notice.body
    assert gift.end_reason == "Ngừng vì 2 tháng liền không nhận được chuyển khoản (12/2026, 01/2027)."


def test_a_statement_import_mails_an_english_donors_receipt_in_english():
    """The bulk path (statement import) writes each receipt mail in its donor's language."""
    from app.models import OutboxMessage
    from app.services.bank.pledges import create_pledge
    from app.services.donations.online import DonationRequest
    from tests import bank_helpers as bh
    from tests import bank_statements as gen

    bh.account()
    factories.donor("Jane Smith", email="jane@example.com", language="en")
    factories.donor("Trần Văn Bình", email="binh@example.com")
    db.session.commit()
    actor = Actor.system("tests")
    codes = [create_pledge(DonationRequest(kind="individual", name=name, email=email, amount=500_000), actor,
                           minimum=10_000, expiry_days=7).code
             for name, email in (("Jane Smith", "jane@example.com"), ("Trần Văn Bình", "binh@example.com"))]
    rows = [(datetime(2026, 11, 20, 9, 15 + n), None, 500_000, f"MBVCB.452507740{n}.{code}.chuyen tien", f"FT2632400{n}",
             "NGUOI GUI") for n, code in enumerate(codes)]
    statements.import_file(gen.xlsx(gen.table("vietcombank", rows)), "vcb.xlsx", actor)
    mails = {m.to_address: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert mails["jane@example.com"].subject.startswith("Donation receipt No.") and "Dear Jane Smith" in mails["jane@example.com"].body
    assert mails["binh@example.com"].subject.startswith("Giấy chứng nhận ủng hộ số")


def test_a_pledge_made_on_the_english_site_gives_an_english_donor_when_the_statement_pays_it():
    from app.models import Donor, OutboxMessage, TransferPledge
    from app.services.bank.pledges import create_pledge
    from app.services.donations.online import DonationRequest
    from tests import bank_statements as gen

    bh.account()
    actor = Actor.system("tests")
    pledge = create_pledge(DonationRequest(kind="individual", name="Tom Baker", email="tom@example.com",
                                           amount=300_000, language="en"), actor, minimum=10_000, expiry_days=7)
    db.session.commit()
    assert db.session.get(TransferPledge, pledge.id).language == "en"
    rows = [(datetime(2026, 11, 20, 9, 15), None, 300_000, f"MBVCB.1.{pledge.code}.chuyen tien", "FT1", "TOM BAKER")]
    statements.import_file(gen.xlsx(gen.table("vietcombank", rows)), "vcb.xlsx", actor)
    donor = db.session.scalars(sa.select(Donor).where(Donor.email == "tom@example.com")).one()
    assert donor.language == "en"
    assert db.session.scalars(sa.select(OutboxMessage)).one().subject.startswith("Donation receipt No.")
