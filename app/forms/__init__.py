"""WTForms forms, one module per feature. Validation messages are given here (WTForms ships
no Vietnamese translation), lazily (`_l`), so each shows in the reader's language."""
from __future__ import annotations

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.i18n import _, _l
from app.params import MAX_ID, check_date
from app.vnd import AmountError, parse_vnd


def required(message=None) -> InputRequired:
    return InputRequired(message=message if message is not None else _l("Vui lòng nhập thông tin này."))


class TextLength(Length):
    """Length(max=…) measured on what was typed, so it also bounds fields whose `.data` is
    not text (amounts, dates)."""

    def __call__(self, form, field):
        text = field.data if isinstance(field.data, str) else (field.raw_data or [""])[0]
        if text is not None and self.max != -1 and len(text) > self.max:
            raise ValidationError(self.message)
        if isinstance(field.data, str):
            super().__call__(form, field)


def max_length(n: int) -> Length:
    return TextLength(max=n, message=_l("Tối đa %(n)s ký tự.", n=n))


def email_address() -> Email:
    return Email(message=_l("Địa chỉ email không hợp lệ."), check_deliverability=False)


optional = Optional


class AmountField(StringField):
    """A VND amount typed the way people type it ("50.000.000", "50,000,000 đ").

    `.data` is an int of đồng (or None when empty and the field is optional); parsing and
    its error messages (in the reader's language) come from app.vnd.parse_vnd.
    """

    def __init__(self, label=None, validators=None, minimum: int = 1, maximum: int | None = None, **kwargs):
        super().__init__(label, [*(validators or []), max_length(40)], **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        if not self.raw_text.strip():
            return
        limits = {"minimum": self.minimum}
        if self.maximum is not None:
            limits["maximum"] = self.maximum
        try:
            self.data = parse_vnd(self.raw_text, **limits)
        except AmountError as error:
            raise ValueError(error.message) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:,}".replace(",", ".")


class BoundedDateField(DateField):
    """A date between 1900 and 2199 (app.params): a year-1 date cannot be stored or
    converted to UTC, so it is a form error, not a server error."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            try:
                check_date(self.data)
            except ValueError:
                self.data = None
                raise


class IdField(IntegerField):
    """A record id typed or passed in a form: 1..2^31-1."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not 1 <= self.data <= MAX_ID:
            self.data = None
            raise ValueError(_("Mã không hợp lệ."))


__all__ = ["AmountField", "BoundedDateField", "IdField", "attach_error", "ValidationError", "email_address", "max_length", "optional", "required"]


def attach_error(form, error, default_field: str) -> None:
    """Show a service's DomainError under the field it names (or `default_field`, also
    when the name is not a field of this form, e.g. the donation form's parsed `amount`)."""
    from wtforms import Field

    field = getattr(form, error.field, None) if error.field else None
    if not isinstance(field, Field):
        field = getattr(form, default_field)
    field.errors = list(field.errors) + [error.message]
