"""Monthly giving by bank transfer: standing pledges.

A standing pledge is a RecurringGift with `method` "bank" and one TransferPledge row
(status "standing", `recurring_gift_id` set) holding its transfer code, account and QR.
The code is the same every month: Vietnamese banking apps' "chuyển tiền định kỳ"
(standing order) repeats one transfer with one memo, so the donor sets it up once.

- Every credit line with the code becomes one confirmed donation with its receipt, for the
  gift's programme/appeal and donor, for the amount that arrived (a different amount says
  so on the line and the donation), attributed to a month (`Donation.recurring_month`):
  the month it was booked in (Vietnam time), else the next unpaid month (paid in advance);
  but a transfer in the first GRACE_DAYS (5) days of a month to a running pledge pays the
  previous month if that is still unpaid (a standing order that fell on a weekend, or a
  late payment after a month-end reminder). A first transfer, or one reviving a lapsed
  pledge, pays its own month. Each month is paid once (unique per gift and month).
- `run_monthly` (cron `flask --app wsgi accounts bank-monthly`, and the worker every hour)
  sends each running pledge one reminder per month — amount, account, code and the VietQR —
  on the day of the month it started (capped at 28), not in the month it was set up, not
  when that month is paid, never twice (the outbox's `dedupe_key`), and never to an address
  that unsubscribed; and lapses a pledge after BANK_PLEDGE_LAPSE_MONTHS consecutive
  finished months without a transfer, with a notice saying so.
- A transfer to a lapsed pledge still becomes a donation and revives the pledge (the
  donor's standing order evidently still runs). A transfer to a cancelled or paused
  pledge is recorded (the money is the donor's gift) but does not restart it.
- A pledge set up from the public form is "pending" until its first transfer (the address
  is not proven: no reminders until money arrives); set up from the donor's account it is
  active at once. A pending pledge that sees no transfer within the lapse window is
  abandoned silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import _, language, language_of, money, ngettext
from app.models import (
    BankLine, Donation, DonationStatus, Donor, OutboxMessage, RecurringGift, RecurringMethod, RecurringStatus,
    TransferPledge,
)
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts, pledges
from app.services.donations.online import DonationRequest
from app.timeutil import to_local, utcnow

S = RecurringStatus
JOB = Actor.system("monthly-bank")
REMINDER_KEY = "bank-reminder:{gift}:{month}"
LAPSE_KEY = "bank-lapse:{gift}:{month}"
GRACE_DAYS = 5  # a transfer in a month's first days may still pay the month before


# ------------------------------------------------------------------------- months

def first_of_month(value: datetime | date) -> date:
    """The 1st of the month `value` falls in, Vietnam time for a datetime."""
    day = to_local(value).date() if isinstance(value, datetime) else value
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{int(month):02d}/{year}"


def taken_months(gift_id: int) -> set[str]:
    return set(db.session.scalars(sa.select(Donation.recurring_month).where(
        Donation.recurring_gift_id == gift_id, Donation.recurring_month.is_not(None))))


def paid_months(gift_id: int) -> set[str]:
    """Months with a confirmed (not reversed) donation."""
    return set(db.session.scalars(sa.select(Donation.recurring_month).where(
        Donation.recurring_gift_id == gift_id, Donation.recurring_month.is_not(None),
        Donation.status == DonationStatus.CONFIRMED.value)))


def month_for(gift: RecurringGift, booked_at: datetime) -> str:
    """The month a transfer booked at `booked_at` pays (see the module docstring)."""
    booked = first_of_month(booked_at)
    taken = taken_months(gift.id)
    previous = add_months(booked, -1)
    start = gift.due_from or booked
    early = to_local(booked_at).day <= GRACE_DAYS if isinstance(booked_at, datetime) else False
    if gift.status == S.ACTIVE.value and early and previous >= start and month_key(previous) not in taken:
        return month_key(previous)
    month = booked
    while month_key(month) in taken:
        month = add_months(month, 1)
    return month_key(month)


def missed_streak(gift: RecurringGift, now: datetime) -> list[str]:
    """The finished months (before this one, from `due_from`) without a confirmed
    transfer, counting back from last month until a paid month."""
    if gift.due_from is None:
        return []
    paid = paid_months(gift.id)
    missed = []
    month = add_months(first_of_month(now), -1)
    while month >= gift.due_from and month_key(month) not in paid:
        missed.append(month_key(month))
        month = add_months(month, -1)
    return missed


# ------------------------------------------------------------------------- set-up

def check_monthly_amount(amount, *, minimum: int, maximum: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationFailed(_("Số tiền không hợp lệ."), field="amount")
    if amount < minimum:
        raise ValidationFailed(_("Số tiền hằng tháng tối thiểu là %(amount)s.", amount=money(minimum)), field="amount")
    if amount > maximum:
        raise ValidationFailed(_("Ủng hộ hằng tháng tối đa %(amount)s mỗi tháng; với khoản lớn hơn, vui lòng "
                                 "chọn ủng hộ một lần.", amount=money(maximum)), field="amount")


def start_standing(req: DonationRequest, actor: Actor, *, minimum: int, maximum: int, expiry_days: int,
                   donor: Donor | None = None) -> RecurringGift:
    """Record a standing pledge, with its code. `donor` given (the donor's account: the
    address is proven) makes it active at once; otherwise (the public form) the donor is
    matched or created as for any form gift and the pledge waits for its first transfer.
    One transaction."""
    from app.services.donations.online import _designation, match_or_create_donor

    check_monthly_amount(req.amount, minimum=minimum, maximum=maximum)
    programme_id, appeal_id = _designation(req)
    if accounts.donation_account(appeal_id) is None:  # refused before any donor record is made
        raise pledges.TransferUnavailable(_("Quỹ chưa công bố tài khoản nhận chuyển khoản. Vui lòng liên hệ Quỹ."))
    note, active = None, donor is not None
    if donor is None:
        donor, note = match_or_create_donor(req, actor)
        db.session.flush()
    now = utcnow()
    gift = RecurringGift(donor_id=donor.id, method=RecurringMethod.BANK.value, amount=req.amount,
                         programme_id=programme_id, appeal_id=appeal_id, donor_note=note,
                         status=S.ACTIVE.value if active else S.PENDING.value,
                         started_at=now if active else None, due_from=first_of_month(now) if active else None)
    db.session.add(gift)
    db.session.flush()
    pledge = pledges.create_pledge(req, actor, minimum=minimum, expiry_days=expiry_days,
                                   recurring_gift=gift, commit=False)
    audit.record(actor, "recurring.create", gift, after={
        "method": gift.method, "amount": gift.amount, "designation": req.designation, "code": pledge.code,
        "status": gift.status})
    db.session.commit()
    return gift


# ------------------------------------------------------------------------- money

def lock(gift_id: int) -> RecurringGift:
    return db.session.scalar(sa.select(RecurringGift).where(RecurringGift.id == gift_id).with_for_update())


def month_paid(gift: RecurringGift, donation: Donation, line: BankLine, actor: Actor) -> str | None:
    """What a month's transfer does to its pledge (in the caller's transaction). Returns a
    sentence for the donation's note when the pledge is not running."""
    before = gift.status
    month = first_of_month(date.fromisoformat(donation.recurring_month + "-01"))
    note = None
    if gift.status in (S.PENDING.value, S.LAPSED.value, S.ABANDONED.value):
        gift.status = S.ACTIVE.value
        gift.started_at = gift.started_at or utcnow()
        gift.due_from = month
        gift.ended_at = gift.end_reason = None
        audit.record(actor, "recurring.start" if before == S.PENDING.value else "recurring.revive", gift,
                     before={"status": before}, after={"status": gift.status, "month": donation.recurring_month})
    elif gift.status == S.CANCELLED.value:
        note = "Khoản ủng hộ hằng tháng này đã dừng; vẫn ghi nhận số tiền đã đến."
    elif gift.status == S.PAUSED.value:
        note = "Khoản ủng hộ hằng tháng này đang tạm dừng; vẫn ghi nhận số tiền đã đến."
    gift.last_paid_at = max(gift.last_paid_at or line.booked_at, line.booked_at)
    audit.record(actor, "recurring.month_paid", gift, after={
        "month": donation.recurring_month, "amount": donation.amount, "pledged": gift.amount,
        "donation_id": donation.id, "bank_line_id": line.id})
    return note


