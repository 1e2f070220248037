"""Personal-data rights (PDP Law 91/2025, Decree 356/2025): export, correction, consent
withdrawal, erasure, and the staff queue with its deadlines.

Deadlines: a request is acknowledged within ACK_WORKING_DAYS working days (Monday to
Friday; public holidays are not in the calendar yet, so the date is never later than the
law's) and done within DONE_DAYS days of receipt.

Erasure keeps the money: donations, receipts and their numbers are accounting records,
kept at least 10 years (Law on Accounting 88/2015, art. 41; Decree 174/2016, art. 12).
So for a donor with money records the name (and an organization's MST), which issued
receipts carry, stay until `retain_until` (31 December of the tenth year after the last
gift) and everything else personal goes now; `purge_expired` anonymises the rest later.
A donor with no money records is anonymised completely at once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, date_text, language, language_of
from app.models import (
    AccountToken, AuditEntry, DataRequest, Donation, Donor, DonorKind, OutboxMessage, Receipt,
    RecurringGift, RecurringStatus, RequestKind, RequestStatus, TransferPledge,
)
from app.renderers.data_export import render_export
from app.services import audit
from app.services.audit import Actor
from app.services.receipts import mail as outbox
from app.timeutil import format_local, local_today, local_year, to_local, utcnow
from app.vnd import format_vnd

ACK_WORKING_DAYS = 2
DONE_DAYS = 15
RETENTION_YEARS = 10
ERASED_NAME = "Nhà hảo tâm đã xóa dữ liệu"  # stored: Vietnamese like all stored text
RETENTION_REASON = (
    "Các khoản ủng hộ, giấy chứng nhận và số của chúng là chứng từ kế toán, phải lưu trữ ít nhất "
    "10 năm (Luật Kế toán 2015, Điều 41; Nghị định 174/2016/NĐ-CP, Điều 12). Vì vậy Quỹ giữ lại "
    "số tiền, ngày, hình thức, nơi nhận, số giấy chứng nhận{name_part} đến hết ngày {until}; "
    "sau ngày đó các thông tin này cũng được ẩn danh.")


def add_working_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def deadlines(received: datetime) -> tuple[date, date]:
    day = to_local(received).date()
    return add_working_days(day, ACK_WORKING_DAYS), day + timedelta(days=DONE_DAYS)


# ------------------------------------------------------------------------- requests

def create_request(donor_id: int, kind: str, actor: Actor, *, channel: str, details: str | None,
                   recorded_by_id: int | None = None, commit: bool = True) -> DataRequest:
    donor = db.session.get(Donor, donor_id)
    if donor is None or donor.merged_into_id is not None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    try:
        RequestKind(kind)
    except ValueError:
        raise ValidationFailed(_("Loại yêu cầu không hợp lệ."), field="kind") from None
    details = (details or "").strip() or None
    if kind in (RequestKind.CORRECTION.value, RequestKind.OTHER.value) and not details:
        raise ValidationFailed(_("Vui lòng ghi rõ nội dung yêu cầu."), field="details")
    now = utcnow()
    ack_by, due = deadlines(now)
    request = DataRequest(donor_id=donor.id, kind=kind, channel=channel, details=details,
                          received_at=now, acknowledge_by=ack_by, due_on=due,
                          recorded_by_id=recorded_by_id, status=RequestStatus.RECEIVED.value)
    db.session.add(request)
    audit.record(actor, "data_request.create", request,
                 after={"donor_id": donor.id, "kind": kind, "channel": channel,
                        "acknowledge_by": ack_by.isoformat(), "due_on": due.isoformat()})
    if commit:
        db.session.commit()
    return request


def _load(request_id: int) -> DataRequest:
    request = db.session.get(DataRequest, request_id)
    if request is None:
        raise NotFound(_("Không tìm thấy yêu cầu."))
    return request


def acknowledge(request_id: int, actor: Actor, note: str | None = None) -> DataRequest:
    request = _load(request_id)
    if request.status != RequestStatus.RECEIVED.value:
        raise Conflict(_("Yêu cầu này đã được xác nhận tiếp nhận."))
    request.status = RequestStatus.ACKNOWLEDGED.value
    request.acknowledged_at = utcnow()
    audit.record(actor, "data_request.acknowledge", request, before={"status": "received"},
                 after={"status": request.status, "note": (note or "")[:1000] or None})
    db.session.commit()
    return request


def complete(request_id: int, actor: Actor, outcome: str | None) -> DataRequest:
    """Close a request. An erasure request runs the erasure and records what was kept."""
    request = _load(request_id)
    if not request.is_open:
        raise Conflict(_("Yêu cầu này đã được đóng."))
    outcome = (outcome or "").strip()
    reply_to = request.donor.email  # read before an erasure removes it
    if request.kind == RequestKind.ERASURE.value:
        kept = erase_donor(request.donor_id, actor, commit=False)
        outcome = (outcome + "\n" if outcome else "") + kept
    elif request.kind == RequestKind.WITHDRAW_CONSENT.value:
        withdraw_consent(request.donor_id, actor, commit=False)
        outcome = outcome or _("Đã rút lại sự đồng ý công khai tên và nhận thư tin tức.")
    elif not outcome:
        raise ValidationFailed(_("Vui lòng ghi kết quả xử lý để báo cho nhà hảo tâm."), field="outcome")
    before = {"status": request.status}
    if request.acknowledged_at is None:
        request.acknowledged_at = utcnow()
    request.status = RequestStatus.DONE.value
    request.completed_at = utcnow()
    request.outcome = outcome
    audit.record(actor, "data_request.complete", request, before=before,
                 after={"status": request.status, "outcome": outcome[:2000]})
    _tell_donor(request, reply_to)
    db.session.commit()
    return request


def refuse(request_id: int, actor: Actor, reason: str | None) -> DataRequest:
    request = _load(request_id)
    if not request.is_open:
        raise Conflict(_("Yêu cầu này đã được đóng."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng ghi lý do từ chối (sẽ gửi cho nhà hảo tâm)."), field="outcome")
    before = {"status": request.status}
    request.status = RequestStatus.REFUSED.value
    request.completed_at = utcnow()
    request.outcome = reason
    audit.record(actor, "data_request.refuse", request, before=before,
                 after={"status": request.status, "outcome": reason[:2000]})
    _tell_donor(request, request.donor.email)
    db.session.commit()
    return request


def _tell_donor(request: DataRequest, to: str | None) -> None:
    """The answer goes to the donor: a reply the law requires, not marketing, so it is
    sent even after an unsubscribe."""
    if not to:
        return
    with language(language_of(request.donor)):  # the donor's language, not the staff member's
        message = outbox.queue_notice(
            to, _("Kết quả xử lý yêu cầu “%(kind)s”", kind=request.kind_label),
            _("Kính gửi Quý vị,\n\nQuỹ đã xử lý yêu cầu “%(kind)s” nhận ngày %(day)s.\n\n"
              "Kết quả: %(status)s\n\n%(outcome)s\n", kind=request.kind_label,
              day=date_text(request.received_at), status=request.status_label, outcome=request.outcome))
    if message is not None:
        message.kind = outbox.KIND_DATA_REQUEST  # always sent, like receipts


def open_requests() -> list[DataRequest]:
    return list(db.session.scalars(sa.select(DataRequest).where(DataRequest.status.in_(
        (RequestStatus.RECEIVED.value, RequestStatus.ACKNOWLEDGED.value)))
        .order_by(DataRequest.due_on, DataRequest.id)))


def closed_requests(limit: int = 50) -> list[DataRequest]:
    return list(db.session.scalars(sa.select(DataRequest).where(DataRequest.status.in_(
        (RequestStatus.DONE.value, RequestStatus.REFUSED.value)))
        .order_by(DataRequest.completed_at.desc()).limit(limit)))


def requests_of(donor_ids: list[int]) -> list[DataRequest]:
    return list(db.session.scalars(sa.select(DataRequest).where(
        DataRequest.donor_id.in_(donor_ids or [0])).order_by(DataRequest.id.desc())))


def overdue(request: DataRequest, today: date | None = None) -> str | None:
    today = today or local_today()
    if not request.is_open:
        return None
    if request.due_on < today:
        return _("Quá hạn xử lý")
    if request.status == RequestStatus.RECEIVED.value and request.acknowledge_by < today:
        return _("Quá hạn xác nhận")
    return None


# ---------------------------------------------------------------- consent withdrawal

def withdraw_consent(donor_id: int, actor: Actor, *, commit: bool = True) -> Donor:
    """Effective at once: the name leaves public lists, optional mail stops."""
    donor = db.session.get(Donor, donor_id)
    fields = ("public_listing_consent", "anonymous", "email_news", "email_reminders")
    before = audit.snapshot(donor, fields)
    donor.public_listing_consent = False
    donor.anonymous = True
    donor.email_news = False
    donor.email_reminders = False
    audit.record(actor, "donor.consent_withdrawn", donor, before=before, after=audit.snapshot(donor, fields))
    if commit:
        db.session.commit()
    return donor


# ------------------------------------------------------------------------- erasure

def _last_gift_year(donor_id: int) -> int | None:
    last = db.session.scalar(sa.select(sa.func.max(Donation.received_at)).where(
        Donation.donor_id == donor_id, Donation.counted()))
    return local_year(last) if last else None


def erase_donor(donor_id: int, actor: Actor, *, commit: bool = True) -> str:
    """Anonymise a donor's personal fields; return, in Vietnamese, what was kept and why."""
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    if donor.erased_at is not None:
        raise Conflict(_("Dữ liệu của nhà hảo tâm này đã được xóa trước đó."))
    running = db.session.scalar(sa.select(sa.func.count()).select_from(RecurringGift).where(
        RecurringGift.donor_id == donor.id,
        sa.or_(RecurringGift.status.in_((RecurringStatus.ACTIVE.value, RecurringStatus.PAST_DUE.value,
                                         RecurringStatus.PAUSED.value)),
               # a bank standing pledge waiting for its first transfer would still be matched
               sa.and_(RecurringGift.method == "bank", RecurringGift.status == RecurringStatus.PENDING.value))))
    if running:
        raise Conflict(_("Nhà hảo tâm còn khoản ủng hộ hằng tháng đang chạy: hãy dừng trước khi xóa dữ liệu."))
    email = donor.email
    last_year = _last_gift_year(donor.id)
    before = audit.snapshot(donor, ("name", "email", "phone", "address", "representative", "tax_code"))
    donor.email = None
    donor.phone = None
    donor.address = None
    donor.admin_unit_id = None
    donor.representative = None
    donor.notes = None
    donor.public_listing_consent = False
    donor.anonymous = True
    donor.email_news = False
    donor.email_reminders = False
    donor.erased_at = utcnow()
    organization = donor.kind == DonorKind.ORGANIZATION.value
    if last_year is None:
        donor.name = ERASED_NAME
        donor.tax_code = None
        kept = ("Quỹ đã xóa toàn bộ dữ liệu cá nhân của Quý vị (tên, email, điện thoại, địa chỉ). "
                "Quý vị không có khoản ủng hộ nào nên Quỹ không phải giữ lại chứng từ kế toán.")
    else:
        donor.retain_until = date(last_year + RETENTION_YEARS, 12, 31)
        name_part = " và tên" + (" cùng mã số thuế" if organization and donor.tax_code else "") + \
            " in trên giấy chứng nhận"
        kept = ("Quỹ đã xóa email, điện thoại, địa chỉ, người đại diện, ghi chú và lời nhắn công khai "
                "của Quý vị. " + RETENTION_REASON.format(name_part=name_part,
                                                        until=donor.retain_until.strftime("%d/%m/%Y")))
    # Personal text on the gifts (not money: amounts are untouched) and mail copies.
    db.session.execute(sa.update(Donation).where(Donation.donor_id == donor.id)
                       .values(public_message=None).execution_options(synchronize_session=False))
    # What was typed on the form of the donor's monthly standing pledges (their codes stay:
    # a late transfer with one is still recorded, for the erased record).
    db.session.execute(sa.update(TransferPledge).where(TransferPledge.recurring_gift_id.in_(
        sa.select(RecurringGift.id).where(RecurringGift.donor_id == donor.id))).values(
        donor_name=ERASED_NAME, donor_email=None, donor_phone=None, donor_address=None,
        donor_representative=None, donor_tax_code=None, message=None).execution_options(synchronize_session=False))
    if email:
        db.session.execute(sa.delete(AccountToken).where(AccountToken.email == email.lower()))
        db.session.execute(sa.update(OutboxMessage).where(
            sa.func.lower(OutboxMessage.to_address) == email.lower(),
            OutboxMessage.status != "pending").values(to_address="(đã xóa)", body="(đã xóa)")
            .execution_options(synchronize_session=False))
    audit.record(actor, "donor.erase", donor, before={k: bool(v) for k, v in before.items()},
                 after={"retain_until": donor.retain_until.isoformat() if donor.retain_until else None})
    if commit:
        db.session.commit()
    return kept


