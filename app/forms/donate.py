"""The public donation form. Every label and message in the reader's language (Vietnamese
source, `_l` / `_`); amounts parsed by AmountField."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Regexp, StopValidation, ValidationError

from app.forms import AmountField, email_address, max_length, optional, required
from app.i18n import _, _l, money
from app.models import DonorKind

AMOUNT_PRESETS = (100_000, 200_000, 500_000, 1_000_000, 5_000_000)
EXAMPLE_AMOUNT = 300_000  # the custom amount's placeholder


class VietnameseRadioField(RadioField):
    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(self.invalid_message)

    invalid_message = _l("Vui lòng chọn một mục trong danh sách.")


class AmountPresetField(VietnameseRadioField):
    def pre_validate(self, form):
        if self.data:  # empty is fine when a custom amount is typed (checked in validate)
            super().pre_validate(form)


class VietnameseSelectField(SelectField):
    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_("Vui lòng chọn nơi nhận hợp lệ."))


def _blank(field) -> bool:
    return not (field.data or "").strip()


def unless_nameless_transfer(form, field):
    """A bank transfer may be given with neither name nor e-mail (anonymously): then the
    two fields are not required (the chain stops without an error)."""
    if form.nameless_transfer:
        field.errors[:] = []
        raise StopValidation()


class DonationForm(FlaskForm):
    method = VietnameseRadioField(
        _l("Hình thức ủng hộ"), default="card",
        choices=[("card", _l("Thẻ (thanh toán trực tuyến)")), ("transfer", _l("Chuyển khoản / VietQR"))])
    frequency = VietnameseRadioField(
        _l("Tần suất"), default="once",
        choices=[("once", _l("Một lần")), ("monthly", _l("Hằng tháng (chuyển khoản)"))])
    kind = VietnameseRadioField(
        _l("Bạn ủng hộ với tư cách"), default=DonorKind.INDIVIDUAL.value,
        choices=[(DonorKind.INDIVIDUAL.value, _l("Cá nhân")),
                 (DonorKind.ORGANIZATION.value, _l("Tổ chức, doanh nghiệp"))])
    name = StringField(_l("Họ và tên / Tên tổ chức"), validators=[
        unless_nameless_transfer, required(_l("Vui lòng nhập họ tên hoặc tên tổ chức (dùng trên giấy chứng nhận).")),
        max_length(255)])
    email = StringField(_l("Email (để nhận giấy chứng nhận)"), validators=[
        unless_nameless_transfer, required(_l("Vui lòng nhập email để nhận giấy chứng nhận.")), email_address(),
        max_length(254)])
    phone = StringField(_l("Số điện thoại"), validators=[
        optional(), max_length(20), Regexp(r"^\+?[0-9 .\-]{8,20}$",
                           message=_l("Số điện thoại không hợp lệ (chỉ gồm chữ số, ví dụ 0912 345 678)."))])
    tax_code = StringField(_l("Mã số thuế (MST)"), validators=[
        optional(), max_length(20), Regexp(r"^\d{10}(-\d{3})?$",
                           message=_l("Mã số thuế gồm 10 chữ số (chi nhánh: 10 chữ số, dấu gạch và 3 chữ số)."))])
    representative = StringField(_l("Người đại diện"), validators=[optional(), max_length(200)])
    address = StringField(_l("Địa chỉ (không bắt buộc)"), validators=[optional(), max_length(500)])
    # The preset labels are amounts in the reader's language: set per form (__init__).
    preset = AmountPresetField(_l("Số tiền ủng hộ"), default="", choices=[])
    custom_amount = AmountField(_l("Số tiền khác (đồng)"), minimum=1)
    designation = VietnameseSelectField(_l("Ủng hộ cho"), default="general", choices=[])
    anonymous = BooleanField(_l("Ủng hộ ẩn danh (trên trang công khai chỉ hiện “Nhà hảo tâm”)"))
    public_listing = BooleanField(_l("Tôi đồng ý được ghi tên trong danh sách nhà hảo tâm trên trang của Quỹ"))
    message = TextAreaField(_l("Lời nhắn gửi Quỹ (không bắt buộc)"), validators=[optional(), max_length(500)])
    currency = HiddenField(default="VND", validators=[max_length(3)])
    appeal = HiddenField(validators=[max_length(120)])
    submit = SubmitField(_l("Tiếp tục thanh toán"))

    def __init__(self, *args, designation_choices=(), minimum: int = 10_000, maximum: int = 50_000_000, **kwargs):
        super().__init__(*args, **kwargs)
        self.designation.choices = list(designation_choices)
        self.preset.choices = [(str(v), money(v)) for v in AMOUNT_PRESETS] + [("other", _("Số khác"))]
        self.minimum, self.maximum = minimum, maximum
        # An attribute, not a literal in the template: Jinja folds `300000|vnd_plain` at
        # compile time, in whatever language the first page was drawn in.
        self.example_amount = EXAMPLE_AMOUNT
        self.amount: int | None = None

    @property
    def nameless_transfer(self) -> bool:
        """A transfer with neither name nor e-mail: an anonymous gift with no donor identity."""
        return self.method.data == "transfer" and _blank(self.name) and _blank(self.email)

    def _custom_typed(self) -> bool:
        return bool(self.custom_amount.raw_data and self.custom_amount.raw_data[0].strip())

    def validate(self, extra_validators=None) -> bool:
        if self.kind.data != DonorKind.ORGANIZATION.value:
            # An individual has no MST or representative; ignore what the browser kept.
            for field in (self.tax_code, self.representative):
                field.data, field.raw_data = "", []
        if self.nameless_transfer:
            # No identity at all: nothing else about the donor is kept either.
            self.kind.data = DonorKind.INDIVIDUAL.value
            for field in (self.phone, self.tax_code, self.representative, self.address):
                field.data, field.raw_data = "", []
            self.anonymous.data, self.public_listing.data = True, False
        ok = super().validate(extra_validators)
        if self.method.data == "transfer":
            # The "required" message, with the way out a transfer has (one sentence per field).
            for field, message in (
                    (self.name, _("Vui lòng nhập họ tên hoặc tên tổ chức (dùng trên giấy chứng nhận). "
                                  "Hoặc để trống cả họ tên và email để chuyển khoản ẩn danh.")),
                    (self.email, _("Vui lòng nhập email để nhận giấy chứng nhận. "
                                   "Hoặc để trống cả họ tên và email để chuyển khoản ẩn danh."))):
                if field.errors and _blank(field):
                    field.errors = [message]
        if self.custom_amount.errors or self.preset.errors:
            return False
        if self.frequency.data == "monthly" and self.method.data != "transfer":
            self.frequency.errors.append(_(
                "Ủng hộ hằng tháng trên trang này là chuyển khoản: vui lòng chọn “Chuyển khoản / VietQR”. "
                "Ủng hộ hằng tháng bằng thẻ: đăng nhập tài khoản nhà hảo tâm, mục Ủng hộ hằng tháng."))
            return False
        # A typed amount wins over a preset (the small script on the page clears it when a
        # preset is picked); nothing the browser sends is trusted beyond these two fields.
        if self._custom_typed():
            amount = self.custom_amount.data
        elif self.preset.data and self.preset.data != "other":
            amount = int(self.preset.data)  # one of our own presets (checked by pre_validate)
        else:
            self.custom_amount.errors.append(_("Vui lòng chọn hoặc nhập số tiền ủng hộ."))
            return False
        if amount < self.minimum:
            self.custom_amount.errors.append(_("Số tiền tối thiểu là %(amount)s.", amount=money(self.minimum)))
            return False
        if amount > self.maximum and self.method.data != "transfer":
            self.custom_amount.errors.append(_(
                "Thanh toán bằng thẻ tối đa %(amount)s mỗi lần. Với khoản lớn hơn, "
                "vui lòng chọn “Chuyển khoản / VietQR” hoặc chia thành nhiều lần.", amount=money(self.maximum)))
            return False
        if amount >= 10 ** 13:
            self.custom_amount.errors.append(_("Số tiền quá lớn."))
            return False
        if (self.currency.data or "VND").strip().upper() != "VND":
            self.custom_amount.errors.append(_("Quỹ chỉ nhận ủng hộ trực tuyến bằng đồng Việt Nam (VND)."))
            return False
        if not ok:
            return False
        self.amount = amount
        return True
