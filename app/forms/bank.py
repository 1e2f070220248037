"""The admin's statement-layout form (/staff/bank/layouts). Field checks here; the rules
that tie fields together live in app/services/bank/layouts.py (build_config)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import max_length, optional, required
from app.i18n import _, _l
from app.services.bank.layouts import COLUMNS, DATE_FORMATS, MAX_HEADER_ROW, LayoutInput

COLUMN_HELP = _l("Các từ trong tiêu đề cột, cách nhau bằng “;” (không cần dấu, không phân biệt hoa thường), "
                 "hoặc chữ cái của cột (A, B, … AA).")


class VietnameseIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Vui lòng nhập một số nguyên.")) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {value for value, _label in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(_("Vui lòng chọn trong danh sách."))


class BankLayoutForm(FlaskForm):
    name = StringField(_l("Tên mẫu (dùng với --layout TÊN)"), validators=[
        required(_l("Vui lòng nhập tên mẫu.")), max_length(60)])
    label = StringField(_l("Tên hiển thị (ví dụ: ACB)"), validators=[optional(), max_length(120)])
    titles = TextAreaField(_l("Từ nhận diện ở đầu tệp (mỗi dòng một cụm, không bắt buộc)"),
                           validators=[optional(), max_length(1000)])
    header_row = VietnameseIntegerField(_l("Dòng tiêu đề cột (để trống: tự tìm trong 40 dòng đầu)"), validators=[
        Optional(), NumberRange(min=1, max=MAX_HEADER_ROW,
                                message=_l("Dòng tiêu đề là một số từ %(min)s đến %(max)s."))])
    amount_mode = RadioField(_l("Số tiền trong tệp"), default="split", choices=[
        ("split", _l("Hai cột: ghi có và ghi nợ")), ("signed", _l("Một cột số tiền có dấu (âm là tiền ra)"))])
    date_formats = MultiCheckboxField(_l("Định dạng ngày"), choices=[(f, label) for f, label in DATE_FORMATS])
    fill_down_date = BooleanField(_l("Ô ngày để trống nghĩa là cùng ngày với dòng trên"))
    date_with_reference = BooleanField(_l("Ô ngày chứa cả số tham chiếu (xuống dòng sau ngày)"))
    opening = TextAreaField(_l("Từ của dòng số dư đầu kỳ"), validators=[optional(), max_length(1000)])
    closing = TextAreaField(_l("Từ của dòng số dư cuối kỳ"), validators=[optional(), max_length(1000)])
    footer = TextAreaField(_l("Từ của dòng tổng cộng (bỏ qua khi đọc)"), validators=[optional(), max_length(1000)])
    file = FileField(_l("Thử với tệp sao kê (XLSX hoặc CSV)"))

    def values(self) -> LayoutInput:
        return LayoutInput(
            name=(self.name.data or "").strip(), label=(self.label.data or "").strip(), titles=self.titles.data or "",
            header_row=self.header_row.data, amount_mode=self.amount_mode.data or "split",
            columns={key: getattr(self, f"col_{key}").data or "" for key, _label in COLUMNS},
            date_formats=list(self.date_formats.data or []), fill_down_date=bool(self.fill_down_date.data),
            date_with_reference=bool(self.date_with_reference.data), opening=self.opening.data or "",
            closing=self.closing.data or "", footer=self.footer.data or "")

    def fill(self, values: LayoutInput) -> None:
        self.name.data, self.label.data, self.titles.data = values.name, values.label, values.titles
        self.header_row.data, self.amount_mode.data = values.header_row, values.amount_mode
        for key, _label in COLUMNS:
            getattr(self, f"col_{key}").data = values.columns.get(key, "")
        self.date_formats.data = list(values.date_formats)
        self.fill_down_date.data, self.date_with_reference.data = values.fill_down_date, values.date_with_reference
        self.opening.data, self.closing.data, self.footer.data = values.opening, values.closing, values.footer


#: The label of each column's field ("Cột ngày giao dịch"): whole sentences, for the catalog.
COLUMN_FIELD_LABELS = {
    "date": _l("Cột ngày giao dịch"), "credit": _l("Cột ghi có (tiền vào)"), "debit": _l("Cột ghi nợ (tiền ra)"),
    "amount": _l("Cột số tiền có dấu (âm là tiền ra)"), "memo": _l("Cột nội dung"),
    "reference": _l("Cột số tham chiếu"), "balance": _l("Cột số dư"), "sender_name": _l("Cột tên người chuyển"),
    "sender_account": _l("Cột tài khoản người chuyển"),
}

for _key, _label in COLUMNS:  # one text field per column the engine maps
    setattr(BankLayoutForm, f"col_{_key}", StringField(COLUMN_FIELD_LABELS[_key], validators=[
        optional(), max_length(500)]))
