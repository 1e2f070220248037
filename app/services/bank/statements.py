"""Statement import: plan (read, recognise, check, find what is new; nothing written), then
import (bulk insert of the new lines, matching, bulk confirmation) in one transaction.

A re-import adds nothing: a row is known when its bank reference, or its fingerprint (see
lines.py: the n-th identical movement of a day), is already recorded for the account —
including lines that arrived earlier by webhook.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.adapters.bank_lines import CREDIT, ParsedLine
from app.adapters.statements import BUILT_IN, Statement, StatementError, detect_layout, parse_statement, read_rows
from app.extensions import db
from app.i18n import _, vietnamese
from app.models import BankAccount, BankLayout, BankLine, BankStatementImport, LineState
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts, bulk
from app.services.bank.lines import base_fingerprint, fingerprint, initial_state

__all__ = ["BUILT_IN", "StatementPlan", "custom_layouts", "import_file", "import_statement", "plan_statement"]
from app.services.bank.matching import BANK, Context, apply, decide
from app.services.bulk_rows import bulk_load, insert_rows, paused_gc, reserve_ids
from app.timeutil import utcnow


@dataclass
class StatementPlan:
    file_name: str
    sha256: str
    layout: str
    account: BankAccount
    statement: Statement
    new: list[tuple[ParsedLine, str]] = field(default_factory=list)  # (line, fingerprint)
    known: int = 0

    @property
    def credits_new(self) -> int:
        return sum(1 for line, _ in self.new if line.direction == CREDIT)


def custom_layouts() -> dict[str, dict]:
    return {row.name: row.config for row in db.session.scalars(sa.select(BankLayout).where(BankLayout.is_active))}


def _layout(rows, name: str) -> tuple[str, dict]:
    custom = custom_layouts()
    name = (name or "auto").strip()
    if name == "auto":
        chosen = detect_layout(rows, custom)
        return chosen, {**BUILT_IN, **custom}[chosen]
    if name in BUILT_IN:
        return name, BUILT_IN[name]
    if name in custom:
        return name, custom[name]
    known = ", ".join(list(BUILT_IN) + sorted(custom))
    raise StatementError(_("Không có mẫu sao kê “%(name)s”: cần auto hoặc một trong %(known)s.", name=name, known=known))


def plan_statement(data: bytes, file_name: str, *, account_number: str | None = None,
                   layout: str = "auto") -> StatementPlan:
    with paused_gc():  # (bulk_rows.paused_gc: a statement is hundreds of thousands of objects)
        return _plan(data, file_name, account_number, layout)


def _plan(data: bytes, file_name: str, account_number: str | None, layout: str) -> StatementPlan:
    phase = bulk.phases(reset=True)
    rows = read_rows(data, file_name)
    phase("read")
    name, config = _layout(rows, layout)
    statement = parse_statement(rows, name, config)
    phase("parse")
    stated = statement.account_number
    wanted = (account_number or "").replace(" ", "") or stated
    if not wanted:
        raise StatementError(_("Sao kê không ghi số tài khoản: cần chọn tài khoản (--account SỐ_TÀI_KHOẢN)."))
    if account_number and stated and stated != wanted:
        raise StatementError(_("Sao kê này của tài khoản %(stated)s, không phải tài khoản %(wanted)s đã chọn.",
                                 stated=stated, wanted=wanted))
    account = accounts.account_by_number(wanted)
    if account is None:
        raise StatementError(_("Quỹ không có tài khoản số %(number)s: cần sao kê của một tài khoản trong "
                               "danh sách tài khoản của Quỹ (Cài đặt → Tài khoản ngân hàng).", number=wanted))
    plan = StatementPlan(file_name=file_name, sha256=hashlib.sha256(data).hexdigest(), layout=name,
                         account=account, statement=statement)
    lines = statement.lines
    start = min(l.booked_at for l in lines) - timedelta(days=1)
    end = max(l.booked_at for l in lines) + timedelta(days=1)
    known_refs, known_fps = set(), set()
    for ref, fp in db.session.execute(sa.select(BankLine.bank_reference, BankLine.fingerprint).where(
            BankLine.account_id == account.id, BankLine.booked_at >= start, BankLine.booked_at <= end)):
        if ref:
            known_refs.add(ref)
        known_fps.add(fp)
    phase("known lines query")
    occurrences: Counter = Counter()
    seen_refs = set()
    for line in lines:
        line.account_number = account.account_number
        base = base_fingerprint(line.direction, line.amount, line.booked_at, line.memo)
        occurrences[base] += 1
        fp = fingerprint(base, occurrences[base])
        if line.bank_reference in seen_refs:
            line.bank_reference = None  # a bank reusing one number (fee + transfer): the fingerprint decides
        if (line.bank_reference and line.bank_reference in known_refs) or fp in known_fps:
            plan.known += 1
            continue
        if line.bank_reference:
            seen_refs.add(line.bank_reference)
        plan.new.append((line, fp))
    phase("dedupe")
    return plan


@dataclass(slots=True)
class LineView:
    """A new line as matching sees it (plain values), and what matching decided for it."""
    id: int
    direction: str
    amount: int
    booked_at: object
    memo: str
    sender_name: str | None
    sender_account: str | None
    state: str
    state_reason: str | None
    donation_id: int | None = None
    confidence: int = 0
    suggestion: dict | None = None
    pledge_id: int | None = None


_JSON = audit.json_text


def import_statement(plan: StatementPlan, actor: Actor, *, user_id: int | None = None) -> BankStatementImport:
    """Write the plan's new lines, match them, confirm code matches; one transaction.

    Set-based: the lines are matched in memory first (one query per kind of look-up), the
    donors and donations of code matches are bulk-inserted, then every line once in its
    final state, the paid pledges marked with one UPDATE … FROM, and last the receipts,
    numbered as one block of the year's counter, and their mails."""
    now = utcnow()
    st = plan.statement
    with vietnamese():  # the record keeps the differences in the source language, whoever imported
        differences = [str(d) for d in st.differences] or None
    phase = bulk.phases()
    phase("(before import)")
    try:
        with bulk_load():  # foreign keys checked once per key, GC paused (bulk_rows)
            record = BankStatementImport(
                account_id=plan.account.id, file_name=plan.file_name[:255], sha256=plan.sha256, layout=plan.layout,
                period_from=min(l.booked_at for l in st.lines), period_to=max(l.booked_at for l in st.lines),
                opening_balance=st.opening_balance, closing_balance=st.closing_balance,
                credit_total=st.credit_total, debit_total=st.debit_total, rows=len(st.lines), new_lines=len(plan.new),
                differences=differences, imported_by_id=user_id, created_at=now)
            db.session.add(record)
            db.session.flush()
            sqlite = db.session.get_bind().dialect.name == "sqlite"
            ids = reserve_ids(BankLine.__table__, len(plan.new)) if plan.new else []
            views = []
            for new_id, (line, _fp) in zip(ids, plan.new):
                state, reason = initial_state(line)
                views.append(LineView(new_id, line.direction, line.amount, line.booked_at, line.memo,
                                      line.sender_name, line.sender_account, state, reason))
            phase("import record + views")
            counts, recorded, months = match_views(views, actor)
            account_id, import_id = plan.account.id, record.id
            columns = ["id", "account_id", "direction", "amount", "booked_at", "memo", "sender_name",
                       "sender_account", "bank_reference", "fingerprint", "source", "statement_import_id",
                       "balance_after", "raw", "state", "state_reason", "confidence", "suggestion", "pledge_id",
                       "donation_id", "created_at"]
            insert_rows(BankLine.__table__, columns, (
                [view.id, account_id, line.direction, line.amount, line.booked_at, line.memo[:2000], line.sender_name,
                 line.sender_account, line.bank_reference, fp, "statement", import_id, line.balance_after,
                 _JSON(line.raw), view.state, view.state_reason, view.confidence,
                 None if view.suggestion is None else _JSON(view.suggestion), view.pledge_id, view.donation_id, now]
                for view, (line, fp) in zip(views, plan.new)))  # one COPY on PostgreSQL, streamed, no dict per row
            phase("line insert")
            bulk.issue_receipts_many(recorded, actor, label=f"statement:{import_id}")
            phase("receipt audit entries")
            for line_id, outcome in months:
                apply(db.session.get(BankLine, line_id), outcome, actor)
            phase("standing months")
            audit.record(actor, "bank_statement.import", record, after={
                "file_name": plan.file_name, "sha256": plan.sha256, "layout": plan.layout,
                "account": plan.account.account_number, "rows": len(st.lines), "new_lines": len(plan.new),
                "already_known": plan.known, "states": counts, "differences": len(st.differences)})
            db.session.commit()
            phase("audit + commit")
    except Exception:
        db.session.rollback()
        raise
    if len(plan.new) >= 1000:  # fresh planner statistics after a bulk load (both databases)
        if sqlite:
            db.session.execute(sa.text("PRAGMA analysis_limit=1000"))  # sampled statistics: fast
            for table in ("bank_lines", "donations", "donors", "receipts", "transfer_pledges"):
                db.session.execute(sa.text(f"ANALYZE {table}"))
        else:
            db.session.execute(sa.text("ANALYZE bank_lines, donations, donors, receipts, transfer_pledges"))
        db.session.commit()
        phase("analyze")
    return record


