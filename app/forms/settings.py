from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Regexp, ValidationError

from app.errors import DomainError
from app.services.setup import check_number_format
from app.forms import AmountField, email_address, max_length, optional, required
from app.i18n import _l


class FundSettingsForm(FlaskForm):
    fund_name = StringField(_l("Tên quỹ"), validators=[required(), max_length(255)])
    operator_name = StringField(_l("Đơn vị quản lý"), validators=[required(), max_length(255)])
    parent_agency = StringField(_l("Cơ quan chủ quản"), validators=[required(), max_length(255)])
    address = StringField(_l("Địa chỉ"), validators=[required(), max_length(500)])
    phone = StringField(_l("Điện thoại"), validators=[optional(), max_length(50)])
    email = StringField(_l("Email"), validators=[optional(), email_address(), max_length(254)])
    bank_name = StringField(_l("Ngân hàng"), validators=[optional(), max_length(200)])
    bank_bin = StringField(_l("Mã BIN ngân hàng (VietQR)"), validators=[
        optional(), max_length(10), Regexp(r"^\d{6}$", message=_l("Mã BIN gồm 6 chữ số."))])
    bank_account_number = StringField(_l("Số tài khoản"), validators=[
        optional(), max_length(40), Regexp(r"^[0-9A-Za-z]{4,19}$", message=_l("Số tài khoản không hợp lệ."))])
    bank_account_name = StringField(_l("Tên chủ tài khoản"), validators=[optional(), max_length(200)])
    signatory_name = StringField(_l("Người ký"), validators=[required(), max_length(200)])
    signatory_title = StringField(_l("Chức danh người ký"), validators=[required(), max_length(200)])
    commendation_threshold = AmountField(_l("Ngưỡng đề nghị khen thưởng (VNĐ)"), validators=[required()])
    receipt_number_format = StringField(_l("Mẫu số giấy chứng nhận"), validators=[required(), max_length(60)])
    submit = SubmitField(_l("Lưu cài đặt"))

    def validate_receipt_number_format(self, field):
        try:
            check_number_format(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from None