# ------------------------------------------------------------------------- the monthly job

@dataclass
class MonthlyRun:
    reminded: list[int] = field(default_factory=list)
    already_paid: list[int] = field(default_factory=list)
    unsubscribed: list[int] = field(default_factory=list)
    lapsed: list[int] = field(default_factory=list)
    abandoned: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (f"reminded {len(self.reminded)}, already paid {len(self.already_paid)}, "
                f"unsubscribed {len(self.unsubscribed)}, lapsed {len(self.lapsed)}, "
                f"abandoned {len(self.abandoned)}")


def due_day(gift: RecurringGift) -> int:
    return min(to_local(gift.started_at).day, 28) if gift.started_at else 1


def transfer_url(pledge: TransferPledge) -> str:
    from app.services.receipts.documents import public_url

    return public_url(f"/donate/transfer/{pledge.token}")


def reminder_text(gift: RecurringGift, pledge: TransferPledge, month: str) -> tuple[str, str]:
    """The month's reminder, in the donor's language."""
    from app.services.receipts.documents import public_url
    from app.services.setup import get_settings

    settings = get_settings()
    account = pledge.account
    url = transfer_url(pledge)
    with language(language_of(gift.donor)):
        subject = _("Nhắc ủng hộ hằng tháng %(month)s — %(fund)s", month=month_label(month), fund=settings.fund_name)
        body = "".join((
            _("Kính gửi %(name)s,", name=gift.donor.name), "\n\n",
            _("%(fund)s trân trọng cảm ơn Quý vị đã đăng ký ủng hộ hằng tháng %(amount)s vì trẻ em có hoàn cảnh "
              "đặc biệt. Quỹ chưa nhận được khoản chuyển khoản của tháng %(month)s.", fund=settings.fund_name,
              amount=money(gift.amount), month=month_label(month)), "\n\n",
            _("Ngân hàng: %(bank)s", bank=account.bank_name), "\n",
            _("Số tài khoản: %(number)s", number=account.account_number), "\n",
            _("Chủ tài khoản: %(holder)s", holder=account.account_name), "\n",
            _("Số tiền: %(amount)s", amount=money(gift.amount)), "\n",
            _("Nội dung chuyển khoản: %(code)s", code=pledge.code), "\n\n",
            _("Mã VietQR được đính kèm thư này (mở ứng dụng ngân hàng → Quét QR → chọn ảnh). "
              "Trang chuyển khoản và mã QR:"), f"\n{url}\n{url}/qr.png\n\n",
            _("Mỗi tháng dùng cùng một nội dung %(code)s: Quý vị có thể cài “chuyển tiền định kỳ” trong ứng "
              "dụng ngân hàng để không phải chuyển lại. Nếu đã chuyển, xin bỏ qua thư này; giấy chứng nhận được "
              "gửi khi tiền về.", code=pledge.code), "\n\n",
            _("Xem hoặc hủy ủng hộ hằng tháng trong tài khoản nhà hảo tâm:"), f" {public_url('/tai-khoan/hang-thang')}\n\n",
            _("Trân trọng,"), f"\n{settings.operator_name}\n",
        ))
    return subject, body