_UNMATCHED, _MATCHED = LineState.UNMATCHED.value, LineState.MATCHED.value


def match_views(views: list[LineView], actor: Actor = BANK, *,
                itemized: bool = False) -> tuple[dict[str, int], bulk.Recorded, list]:
    """Decide every unmatched line in memory and record the donations of code matches
    (bulk); each view gets its final state. Returns the counts per state, what was
    recorded (its receipts are issued by bulk.issue_receipts_many) and the months of
    standing pledges: (line id, outcome) pairs applied one by one once the lines exist
    (app/services/bank/standing.py; few per statement)."""
    todo = [v for v in views if v.state == _UNMATCHED]
    ctx = Context(todo)
    confirmations, confirmed_views, months = [], [], []
    counts: Counter = Counter(v.state for v in views if v.state != _UNMATCHED)
    for view in todo:
        outcome = decide(view, ctx)
        counts[outcome.state] += 1
        if outcome.confirm and ctx.pledges_by_id[outcome.pledge_id].recurring_gift_id:
            months.append((view.id, outcome))  # a month of a standing pledge: few, one by one
        elif outcome.confirm:
            confirmations.append(bulk.Confirmation(view.id, view.amount, view.booked_at,
                                                   ctx.pledges_by_id[outcome.pledge_id], outcome.reason))
            confirmed_views.append(view)
            view.state, view.confidence, view.state_reason = _MATCHED, 100, outcome.reason
            view.pledge_id = outcome.pledge_id
        elif outcome.state != _UNMATCHED or outcome.reason:
            view.state, view.confidence, view.state_reason = outcome.state, outcome.confidence, outcome.reason
            view.suggestion, view.pledge_id = outcome.suggestion, outcome.pledge_id
    bulk.phases()("match in memory")
    recorded = bulk.record_many(confirmations, actor, itemized=itemized)
    for view, donation_id in zip(confirmed_views, recorded.donation_ids):
        view.donation_id = donation_id
    return dict(counts), recorded, months


def import_file(data: bytes, file_name: str, actor: Actor, *, account_number: str | None = None,
                layout: str = "auto", user_id: int | None = None) -> tuple[StatementPlan, BankStatementImport]:
    plan = plan_statement(data, file_name, account_number=account_number, layout=layout)
    return plan, import_statement(plan, actor, user_id=user_id)
