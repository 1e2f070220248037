"""How the audit log reads to a person (issue 12, item 29): Vietnamese labels for every
action code and table, and before/after as a small "field: old → new" table.

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
from app.models import Appeal, Programme
from app.models.account import RecurringStatus
from app.models.bank import LineState
from app.models.case import CaseState, DisbursementStatus
from app.models.donation import Channel, DonationStatus
from app.timeutil import format_local
from app.vnd import format_vnd

ACTION_LABELS: dict[str, str] = {
    # Donations and receipts
    "donation.record": "Ghi nhận khoản ủng hộ",
    "donation.confirm": "Xác nhận khoản ủng hộ",
    "donation.reverse": "Đảo bút toán / hoàn tiền",
    "donation.import": "Nhập khoản ủng hộ từ tệp",
    "donation.flag": "Đánh dấu khoản ủng hộ cần kiểm tra",
    "donation.donor_check": "Xử lý nhà hảo tâm của khoản trực tuyến",
    "donation.online_start": "Bắt đầu ủng hộ trực tuyến",
    "donation.online_failed": "Ủng hộ trực tuyến không thành công",
    "donation.online_resolve": "Xử lý khoản ủng hộ trực tuyến",
    "donation.checkout_session": "Tạo phiên thanh toán thẻ",
    "donation.monthly_paid": "Nhận khoản ủng hộ hằng tháng",
    "receipt.issue": "Cấp giấy chứng nhận",
    "receipt.void": "Hủy giấy chứng nhận",
    "receipt.resend": "Gửi lại giấy chứng nhận",
    "receipt.deferred": "Hoãn cấp giấy chứng nhận (thiếu cài đặt)",
    "mail.retry": "Gửi lại thư điện tử",
    # Donors and their rights
    "donor.create": "Thêm nhà hảo tâm",
    "donor.update": "Sửa thông tin nhà hảo tâm",
    "donor.merge": "Gộp hồ sơ nhà hảo tâm",
    "donor.preferences_from_donation": "Áp dụng lựa chọn công khai từ khoản ủng hộ",
    "donor.unsubscribe": "Nhà hảo tâm hủy nhận thư",
    "donor.consent_withdrawn": "Nhà hảo tâm rút lại sự đồng ý",
    "donor.erase": "Xóa dữ liệu cá nhân của nhà hảo tâm",
    "donor.erase_retained": "Xóa dữ liệu cá nhân (giữ chứng từ kế toán)",
    "donor.data_export": "Xuất dữ liệu cá nhân của nhà hảo tâm",
    "account.sign_in": "Nhà hảo tâm đăng nhập",
    "account.contact_update": "Nhà hảo tâm sửa thông tin liên hệ",
    "account.settings_update": "Nhà hảo tâm sửa lựa chọn nhận thư, công khai",
    "account.email_change_requested": "Nhà hảo tâm yêu cầu đổi email",
    "account.email_change": "Nhà hảo tâm đổi email",
    "account.data_export": "Nhà hảo tâm tải dữ liệu cá nhân",
    "data_request.create": "Tiếp nhận yêu cầu về dữ liệu cá nhân",
    "data_request.acknowledge": "Xác nhận đã nhận yêu cầu về dữ liệu",
    "data_request.complete": "Hoàn thành yêu cầu về dữ liệu",
    "data_request.refuse": "Từ chối yêu cầu về dữ liệu",
    # Monthly giving
    "recurring.create": "Đăng ký ủng hộ hằng tháng",
    "recurring.start": "Bắt đầu ủng hộ hằng tháng",
    "recurring.status": "Cập nhật trạng thái ủng hộ hằng tháng",
    "recurring.pause": "Tạm dừng ủng hộ hằng tháng",
    "recurring.resume": "Tiếp tục ủng hộ hằng tháng",
    "recurring.cancel": "Dừng ủng hộ hằng tháng",
    "recurring.ended": "Kết thúc ủng hộ hằng tháng",
    "recurring.abandoned": "Bỏ dở đăng ký hằng tháng",
    "recurring.payment_failed": "Thanh toán hằng tháng bị từ chối",
    "recurring.checkout_failed": "Không tạo được phiên thanh toán hằng tháng",
    "recurring.month_paid": "Nhận tiền ủng hộ hằng tháng qua chuyển khoản",
    "recurring.reminder": "Gửi thư nhắc chuyển khoản hằng tháng",
    "recurring.lapse": "Ngừng cam kết hằng tháng vì nhiều tháng chưa chuyển",
    "recurring.revive": "Khôi phục cam kết hằng tháng khi tiền về",
    # Bank transfers
    "bank_account.save": "Lưu tài khoản ngân hàng",
    "bank_statement.import": "Nhập sao kê ngân hàng",
    "bank_line.match": "Ghép giao dịch ngân hàng",
    "bank_line.match_bulk": "Ghép hàng loạt giao dịch ngân hàng",
    "bank_line.suggest": "Gợi ý ghép giao dịch ngân hàng",
    "bank_line.ignore": "Bỏ qua giao dịch ngân hàng",
    "bank_line.undo": "Hoàn tác ghép giao dịch ngân hàng",
    "bank_layout.create": "Tạo mẫu sao kê",
    "bank_layout.update": "Sửa mẫu sao kê",
    "bank_layout.deactivate": "Ngừng dùng mẫu sao kê",
    "bank_layout.activate": "Dùng lại mẫu sao kê",
    "pledge.create": "Tạo mã chuyển khoản",
    "pledge.receive": "Nhận tiền theo mã chuyển khoản",
    "pledge.expire": "Mã chuyển khoản hết hạn",
    # Appeals
    "appeal.create": "Tạo chiến dịch",
    "appeal.update": "Sửa chiến dịch",
    "appeal.open": "Mở chiến dịch",
    "appeal.close": "Đóng chiến dịch",
    # Children's cases and payouts
    "case.create": "Tiếp nhận hồ sơ hỗ trợ",
    "case.update": "Sửa hồ sơ hỗ trợ",
    "case.view": "Xem hồ sơ hỗ trợ",
    "case.list": "Xem danh sách hồ sơ (có thông tin nhận diện)",
    "case.transition": "Chuyển bước hồ sơ",
    "case.approved_amount_correct": "Điều chỉnh giảm số tiền phê duyệt",
    "case.consent": "Ghi nhận sự đồng ý công bố",
    "case.consent_withdrawn": "Rút lại sự đồng ý công bố",
    "case.document.upload": "Tải lên tài liệu hồ sơ",
    "case.document.download": "Tải xuống tài liệu hồ sơ",
    "case_category.create": "Thêm danh mục hoàn cảnh",
    "case_category.update": "Sửa danh mục hoàn cảnh",
    "disbursement.record": "Ghi khoản chi",
    "disbursement.approve": "Duyệt khoản chi",
    "disbursement.reject": "Không duyệt khoản chi",
    "disbursement.reverse": "Đảo khoản chi",
    # Commendation and reports
    "commendation.include": "Đưa vào danh sách khen thưởng",
    "commendation.exclude": "Loại khỏi danh sách khen thưởng",
    "commendation.override": "Điều chỉnh thông tin khen thưởng",
    "commendation.override_remove": "Bỏ điều chỉnh thông tin khen thưởng",
    "commendation.freeze": "Chốt danh sách khen thưởng",
    "report.freeze": "Chốt báo cáo",
    # Accounts, settings, jobs
    "user.create": "Tạo tài khoản cán bộ",
    "user.activate": "Mở lại tài khoản cán bộ",
    "user.deactivate": "Khóa tài khoản cán bộ",
    "user.password_change": "Đổi mật khẩu",
    "user.password_reset": "Đặt lại mật khẩu",
    "auth.login": "Đăng nhập",
    "auth.login_failed": "Đăng nhập không thành công",
    "auth.logout": "Đăng xuất",
    "settings.update": "Sửa cài đặt của Quỹ",
    "job.submit": "Gửi tác vụ nền",
    "job.retry": "Chạy lại tác vụ nền",
}

ENTITY_LABELS: dict[str, str] = {
    "donations": "Khoản ủng hộ", "donors": "Nhà hảo tâm", "receipts": "Giấy chứng nhận",
    "receipt_sequences": "Dãy số giấy chứng nhận", "cases": "Hồ sơ hỗ trợ",
    "case_transitions": "Bước xử lý hồ sơ", "case_documents": "Tài liệu hồ sơ",
    "case_sequences": "Dãy số hồ sơ", "case_circumstances": "Hoàn cảnh của hồ sơ", "circumstance_categories": "Danh mục hoàn cảnh",
    "disbursements": "Khoản chi", "appeals": "Chiến dịch", "programmes": "Chương trình",
    "fund_settings": "Cài đặt của Quỹ", "users": "Tài khoản cán bộ", "login_attempts": "Lần đăng nhập",
    "audit_log": "Nhật ký thao tác", "jobs": "Tác vụ nền", "outbox_messages": "Thư điện tử",
    "payment_events": "Sự kiện cổng thanh toán", "admin_units": "Đơn vị hành chính",
    "bank_accounts": "Tài khoản ngân hàng", "transfer_pledges": "Mã chuyển khoản",
    "bank_statement_imports": "Sao kê ngân hàng", "bank_lines": "Giao dịch ngân hàng",
    "bank_layouts": "Mẫu sao kê", "form_submissions": "Lần gửi biểu mẫu",
    "commendation_exclusions": "Loại khỏi danh sách khen thưởng",
    "commendation_overrides": "Điều chỉnh khen thưởng",
    "commendation_submissions": "Danh sách khen thưởng đã chốt",
    "commendation_submission_rows": "Dòng danh sách khen thưởng", "frozen_reports": "Báo cáo đã chốt",
    "account_tokens": "Liên kết đăng nhập", "data_requests": "Yêu cầu về dữ liệu cá nhân",
    "recurring_gifts": "Ủng hộ hằng tháng",
}

FIELD_LABELS: dict[str, str] = {
    "amount": "Số tiền", "status": "Trạng thái", "state": "Bước", "comment": "Ý kiến",
    "reason": "Lý do", "note": "Ghi chú", "notes": "Ghi chú", "name": "Tên", "email": "Email",
    "phone": "Điện thoại", "address": "Địa chỉ", "tax_code": "Mã số thuế", "kind": "Loại",
    "representative": "Người đại diện", "admin_unit_id": "Phường/xã",
    "public_listing_consent": "Đồng ý công khai tên", "anonymous": "Ẩn danh",
    "email_news": "Nhận thư tin tức", "email_reminders": "Nhận thư thông báo",
    "number": "Số giấy chứng nhận", "channel": "Hình thức", "reference": "Mã tham chiếu",
    "programme_id": "Chương trình", "appeal_id": "Chiến dịch", "donor_id": "Nhà hảo tâm",
    "donation_id": "Khoản ủng hộ", "case": "Hồ sơ", "code": "Mã", "identity": "Xem thông tin nhận diện",
    "rows": "Số dòng", "changed": "Các trường đã sửa", "support_approved": "Số tiền phê duyệt",
    "support_requested": "Số tiền đề nghị", "reversal_amount": "Số tiền đảo",
    "guardian_consent_on": "Ngày người giám hộ đồng ý", "child_consent_on": "Ngày trẻ đồng ý",
    "story_publishable": "Được công bố câu chuyện", "who": "Người rút lại", "title": "Tiêu đề",
    "summary": "Tóm tắt", "story": "Câu chuyện", "goal_amount": "Mục tiêu", "starts_on": "Bắt đầu",
    "ends_on": "Kết thúc", "is_public": "Công khai", "is_active": "Đang dùng", "active": "Đang hoạt động",
    "slug": "Địa chỉ trang", "year": "Năm", "format": "Định dạng", "error": "Lỗi",
    "flagged_reason": "Lý do cần kiểm tra", "merged_donor_id": "Hồ sơ bị gộp",
    "retain_until": "Giữ chứng từ đến", "new_email": "Email mới", "role": "Vai trò",
    "fund_name": "Tên Quỹ", "operator_name": "Cơ quan quản lý", "parent_agency": "Cơ quan chủ quản",
    "bank_name": "Ngân hàng", "bank_bin": "Mã ngân hàng", "bank_account_number": "Số tài khoản",
    "bank_account_name": "Tên tài khoản", "account_number": "Số tài khoản", "account_name": "Tên tài khoản",
    "label": "Tên gọi", "signatory_name": "Người ký", "signatory_title": "Chức danh người ký",
    "commendation_threshold": "Ngưỡng khen thưởng", "receipt_number_format": "Mẫu số giấy chứng nhận",
    "payee": "Người nhận", "purpose": "Nội dung chi", "created_at": "Tạo lúc", "received_at": "Nhận lúc",
    "threshold": "Ngưỡng", "action": "Thao tác", "subscription": "Mã đăng ký", "session": "Phiên thanh toán",
    "original_name": "Tên tệp", "document_kind": "Loại tài liệu", "line_id": "Giao dịch",
    "pledge_id": "Mã chuyển khoản", "count": "Số lượng", "total": "Tổng", "voucher": "Chứng từ",
    "method": "Hình thức chi", "paid_on": "Ngày chi", "disbursement_id": "Khoản chi",
}

#: Fields that hold whole đồng: shown as "50.000.000 ₫".
MONEY_FIELDS = frozenset({"amount", "support_approved", "support_requested", "reversal_amount",
                          "goal_amount", "commendation_threshold", "threshold", "total",
                          "signed_amount", "net", "refunded"})

def _labels(enum_cls) -> dict[str, str]:
    return {member.value: member.label for member in enum_cls}


#: Coded values shown by their label, per table and field ("confirmed" → "Đã xác nhận").
_VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "donations": {"status": _labels(DonationStatus), "channel": _labels(Channel)},
    "disbursements": {"status": _labels(DisbursementStatus)},
    "cases": {"state": _labels(CaseState)},
    "bank_lines": {"state": _labels(LineState)},
    "recurring_gifts": {"status": _labels(RecurringStatus)},
}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def entity_label(table: str) -> str:
    return ENTITY_LABELS.get(table, table)


@dataclass(frozen=True)
class Change:
    field: str        # the code, e.g. "amount"
    label: str        # "Số tiền"
    old: str          # "" when there was no before
    new: str          # "" when there is no after
    known: bool       # the field has a Vietnamese label


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
        return "có" if value else "không"
    if field in MONEY_FIELDS and isinstance(value, int):
        return format_vnd(value)
    if isinstance(value, str):
        coded = _VALUE_LABELS.get(entity_type, {}).get(field, {})
        if value in coded:
            return coded[value]
        try:
            if len(value) >= 19 and value[4] == "-" and value[10] == "T":
                return format_local(datetime.fromisoformat(value))
            if len(value) == 10 and value[4] == "-" and value[7] == "-":
                return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            pass
        return value
    if isinstance(value, list):
        return ", ".join(FIELD_LABELS.get(v, str(v)) if isinstance(v, str) else show_value(field, v, entity_type)
                         for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{FIELD_LABELS.get(k, k)}: {show_value(k, v, entity_type)}" for k, v in value.items())
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
        rows.append(Change(field, FIELD_LABELS.get(field, field), old, new, field in FIELD_LABELS))
    return rows