def _lapse(gift: RecurringGift, missed: list[str], now: datetime) -> None:
    from app.services.receipts import mail as outbox

    before = gift.status
    months = ", ".join(month_label(m) for m in reversed(missed))
    gift.status = S.LAPSED.value
    gift.ended_at = now
    gift.end_reason = f"Ngừng vì {len(missed)} tháng liền không nhận được chuyển khoản ({months})."
    audit.record(JOB, "recurring.lapse", gift, before={"status": before},
                 after={"status": gift.status, "missed": missed})
    if gift.donor.email:
        with language(language_of(gift.donor)):  # the notice in the donor's language; end_reason stays Vietnamese
            subject = _("Khoản ủng hộ hằng tháng đã tạm ngừng")
            body = "".join((
                _("Kính gửi %(name)s,", name=gift.donor.name), "\n\n",
                ngettext("Ngừng vì %(num)d tháng liền không nhận được chuyển khoản (%(months)s).",
                         "Ngừng vì %(num)d tháng liền không nhận được chuyển khoản (%(months)s).",
                         len(missed), months=months), " ", _("Quỹ đã ngừng gửi thư nhắc."), "\n\n",
                _("Nếu Quý vị vẫn muốn ủng hộ, mỗi lần chuyển khoản với nội dung %(code)s vẫn được ghi nhận và "
                  "khoản ủng hộ hằng tháng tự tiếp tục. Quý vị cũng có thể xem hoặc hủy trong tài khoản nhà hảo "
                  "tâm (mục Ủng hộ hằng tháng).", code=gift.standing_pledge.code), "\n",
            ))
        outbox.queue_notice(
            gift.donor.email, subject, body,
            kind=outbox.KIND_REMINDER, dedupe_key=LAPSE_KEY.format(gift=gift.id, month=month_key(first_of_month(now))))


