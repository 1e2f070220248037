"""Forms of the commendation list pages."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField

from app.forms import max_length, optional, required
from app.i18n import _l
from app.models import EXCLUSION_REASON_LABELS


class ExclusionForm(FlaskForm):
    reason = RadioField(_l("Lý do"), choices=[(r.value, label) for r, label in EXCLUSION_REASON_LABELS.items()],
                        validators=[required(_l("Vui lòng chọn lý do."))])
    note = TextAreaField(_l("Ghi chú (bắt buộc với lý do khác)"), validators=[optional(), max_length(1000)])
    submit = SubmitField(_l("Loại khỏi danh sách năm này"))


class OverrideForm(FlaskForm):
    title = StringField(_l("Danh xưng (Ông, Bà, chức danh…)"), validators=[optional(), max_length(60)])
    name = StringField(_l("Tên in trên danh sách"), validators=[optional(), max_length(255)])
    address = StringField(_l("Địa chỉ in trên danh sách"), validators=[optional(), max_length(500)])
    submit = SubmitField(_l("Lưu cách in"))


class FreezeForm(FlaskForm):
    confirm = BooleanField(_l("Tôi đã rà soát danh sách; chốt thành danh sách trình (không sửa được nữa)."),
                           validators=[required(_l("Vui lòng xác nhận đã rà soát danh sách."))])
    submit = SubmitField(_l("Chốt danh sách"))


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (e.g. taking back an exclusion)."""
