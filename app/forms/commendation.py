"""Forms of the commendation list pages."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField

from app.forms import max_length, optional, required
from app.models import EXCLUSION_REASON_LABELS


class ExclusionForm(FlaskForm):
    reason = RadioField("Lý do", choices=[(r.value, label) for r, label in EXCLUSION_REASON_LABELS.items()],
                        validators=[required("Vui lòng chọn lý do.")])
    note = TextAreaField("Ghi chú (bắt buộc với lý do khác)", validators=[optional(), max_length(1000)])
    submit = SubmitField("Loại khỏi danh sách năm này")


class OverrideForm(FlaskForm):
    title = StringField("Danh xưng (Ông, Bà, chức danh…)", validators=[optional(), max_length(60)])
    name = StringField("Tên in trên danh sách", validators=[optional(), max_length(255)])
    address = StringField("Địa chỉ in trên danh sách", validators=[optional(), max_length(500)])
    submit = SubmitField("Lưu cách in")


class FreezeForm(FlaskForm):
    confirm = BooleanField("Tôi đã rà soát danh sách; chốt thành danh sách trình (không sửa được nữa).",
                           validators=[required("Vui lòng xác nhận đã rà soát danh sách.")])
    submit = SubmitField("Chốt danh sách")


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (e.g. taking back an exclusion)."""
