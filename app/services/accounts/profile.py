"""What a signed-in donor sees and changes: their gifts, receipts, statements, contact
details, privacy and e-mail preferences.

Every function takes the account's address first and looks records up through it: a
record that is not the donor's is "not found", exactly like one that does not exist, so
another donor's ids reveal nothing. Changes are audited with the donor as the actor.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import LANGUAGES, _, _l
from app.models import Donation, DonationStatus, Donor, DonorKind, Receipt, RecurringGift
from app.services import audit
from app.services.accounts.signin import EMAIL_CHANGE, LinkInvalid, check, live_donors, new_token
from app.services.accounts import mailing
from app.services.audit import Actor
from app.services.donor_profiles import clean_donor_fields, _check_tax_code_free
from app.timeutil import local_year, utcnow

CONTACT_FIELDS = ("kind", "name", "tax_code", "phone", "address", "representative")
MONEY_BOUND_FIELDS = {"kind": _l("loại nhà hảo tâm"), "name": _l("tên"), "tax_code": _l("mã số thuế")}
NOT_YOURS = _l("Không tìm thấy mục này trong tài khoản của Quý vị.")


def donor_actor(email: str, ip: str | None = None) -> Actor:
    return Actor(user_id=None, label=f"donor:{email}", ip=ip)


def own_donor(email: str, donor_id: int) -> Donor:
    for donor in live_donors(email):
        if donor.id == donor_id:
            return donor
    raise NotFound(str(NOT_YOURS))


def donor_ids(email: str) -> list[int]:
    return [d.id for d in live_donors(email)]


@dataclass(frozen=True)
class Gift:
    donation: Donation
    receipt: Receipt | None


def gifts(email: str) -> list[Gift]:
    """The account's donations, newest first, each with its valid receipt (if any)."""
    ids = donor_ids(email)
    if not ids:
        return []
    rows = list(db.session.scalars(
        sa.select(Donation).where(Donation.donor_id.in_(ids),
                                  Donation.status != DonationStatus.PENDING.value)
        .options(selectinload(Donation.programme), selectinload(Donation.reversals))
        .order_by(Donation.received_at.desc(), Donation.id.desc())))
    receipts = {r.donation_id: r for r in db.session.scalars(sa.select(Receipt).where(
        Receipt.donation_id.in_([d.id for d in rows] or [0]), Receipt.voided_at.is_(None)))}
    return [Gift(d, receipts.get(d.id)) for d in rows]


def own_receipt(email: str, receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.is_void or receipt.donation.donor_id not in donor_ids(email):
        raise NotFound(str(NOT_YOURS))
    return receipt


def statement_years(donor_id: int) -> list[int]:
    received = db.session.scalars(sa.select(Donation.received_at).where(
        Donation.donor_id == donor_id, Donation.counted()))
    return sorted({local_year(r) for r in received}, reverse=True)


def recurring_gifts(email: str) -> list[RecurringGift]:
    ids = donor_ids(email)
    return list(db.session.scalars(sa.select(RecurringGift).where(
        RecurringGift.donor_id.in_(ids or [0])).order_by(RecurringGift.id.desc())))


def has_receipts(donor_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Receipt).join(Donation)
                             .where(Donation.donor_id == donor_id)) > 0


def update_contact(email: str, donor_id: int, values: dict, *, ip: str | None = None) -> Donor:
    """Contact details the donor may change themselves. Kind, name and MST are printed on
    issued receipts (accounting records): once a receipt exists they are refused here
    with the reason, and the donor is pointed to a correction request."""
    donor = own_donor(email, donor_id)
    clean = clean_donor_fields({k: v for k, v in values.items() if k in CONTACT_FIELDS})
    if donor.kind != DonorKind.ORGANIZATION.value and clean.get("kind", donor.kind) == donor.kind:
        clean.pop("tax_code", None)
    changed = {k: v for k, v in clean.items() if getattr(donor, k) != v}
    bound = [str(label) for field, label in MONEY_BOUND_FIELDS.items() if field in changed]
    if bound and has_receipts(donor.id):
        raise Conflict(_(
            "Không thể tự đổi %(fields)s: Quỹ đã cấp giấy chứng nhận ủng hộ mang "
            "thông tin này, và đó là chứng từ kế toán phải giữ nguyên. Vui lòng gửi yêu cầu "
            "chỉnh sửa để cán bộ Quỹ xem xét (có thể hủy và cấp lại giấy chứng nhận).", fields=", ".join(bound)))
    _check_tax_code_free(clean.get("kind", donor.kind), clean.get("tax_code", donor.tax_code), donor.id)
    if changed:
        before = {k: getattr(donor, k) for k in changed}
        for name, value in changed.items():
            setattr(donor, name, value)
        audit.record(donor_actor(email, ip), "account.contact_update", donor, before=before, after=changed)
    db.session.commit()
    return donor


