"""The audit log reads in Vietnamese (issue 12, item 29): every action code the code base
writes has a label, tables have names, objects link to their staff page for the roles that
may open it, and before/after is a small "field: old → new" table with money formatted."""
from __future__ import annotations

import ast
from pathlib import Path

from flask import g
from flask_login import login_user

from app.blueprints.staff.audit_log import entity_url
from app.extensions import db
from app.models import AuditEntry, Role
from app.services import audit_display
from app.services.cases import workflow as cases
from app.services.donations.ledger import reverse_donation
from tests import factories
from tests.case_helpers import CHILD, make_case, staff

APP = Path(__file__).resolve().parent.parent / "app"


def written_action_codes() -> tuple[set[str], list[str]]:
    """Every action passed to audit.record(actor, action, …) under app/; and the calls whose
    action is not spelled out (a variable or an f-string): those cannot be checked."""
    codes, unknown = set(), []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func) in ("audit.record", "record")):
                continue
            if ast.unparse(node.func) == "record" and path.name != "audit.py":
                continue
            action = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "action"), None)
            if action is None:
                continue
            parts = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for part in parts:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    codes.add(part.value)
                else:
                    unknown.append(f"{path.relative_to(APP)}:{node.lineno}: {ast.unparse(part)}")
    return codes, unknown


def test_every_action_code_written_has_a_vietnamese_label():
    codes, unknown = written_action_codes()
    assert unknown == [], "spell the action code out, so it can be labelled"
    assert len(codes) > 80  # the collector really finds them
    assert sorted(codes - set(audit_display.ACTION_LABELS)) == []
    assert sorted(set(audit_display.ACTION_LABELS) - codes) == []  # no label for a code no longer written


def test_every_table_has_a_vietnamese_name():
    assert sorted(set(db.metadata.tables) - set(audit_display.ENTITY_LABELS)) == []


def test_before_after_reads_as_field_old_new():
    rows = audit_display.changes({"status": "confirmed", "amount": 5_000_000},
                                 {"status": "reversed", "amount": 3_000_000, "anonymous": True}, "donations")
    assert [(r.label, r.old, r.new) for r in rows] == [
        ("Trạng thái", "Đã xác nhận", "Đã đảo bút toán"),
        ("Số tiền", "5.000.000\u00a0₫", "3.000.000\u00a0₫"),
        ("Ẩn danh", "", "có")]
    assert audit_display.changes({"state": "proposed"}, {"state": "approved"}, "cases")[0].new == "Đã phê duyệt"


def test_the_page_shows_labels_links_and_changes_not_codes_and_json(client, login_as):
    login_as(Role.DIRECTOR)
    donation = factories.donation(factories.donor("Phạm Thị Mai"), 5_000_000)
    reverse_donation(donation.id, factories.SYSTEM, reason="Nhập nhầm")
    case = make_case("proposed")
    actor, role = staff(Role.DIRECTOR)
    cases.transition_case(case.id, "approved", actor, role, approved_amount=40_000_000)
    case_id = case.id
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "Xác nhận khoản ủng hộ" in page and "Đảo bút toán / hoàn tiền" in page and "Chuyển bước hồ sơ" in page
    assert ">donation.confirm<" not in page and "&#34;" not in page and "{&" not in page  # no raw codes, no JSON
    assert f'href="/staff/donations/{donation.id}"' in page and f'href="/staff/cases/{case_id}"' in page
    assert "Khoản ủng hộ #" in page and "Hồ sơ hỗ trợ #" in page  # not "donations", "cases"
    assert "<del>Đã đề xuất</del> → <ins>Đã phê duyệt</ins>" in page
    assert "40.000.000\u00a0₫" in page
    heart = factories.programme("heart").name  # case.create wrote its programme_id
    assert f'Chương trình</th>\n            <td>{heart}</td>' in page
    assert CHILD not in page  # the log never carries a child's identity
    assert '<option value="donations"' in page and ">Khoản ủng hộ</option>" in page  # filter labelled


def test_links_only_for_roles_that_may_open_the_page(app):
    entry = AuditEntry(actor_label="x", action="case.view", entity_type="cases", entity_id="7")
    gift = AuditEntry(actor_label="x", action="donation.confirm", entity_type="donations", entity_id="9")
    odd = AuditEntry(actor_label="x", action="settings.update", entity_type="fund_settings", entity_id="1")
    for role, case_link, gift_link in ((Role.DIRECTOR, True, True), (Role.VIEWER, False, True),
                                       (Role.CASE_WORKER, True, False)):
        user = factories.user(role.value)
        with app.test_request_context("/staff/audit"):
            g.pop("_login_user", None)
            login_user(user)
            assert (entity_url(entry) == "/staff/cases/7") is case_link, role
            assert (entity_url(gift) == "/staff/donations/9") is gift_link, role
            assert entity_url(odd) is None


def test_object_histories_show_labels_too(client, login_as):
    """The receipt, online gift and bank line pages list their own audit entries."""
    login_as(Role.ACCOUNTANT)
    donation = factories.donation(factories.donor("Phạm Thị Mai"), 5_000_000)
    from app.services.receipts.issuing import valid_receipt_for
    receipt_id = valid_receipt_for(donation.id).id
    page = client.get(f"/staff/receipts/{receipt_id}").get_data(as_text=True)
    assert "Cấp giấy chứng nhận" in page and "receipt.issue" not in page
