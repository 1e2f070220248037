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
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from app.adapters.bank_lines import CREDIT, DEBIT, BankInputError, ParsedLine
from app.extensions import db
from app.models import BankAccount, BankLine, LineState
from app.services.bank.bulk import in_batches
from app.services.bank.codes import squeeze
from app.timeutil import local_day_start_utc, to_local, utcnow


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


_IGNORED, _UNMATCHED = LineState.IGNORED.value, LineState.UNMATCHED.value  # once: a statement asks per row


def initial_state(line: ParsedLine) -> tuple[str, str | None]:
    if line.direction == DEBIT:
        return _IGNORED, "Ghi nợ (tiền ra): không phải khoản ủng hộ."
    if line.amount <= 0:
        return _IGNORED, "Số tiền bằng 0: không phải khoản ủng hộ."
    return _UNMATCHED, None


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


def record_webhook_lines(items: list[tuple[BankAccount, ParsedLine]]) -> list[tuple[BankLine, bool]]:
    """Record notified lines (one delivery's, or a group of deliveries') in the caller's
    transaction. Returns (line, created) per item, in order.

    One query finds the lines already known (by provider id, by bank reference, or a
    statement row of the same transfer by fingerprint), one INSERT … ON CONFLICT DO NOTHING
    RETURNING writes the new ones. The same transaction twice among the items is one line.
    Concurrent deliveries of the same transaction: the unique indexes make the second insert
    wait for the first transaction and then do nothing; we then return the first's row."""
    for _account, line in items:
        check_line(line)
    bases = [base_fingerprint(line.direction, line.amount, line.booked_at, line.memo) for _, line in items]
    # The first few occurrences first: a day rarely has more than one identical movement,
    # and 200 fingerprints per line cost more than the rest of the look-up.
    wanted = [(account, line, [fingerprint(base, n) for n in range(1, FIRST_TWINS + 1)])
              for (account, line), base in zip(items, bases)]
    found = _candidates(wanted)
    crowded = [n for n, (account, _line, fps) in enumerate(wanted) if len(_twins(found, account, fps)) == FIRST_TWINS]
    if crowded:
        for n in crowded:
            account, line, _fps = wanted[n]
            wanted[n] = (account, line, [fingerprint(bases[n], k) for k in range(1, MAX_TWINS + 1)])
        known = {id(row) for row in found}
        found += [row for row in _candidates([wanted[n] for n in crowded]) if id(row) not in known]
    results: list[tuple[BankLine, bool]] = []
    new: list[dict] = []  # the rows to insert; their lines, not inserted yet, are found by later items
    for n, (account, line, fps) in enumerate(wanted):
        existing = _known_in(found, account, line)
        if existing is not None:
            results.append((existing, False))
            continue
        twins = _twins(found, account, fps)
        twin = next((twin for twin in twins if twin.provider is None and (
            not twin.bank_reference or not line.bank_reference or twin.bank_reference == line.bank_reference)), None)
        if twin is not None:  # a statement row already recorded this very transfer
            twin.provider, twin.provider_txn_id = line.provider, line.provider_txn_id
            if not twin.bank_reference and line.bank_reference:
                twin.bank_reference = line.bank_reference
            results.append((twin, False))
            continue
        values = _row(account, line, fingerprint(bases[n], len(twins) + 1), "webhook", None)
        values.update(suggestion=None, pledge_id=None, donation_id=None, reviewed_by_id=None, reviewed_at=None,
                      created_at=utcnow())
        record = BankLine(**values)
        found.append(record)
        new.append(values)
        results.append((record, True))
    if new:
        _insert(new, items, results)
    return results