def update_settings(email: str, donor_id: int, *, public_listing_consent: bool, anonymous: bool,
                    email_news: bool, email_reminders: bool, language: str | None = None,
                    ip: str | None = None) -> Donor:
    """Public listing, anonymity and e-mail preferences, and the language of the donor's
    e-mails (and of the courtesy translation of receipts); effective at once. `language`
    None leaves it as it is."""
    donor = own_donor(email, donor_id)
    fields = ("public_listing_consent", "anonymous", "email_news", "email_reminders", "language")
    before = audit.snapshot(donor, fields)
    donor.public_listing_consent = bool(public_listing_consent)
    donor.anonymous = bool(anonymous)
    donor.email_news = bool(email_news)
    donor.email_reminders = bool(email_reminders)
    if language is not None and language != (donor.language or "vi"):  # None is Vietnamese
        if language not in LANGUAGES:
            raise ValidationFailed(_("Ngôn ngữ không hợp lệ."), field="language")
        donor.language = language
    after = audit.snapshot(donor, fields)
    changed = [k for k in fields if before[k] != after[k]]
    if changed:
        audit.record(donor_actor(email, ip), "account.settings_update", donor,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.commit()
    return donor


# ------------------------------------------------------------------ changing the address

def request_email_change(email: str, donor_id: int, raw_new: str, *, link_for, minutes: int,
                         ip: str | None = None) -> str:
    """Mail a confirmation link to the new address; the record changes only when it is
    followed (so nobody moves an account to an address they do not hold)."""
    from app.services.accounts.signin import clean_email

    donor = own_donor(email, donor_id)
    new = clean_email(raw_new)
    if new == email:
        raise ValidationFailed(_("Địa chỉ mới trùng với địa chỉ hiện tại."), field="email")
    token = new_token(EMAIL_CHANGE, email, minutes, ip=ip, new_email=new, donor_id=donor.id)
    audit.record(donor_actor(email, ip), "account.email_change_requested", donor, after={"new_email": new})
    db.session.commit()
    # Composed for the person asking, in the language of the page they asked on.
    mailing.send_now(new, _("Xác nhận địa chỉ email mới"),
                     _("Kính gửi %(name)s,\n\nĐể dùng địa chỉ này cho tài khoản nhà hảo tâm, "
                       "bấm vào đường dẫn sau (có hiệu lực %(minutes)s phút):\n%(link)s\n\n"
                       "Nếu không phải Quý vị yêu cầu, hãy bỏ qua thư này.\n",
                       name=donor.name, minutes=minutes, link=link_for(token)))
    return new


def confirm_email_change(token: str, *, ip: str | None = None) -> tuple[Donor, str]:
    row = check(token, EMAIL_CHANGE)
    used = db.session.execute(
        sa.update(type(row)).where(type(row).id == row.id, type(row).used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        db.session.rollback()
        raise LinkInvalid("used")
    donor = db.session.get(Donor, row.donor_id)
    if donor is None or donor.erased_at is not None or donor.merged_into_id is not None:
        db.session.commit()
        raise LinkInvalid("invalid")
    audit.record(donor_actor(row.email, ip), "account.email_change", donor,
                 before={"email": donor.email}, after={"email": row.new_email})
    donor.email = row.new_email
    db.session.commit()
    return donor, row.new_email
