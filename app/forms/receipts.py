from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField

from app.forms import email_address, max_length, optional, required
from app.i18n import _l


class VoidReceiptForm(FlaskForm):
    reason = TextAreaField(_l("Lý do hủy"), validators=[
        required(_l("Vui lòng nhập lý do hủy giấy chứng nhận.")), max_length(500)])
    submit = SubmitField(_l("Hủy giấy chứng nhận"))


class ReissueReceiptForm(FlaskForm):
    reason = StringField(_l("Lý do cấp lại (nếu giấy đang hợp lệ)"), validators=[optional(), max_length(500)])
    submit = SubmitField(_l("Cấp lại số mới"))


class ResendReceiptForm(FlaskForm):
    to = StringField(_l("Gửi tới email (để trống: email của nhà hảo tâm)"),
                     validators=[optional(), email_address(), max_length(254)])
    submit = SubmitField(_l("Gửi lại email"))