def purge_expired(actor: Actor, today: date | None = None) -> int:
    """Anonymise what erasure kept once its retention date has passed (cron, yearly)."""
    today = today or local_today()
    donors = list(db.session.scalars(sa.select(Donor).where(
        Donor.erased_at.is_not(None), Donor.retain_until.is_not(None), Donor.retain_until < today)))
    for donor in donors:
        donor.name = ERASED_NAME
        donor.tax_code = None
        donor.retain_until = None
        audit.record(actor, "donor.erase_retained", donor)
    db.session.commit()
    return len(donors)


# ------------------------------------------------------------------------- export

def _iso(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def export_data(donor_id: int) -> dict:
    """Everything the fund holds about one donor record, as JSON-ready data."""
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    donations = list(db.session.scalars(sa.select(Donation).where(Donation.donor_id == donor.id)
                                        .order_by(Donation.received_at, Donation.id)))
    receipts = list(db.session.scalars(sa.select(Receipt).join(Donation).where(
        Donation.donor_id == donor.id).order_by(Receipt.issued_at, Receipt.id)))
    recurring = list(db.session.scalars(sa.select(RecurringGift).where(RecurringGift.donor_id == donor.id)))
    requests = requests_of([donor.id])
    mails = list(db.session.scalars(sa.select(OutboxMessage).where(
        sa.func.lower(OutboxMessage.to_address) == (donor.email or "").lower())
        .order_by(OutboxMessage.created_at))) if donor.email else []
    history = list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity_type == "donors", AuditEntry.entity_id == str(donor.id))
        .order_by(AuditEntry.created_at, AuditEntry.id)))
    return {
        "format": "quy-donor-export/1",
        "generated_at": utcnow().isoformat(),
        "controller": "Quỹ Bảo trợ trẻ em thành phố Hải Phòng",
        "donor": {
            "id": donor.id, "kind": donor.kind, "name": donor.name, "tax_code": donor.tax_code,
            "email": donor.email, "phone": donor.phone, "address": donor.address,
            "ward": donor.admin_unit.name if donor.admin_unit else None,
            "representative": donor.representative,
            "public_listing_consent": donor.public_listing_consent, "anonymous": donor.anonymous,
            "email_news": donor.email_news, "email_reminders": donor.email_reminders,
            "staff_notes": donor.notes, "created_at": _iso(donor.created_at),
            "updated_at": _iso(donor.updated_at), "erased_at": _iso(donor.erased_at),
            "retain_until": _iso(donor.retain_until),
        },
        "donations": [{
            "id": d.id, "received_at": _iso(d.received_at), "amount": d.amount, "currency": d.currency,
            "signed_amount": d.signed_amount, "channel": d.channel, "status": d.status,
            "programme": d.programme.name, "appeal": d.appeal.title if d.appeal else None,
            "reverses_id": d.reverses_id, "reason": d.reason, "public_message": d.public_message,
            "in_kind_description": d.in_kind_description, "reference": d.reference,
            "monthly_gift_id": d.recurring_gift_id,
        } for d in donations],
        "receipts": [{"number": r.number, "donation_id": r.donation_id, "issued_at": _iso(r.issued_at),
                      "void": r.is_void, "void_reason": r.void_reason} for r in receipts],
        "monthly_gifts": [{"id": g.id, "method": g.method, "amount": g.amount, "status": g.status,
                           "programme": g.programme.name, "started_at": _iso(g.started_at),
                           "last_paid_at": _iso(g.last_paid_at), "ended_at": _iso(g.ended_at),
                           "failure_message": g.failure_message} for g in recurring],
        "data_requests": [{"id": r.id, "kind": r.kind, "status": r.status, "channel": r.channel,
                           "details": r.details, "received_at": _iso(r.received_at),
                           "due_on": _iso(r.due_on), "outcome": r.outcome} for r in requests],
        "emails": [{"subject": m.subject, "kind": m.kind, "status": m.status,
                    "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)} for m in mails],
        "record_history": [{"at": _iso(e.created_at), "action": e.action, "by": e.actor_label,
                            "changed": sorted((e.after or {}).keys())} for e in history],
        "not_held": _("Quỹ không lưu số thẻ hay thông tin thanh toán thẻ (do Stripe xử lý), "
                      "không lưu mật khẩu (đăng nhập bằng đường dẫn gửi qua email)."),
    }


def export_json(donor_id: int) -> bytes:
    return json.dumps(export_data(donor_id), ensure_ascii=False, indent=2).encode("utf-8")


def _dt(value: str | None) -> str | None:
    return format_local(datetime.fromisoformat(value)) if value else None


def export_pdf(donor_id: int) -> bytes:
    data = export_data(donor_id)
    d = data["donor"]
    kind = DonorKind(d["kind"]).label
    sections = [
        {"heading": _("Hồ sơ nhà hảo tâm"), "rows": [
            [_("Mã hồ sơ"), d["id"]], [_("Loại"), kind], [_("Tên"), d["name"]], [_("Mã số thuế"), d["tax_code"]],
            [_("Email"), d["email"]], [_("Điện thoại"), d["phone"]], [_("Địa chỉ"), d["address"]],
            [_("Phường/xã"), d["ward"]], [_("Người đại diện"), d["representative"]],
            [_("Đồng ý công khai tên"), d["public_listing_consent"]], [_("Ẩn danh"), d["anonymous"]],
            [_("Nhận thư tin tức"), d["email_news"]], [_("Nhận thư thông báo"), d["email_reminders"]],
            [_("Ghi chú của cán bộ"), d["staff_notes"]], [_("Tạo lúc"), _dt(d["created_at"])]]},
        {"heading": _("Các khoản ủng hộ"), "table": {
            "columns": [_("Ngày"), _("Số tiền"), _("Hình thức"), _("Trạng thái"), _("Nơi nhận")],
            "rows": [[_dt(x["received_at"]), format_vnd(x["signed_amount"], space=" "), x["channel"], x["status"],
                      x["programme"]] for x in data["donations"]]}},
        {"heading": _("Giấy chứng nhận"), "table": {
            "columns": [_("Số"), _("Cấp lúc"), _("Đã hủy")],
            "rows": [[r["number"], _dt(r["issued_at"]), r["void"]] for r in data["receipts"]]}},
        {"heading": _("Ủng hộ hằng tháng"), "table": {
            "columns": [_("Số tiền/tháng"), _("Trạng thái"), _("Bắt đầu")],
            "rows": [[format_vnd(g["amount"], space=" "), g["status"], _dt(g["started_at"])]
                     for g in data["monthly_gifts"]]}},
        {"heading": _("Yêu cầu về dữ liệu cá nhân"), "table": {
            "columns": [_("Loại"), _("Trạng thái"), _("Nhận ngày"), _("Kết quả")],
            "rows": [[r["kind"], r["status"], _dt(r["received_at"]), r["outcome"]]
                     for r in data["data_requests"]]}},
        {"heading": _("Thư điện tử đã gửi"), "table": {
            "columns": [_("Tiêu đề"), _("Trạng thái"), _("Gửi lúc")],
            "rows": [[m["subject"], m["status"], _dt(m["sent_at"])] for m in data["emails"]]}},
        {"heading": _("Lịch sử thay đổi hồ sơ"), "table": {
            "columns": [_("Lúc"), _("Thao tác"), _("Người thực hiện")],
            "rows": [[_dt(e["at"]), e["action"], e["by"]] for e in data["record_history"]]}},
        {"heading": _("Quỹ không lưu"), "rows": [["", data["not_held"]]]},
    ]
    return render_export({"title": _("Dữ liệu cá nhân Quỹ đang lưu giữ"),
                          "intro": _("Lập lúc %(at)s. Bản đầy đủ, máy đọc được: tệp JSON cùng nội dung.", at=_dt(data["generated_at"])),
                          "sections": sections})
