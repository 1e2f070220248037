"""Forms of the back office: donors, appeals, offline donations, reversals, import."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField, HiddenField, SelectField, StringField, SubmitField,
    TextAreaField, TimeField,
)
from wtforms.validators import Optional, ValidationError

from app.errors import ValidationFailed
from app.i18n import _, _l
from app.forms import AmountField, BoundedDateField, IdField, max_length, required
from app.models import CHANNEL_LABELS, Channel, DonorKind
from app.services.donor_profiles import normalize_email, normalize_phone, normalize_tax_code

KIND_CHOICES = [(DonorKind.INDIVIDUAL.value, _l("Cá nhân")), (DonorKind.ORGANIZATION.value, _l("Tập thể (tổ chức, doanh nghiệp)"))]
# Donor.language: "" (None) is Vietnamese.
LANGUAGE_CHOICES = [("", _l("Tiếng Việt")), ("en", _l("Tiếng Anh"))]
OFFLINE_CHANNELS = [(c.value, CHANNEL_LABELS[c]) for c in (Channel.CASH, Channel.BANK_TRANSFER, Channel.IN_KIND)]


def _service_check(normalize):
    """A WTForms validator running one of the service's normalisers (same rules, same
    Vietnamese message, everywhere)."""
    def check(_form, field):
        try:
            normalize(field.data)
        except ValidationFailed as error:
            raise ValidationError(error.message) from None
    return check


class DonorFields:
    kind = SelectField(_l("Loại"), choices=KIND_CHOICES)
    name = StringField(_l("Tên nhà hảo tâm"), validators=[required(_l("Vui lòng nhập tên nhà hảo tâm.")), max_length(255)])
    tax_code = StringField(_l("Mã số thuế"), validators=[Optional(), max_length(20), _service_check(normalize_tax_code)])
    email = StringField(_l("Email"), validators=[Optional(), max_length(254), _service_check(normalize_email)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), max_length(20), _service_check(normalize_phone)])
    address = StringField(_l("Địa chỉ"), validators=[Optional(), max_length(500)])


class DonorForm(FlaskForm, DonorFields):
    representative = StringField(_l("Người đại diện (tập thể)"), validators=[Optional(), max_length(200)])
    public_listing_consent = BooleanField(_l("Đồng ý công khai tên trong danh sách nhà hảo tâm"))
    anonymous = BooleanField(_l("Ẩn danh trên trang công khai"))
    notes = TextAreaField(_l("Ghi chú nội bộ"), validators=[Optional(), max_length(5000)])
    # The donor's language for e-mails and receipts' courtesy translation ("" = Vietnamese).
    language = SelectField(_l("Ngôn ngữ"), choices=LANGUAGE_CHOICES, default="",
                           filters=[lambda value: "en" if value == "en" else ""])  # None, "vi": ""
    confirm_new = BooleanField(_l("Tôi đã xem các hồ sơ tương tự; vẫn tạo hồ sơ mới"))
    submit = SubmitField(_l("Lưu"))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "kind", "name", "tax_code", "email", "phone", "address", "representative",
            "public_listing_consent", "anonymous", "notes", "language")}


class MergeForm(FlaskForm):
    other_id = IdField(_l("Mã hồ sơ trùng (sẽ được gộp vào hồ sơ này)"),
                            validators=[required(_l("Vui lòng nhập mã hồ sơ cần gộp."))])
    confirm = BooleanField(_l("Tôi xác nhận hai hồ sơ là cùng một nhà hảo tâm"))
    submit = SubmitField(_l("Gộp hồ sơ"))


class AppealForm(FlaskForm):
    title = StringField(_l("Tên chiến dịch"), validators=[required(_l("Vui lòng nhập tên chiến dịch.")), max_length(255)])
    slug = StringField(_l("Đường dẫn (không dấu)"), validators=[Optional(), max_length(120)])
    summary = StringField(_l("Tóm tắt"), validators=[Optional(), max_length(500)])
    story = TextAreaField(_l("Câu chuyện"), validators=[Optional(), max_length(20000)])
    goal_amount = AmountField(_l("Mục tiêu (VNĐ)"), validators=[Optional()])
    starts_on = BoundedDateField(_l("Ngày bắt đầu"), validators=[Optional()], format="%Y-%m-%d")
    ends_on = BoundedDateField(_l("Ngày kết thúc"), validators=[Optional()], format="%Y-%m-%d")
    is_public = BooleanField(_l("Hiển thị trên trang công khai"))
    # Choices are set by the view: "" (gifts go where the donor chooses) or a programme id.
    programme_id = SelectField(_l("Vận động cho chương trình"), coerce=str, validate_choice=False)
    submit = SubmitField(_l("Lưu chiến dịch"))

    def values(self) -> dict:
        out = {name: getattr(self, name).data for name in (
            "title", "slug", "summary", "story", "goal_amount", "starts_on", "ends_on", "is_public")}
        raw = (self.programme_id.data or "").strip()
        out["programme_id"] = int(raw) if raw.isdecimal() and len(raw) < 10 else None
        return out


class DonationForm(FlaskForm):
    donor_id = HiddenField(validators=[max_length(12)])
    # Inline new donor (used when no existing donor is picked).
    new_kind = SelectField(_l("Loại"), choices=KIND_CHOICES, default=DonorKind.INDIVIDUAL.value)
    new_name = StringField(_l("Tên nhà hảo tâm mới"), validators=[Optional(), max_length(255)])
    new_tax_code = StringField(_l("Mã số thuế"), validators=[Optional(), max_length(20), _service_check(normalize_tax_code)])
    new_email = StringField(_l("Email"), validators=[Optional(), max_length(254), _service_check(normalize_email)])
    new_phone = StringField(_l("Điện thoại"), validators=[Optional(), max_length(20), _service_check(normalize_phone)])
    new_address = StringField(_l("Địa chỉ"), validators=[Optional(), max_length(500)])
    confirm_new = BooleanField(_l("Tôi đã xem các hồ sơ tương tự; vẫn tạo nhà hảo tâm mới"))

    channel = SelectField(_l("Hình thức"), choices=OFFLINE_CHANNELS)
    amount = AmountField(_l("Số tiền (VNĐ) — với hiện vật: giá trị quy đổi"),
                         validators=[required(_l("Vui lòng nhập số tiền."))])
    in_kind_description = TextAreaField(_l("Mô tả hiện vật"), validators=[Optional(), max_length(2000)])
    received_on = BoundedDateField(_l("Ngày nhận"), validators=[required(_l("Vui lòng nhập ngày nhận."))], format="%Y-%m-%d")
    received_time = TimeField(_l("Giờ nhận (giờ Việt Nam)"), validators=[required(_l("Vui lòng nhập giờ nhận."))], format="%H:%M")
    appeal_id = SelectField(_l("Chiến dịch"), coerce=str, validators=[Optional()])
    programme_id = SelectField(_l("Chỉ định cho chương trình"), coerce=str)
    reference = StringField(_l("Mã tham chiếu (số chứng từ, mã giao dịch)"), validators=[Optional(), max_length(120)])
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_length(5000)])
    submit = SubmitField(_l("Ghi nhận khoản ủng hộ"))

    def validate_in_kind_description(self, field):
        if self.channel.data == Channel.IN_KIND.value and not (field.data or "").strip():
            raise ValidationError(_("Vui lòng mô tả hiện vật ủng hộ."))

    def validate_new_name(self, field):
        if not (self.donor_id.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_("Chọn một nhà hảo tâm có sẵn hoặc nhập tên nhà hảo tâm mới."))


class ReverseForm(FlaskForm):
    kind = SelectField(_l("Loại bút toán"), default="correction", choices=[("correction", _l("Đảo bút toán (nhập sai)")), ("refund", _l("Hoàn tiền cho nhà hảo tâm"))])
    amount = AmountField(_l("Số tiền đảo (để trống = toàn bộ phần còn lại)"), validators=[Optional()])
    reason = TextAreaField(_l("Lý do"), validators=[required(_l("Vui lòng nhập lý do đảo bút toán.")), max_length(2000)])
    submit = SubmitField(_l("Ghi bút toán đảo"))


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Tệp CSV (UTF-8) hoặc Excel (.xlsx)"), validators=[
        FileRequired(_l("Vui lòng chọn tệp.")), FileAllowed(["csv", "xlsx"], _l("Chỉ nhận tệp .csv hoặc .xlsx."))])
    submit = SubmitField(_l("Kiểm tra tệp"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[max_length(200)])
    skip_invalid = BooleanField(_l("Bỏ qua các dòng lỗi, chỉ nhập các dòng hợp lệ"))
    no_receipts = BooleanField(_l("Không cấp giấy chứng nhận (dữ liệu lịch sử)"))
    submit = SubmitField(_l("Xác nhận nhập dữ liệu"))
