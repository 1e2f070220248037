"""Confirming many code-matched lines at once (a statement brings thousands).

The same rules as matching.record_from_line — donor found (kind + e-mail + folded name, or
an organization's MST) or created from the pledge, a confirmed bank-transfer donation for the
amount that arrived, its receipt numbered from the year's counter, its e-mail queued in the
outbox — written with one bulk insert per table (the donation importer's `_insert_many`,
COPY on PostgreSQL) instead of several ORM round trips per line. One summary audit entry
names the import and the counts; the per-line facts stay on the bank lines themselves.
Mails queued here are sent right after the caller's commit (`send_due_after_commit`: the
worker's `mail.deliver_due` task, as MAIL_SEND_AFTER_COMMIT says); cron retries failures.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    BankLine, Channel, Donation, DonationStatus, Donor, DonorKind, LineState, OutboxMessage, OutboxStatus,
    PledgeStatus, Receipt, TransferPledge,
)
from app.services import audit
from app.services.audit import Actor
from app.services.donations.importer import _insert_many, _reserve_ids
from app.services.receipts.issuing import format_receipt_number, next_sequence_block
from app.services.receipts.mail import KIND_RECEIPT, receipt_mail_text_for, send_due_after_commit
from app.services.setup import general_programme, get_settings
from app.adapters.bank_lines import quick_fold as fold
from app.text import normalize_org_name
from app.timeutil import local_year, utcnow

CHUNK = 900


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
    for start in range(0, len(taxes), CHUNK):
        for donor_id, tax in db.session.execute(sa.select(Donor.id, Donor.tax_code).where(
                Donor.merged_into_id.is_(None), Donor.kind == DonorKind.ORGANIZATION.value,
                Donor.tax_code.in_(taxes[start:start + CHUNK]))):
            found[("mst", tax)] = donor_id
    emails = sorted({k[2] for k in keys if k[0] == "email" and k[2]})
    seen: dict[tuple, list[int]] = {}
    for start in range(0, len(emails), CHUNK):
        for donor_id, kind, email, name, tax in db.session.execute(sa.select(
                Donor.id, Donor.kind, Donor.email, Donor.name, Donor.tax_code).where(
                Donor.merged_into_id.is_(None), sa.func.lower(Donor.email).in_(emails[start:start + CHUNK]))):
            if kind == DonorKind.ORGANIZATION.value and tax:
                continue
            folded = normalize_org_name(name) if kind == DonorKind.ORGANIZATION.value else fold(name)
            seen.setdefault(("email", kind, email.lower(), folded), []).append(donor_id)
    found.update({k: ids[0] for k, ids in seen.items() if len(ids) == 1})
    return found


def confirm_many(items: list[Confirmation], actor: Actor, *, label: str) -> int:
    """Record and confirm a donation for each item, in the caller's transaction."""
    if not items:
        return 0
    now = utcnow()
    settings = get_settings()
    general = general_programme().id
    keys = {_donor_key(i.pledge) for i in items}
    donor_ids = _existing_donors(keys)
    new = [i.pledge for i in items if _donor_key(i.pledge) not in donor_ids]
    creating: dict[tuple, sa.Row] = {}
    for p in new:
        creating.setdefault(_donor_key(p), p)
    if creating:
        ids = _reserve_ids(Donor.__table__, len(creating))
        params = []
        for new_id, (key, p) in zip(ids, creating.items()):
            donor_ids[key] = new_id
            search = fold(" ".join(v for v in (p.donor_name, p.donor_tax_code, p.donor_email, p.donor_phone) if v))
            params.append(dict(id=new_id, kind=p.donor_kind, name=p.donor_name, tax_code=p.donor_tax_code,
                               email=p.donor_email, phone=p.donor_phone, address=p.donor_address,
                               representative=p.donor_representative, anonymous=p.anonymous,
                               public_listing_consent=p.public_listing, search_text=search,
                               created_at=now, updated_at=now))
        for start in range(0, len(params), CHUNK):
            _insert_many(Donor.__table__, params[start:start + CHUNK])
    donation_ids = _reserve_ids(Donation.__table__, len(items))
    year = local_year(now)
    last = next_sequence_block(year, len(items))
    first = last - len(items) + 1
    receipt_ids = _reserve_ids(Receipt.__table__, len(items))
    donations, receipts, mails, line_updates, pledge_updates = [], [], [], [], []
    for n, item in enumerate(items):
        p = item.pledge
        donor_id = donor_ids[_donor_key(p)]
        note = item.reason if item.amount != p.amount or p.status == PledgeStatus.EXPIRED.value else None
        donations.append(dict(
            id=donation_ids[n], donor_id=donor_id, appeal_id=p.appeal_id, programme_id=p.programme_id or general,
            amount=item.amount, currency="VND", channel=Channel.BANK_TRANSFER.value,
            status=DonationStatus.CONFIRMED.value, received_at=min(item.booked_at, now), confirmed_at=now,
            reference=f"BANK-{item.line_id}", note=note, public_message=p.message,
            recorded_by_id=actor.user_id, created_at=now))
        number = format_receipt_number(settings.receipt_number_format, year, first + n)
        token = secrets.token_urlsafe(24)
        receipts.append(dict(id=receipt_ids[n], number=number, year=year, sequence=first + n,
                             donation_id=donation_ids[n], issued_at=now, verification_token=token,
                             issued_by_id=actor.user_id))
        if p.donor_email:
            subject, body = receipt_mail_text_for(number, p.donor_name, item.amount, token, settings)
            mails.append(dict(kind=KIND_RECEIPT, receipt_id=receipt_ids[n], to_address=p.donor_email,
                              subject=subject, body=body, status=OutboxStatus.PENDING.value, attempts=0,
                              next_attempt_at=now, created_at=now, created_by=actor.label))
        line_updates.append(dict(b_id=item.line_id, b_donation=donation_ids[n], b_pledge=p.id, b_reason=item.reason))
        pledge_updates.append(dict(b_id=p.id, b_donation=donation_ids[n]))
    for start in range(0, len(items), CHUNK):
        _insert_many(Donation.__table__, donations[start:start + CHUNK])
        _insert_many(Receipt.__table__, receipts[start:start + CHUNK])
    for start in range(0, len(mails), CHUNK):
        _insert_many(OutboxMessage.__table__, mails[start:start + CHUNK])
    if mails:
        send_due_after_commit()
    _bulk_update(BankLine.__table__, [dict(id=u["b_id"], state=LineState.MATCHED.value, confidence=100,
                                           donation_id=u["b_donation"], pledge_id=u["b_pledge"],
                                           state_reason=u["b_reason"]) for u in line_updates])
    _bulk_update(TransferPledge.__table__, [dict(id=u["b_id"], status=PledgeStatus.RECEIVED.value,
                                                 donation_id=u["b_donation"], received_at=now)
                                            for u in pledge_updates])
    audit.record(actor, "bank_line.match_bulk", entity_type="bank_lines", after={
        "source": label, "donations": len(items), "donors_created": len(creating),
        "first_donation_id": min(donation_ids), "last_donation_id": max(donation_ids),
        "receipts": f"{receipts[0]['number']} … {receipts[-1]['number']}", "mails_queued": len(mails)})
    return len(items)


