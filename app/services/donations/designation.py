"""Where a gift's money goes: one rule for every entry point (online form, staff form,
case form, import).

An appeal tied to a programme (Appeal.programme_id) designates every gift made through it
to that programme: the donor's stated purpose binds the fund (Decree 03/2026). A gift
through such an appeal given "to the general fund" (or with no programme) goes to the
appeal's programme; one given to a *different* specific programme is refused, because the
two purposes contradict each other.
"""
from __future__ import annotations

from app.errors import ValidationFailed
from app.i18n import _


def programme_for_appeal(appeal_programme_id: int | None, programme_id: int | None, general_id: int,
                         *, appeal_title: str = "", programme_name: str = "") -> int:
    """The programme a gift belongs to, given its appeal's programme (or None), the
    programme asked for (or None) and the general fund's id."""
    if appeal_programme_id is None:
        return programme_id if programme_id is not None else general_id
    if programme_id in (None, general_id, appeal_programme_id):
        return appeal_programme_id
    if programme_name:
        message = _("Chiến dịch “%(title)s” vận động cho chương trình %(programme)s: khoản ủng hộ qua chiến "
                    "dịch này thuộc chương trình đó, không chọn chương trình khác.",
                    title=appeal_title, programme=programme_name)
    else:
        message = _("Chiến dịch “%(title)s” vận động cho chương trình riêng: khoản ủng hộ qua chiến dịch "
                    "này thuộc chương trình đó, không chọn chương trình khác.", title=appeal_title)
    raise ValidationFailed(message, field="programme_id")
