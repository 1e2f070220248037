"""How the audit log reads to a person (issue 12, item 29): labels for every action code and
table in the reader's language (lazy `_l` strings, Vietnamese source; issue 17), and
before/after as a small "field: old → new" table.

The log itself (`app/services/audit.py`) keeps stable English codes and JSON; this module only
translates them for the page. `tests/test_audit_display.py` collects every action code the
code base writes and fails when one has no label here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.i18n import _, _l, date_text, datetime_text, money
from app.models import Appeal, Programme
from app.models.account import RecurringStatus
from app.models.bank import LineState
from app.models.case import CaseState, DisbursementStatus
from app.models.donation import Channel, DonationStatus

ACTION_LABELS: dict[str, str] = {
    # Donations and receipts
    "donation.record": _l("Ghi nhận khoản ủng hộ"),
    "donation.confirm": _l("Xác nhận khoản ủng hộ"),
    "donation.reverse": _l("Đảo bút toán / hoàn tiền"),
    "donation.import": _l("Nhập khoản ủng hộ từ tệp"),
    "donation.flag": _l("Đánh dấu khoản ủng hộ cần kiểm tra"),
    "donation.donor_check": _l("Xử lý nhà hảo tâm của khoản trực tuyến"),
    "donation.online_start": _l("Bắt đầu ủng hộ trực tuyến"),
    "donation.online_failed": _l("Ủng hộ trực tuyến không thành công"),
    "donation.online_resolve": _l("Xử lý khoản ủng hộ trực tuyến"),
    "donation.checkout_session": _l("Tạo phiên thanh toán thẻ"),
    "donation.monthly_paid": _l("Nhận khoản ủng hộ hằng tháng"),
    "receipt.issue": _l("Cấp giấy chứng nhận"),
    "receipt.void": _l("Hủy giấy chứng nhận"),
    "receipt.resend": _l("Gửi lại giấy chứng nhận"),
    "receipt.deferred": _l("Hoãn cấp giấy chứng nhận (thiếu cài đặt)"),
    "mail.retry": _l("Gửi lại thư điện tử"),
    # Donors and their rights
    "donor.create": _l("Thêm nhà hảo tâm"),
    "donor.update": _l("Sửa thông tin nhà hảo tâm"),
    "donor.merge": _l("Gộp hồ sơ nhà hảo tâm"),
    "donor.preferences_from_donation": _l("Áp dụng lựa chọn công khai từ khoản ủng hộ"),
    "donor.unsubscribe": _l("Nhà hảo tâm hủy nhận thư"),
    "donor.consent_withdrawn": _l("Nhà hảo tâm rút lại sự đồng ý"),
    "donor.erase": _l("Xóa dữ liệu cá nhân của nhà hảo tâm"),
    "donor.erase_retained": _l("Xóa dữ liệu cá nhân (giữ chứng từ kế toán)"),
    "donor.data_export": _l("Xuất dữ liệu cá nhân của nhà hảo tâm"),
    "account.sign_in": _l("Nhà hảo tâm đăng nhập"),
    "account.contact_update": _l("Nhà hảo tâm sửa thông tin liên hệ"),
    "account.settings_update": _l("Nhà hảo tâm sửa lựa chọn nhận thư, công khai"),
    "account.email_change_requested": _l("Nhà hảo tâm yêu cầu đổi email"),
    "account.email_change": _l("Nhà hảo tâm đổi email"),
    "account.data_export": _l("Nhà hảo tâm tải dữ liệu cá nhân"),
    "data_request.create": _l("Tiếp nhận yêu cầu về dữ liệu cá nhân"),
    "data_request.acknowledge": _l("Xác nhận đã nhận yêu cầu về dữ liệu"),
    "data_request.complete": _l("Hoàn thành yêu cầu về dữ liệu"),
    "data_request.refuse": _l("Từ chối yêu cầu về dữ liệu"),
    # Monthly giving
    "recurring.create": _l("Đăng ký ủng hộ hằng tháng"),
    "recurring.start": _l("Bắt đầu ủng hộ hằng tháng"),
    "recurring.status": _l("Cập nhật trạng thái ủng hộ hằng tháng"),
    "recurring.pause": _l("Tạm dừng ủng hộ hằng tháng"),
    "recurring.resume": _l("Tiếp tục ủng hộ hằng tháng"),
    "recurring.cancel": _l("Dừng ủng hộ hằng tháng"),
    "recurring.ended": _l("Kết thúc ủng hộ hằng tháng"),
    "recurring.abandoned": _l("Bỏ dở đăng ký hằng tháng"),
    "recurring.payment_failed": _l("Thanh toán hằng tháng bị từ chối"),
    "recurring.checkout_failed": _l("Không tạo được phiên thanh toán hằng tháng"),
    "recurring.month_paid": _l("Nhận tiền ủng hộ hằng tháng qua chuyển khoản"),
    "recurring.reminder": _l("Gửi thư nhắc chuyển khoản hằng tháng"),
    "recurring.lapse": _l("Ngừng cam kết hằng tháng vì nhiều tháng chưa chuyển"),
    "recurring.revive": _l("Khôi phục cam kết hằng tháng khi tiền về"),
    # Bank transfers
    "bank_account.save": _l("Lưu tài khoản ngân hàng"),
    "bank_statement.import": _l("Nhập sao kê ngân hàng"),
    "bank_line.match": _l("Ghép giao dịch ngân hàng"),
    "bank_line.match_bulk": _l("Ghép hàng loạt giao dịch ngân hàng"),
    "bank_line.suggest": _l("Gợi ý ghép giao dịch ngân hàng"),
    "bank_line.ignore": _l("Bỏ qua giao dịch ngân hàng"),
    "bank_line.undo": _l("Hoàn tác ghép giao dịch ngân hàng"),
    "bank_layout.create": _l("Tạo mẫu sao kê"),
    "bank_layout.update": _l("Sửa mẫu sao kê"),
    "bank_layout.deactivate": _l("Ngừng dùng mẫu sao kê"),
    "bank_layout.activate": _l("Dùng lại mẫu sao kê"),
    "pledge.create": _l("Tạo mã chuyển khoản"),
    "pledge.receive": _l("Nhận tiền theo mã chuyển khoản"),
    "pledge.expire": _l("Mã chuyển khoản hết hạn"),
    # Appeals
    "appeal.create": _l("Tạo chiến dịch"),
    "appeal.update": _l("Sửa chiến dịch"),
    "appeal.open": _l("Mở chiến dịch"),
    "appeal.close": _l("Đóng chiến dịch"),
    # Children's cases and payouts
    "case.create": _l("Tiếp nhận hồ sơ hỗ trợ"),
    "case.update": _l("Sửa hồ sơ hỗ trợ"),
    "case.view": _l("Xem hồ sơ hỗ trợ"),
    "case.list": _l("Xem danh sách hồ sơ (có thông tin nhận diện)"),
    "case.transition": _l("Chuyển bước hồ sơ"),
    "case.approved_amount_correct": _l("Điều chỉnh giảm số tiền phê duyệt"),
    "case.consent": _l("Ghi nhận sự đồng ý công bố"),
    "case.consent_withdrawn": _l("Rút lại sự đồng ý công bố"),
    "case.document.upload": _l("Tải lên tài liệu hồ sơ"),
    "case.document.download": _l("Tải xuống tài liệu hồ sơ"),
    "case_category.create": _l("Thêm danh mục hoàn cảnh"),
    "case_category.update": _l("Sửa danh mục hoàn cảnh"),
    "disbursement.record": _l("Ghi khoản chi"),
    "disbursement.approve": _l("Duyệt khoản chi"),
    "disbursement.reject": _l("Không duyệt khoản chi"),
    "disbursement.reverse": _l("Đảo khoản chi"),
    # Commendation and reports
    "commendation.include": _l("Đưa vào danh sách khen thưởng"),
    "commendation.exclude": _l("Loại khỏi danh sách khen thưởng"),
    "commendation.override": _l("Điều chỉnh thông tin khen thưởng"),
    "commendation.override_remove": _l("Bỏ điều chỉnh thông tin khen thưởng"),
    "commendation.freeze": _l("Chốt danh sách khen thưởng"),
    "report.freeze": _l("Chốt báo cáo"),
    # Accounts, settings, jobs
    "user.create": _l("Tạo tài khoản cán bộ"),
    "user.activate": _l("Mở lại tài khoản cán bộ"),
    "user.deactivate": _l("Khóa tài khoản cán bộ"),
    "user.password_change": _l("Đổi mật khẩu"),
    "user.password_reset": _l("Đặt lại mật khẩu"),
    "auth.login": _l("Đăng nhập"),
    "auth.login_failed": _l("Đăng nhập không thành công"),
    "auth.logout": _l("Đăng xuất"),
    "settings.update": _l("Sửa cài đặt của Quỹ"),
    "job.submit": _l("Gửi tác vụ nền"),
    "job.retry": _l("Chạy lại tác vụ nền"),
}

ENTITY_LABELS: dict[str, str] = {
    "donations": _l("Khoản ủng hộ"), "donors": _l("Nhà hảo tâm"), "receipts": _l("Giấy chứng nhận"),
    "receipt_sequences": _l("Dãy số giấy chứng nhận"), "cases": _l("Hồ sơ hỗ trợ"),
    "case_transitions": _l("Bước xử lý hồ sơ"), "case_documents": _l("Tài liệu hồ sơ"),
    "case_sequences": _l("Dãy số hồ sơ"), "case_circumstances": _l("Hoàn cảnh của hồ sơ"), "circumstance_categories": _l("Danh mục hoàn cảnh"),
    "disbursements": _l("Khoản chi"), "appeals": _l("Chiến dịch"), "programmes": _l("Chương trình"),
    "fund_settings": _l("Cài đặt của Quỹ"), "users": _l("Tài khoản cán bộ"), "login_attempts": _l("Lần đăng nhập"),
    "audit_log": _l("Nhật ký thao tác"), "jobs": _l("Tác vụ nền"), "outbox_messages": _l("Thư điện tử"),
    "payment_events": _l("Sự kiện cổng thanh toán"), "admin_units": _l("Đơn vị hành chính"),
    "bank_accounts": _l("Tài khoản ngân hàng"), "transfer_pledges": _l("Mã chuyển khoản"),
    "bank_statement_imports": _l("Sao kê ngân hàng"), "bank_lines": _l("Giao dịch ngân hàng"),
    "bank_layouts": _l("Mẫu sao kê"), "form_submissions": _l("Lần gửi biểu mẫu"),
    "commendation_exclusions": _l("Loại khỏi danh sách khen thưởng"),
    "commendation_overrides": _l("Điều chỉnh khen thưởng"),
    "commendation_submissions": _l("Danh sách khen thưởng đã chốt"),
    "commendation_submission_rows": _l("Dòng danh sách khen thưởng"), "frozen_reports": _l("Báo cáo đã chốt"),
    "account_tokens": _l("Liên kết đăng nhập"), "data_requests": _l("Yêu cầu về dữ liệu cá nhân"),
    "recurring_gifts": _l("Ủng hộ hằng tháng"),
}

FIELD_LABELS: dict[str, str] = {
    "amount": _l("Số tiền"), "status": _l("Trạng thái"), "state": _l("Bước"), "comment": _l("Ý kiến"),
    "reason": _l("Lý do"), "note": _l("Ghi chú"), "notes": _l("Ghi chú"), "name": _l("Tên"), "email": _l("Email"),
    "phone": _l("Điện thoại"), "address": _l("Địa chỉ"), "tax_code": _l("Mã số thuế"), "kind": _l("Loại"),
    "representative": _l("Người đại diện"), "admin_unit_id": _l("Phường/xã"),
    "public_listing_consent": _l("Đồng ý công khai tên"), "anonymous": _l("Ẩn danh"),
    "email_news": _l("Nhận thư tin tức"), "email_reminders": _l("Nhận thư thông báo"),
    "number": _l("Số giấy chứng nhận"), "channel": _l("Hình thức"), "reference": _l("Mã tham chiếu"),
    "programme_id": _l("Chương trình"), "appeal_id": _l("Chiến dịch"), "donor_id": _l("Nhà hảo tâm"),
    "donation_id": _l("Khoản ủng hộ"), "case": _l("Hồ sơ"), "code": _l("Mã"), "identity": _l("Xem thông tin nhận diện"),
    "rows": _l("Số dòng"), "changed": _l("Các trường đã sửa"), "support_approved": _l("Số tiền phê duyệt"),
    "support_requested": _l("Số tiền đề nghị"), "reversal_amount": _l("Số tiền đảo"),
    "guardian_consent_on": _l("Ngày người giám hộ đồng ý"), "child_consent_on": _l("Ngày trẻ đồng ý"),
    "story_publishable": _l("Được công bố câu chuyện"), "who": _l("Người rút lại"), "title": _l("Tiêu đề"),
    "summary": _l("Tóm tắt"), "story": _l("Câu chuyện"), "goal_amount": _l("Mục tiêu"), "starts_on": _l("Bắt đầu"),
    "ends_on": _l("Kết thúc"), "is_public": _l("Công khai"), "is_active": _l("Đang dùng"), "active": _l("Đang hoạt động"),
    "slug": _l("Địa chỉ trang"), "year": _l("Năm"), "format": _l("Định dạng"), "error": _l("Lỗi"),
    "flagged_reason": _l("Lý do cần kiểm tra"), "merged_donor_id": _l("Hồ sơ bị gộp"),
    "retain_until": _l("Giữ chứng từ đến"), "new_email": _l("Email mới"), "role": _l("Vai trò"),
    "fund_name": _l("Tên Quỹ"), "operator_name": _l("Cơ quan quản lý"), "parent_agency": _l("Cơ quan chủ quản"),
    "bank_name": _l("Ngân hàng"), "bank_bin": _l("Mã ngân hàng"), "bank_account_number": _l("Số tài khoản"),
    "bank_account_name": _l("Tên tài khoản"), "account_number": _l("Số tài khoản"), "account_name": _l("Tên tài khoản"),
    "label": _l("Tên gọi"), "signatory_name": _l("Người ký"), "signatory_title": _l("Chức danh người ký"),
    "commendation_threshold": _l("Ngưỡng khen thưởng"), "receipt_number_format": _l("Mẫu số giấy chứng nhận"),
    "payee": _l("Người nhận"), "purpose": _l("Nội dung chi"), "created_at": _l("Tạo lúc"), "received_at": _l("Nhận lúc"),
    "threshold": _l("Ngưỡng"), "action": _l("Thao tác"), "subscription": _l("Mã đăng ký"), "session": _l("Phiên thanh toán"),
    "original_name": _l("Tên tệp"), "document_kind": _l("Loại tài liệu"), "line_id": _l("Giao dịch"),
    "pledge_id": _l("Mã chuyển khoản"), "count": _l("Số lượng"), "total": _l("Tổng"), "voucher": _l("Chứng từ"),
    "method": _l("Hình thức chi"), "paid_on": _l("Ngày chi"), "disbursement_id": _l("Khoản chi"),
}

#: Fields that hold whole đồng: shown as "50.000.000 ₫".
MONEY_FIELDS = frozenset({"amount", "support_approved", "support_requested", "reversal_amount",
                          "goal_amount", "commendation_threshold", "threshold", "total",
                          "signed_amount", "net", "refunded"})

#: Coded values shown by their enum's label, per table and field ("confirmed" → "Đã xác nhận"),
#: looked up when shown so the label is in the reader's language.
_VALUE_ENUMS: dict[str, dict[str, type]] = {
    "donations": {"status": DonationStatus, "channel": Channel},
    "disbursements": {"status": DisbursementStatus},
    "cases": {"state": CaseState},
    "bank_lines": {"state": LineState},
    "recurring_gifts": {"status": RecurringStatus},
}


def _coded_label(entity_type: str, field: str, value: str) -> str | None:
    enum_cls = _VALUE_ENUMS.get(entity_type, {}).get(field)
    if enum_cls is None:
        return None
    try:
        return str(enum_cls(value).label)
    except ValueError:
        return None


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def entity_label(table: str) -> str:
    return str(ENTITY_LABELS.get(table, table))


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


@dataclass(frozen=True)
class Change:
    field: str        # the code, e.g. "amount"
    label: str        # "Số tiền"
    old: str          # "" when there was no before
    new: str          # "" when there is no after
    known: bool       # the field has a label


def reference_names() -> dict[str, dict[int, str]]:
    """Names for the ids a log entry may hold that are not personal: programmes, appeals."""
    return {
        "programme_id": dict(db.session.execute(sa.select(Programme.id, Programme.name)).all()),
        "appeal_id": dict(db.session.execute(sa.select(Appeal.id, Appeal.title)).all()),
    }


def show_value(field: str, value: Any, entity_type: str = "", names: dict | None = None) -> str:
    """One before/after value as a person reads it."""
    if value is None or value == "":
        return "—"
    if names and isinstance(value, int) and value in names.get(field, {}):
        return names[field][value]
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if field in MONEY_FIELDS and isinstance(value, int):
        return money(value)
    if isinstance(value, str):
        coded = _coded_label(entity_type, field, value)
        if coded is not None:
            return coded
        try:
            if len(value) >= 19 and value[4] == "-" and value[10] == "T":
                return datetime_text(datetime.fromisoformat(value))
            if len(value) == 10 and value[4] == "-" and value[7] == "-":
                return date_text(date.fromisoformat(value))
        except ValueError:
            pass
        return value
    if isinstance(value, list):
        return ", ".join(field_label(v) if isinstance(v, str) else show_value(field, v, entity_type)
                         for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {show_value(k, v, entity_type)}" for k, v in value.items())
    return str(value)


def changes(before: dict | None, after: dict | None, entity_type: str = "",
            names: dict | None = None) -> list[Change]:
    """Before and after, field by field, in the order they were written."""
    before, after = before or {}, after or {}
    fields = list(before) + [k for k in after if k not in before]
    rows = []
    for field in fields:
        old = show_value(field, before[field], entity_type, names) if field in before else ""
        new = show_value(field, after[field], entity_type, names) if field in after else ""
        rows.append(Change(field, field_label(field), old, new, field in FIELD_LABELS))
    return rows
