"""Forms of the background jobs pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SubmitField
from wtforms.validators import DataRequired, NumberRange

from app.i18n import _l


class StatementsJobForm(FlaskForm):
    year = IntegerField(_l("Năm"), validators=[DataRequired(_l("Vui lòng nhập năm.")),
                                              NumberRange(2000, 2100, _l("Năm phải trong khoảng 2000–2100."))])
    email = BooleanField(_l("Gửi email sao kê cho nhà hảo tâm có địa chỉ email"), default=True)
    submit = SubmitField(_l("Tạo sao kê năm"))


class JobActionForm(FlaskForm):
    """CSRF only (retry)."""
    submit = SubmitField(_l("Chạy lại"))