def _insert(rows: list[dict], items, results) -> None:
    """Insert the new lines' rows in one statement and give their lines (in `results`) the
    ids. A row a concurrent delivery of the same transaction wrote first is not inserted:
    its item gets that delivery's line (or the transaction fails if that cannot be told)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # executemany with RETURNING: SQLAlchemy sends one INSERT … VALUES for the lot from a
    # statement compiled once (a .values(rows) statement is compiled afresh every time)
    statement = insert(BankLine.__table__).on_conflict_do_nothing().returning(
        BankLine.id, BankLine.account_id, BankLine.fingerprint)
    ids = {(account_id, fp): new_id for new_id, account_id, fp in db.session.connection().execute(statement, rows)}
    created = db.session.info.setdefault(_CREATED, set())
    for n, (record, is_new) in enumerate(results):
        if not is_new:
            continue
        record.id = ids.get((record.account_id, record.fingerprint))
        if record.id is not None:
            make_transient_to_detached(record)  # what we just inserted, without reading it back
            db.session.add(record)
            created.add(record.id)
            continue
        account, line = items[n]
        shared = any(other is record for other, _is_new in results[n + 1:])  # the same transaction again
        again = None if shared or not (line.provider_txn_id or line.bank_reference) else \
            _known_in(_candidates([(account, line, [])]), account, line)
        if again is None:
            raise IntegrityError("INSERT INTO bank_lines", None,
                                 Exception("bank line clashes with a line recorded concurrently"))
        results[n] = (again, False)


FIRST_TWINS = 8


def _twins(found: list[BankLine], account: BankAccount, candidates: list[str]) -> list[BankLine]:
    """The lines of `found` with one of the fingerprints on the account, in occurrence order."""
    order = {fp: n for n, fp in enumerate(candidates)}
    return sorted((row for row in found if row.account_id == account.id and row.fingerprint in order),
                  key=lambda row: order[row.fingerprint])


_CREATED = "bank_lines_created_in_transaction"


def created_in_transaction() -> set[int]:
    """Ids of the lines record_webhook_line inserted in the current transaction."""
    return db.session.info.get(_CREATED) or set()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_created(session: Session) -> None:
    session.info.pop(_CREATED, None)


def _candidates(wanted: list[tuple[BankAccount, ParsedLine, list[str]]]) -> list[BankLine]:
    """Lines that may be one of `wanted` (account, line, fingerprints): same provider
    transaction, same bank reference on the account, or one of the fingerprints on the
    account — one query for them all."""
    by_provider: dict[str, set[str]] = {}
    references: dict[int, set[str]] = {}
    fingerprints: dict[int, set[str]] = {}
    for account, line, fps in wanted:
        if line.provider and line.provider_txn_id:
            by_provider.setdefault(line.provider, set()).add(line.provider_txn_id)
        if line.bank_reference:
            references.setdefault(account.id, set()).add(line.bank_reference)
        fingerprints.setdefault(account.id, set()).update(fps)
    conditions = [sa.and_(BankLine.provider == provider, condition) for provider, ids in by_provider.items()
                  for condition in in_batches(BankLine.provider_txn_id, sorted(ids))]
    for column, per_account in ((BankLine.bank_reference, references), (BankLine.fingerprint, fingerprints)):
        # in_batches: one array parameter on PostgreSQL (one short statement, prepared once)
        conditions += [sa.and_(BankLine.account_id == account_id, condition)
                       for account_id, values in per_account.items() for condition in in_batches(column, sorted(values))]
    if not conditions:
        return []
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite (in-process: a query costs no round trip) plans the OR as a full scan once
        # the tables have statistics; one indexed query per condition instead.
        found: dict[int, BankLine] = {}
        for condition in conditions:
            found.update((row.id, row) for row in db.session.scalars(sa.select(BankLine).where(condition)))
        return list(found.values())
    return list(db.session.scalars(sa.select(BankLine).where(sa.or_(*conditions))))


def _known_in(rows: list[BankLine], account: BankAccount, line: ParsedLine) -> BankLine | None:
    """The line itself among `rows`: by (provider, transaction id) first, then by the bank
    reference on the account."""
    if line.provider and line.provider_txn_id:
        found = next((r for r in rows if r.provider == line.provider and r.provider_txn_id == line.provider_txn_id),
                     None)
        if found is not None:
            return found
    if line.bank_reference:
        return next((r for r in rows if r.account_id == account.id and r.bank_reference == line.bank_reference),
                    None)
    return None


def _day_start(moment, days: int = 0):
    from datetime import timedelta

    return local_day_start_utc(local_date(moment) + timedelta(days=days))