def update_states(rows: list[dict]) -> None:
    """Set state/confidence/reason/suggestion/pledge of many lines."""
    _bulk_update(BankLine.__table__, [dict(id=r["b_id"], state=r["b_state"], confidence=r["b_confidence"],
                                           state_reason=r["b_reason"], pledge_id=r["b_pledge"],
                                           suggestion=None if r["b_suggestion"] is None else json.dumps(
                                               r["b_suggestion"], ensure_ascii=False)) for r in rows])


def _bulk_update(table: sa.Table, rows: list[dict]) -> None:
    """UPDATE many rows by id. SQLite: one executemany (in-process, fast). PostgreSQL: COPY
    the new values into a temporary table and one UPDATE … FROM, instead of a round trip
    per row. All dicts have the same keys; JSON values already serialised."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        stmt = table.update().where(table.c.id == sa.bindparam("b_id")).values(
            {c: sa.bindparam(f"b_{c}") for c in columns})
        if "suggestion" in columns:  # already JSON text: bypass the JSON type's own serialisation
            stmt = stmt.values(suggestion=sa.bindparam("b_suggestion", type_=sa.Text))
        connection.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])
        return
    temp = f"tmp_update_{secrets.token_hex(6)}"  # one per call: calls update different columns
    types = ", ".join(f"{c} {table.c[c].type.compile(dialect=connection.dialect)}" for c in columns)
    connection.exec_driver_sql(f"CREATE TEMP TABLE {temp} (id integer PRIMARY KEY, {types}) ON COMMIT DROP")
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {temp} (id, {', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r["id"], *(r[c] for c in columns)])
    sets = ", ".join(f"{c} = t.{c}" for c in columns)
    connection.exec_driver_sql(f"UPDATE {table.name} SET {sets} FROM {temp} t WHERE {table.name}.id = t.id")


__all__ = ["Confirmation", "confirm_many", "json", "update_states"]
