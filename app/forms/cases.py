"""Forms for support cases, consent, documents, disbursements and case-designated gifts."""
from __future__ import annotations

from datetime import date, datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, HiddenField, SelectField, SelectMultipleField, StringField,
    SubmitField, TextAreaField,
)
from wtforms import widgets

from flask_babel import lazy_pgettext as pgettext  # lazy, and extracted as pgettext(context, msgid)

from app.i18n import _, _l
from app.forms import AmountField, BoundedDateField, ValidationError, max_length, optional, required
from app.models import CHANNEL_LABELS
from app.params import check_date
from app.models.case import DOCUMENT_KIND_LABELS, PAYEE_KINDS, PAYMENT_METHODS


class VNDateField(BoundedDateField):
    """A date typed as 2024-06-01 (the browser's date input) or 01/06/2024, with a message
    in the reader's language."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d/%m/%Y"], **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        for fmt in self.format:
            try:
                self.data = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            try:
                check_date(self.data)
            except ValueError:
                self.data = None
                raise
            return
        self.data = None
        raise ValueError(_("Ngày không hợp lệ (ví dụ 01/06/2024)."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):  # the service checks the ids
        pass


SEX_CHOICES = [("", _l("— Chọn —")), ("female", _l("Nữ")), ("male", _l("Nam"))]


class CaseForm(FlaskForm):
    programme_id = SelectField(_l("Chương trình"), coerce=int, validators=[required(_l("Vui lòng chọn chương trình."))])
    opened_on = VNDateField(_l("Ngày tiếp nhận"), validators=[optional()], render_kw={"type": "date"})
    child_name = StringField(_l("Họ tên trẻ"), validators=[required(_l("Vui lòng nhập họ tên trẻ.")), max_length(200)])
    child_birth_date = VNDateField(_l("Ngày sinh"), validators=[required(_l("Vui lòng nhập ngày sinh."))],
                                   render_kw={"type": "date"})
    child_sex = SelectField(_l("Giới tính"), choices=SEX_CHOICES, validators=[required(_l("Vui lòng chọn giới tính."))])
    admin_unit_id = SelectField(_l("Phường, xã, đặc khu"), coerce=int, validators=[optional()])
    address = StringField(_l("Địa chỉ (thôn, tổ dân phố, số nhà)"), validators=[optional(), max_length(500)])
    guardian_name = StringField(_l("Họ tên người giám hộ"), validators=[required(_l("Vui lòng nhập họ tên người giám hộ.")), max_length(200)])
    guardian_relation = StringField(_l("Quan hệ với trẻ"), validators=[required(_l("Vui lòng nhập quan hệ với trẻ.")), max_length(60)])
    guardian_phone = StringField(_l("Điện thoại người giám hộ"), validators=[optional(), max_length(20)])
    category_ids = MultiCheckboxField(_l("Hoàn cảnh"), coerce=int)
    diagnosis = TextAreaField(_l("Chẩn đoán"), validators=[optional(), max_length(4000)])
    facility = StringField(_l("Bệnh viện / trường học"), validators=[optional(), max_length(255)])
    situation = TextAreaField(_l("Hoàn cảnh gia đình, ghi chú thẩm định"), validators=[optional(), max_length(8000)])
    estimated_cost = AmountField(_l("Chi phí dự kiến (đ)"), validators=[optional()], minimum=0)
    insurance_covers = AmountField(_l("Bảo hiểm y tế chi trả (đ)"), validators=[optional()], minimum=0)
    family_covers = AmountField(_l("Gia đình tự chi trả (đ)"), validators=[optional()], minimum=0)
    support_requested = AmountField(_l("Số tiền đề nghị hỗ trợ (đ)"), validators=[optional()])
    submit = SubmitField(_l("Lưu hồ sơ"))

    def values(self) -> dict:
        names = ("programme_id", "opened_on", "child_name", "child_birth_date", "child_sex",
                 "admin_unit_id", "address", "guardian_name", "guardian_relation", "guardian_phone",
                 "diagnosis", "facility", "situation", "estimated_cost", "insurance_covers",
                 "family_covers", "support_requested")
        return {name: getattr(self, name).data for name in names}


class ConsentForm(FlaskForm):
    guardian_consent_on = VNDateField(_l("Ngày người giám hộ đồng ý"), validators=[optional()], render_kw={"type": "date"})
    child_consent_on = VNDateField(_l("Ngày trẻ đồng ý (bắt buộc khi trẻ từ đủ 7 tuổi)"), validators=[optional()],
                                   render_kw={"type": "date"})
    story_publishable = BooleanField(_l("Được công bố câu chuyện ẩn danh (tên viết tắt, không ảnh)"))
    story_initials = StringField(_l("Tên viết tắt"), validators=[optional(), max_length(20)])
    story_text = TextAreaField(_l("Câu chuyện ẩn danh"), validators=[optional(), max_length(2000)])
    submit = SubmitField(_l("Lưu thông tin đồng ý"))


class TransitionForm(FlaskForm):
    target = HiddenField(validators=[required(_l("Thiếu trạng thái đích.")), max_length(20)])
    comment = TextAreaField(_l("Ghi chú"), validators=[optional(), max_length(2000)])
    approved_amount = AmountField(_l("Số tiền phê duyệt (₫)"), validators=[optional()])


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Loại tài liệu"), choices=[(k.value, v) for k, v in DOCUMENT_KIND_LABELS.items()])
    file = FileField(_l("Tệp (PDF, JPG, PNG, tối đa 10 MB)"))
    submit = SubmitField(_l("Tải lên"))


class DisbursementForm(FlaskForm):
    programme_id = SelectField(_l("Nguồn chi"), coerce=int)
    amount = AmountField(_l("Số tiền (đ)"), validators=[required(_l("Vui lòng nhập số tiền."))])
    paid_on = VNDateField(_l("Ngày chi"), validators=[required(_l("Vui lòng nhập ngày chi."))], render_kw={"type": "date"})
    payee_kind = SelectField(_l("Đối tượng nhận"), choices=list(PAYEE_KINDS.items()))
    payee_name = StringField(_l("Tên đơn vị / người nhận"), validators=[optional(), max_length(255)])
    method = SelectField(_l("Hình thức chi"), choices=list(PAYMENT_METHODS.items()))
    voucher_number = StringField(_l("Số phiếu chi / chứng từ"), validators=[optional(), max_length(60)])
    proof = FileField(_l("Chứng từ (PDF, JPG, PNG, tối đa 10 MB)"))
    note = TextAreaField(_l("Ghi chú"), validators=[optional(), max_length(2000)])
    submit = SubmitField(_l("Ghi khoản chi (chờ duyệt)"))


class ReasonForm(FlaskForm):
    reason = StringField(_l("Lý do"), validators=[required(_l("Vui lòng ghi lý do.")), max_length(2000)])


class CaseDonationForm(FlaskForm):
    donor_id = SelectField(pgettext("one donor", "Nhà hảo tâm"), coerce=int, validators=[required(_l("Vui lòng chọn nhà hảo tâm."))])
    amount = AmountField(_l("Số tiền (đ)"), validators=[required(_l("Vui lòng nhập số tiền."))])
    channel = SelectField(_l("Hình thức"), choices=[(k.value, v) for k, v in CHANNEL_LABELS.items() if k.value != "card"])
    received_on = VNDateField(_l("Ngày nhận"), validators=[required(_l("Vui lòng nhập ngày nhận."))], render_kw={"type": "date"})
    reference = StringField(_l("Mã tham chiếu (số chứng từ, mã giao dịch)"), validators=[optional(), max_length(120)])
    in_kind_description = StringField(_l("Mô tả hiện vật (nếu là hiện vật)"), validators=[optional(), max_length(500)])
    note = StringField(_l("Ghi chú"), validators=[optional(), max_length(500)])
    submit = SubmitField(_l("Ghi nhận khoản ủng hộ chỉ định"))

    def validate_donor_id(self, field):
        if not field.data:
            raise ValidationError(_("Vui lòng chọn nhà hảo tâm."))


class CategoryForm(FlaskForm):
    name = StringField(_l("Tên hoàn cảnh"), validators=[required(_l("Vui lòng nhập tên hoàn cảnh.")), max_length(200)])
    submit = SubmitField(_l("Thêm"))


class CategoryUpdateForm(FlaskForm):
    """Rename a category or switch it on/off (either field may be absent)."""
    name = StringField(_l("Tên hoàn cảnh"), validators=[optional(), max_length(200)])
    active = StringField(validators=[optional(), max_length(1)])
