"""Forms of the donor account (/tai-khoan). Messages Vietnamese."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from app.forms import AmountField, email_address, max_length, required
from app.models import RequestKind, REQUEST_KIND_LABELS


class SignInForm(FlaskForm):
    email = StringField("Email", validators=[required("Vui lòng nhập địa chỉ email."), max_length(254)])
    submit = SubmitField("Gửi đường dẫn đăng nhập")


class ConfirmForm(FlaskForm):
    """A button-only form (sign in with this link, confirm the new address, unsubscribe…)."""
    submit = SubmitField("Xác nhận")


class ContactForm(FlaskForm):
    name = StringField("Họ và tên / Tên tổ chức", validators=[required("Vui lòng nhập tên."), max_length(255)])
    tax_code = StringField("Mã số thuế (tổ chức)", validators=[Optional(), max_length(20)])
    phone = StringField("Điện thoại", validators=[Optional(), max_length(30)])
    address = StringField("Địa chỉ", validators=[Optional(), max_length(500)])
    representative = StringField("Người đại diện (tổ chức)", validators=[Optional(), max_length(200)])
    submit = SubmitField("Lưu thông tin liên hệ")


class SettingsForm(FlaskForm):
    public_listing_consent = BooleanField("Đồng ý công khai tên tôi trong danh sách nhà hảo tâm")
    anonymous = BooleanField("Ẩn danh: trên trang công khai chỉ hiện “Nhà hảo tâm”")
    email_news = BooleanField("Nhận thư tin tức, chiến dịch mới của Quỹ")
    email_reminders = BooleanField("Nhận thư thông báo về ủng hộ hằng tháng (thanh toán lỗi, nhắc chuyển khoản)")
    submit = SubmitField("Lưu lựa chọn")


class EmailChangeForm(FlaskForm):
    new_email = StringField("Email mới", validators=[required("Vui lòng nhập email mới."),
                                                     email_address(), max_length(254)])
    submit = SubmitField("Gửi thư xác nhận")


REQUEST_CHOICES = [(k.value, REQUEST_KIND_LABELS[k]) for k in
                   (RequestKind.CORRECTION, RequestKind.ERASURE, RequestKind.OTHER)]


class DataRequestForm(FlaskForm):
    kind = SelectField("Loại yêu cầu", choices=REQUEST_CHOICES)
    details = TextAreaField("Nội dung", validators=[Optional(), max_length(5000)])
    confirm = BooleanField("Tôi hiểu yêu cầu xóa dữ liệu không thể hoàn tác")
    submit = SubmitField("Gửi yêu cầu")


class MonthlyForm(FlaskForm):
    amount = AmountField("Số tiền mỗi tháng (VNĐ)", validators=[required("Vui lòng nhập số tiền.")])
    designation = SelectField("Nơi nhận")
    submit = SubmitField("Đăng ký ủng hộ hằng tháng bằng thẻ")


class BankMonthlyForm(MonthlyForm):
    """The same choice for a standing pledge by bank transfer (prefix "bank")."""
    submit = SubmitField("Đăng ký chuyển khoản hằng tháng")


STAFF_CHANNELS = [("email", "Thư điện tử"), ("phone", "Điện thoại"), ("letter", "Thư giấy"),
                  ("in_person", "Trực tiếp")]


class StaffDataRequestForm(FlaskForm):
    kind = SelectField("Loại yêu cầu", choices=[(k.value, k.label) for k in RequestKind])
    channel = SelectField("Nhận qua", choices=STAFF_CHANNELS)
    details = TextAreaField("Nội dung yêu cầu", validators=[required("Vui lòng ghi nội dung."), max_length(5000)])
    submit = SubmitField("Ghi nhận yêu cầu")


class RequestStepForm(FlaskForm):
    outcome = TextAreaField("Ghi chú / kết quả", validators=[Optional(), max_length(5000)])
    submit = SubmitField("Lưu")


class ReasonForm(FlaskForm):
    reason = StringField("Lý do", validators=[required("Vui lòng ghi lý do."), max_length(500)])
    submit = SubmitField("Xác nhận")