def run_monthly(now: datetime | None = None, *, lapse_after: int) -> MonthlyRun:
    """Lapse, abandon and remind every bank standing pledge as of `now` (one transaction
    per pledge; safe to run as often as you like)."""
    from app.services.accounts.unsubscribe import accepts_optional_mail
    from app.services.receipts import mail as outbox

    now = now or utcnow()
    this_month = first_of_month(now)
    key = month_key(this_month)
    run = MonthlyRun()
    ids = list(db.session.scalars(sa.select(RecurringGift.id).where(
        RecurringGift.method == RecurringMethod.BANK.value,
        RecurringGift.status.in_((S.ACTIVE.value, S.PENDING.value))).order_by(RecurringGift.id)))
    db.session.commit()
    for gift_id in ids:
        gift = lock(gift_id)
        if gift is None or gift.status not in (S.ACTIVE.value, S.PENDING.value):
            db.session.commit()
            continue
        if gift.status == S.PENDING.value:
            if add_months(first_of_month(gift.created_at), lapse_after) <= this_month:
                gift.status, gift.ended_at = S.ABANDONED.value, now
                gift.end_reason = "Không nhận được lần chuyển khoản đầu tiên."
                audit.record(JOB, "recurring.abandoned", gift, before={"status": S.PENDING.value},
                             after={"status": gift.status})
                run.abandoned.append(gift.id)
            db.session.commit()
            continue
        missed = missed_streak(gift, now)
        if len(missed) >= lapse_after:
            _lapse(gift, missed, now)
            run.lapsed.append(gift.id)
            db.session.commit()
            continue
        dedupe = REMINDER_KEY.format(gift=gift.id, month=key)
        if (first_of_month(gift.started_at) == this_month or to_local(now).day < due_day(gift)
                or db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe))):
            db.session.commit()
            continue
        if key in paid_months(gift.id):
            run.already_paid.append(gift.id)
        elif not gift.donor.email or not accepts_optional_mail(gift.donor.email):
            run.unsubscribed.append(gift.id)
        else:
            subject, body = reminder_text(gift, gift.standing_pledge, key)
            outbox.queue_notice(gift.donor.email, subject, body, kind=outbox.KIND_REMINDER, dedupe_key=dedupe)
            audit.record(JOB, "recurring.reminder", gift, after={"month": key, "to": gift.donor.email})
            run.reminded.append(gift.id)
        db.session.commit()
    return run


# ------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class MonthRow:
    month: str
    donation: Donation


def months_of(gift_id: int) -> list[MonthRow]:
    rows = db.session.scalars(sa.select(Donation).where(
        Donation.recurring_gift_id == gift_id, Donation.recurring_month.is_not(None))
        .order_by(Donation.recurring_month.desc()))
    return [MonthRow(month_label(d.recurring_month), d) for d in rows]


def waiting_pledges(email: str) -> list[TransferPledge]:
    """One-off transfer pledges typed with this address still waiting for their money."""
    return list(db.session.scalars(sa.select(TransferPledge).where(
        sa.func.lower(TransferPledge.donor_email) == email.strip().lower(),
        TransferPledge.status == "pending", TransferPledge.expires_at > utcnow(),
        TransferPledge.recurring_gift_id.is_(None)).order_by(TransferPledge.id.desc()).limit(20)))
