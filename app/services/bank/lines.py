"""Recording bank lines once, whichever way they arrive.

Identity of a line, in order:
1. (provider, provider transaction id): a provider's retry or re-delivery;
2. (account, bank reference): the bank's own transaction number, which both a webhook
   (SePay referenceCode, Casso/payOS reference) and the statement carry;
3. (account, fingerprint) when there is no reference: direction, amount, the Vietnam-time
   day and the memo reduced to its letters and digits, plus an occurrence number — the
   n-th identical movement of that day is the n-th line — so two equal gifts on one day
   stay two lines, and a statement row meets the webhook line of the same transfer.
A line found again is not written again; a webhook line seen later in a statement gets
the statement's reference filled in (nothing else changes).
"""
from __future__ import annotations

import hashlib
from datetime import timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.adapters.bank_lines import CREDIT, DEBIT, BankInputError, ParsedLine
from app.extensions import db
from app.models import BankAccount, BankLine, LineState
from app.services.bank.codes import squeeze
from app.timeutil import local_day_start_utc, to_local


_UTC7 = timedelta(hours=7)


def local_date(moment):
    """The Vietnam calendar day of an aware moment. UTC moments after 1975 (Vietnam's
    clock has been UTC+7 without daylight saving since then) take a fast path: a
    statement computes this for every row."""
    if moment.tzinfo is timezone.utc and moment.year > 1975:
        return (moment + _UTC7).date()
    return to_local(moment).date()


MAX_TWINS = 200  # identical movements (same day, amount and memo) told apart by their order


def base_fingerprint(direction: str, amount: int, booked_at, memo: str) -> str:
    return f"{direction[0]}|{amount}|{local_date(booked_at).isoformat()}|{squeeze(memo)[:80]}"


def fingerprint(base: str, occurrence: int) -> str:
    return hashlib.sha1(f"{base}#{occurrence}".encode()).hexdigest()


def check_line(line: ParsedLine) -> None:
    if line.direction not in (CREDIT, DEBIT):
        raise BankInputError("chiều giao dịch phải là ghi có hoặc ghi nợ")
    if not isinstance(line.amount, int) or isinstance(line.amount, bool) or line.amount < 0:
        raise BankInputError("số tiền phải là số nguyên đồng không âm")
    if line.amount >= 10 ** 15:
        raise BankInputError("số tiền quá lớn")
    if line.booked_at.tzinfo is None:
        raise ValueError("booked_at must be aware")


def initial_state(line: ParsedLine) -> tuple[str, str | None]:
    if line.direction == DEBIT:
        return LineState.IGNORED.value, "Ghi nợ (tiền ra): không phải khoản ủng hộ."
    if line.amount <= 0:
        return LineState.IGNORED.value, "Số tiền bằng 0: không phải khoản ủng hộ."
    return LineState.UNMATCHED.value, None


def _row(account: BankAccount, line: ParsedLine, fp: str, source: str, import_id: int | None) -> dict:
    state, reason = initial_state(line)
    return dict(
        account_id=account.id, direction=line.direction, amount=line.amount, booked_at=line.booked_at,
        memo=(line.memo or "")[:2000], sender_name=(line.sender_name or None) and line.sender_name[:255],
        sender_account=(line.sender_account or None) and line.sender_account[:40],
        sender_bank=(line.sender_bank or None) and line.sender_bank[:100],
        bank_reference=(line.bank_reference or None) and line.bank_reference[:100],
        provider=line.provider, provider_txn_id=line.provider_txn_id and line.provider_txn_id[:100],
        fingerprint=fp, source=source, statement_import_id=import_id, balance_after=line.balance_after,
        raw=line.raw, state=state, state_reason=reason, confidence=0)


def record_webhook_line(account: BankAccount, line: ParsedLine) -> tuple[BankLine, bool]:
    """Record one notified line in the caller's transaction. Returns (line, created).

    Concurrent deliveries of the same transaction: the unique indexes make the second
    insert wait for the first transaction and then fail; we then return the first's row."""
    check_line(line)
    existing = _known(account, line)
    if existing is not None:
        return existing, False
    base = base_fingerprint(line.direction, line.amount, line.booked_at, line.memo)
    candidates = [fingerprint(base, n) for n in range(1, MAX_TWINS + 1)]
    twins = sorted(db.session.scalars(sa.select(BankLine).where(
        BankLine.account_id == account.id, BankLine.fingerprint.in_(candidates))),
        key=lambda row: candidates.index(row.fingerprint))
    for twin in twins:  # a statement row already recorded this very transfer
        if twin.provider is None and (not twin.bank_reference or not line.bank_reference
                                      or twin.bank_reference == line.bank_reference):
            twin.provider, twin.provider_txn_id = line.provider, line.provider_txn_id
            if not twin.bank_reference and line.bank_reference:
                twin.bank_reference = line.bank_reference
            return twin, False
    record = BankLine(**_row(account, line, fingerprint(base, len(twins) + 1), "webhook", None))
    db.session.add(record)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        again = _known(account, line)
        if again is None:
            raise
        return again, False
    return record, True


def _known(account: BankAccount, line: ParsedLine) -> BankLine | None:
    if line.provider and line.provider_txn_id:
        found = db.session.scalar(sa.select(BankLine).where(
            BankLine.provider == line.provider, BankLine.provider_txn_id == line.provider_txn_id))
        if found is not None:
            return found
    if line.bank_reference:
        return db.session.scalar(sa.select(BankLine).where(
            BankLine.account_id == account.id, BankLine.bank_reference == line.bank_reference))
    return None


def _day_start(moment, days: int = 0):
    from datetime import timedelta

    return local_day_start_utc(local_date(moment) + timedelta(days=days))
