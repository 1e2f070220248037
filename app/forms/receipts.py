from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField

from app.forms import email_address, max_length, optional, required


class VoidReceiptForm(FlaskForm):
    reason = TextAreaField("Lý do hủy", validators=[
        required("Vui lòng nhập lý do hủy giấy chứng nhận."), max_length(500)])
    submit = SubmitField("Hủy giấy chứng nhận")


class ReissueReceiptForm(FlaskForm):
    reason = StringField("Lý do cấp lại (nếu giấy đang hợp lệ)", validators=[optional(), max_length(500)])
    submit = SubmitField("Cấp lại số mới")


class ResendReceiptForm(FlaskForm):
    to = StringField("Gửi tới email (để trống: email của nhà hảo tâm)",
                     validators=[optional(), email_address(), max_length(254)])
    submit = SubmitField("Gửi lại email")
