"""Confirming many code-matched lines at once (a statement brings thousands).

The same rules as matching.record_from_line — donor found (kind + e-mail + folded name, or
an organization's MST) or created from the pledge, a confirmed bank-transfer donation for the
amount that arrived, its receipt numbered from the year's counter, its e-mail queued in the
outbox — written with one bulk insert per table (`bulk_rows.insert_many`,
COPY on PostgreSQL) instead of several ORM round trips per line. One summary audit entry
names the import and the counts; the per-line facts stay on the bank lines themselves.
Mails queued here are sent right after the caller's commit (`send_due_after_commit`: the
worker's `mail.deliver_due` task, as MAIL_SEND_AFTER_COMMIT says); cron retries failures.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models import (
    BankLine, Channel, Donation, DonationStatus, Donor, DonorKind, OutboxMessage, OutboxStatus,
    PledgeStatus, Receipt, TransferPledge,
)
from app.services import audit
from app.services.audit import Actor
from app.services.bulk_rows import (
    check_references, insert_many, insert_rows, reserve_ids, set_based, sqlite_time, triggers_off,
)
from app.services.receipts.issuing import format_receipt_number, next_sequence_block
from app.services.receipts.mail import KIND_RECEIPT, receipt_mail_composer, send_due_after_commit
from app.services.setup import general_programme, get_settings, missing_settings
from app.adapters.bank_lines import quick_fold as fold
from app.text import normalize_org_name
from app.timeutil import local_year, utcnow

CHUNK = 900

#: Seconds per phase of the last statement plan + import in this process (bench/bank.py
#: prints them; a few perf_counter calls per import).
LAST_TIMINGS: dict[str, float] = {}


class _Phases:
    t = 0.0

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        LAST_TIMINGS[name] = LAST_TIMINGS.get(name, 0.0) + now - self.t
        self.t = now


_PHASE = _Phases()


def in_batches(column, values: list) -> list:
    """Conditions `column IN values`, for a look-up of many values: on PostgreSQL ONE
    `column = ANY(:array)` (one bind parameter, planned once), on SQLite IN lists of CHUNK
    (its limit on bind parameters). Run one query per condition."""
    if not values:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        kind = sa.String() if isinstance(column.type, sa.types.NullType) else column.type  # lower(…): text
        return [column == sa.any_(sa.literal(list(values), postgresql.ARRAY(kind)))]
    return [column.in_(values[start:start + CHUNK]) for start in range(0, len(values), CHUNK)]


def phases(*, reset: bool = False) -> _Phases:
    """The phase timer: `phase("name")` adds the time since the previous mark to name."""
    if reset:
        LAST_TIMINGS.clear()
        _PHASE.t = time.perf_counter()
    return _PHASE


_DONOR_COLUMNS = ["id", "kind", "name", "tax_code", "email", "phone", "address", "representative", "anonymous",
                  "public_listing_consent", "search_text", "language", "created_at", "updated_at"]
_DONATION_COLUMNS = ["id", "donor_id", "appeal_id", "programme_id", "amount", "currency", "channel", "status",
                     "received_at", "confirmed_at", "reference", "note", "public_message", "recorded_by_id",
                     "created_at", "receipt_deferred"]


@dataclass
class Confirmation:
    line_id: int
    amount: int
    booked_at: object
    pledge: sa.Row
    reason: str


def _donor_key(p) -> tuple:
    if p.donor_kind == DonorKind.ORGANIZATION.value and p.donor_tax_code:
        return ("mst", p.donor_tax_code)
    if not p.donor_email:  # given anonymously: never matched, a donor of its own (pledges.py)
        return ("pledge", p.id)
    name = normalize_org_name(p.donor_name) if p.donor_kind == DonorKind.ORGANIZATION.value else fold(p.donor_name)
    return ("email", p.donor_kind, (p.donor_email or "").lower(), name)


def _existing_donors(keys: set[tuple]) -> dict[tuple, int]:
    """Live donors for the keys, with the online form's conservative rule: an organization
    by MST; otherwise the same kind, e-mail and folded name on exactly one record."""
    found: dict[tuple, int] = {}
    taxes = sorted({k[1] for k in keys if k[0] == "mst"})
    for condition in in_batches(Donor.tax_code, taxes):
        for donor_id, tax in db.session.execute(sa.select(Donor.id, Donor.tax_code).where(
                Donor.merged_into_id.is_(None), Donor.kind == DonorKind.ORGANIZATION.value, condition)):
            found[("mst", tax)] = donor_id
    emails = sorted({k[2] for k in keys if k[0] == "email" and k[2]})
    seen: dict[tuple, list[int]] = {}
    for condition in in_batches(sa.func.lower(Donor.email), emails):
        for donor_id, kind, email, name, tax in db.session.execute(sa.select(
                Donor.id, Donor.kind, Donor.email, Donor.name, Donor.tax_code).where(
                Donor.merged_into_id.is_(None), condition)):
            if kind == DonorKind.ORGANIZATION.value and tax:
                continue
            folded = normalize_org_name(name) if kind == DonorKind.ORGANIZATION.value else fold(name)
            seen.setdefault(("email", kind, email.lower(), folded), []).append(donor_id)
    found.update({k: ids[0] for k, ids in seen.items() if len(ids) == 1})
    return found


@dataclass
class Recorded:
    """What `record_many` wrote: per item its donation id; the receipts follow in
    `issue_receipts_many` (numbered last, so the year's counter is locked only briefly)."""

    items: list[Confirmation]
    donation_ids: list[int]
    donors_created: int
    deferred: bool  # fund settings incomplete: receipts deferred, like the one-by-one path
    english_donations: frozenset[int] = frozenset()  # whose donor reads English (their receipt mail)
    itemized: bool = False  # audit entries per record (record_many's argument)


def record_many(items: list[Confirmation], actor: Actor, *, itemized: bool = False) -> Recorded:
    """Find or create the donors and insert a confirmed donation for each item, in the
    caller's transaction (no receipts yet: see issue_receipts_many). `itemized`: an audit
    entry per donor created and per donation (a webhook's few lines), as the one-by-one
    path writes them, instead of the statement's one summary entry."""
    if not items:
        return Recorded([], [], 0, False)
    now = utcnow()
    keys = [_donor_key(i.pledge) for i in items]
    donor_ids = _existing_donors(set(keys))
    creating: dict[tuple, sa.Row] = {}
    for key, item in zip(keys, items):
        if key not in donor_ids:
            creating.setdefault(key, item.pledge)
    if creating:
        ids = reserve_ids(Donor.__table__, len(creating))
        donor_ids.update(zip(creating, ids))
        # One COPY on PostgreSQL, its rows made while the server writes the ones before.
        insert_rows(Donor.__table__, _DONOR_COLUMNS, (
            [new_id, p.donor_kind, p.donor_name, p.donor_tax_code, p.donor_email, p.donor_phone, p.donor_address,
             p.donor_representative, p.anonymous, p.public_listing,
             fold(" ".join(v for v in (p.donor_name, p.donor_tax_code, p.donor_email, p.donor_phone) if v)),
             p.language, now, now]
            for new_id, p in zip(ids, creating.values())))
        if itemized:
            for new_id, p in zip(ids, creating.values()):
                audit.record(actor, "donor.create", entity_type="donors", entity_id=new_id,
                             after={"kind": p.donor_kind, "source": "bank_transfer"})
    _PHASE("donor upsert")
    deferred = bool(missing_settings(get_settings()))
    donation_ids = reserve_ids(Donation.__table__, len(items))
    general = general_programme().id if any(not i.pledge.programme_id for i in items) else None
    expired, confirmed, transfer = PledgeStatus.EXPIRED.value, DonationStatus.CONFIRMED.value, \
        Channel.BANK_TRANSFER.value
    recorder = actor.user_id
    insert_rows(Donation.__table__, _DONATION_COLUMNS, (  # streamed, as the donors
        [donation_id, donor_ids[key], item.pledge.appeal_id, item.pledge.programme_id or general, item.amount,
         "VND", transfer, confirmed, min(item.booked_at, now), now, f"BANK-{item.line_id}",
         item.reason if item.amount != item.pledge.amount or item.pledge.status == expired else None,
         item.pledge.message, recorder, now, deferred]
        for donation_id, key, item in zip(donation_ids, keys, items)))
    if itemized:
        for donation_id, key, item in zip(donation_ids, keys, items):
            audit.record(actor, "donation.record", entity_type="donations", entity_id=donation_id, after={
                "amount": item.amount, "channel": transfer, "donor_id": donor_ids[key],
                "bank_line_id": item.line_id, "pledge": item.pledge.code})
            audit.record(actor, "donation.confirm", entity_type="donations", entity_id=donation_id,
                         before={"status": DonationStatus.PENDING.value},
                         after={"status": confirmed, "amount": item.amount})
    _PHASE("donation insert")
    # Receipt mails are written in the donor's language: the few English readers, one query
    # (among this batch's donors when they are few).
    batch_donors = sorted(set(donor_ids.values()))
    among = [Donor.id.in_(batch_donors)] if len(batch_donors) <= CHUNK else []
    english = set(db.session.scalars(sa.select(Donor.id).where(Donor.language == "en", *among)))
    english_donations = frozenset(donation_id for donation_id, key in zip(donation_ids, keys)
                                  if donor_ids[key] in english)
    return Recorded(items, donation_ids, len(creating), deferred, english_donations, itemized)


def issue_receipts_many(recorded: Recorded, actor: Actor, *, label: str) -> None:
    """Mark received the pledges the recorded donations paid, number their receipts as ONE
    block of the year's gapless counter (one locked UPDATE), insert them and their queued
    mails, and write the audit entries; in the caller's transaction. On PostgreSQL the
    pledges' UPDATE runs on the server while the receipts and mails are composed."""
    items, donation_ids = recorded.items, recorded.donation_ids
    if not items:
        return
    now = utcnow()
    receipts, mails = [], []
    if recorded.deferred:
        _receive_pledges(recorded, now)
    else:
        settings = get_settings()
        compose = receipt_mail_composer(settings)
        pattern = settings.receipt_number_format
        year = local_year(now)
        last = next_sequence_block(year, len(items))
        first = last - len(items) + 1
        receipt_ids = reserve_ids(Receipt.__table__, len(items))
        pending, created_by = OutboxStatus.PENDING.value, actor.label

        def compose_rows() -> None:
            for n, item in enumerate(items):
                p = item.pledge
                number = format_receipt_number(pattern, year, first + n)
                token = secrets.token_urlsafe(24)
                receipts.append(dict(id=receipt_ids[n], number=number, year=year, sequence=first + n,
                                     donation_id=donation_ids[n], issued_at=now, verification_token=token,
                                     issued_by_id=actor.user_id))
                if p.donor_email:
                    subject, body = compose(number, p.donor_name, item.amount, token,
                                            "en" if donation_ids[n] in recorded.english_donations else None)
                    mails.append(dict(kind=KIND_RECEIPT, receipt_id=receipt_ids[n], to_address=p.donor_email,
                                      subject=subject, body=body, status=pending, attempts=0,
                                      next_attempt_at=now, created_at=now, created_by=created_by))

        _PHASE("receipt counter")
        _receive_pledges(recorded, now, meanwhile=compose_rows)
        _PHASE("pledge update, receipts composed meanwhile")
        insert_many(Receipt.__table__, receipts)
        _PHASE("receipt insert")
        insert_many(OutboxMessage.__table__, mails)
        _PHASE("mail insert")
        if mails:
            send_due_after_commit()
    if recorded.itemized:
        for row in receipts:
            audit.record(actor, "receipt.issue", entity_type="receipts", entity_id=row["id"],
                         after={"number": row["number"], "donation_id": row["donation_id"], "replaces": None})
        for item, donation_id in zip(items, donation_ids):
            audit.record(actor, "pledge.receive", entity_type="transfer_pledges", entity_id=item.pledge.id,
                         before={"status": item.pledge.status},
                         after={"status": PledgeStatus.RECEIVED.value, "donation_id": donation_id,
                                "amount": item.amount})
        return
    audit.record(actor, "bank_line.match_bulk", entity_type="bank_lines", after={
        "source": label, "donations": len(items), "donors_created": recorded.donors_created,
        "first_donation_id": min(donation_ids), "last_donation_id": max(donation_ids),
        "receipts": f"{receipts[0]['number']} … {receipts[-1]['number']}" if receipts else None,
        "receipts_deferred": len(items) if recorded.deferred else 0, "mails_queued": len(mails)})


_RECEIVE = ("UPDATE transfer_pledges SET status = %(status)s, donation_id = paid.donation_id, received_at = %(now)s "
            "FROM unnest(%(pledges)s::bigint[], %(donations)s::bigint[]) AS paid (pledge_id, donation_id) "
            "WHERE transfer_pledges.id = paid.pledge_id")


def _receive_pledges(recorded: Recorded, now, *, meanwhile: Callable[[], None] | None = None) -> None:
    """Mark received every pledge the recorded donations paid, in one statement, and run
    `meanwhile`. On PostgreSQL the UPDATE (a statement's tens of thousands of rows, each in
    every index of transfer_pledges) is sent in psycopg's pipeline mode and runs on the
    server while `meanwhile` computes; it is awaited, and its error raised, before this
    returns. SQLite: one executemany, then `meanwhile`."""
    pairs = [(item.pledge.id, donation_id) for item, donation_id in zip(recorded.items, recorded.donation_ids)]
    received = PledgeStatus.RECEIVED.value
    connection = db.session.connection()
    meanwhile = meanwhile or (lambda: None)
    if connection.dialect.name == "sqlite":
        at = sqlite_time(now, {})
        connection.exec_driver_sql("UPDATE transfer_pledges SET status = ?, donation_id = ?, received_at = ? "
                                   "WHERE id = ?", [(received, d, at, p) for p, d in pairs])
        meanwhile()
        return
    driver = connection.connection.driver_connection
    donations = [d for _, d in pairs]
    params = {"status": received, "now": now, "pledges": [p for p, _ in pairs], "donations": donations}
    # In a statement's bulk_load(), without the per-row foreign-key trigger (bulk_rows):
    # the donations are checked once, after.
    off = set_based()
    with driver.pipeline(), driver.cursor() as cursor:
        with triggers_off(cursor, off):
            cursor.execute(_RECEIVE, params)
        meanwhile()
    if off:
        with driver.cursor() as cursor:
            check_references(cursor, TransferPledge.__tablename__, [(Donation.__table__.c.id, set(donations))])


__all__ = ["Confirmation", "Recorded", "in_batches", "issue_receipts_many", "record_many"]
