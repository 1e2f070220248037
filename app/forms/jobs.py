"""Forms of the background jobs pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SubmitField
from wtforms.validators import DataRequired, NumberRange


class StatementsJobForm(FlaskForm):
    year = IntegerField("Năm", validators=[DataRequired("Vui lòng nhập năm."),
                                          NumberRange(2000, 2100, "Năm phải trong khoảng 2000–2100.")])
    email = BooleanField("Gửi email sao kê cho nhà hảo tâm có địa chỉ email", default=True)
    submit = SubmitField("Tạo sao kê năm")


class JobActionForm(FlaskForm):
    """CSRF only (retry)."""
    submit = SubmitField("Chạy lại")
