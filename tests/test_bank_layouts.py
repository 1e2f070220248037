"""Issue 13: the admin's statement-layout page — list, create, edit, deactivate, "try it on
a file" with parsed rows and bad rows by number; Vietnamese validation; audited; roles."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from app.adapters.statements import StatementError
from app.extensions import db
from app.models import AuditEntry, BankLayout, BankLine, Role
from app.services.audit import Actor
from app.services.bank import statements
from tests import bank_helpers as bh
from tests import bank_statements as gen

ACB = [["ACB - SAO KÊ TÀI KHOẢN"], ["Số tài khoản: 0011001234567"], [],
       ["Ngày GD", "Diễn giải", "Số tiền", "Số CT", "Người chuyển"],
       ["20/11/2026", "ung ho hoc bong", "1.000.000", "AC1", "NGUYEN VAN A"],
       ["21/11/2026", "phi sms", "-5.000", "AC2", ""],
       ["Tổng", None, "995.000"]]
FORM = {"name": "acb", "label": "ACB", "titles": "acb - sao ke", "header_row": "", "amount_mode": "signed",
        "col_date": "ngay gd", "col_amount": "so tien", "col_memo": "dien giai", "col_reference": "D",
        "col_sender_name": "nguoi chuyen", "date_formats": ["%d/%m/%Y"], "footer": "tong"}


def post(client, url, data, file_bytes=None, name="acb.csv"):
    payload = dict(data)
    if file_bytes is not None:
        payload["file"] = (io.BytesIO(file_bytes), name)
    return client.post(url, data=payload, content_type="multipart/form-data")


def test_admin_creates_tries_edits_and_deactivates_a_layout(client, login_as):
    bh.account()
    login_as(Role.ADMIN)
    assert "Chưa có mẫu nào" in client.get("/staff/bank/layouts").get_data(as_text=True)
    assert client.get("/staff/bank/layouts/new").status_code == 200

    # Try it on a file first: parsed rows, header row and mapping; nothing saved.
    page = post(client, "/staff/bank/layouts/new", {**FORM, "action": "preview"}, gen.csv_bytes(ACB))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đọc được 2 giao dịch" in html
    assert "Dòng tiêu đề: <strong>4</strong>" in html and "ung ho hoc bong" in html and "NGUYEN VAN A" in html
    assert "0011001234567" in html and "1.000.000\u00a0₫" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLayout)) == 0

    # A bad row is shown by its number.
    broken = [row[:] for row in ACB]
    broken[5][2] = "5.000,50"
    html = post(client, "/staff/bank/layouts/new", {**FORM, "action": "preview"}, gen.csv_bytes(broken)
                ).get_data(as_text=True)
    assert "Dòng 6:" in html and "không phải số nguyên đồng" in html and "ung ho hoc bong" in html

    # Save, then the import uses it by name and by auto-detection.
    response = post(client, "/staff/bank/layouts/new", {**FORM, "action": "save"})
    assert response.status_code == 302
    layout = db.session.scalars(sa.select(BankLayout)).one()
    assert layout.config["columns"]["amount"] == ["so tien"] and layout.is_active
    plan = statements.plan_statement(gen.csv_bytes(ACB), "acb.csv")
    assert plan.layout == "acb" and [(l.direction, l.amount) for l, _ in plan.new] == [
        ("credit", 1_000_000), ("debit", 5_000)]

    # Edit: a two-column layout needs both columns.
    response = post(client, f"/staff/bank/layouts/{layout.id}", {**FORM, "amount_mode": "split", "action": "save"})
    assert response.status_code == 422
    assert "Cần khai báo cả cột ghi có và cột ghi nợ" in response.get_data(as_text=True)
    response = post(client, f"/staff/bank/layouts/{layout.id}", {**FORM, "label": "ACB mới", "action": "save"})
    assert response.status_code == 302
    db.session.expire_all()
    assert layout.config["label"] == "ACB mới"

    # Deactivate: neither detected nor accepted by name; the list says so.
    assert client.post(f"/staff/bank/layouts/{layout.id}/active", data={"active": "0"}).status_code == 302
    with pytest.raises(StatementError, match="Không có mẫu sao kê “acb”"):
        statements.plan_statement(gen.csv_bytes(ACB), "acb.csv", layout="acb")
    assert "Ngừng dùng" in client.get("/staff/bank/layouts").get_data(as_text=True)
    actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "bank_layouts")))
    assert actions == {"bank_layout.create", "bank_layout.update", "bank_layout.deactivate"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0


@pytest.mark.parametrize("changes, message", [
    ({"name": "Tên có dấu"}, "Tên mẫu gồm 2–60 ký tự"),
    ({"name": "vietcombank"}, "trùng với mẫu có sẵn"),
    ({"name": "auto"}, "trùng với mẫu có sẵn"),
    ({"col_date": ""}, "Cần khai báo cột ngày giao dịch."),
    ({"col_memo": ""}, "Cần khai báo cột nội dung"),
    ({"col_amount": ""}, "Cần khai báo cột số tiền có dấu."),
    ({"date_formats": []}, "Chọn ít nhất một định dạng ngày."),
    ({"header_row": "0"}, "Dòng tiêu đề là một số từ 1 đến 200"),
    ({"header_row": "abc"}, "Vui lòng nhập một số nguyên."),
    ({"col_memo": "D"}, "Cột D được khai báo cho cả"),
    ({"col_memo": "x" * 501}, "Tối đa 500 ký tự"),
    ({"date_formats": ["%s"]}, "Vui lòng chọn trong danh sách."),
])
def test_bad_layouts_are_refused_in_vietnamese(client, login_as, changes, message):
    login_as(Role.ADMIN)
    response = post(client, "/staff/bank/layouts/new", {**FORM, **changes, "action": "save"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLayout)) == 0


def test_a_duplicate_name_and_a_file_that_is_not_a_statement(client, login_as):
    login_as(Role.ADMIN)
    assert post(client, "/staff/bank/layouts/new", {**FORM, "action": "save"}).status_code == 302
    response = post(client, "/staff/bank/layouts/new", {**FORM, "action": "save"})
    assert response.status_code == 422 and "Đã có mẫu sao kê tên “acb”." in response.get_data(as_text=True)
    html = post(client, "/staff/bank/layouts/new", {**FORM, "name": "acb2", "action": "preview"},
                b"\x00\x01binary", "x.csv").get_data(as_text=True)
    assert "không phải sao kê" in html or "không đọc được" in html
    html = post(client, "/staff/bank/layouts/new", {**FORM, "name": "acb2", "action": "preview"},
                gen.csv_bytes([["a", "b"], ["1", "2"]])).get_data(as_text=True)
    assert "Không tìm thấy dòng tiêu đề cột" in html
    response = post(client, "/staff/bank/layouts/new", {**FORM, "name": "acb2", "action": "preview"})
    assert response.status_code == 422 and "Vui lòng chọn tệp sao kê để thử." in response.get_data(as_text=True)


def test_roles(client, login_as):
    from app.services.bank import layouts

    layout = layouts.save_layout(Actor.system("tests"), layouts.LayoutInput(
        name="acb", amount_mode="signed", columns={"date": "A", "amount": "C", "memo": "B"},
        date_formats=["%d/%m/%Y"]))
    login_as(Role.ACCOUNTANT)
    html = client.get("/staff/bank/layouts").get_data(as_text=True)
    assert "acb" in html and "Thêm mẫu" not in html and "Sửa / thử" not in html
    assert client.get("/staff/bank/layouts/new").status_code == 403
    assert client.get(f"/staff/bank/layouts/{layout.id}").status_code == 403
    assert client.post(f"/staff/bank/layouts/{layout.id}/active", data={"active": "0"}).status_code == 403
    login_as(Role.DIRECTOR)
    assert client.get("/staff/bank/layouts").status_code == 403
    login_as(Role.ADMIN)
    assert client.get(f"/staff/bank/layouts/{layout.id}").status_code == 200
    assert client.get("/staff/bank/layouts/999999").status_code == 404
