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
from app.forms import AmountField, BoundedDateField, IdField, max_length, required
from app.models import CHANNEL_LABELS, Channel, DonorKind
from app.services.donor_profiles import normalize_email, normalize_phone, normalize_tax_code

KIND_CHOICES = [(DonorKind.INDIVIDUAL.value, "Cá nhân"), (DonorKind.ORGANIZATION.value, "Tập thể (tổ chức, doanh nghiệp)")]
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
    kind = SelectField("Loại", choices=KIND_CHOICES)
    name = StringField("Tên nhà hảo tâm", validators=[required("Vui lòng nhập tên nhà hảo tâm."), max_length(255)])
    tax_code = StringField("Mã số thuế", validators=[Optional(), max_length(20), _service_check(normalize_tax_code)])
    email = StringField("Email", validators=[Optional(), max_length(254), _service_check(normalize_email)])
    phone = StringField("Điện thoại", validators=[Optional(), max_length(20), _service_check(normalize_phone)])
    address = StringField("Địa chỉ", validators=[Optional(), max_length(500)])


class DonorForm(FlaskForm, DonorFields):
    representative = StringField("Người đại diện (tập thể)", validators=[Optional(), max_length(200)])
    public_listing_consent = BooleanField("Đồng ý công khai tên trong danh sách nhà hảo tâm")
    anonymous = BooleanField("Ẩn danh trên trang công khai")
    notes = TextAreaField("Ghi chú nội bộ", validators=[Optional(), max_length(5000)])
    confirm_new = BooleanField("Tôi đã xem các hồ sơ tương tự; vẫn tạo hồ sơ mới")
    submit = SubmitField("Lưu")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "kind", "name", "tax_code", "email", "phone", "address", "representative",
            "public_listing_consent", "anonymous", "notes")}


class MergeForm(FlaskForm):
    other_id = IdField("Mã hồ sơ trùng (sẽ được gộp vào hồ sơ này)",
                            validators=[required("Vui lòng nhập mã hồ sơ cần gộp.")])
    confirm = BooleanField("Tôi xác nhận hai hồ sơ là cùng một nhà hảo tâm")
    submit = SubmitField("Gộp hồ sơ")


class AppealForm(FlaskForm):
    title = StringField("Tên chiến dịch", validators=[required("Vui lòng nhập tên chiến dịch."), max_length(255)])
    slug = StringField("Đường dẫn (không dấu)", validators=[Optional(), max_length(120)])
    summary = StringField("Tóm tắt", validators=[Optional(), max_length(500)])
    story = TextAreaField("Câu chuyện", validators=[Optional(), max_length(20000)])
    goal_amount = AmountField("Mục tiêu (VNĐ)", validators=[Optional()])
    starts_on = BoundedDateField("Ngày bắt đầu", validators=[Optional()], format="%Y-%m-%d")
    ends_on = BoundedDateField("Ngày kết thúc", validators=[Optional()], format="%Y-%m-%d")
    is_public = BooleanField("Hiển thị trên trang công khai")
    # Choices are set by the view: "" (gifts go where the donor chooses) or a programme id.
    programme_id = SelectField("Vận động cho chương trình", coerce=str, validate_choice=False)
    submit = SubmitField("Lưu chiến dịch")

    def values(self) -> dict:
        out = {name: getattr(self, name).data for name in (
            "title", "slug", "summary", "story", "goal_amount", "starts_on", "ends_on", "is_public")}
        raw = (self.programme_id.data or "").strip()
        out["programme_id"] = int(raw) if raw.isdecimal() and len(raw) < 10 else None
        return out


class DonationForm(FlaskForm):
    donor_id = HiddenField(validators=[max_length(12)])
    # Inline new donor (used when no existing donor is picked).
    new_kind = SelectField("Loại", choices=KIND_CHOICES, default=DonorKind.INDIVIDUAL.value)
    new_name = StringField("Tên nhà hảo tâm mới", validators=[Optional(), max_length(255)])
    new_tax_code = StringField("Mã số thuế", validators=[Optional(), max_length(20), _service_check(normalize_tax_code)])
    new_email = StringField("Email", validators=[Optional(), max_length(254), _service_check(normalize_email)])
    new_phone = StringField("Điện thoại", validators=[Optional(), max_length(20), _service_check(normalize_phone)])
    new_address = StringField("Địa chỉ", validators=[Optional(), max_length(500)])
    confirm_new = BooleanField("Tôi đã xem các hồ sơ tương tự; vẫn tạo nhà hảo tâm mới")

    channel = SelectField("Hình thức", choices=OFFLINE_CHANNELS)
    amount = AmountField("Số tiền (VNĐ) — với hiện vật: giá trị quy đổi",
                         validators=[required("Vui lòng nhập số tiền.")])
    in_kind_description = TextAreaField("Mô tả hiện vật", validators=[Optional(), max_length(2000)])
    received_on = BoundedDateField("Ngày nhận", validators=[required("Vui lòng nhập ngày nhận.")], format="%Y-%m-%d")
    received_time = TimeField("Giờ nhận (giờ Việt Nam)", validators=[required("Vui lòng nhập giờ nhận.")], format="%H:%M")
    appeal_id = SelectField("Chiến dịch", coerce=str, validators=[Optional()])
    programme_id = SelectField("Chỉ định cho chương trình", coerce=str)
    reference = StringField("Mã tham chiếu (số chứng từ, mã giao dịch)", validators=[Optional(), max_length(120)])
    note = TextAreaField("Ghi chú", validators=[Optional(), max_length(5000)])
    submit = SubmitField("Ghi nhận khoản ủng hộ")

    def validate_in_kind_description(self, field):
        if self.channel.data == Channel.IN_KIND.value and not (field.data or "").strip():
            raise ValidationError("Vui lòng mô tả hiện vật ủng hộ.")

    def validate_new_name(self, field):
        if not (self.donor_id.data or "").strip() and not (field.data or "").strip():
            raise ValidationError("Chọn một nhà hảo tâm có sẵn hoặc nhập tên nhà hảo tâm mới.")


class ReverseForm(FlaskForm):
    kind = SelectField("Loại bút toán", default="correction", choices=[("correction", "Đảo bút toán (nhập sai)"), ("refund", "Hoàn tiền cho nhà hảo tâm")])
    amount = AmountField("Số tiền đảo (để trống = toàn bộ phần còn lại)", validators=[Optional()])
    reason = TextAreaField("Lý do", validators=[required("Vui lòng nhập lý do đảo bút toán."), max_length(2000)])
    submit = SubmitField("Ghi bút toán đảo")


class ImportUploadForm(FlaskForm):
    file = FileField("Tệp CSV (UTF-8) hoặc Excel (.xlsx)", validators=[
        FileRequired("Vui lòng chọn tệp."), FileAllowed(["csv", "xlsx"], "Chỉ nhận tệp .csv hoặc .xlsx.")])
    submit = SubmitField("Kiểm tra tệp")


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[max_length(200)])
    skip_invalid = BooleanField("Bỏ qua các dòng lỗi, chỉ nhập các dòng hợp lệ")
    no_receipts = BooleanField("Không cấp giấy chứng nhận (dữ liệu lịch sử)")
    submit = SubmitField("Xác nhận nhập dữ liệu")
