"""Forms of the donor account (/tai-khoan). Vietnamese source text, translated (`_l`)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from app.forms import AmountField, email_address, max_length, required
from app.i18n import _l
from app.models import RequestKind, REQUEST_KIND_LABELS


class SignInForm(FlaskForm):
    email = StringField(_l("Email"), validators=[required(_l("Vui lòng nhập địa chỉ email.")), max_length(254)])
    submit = SubmitField(_l("Gửi đường dẫn đăng nhập"))


class ConfirmForm(FlaskForm):
    """A button-only form (sign in with this link, confirm the new address, unsubscribe…)."""
    submit = SubmitField(_l("Xác nhận"))


class ContactForm(FlaskForm):
    name = StringField(_l("Họ và tên / Tên tổ chức"), validators=[required(_l("Vui lòng nhập tên.")), max_length(255)])
    tax_code = StringField(_l("Mã số thuế (tổ chức)"), validators=[Optional(), max_length(20)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), max_length(30)])
    address = StringField(_l("Địa chỉ"), validators=[Optional(), max_length(500)])
    representative = StringField(_l("Người đại diện (tổ chức)"), validators=[Optional(), max_length(200)])
    submit = SubmitField(_l("Lưu thông tin liên hệ"))


class SettingsForm(FlaskForm):
    public_listing_consent = BooleanField(_l("Đồng ý công khai tên tôi trong danh sách nhà hảo tâm"))
    anonymous = BooleanField(_l("Ẩn danh: trên trang công khai chỉ hiện “Nhà hảo tâm”"))
    email_news = BooleanField(_l("Nhận thư tin tức, chiến dịch mới của Quỹ"))
    email_reminders = BooleanField(_l("Nhận thư thông báo về ủng hộ hằng tháng (thanh toán lỗi, nhắc chuyển khoản)"))
    # The language of the fund's e-mails to this donor (receipts stay Vietnamese, the law;
    # in English they carry a courtesy translation). Saved in Donor.language.
    language = SelectField(_l("Ngôn ngữ của thư Quỹ gửi Quý vị"), default="vi",
                           choices=[("vi", _l("Tiếng Việt")), ("en", _l("Tiếng Anh"))])
    submit = SubmitField(_l("Lưu lựa chọn"))


class EmailChangeForm(FlaskForm):
    new_email = StringField(_l("Email mới"), validators=[required(_l("Vui lòng nhập email mới.")),
                                                     email_address(), max_length(254)])
    submit = SubmitField(_l("Gửi thư xác nhận"))


REQUEST_CHOICES = [(k.value, REQUEST_KIND_LABELS[k]) for k in
                   (RequestKind.CORRECTION, RequestKind.ERASURE, RequestKind.OTHER)]


class DataRequestForm(FlaskForm):
    kind = SelectField(_l("Loại yêu cầu"), choices=REQUEST_CHOICES)
    details = TextAreaField(_l("Nội dung"), validators=[Optional(), max_length(5000)])
    confirm = BooleanField(_l("Tôi hiểu yêu cầu xóa dữ liệu không thể hoàn tác"))
    submit = SubmitField(_l("Gửi yêu cầu"))


class MonthlyForm(FlaskForm):
    amount = AmountField(_l("Số tiền mỗi tháng (VNĐ)"), validators=[required(_l("Vui lòng nhập số tiền."))])
    designation = SelectField(_l("Nơi nhận"))
    submit = SubmitField(_l("Đăng ký ủng hộ hằng tháng bằng thẻ"))


class BankMonthlyForm(MonthlyForm):
    """The same choice for a standing pledge by bank transfer (prefix "bank")."""
    submit = SubmitField(_l("Đăng ký chuyển khoản hằng tháng"))


STAFF_CHANNELS = [("email", _l("Thư điện tử")), ("phone", _l("Điện thoại")), ("letter", _l("Thư giấy")),
                  ("in_person", _l("Trực tiếp"))]


class StaffDataRequestForm(FlaskForm):
    kind = SelectField(_l("Loại yêu cầu"), choices=[(k.value, REQUEST_KIND_LABELS[k]) for k in RequestKind])
    channel = SelectField(_l("Nhận qua"), choices=STAFF_CHANNELS)
    details = TextAreaField(_l("Nội dung yêu cầu"), validators=[required(_l("Vui lòng ghi nội dung.")), max_length(5000)])
    submit = SubmitField(_l("Ghi nhận yêu cầu"))


class RequestStepForm(FlaskForm):
    outcome = TextAreaField(_l("Ghi chú / kết quả"), validators=[Optional(), max_length(5000)])
    submit = SubmitField(_l("Lưu"))


class ReasonForm(FlaskForm):
    reason = StringField(_l("Lý do"), validators=[required(_l("Vui lòng ghi lý do.")), max_length(500)])
    submit = SubmitField(_l("Xác nhận"))
