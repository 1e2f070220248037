"""Applying bank notifications (any provider): record each line once, match it, commit.

A delivery's lines, the donations they confirm and their receipts are written together or
not at all, so a provider's retry after a failure applies cleanly, and a retry after
success finds the lines already recorded and changes nothing.

Group commit: deliveries that arrive while another is being applied in this process wait
for it, then are applied together, in one transaction, through the statement import's
bulk path (statements.match_views, bulk.record_many, bulk.issue_receipts_many): one query
per kind of look-up and one insert per table for the whole group instead of a round of
ORM flushes per gift. Nothing waits for a group to fill: a delivery that finds no other
being applied is applied at once, alone. If a group fails, each of its deliveries is
applied again on its own, so one bad delivery fails only itself. Every record still gets
its own audit entry (itemized), as on the one-by-one path.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from app.adapters.bank_lines import ParsedLine
from app.extensions import db
from app.models import BankAccount, BankLine, LineState
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts, bulk
from app.services.bank.lines import record_webhook_lines
from app.services.bank.matching import apply
from app.services.bank.statements import LineView, match_views
from app.services.setup import get_settings

log = logging.getLogger(__name__)

MAX_GROUP = 32  # deliveries applied in one transaction at most


@dataclass(eq=False)
class _Delivery:
    lines: list[ParsedLine]
    results: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False


class _GroupCommit:
    """Deliveries of one provider in this process; see the module's docstring. The thread
    that finds nobody applying becomes the leader: it applies what is queued (its own
    delivery among it), then hands over; the others wait for their result."""

    def __init__(self, actor: Actor):
        self.actor = actor
        self.ready = threading.Condition()
        self.queue: list[_Delivery] = []
        self.leading = False
        self.sizes: dict[int, int] = {}  # group size -> how many groups were applied (for tests and benches)

    def submit(self, lines: list[ParsedLine]) -> list[dict]:
        mine = _Delivery(lines)
        with self.ready:
            self.queue.append(mine)
            while not mine.done:
                if self.leading or not self.queue:  # someone is preparing a group, or has ours
                    self.ready.wait()
                    continue
                self.leading = True
                group, self.queue = self.queue[:MAX_GROUP], self.queue[MAX_GROUP:]
                self.sizes[len(group)] = self.sizes.get(len(group), 0) + 1
                self.ready.release()
                try:
                    _apply_group(group, self.actor)
                finally:
                    self.ready.acquire()
                    self.leading = False
                    for delivery in group:  # an error raised before a result was set
                        if not delivery.done:
                            delivery.error, delivery.done = RuntimeError("bank notification not applied"), True
                    self.ready.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.results


_GROUPS: dict[str, _GroupCommit] = {}
_GROUPS_LOCK = threading.Lock()


def group_for(actor: Actor) -> _GroupCommit:
    with _GROUPS_LOCK:
        group = _GROUPS.get(actor.label)
        if group is None:
            group = _GROUPS[actor.label] = _GroupCommit(actor)
        return group


def apply_lines(lines: list[ParsedLine], actor: Actor) -> list[dict]:
    """Apply one delivery (with any others arriving meanwhile). Returns, per line, what
    happened: {"line_id", "state", "created"} or {"ignored": "unknown_account"} for an
    account the fund does not hold. Raises what applying it raised."""
    return group_for(actor).submit(lines)


def _apply_group(group: list[_Delivery], actor: Actor) -> None:
    try:
        _apply_together(group, actor)
        return
    except Exception as error:  # noqa: BLE001 - retried alone below, or handed to its own request
        _forget()
        if len(group) == 1:
            group[0].error, group[0].done = error, True
            return
        log.warning("a group of %d bank notifications failed (%s); applying each alone", len(group), error)
    for delivery in group:
        try:
            _apply_together([delivery], actor)
        except Exception as error:  # noqa: BLE001 - raised in the delivery's own request
            _forget()
            delivery.error, delivery.done = error, True


def _forget() -> None:
    """Roll back, and drop what the session held: the lines inserted by the failed attempt
    stay in its identity map otherwise, and SQLite hands their ids out again."""
    db.session.rollback()
    db.session.expunge_all()


def _apply_together(group: list[_Delivery], actor: Actor) -> None:
    """One transaction for the group: record every line once (one look-up, one insert for
    the group), match the new ones in bulk."""
    with audit.deferred():  # every audit entry of the group in one bulk insert
        held: dict[str, BankAccount | None] = {}  # each account number looked up once
        for delivery in group:
            for parsed in delivery.lines:
                if parsed.account_number not in held:
                    held[parsed.account_number] = accounts.account_by_number(parsed.account_number)
                    if held[parsed.account_number] is None:
                        log.warning("bank notification for an account we do not hold: %s",
                                    parsed.account_number[-4:])
        arrived = [(delivery, parsed, held[parsed.account_number]) for delivery in group for parsed in delivery.lines]
        lines = iter(record_webhook_lines([(account, parsed) for _, parsed, account in arrived if account is not None]))
        recorded = [(delivery, *(next(lines) if account is not None else (None, False)))
                    for delivery, _parsed, account in arrived]
        _match_new([line for _, line, created in recorded if created], actor)
    results: dict[_Delivery, list[dict]] = {delivery: [] for delivery in group}
    for delivery, line, created in recorded:  # read before the commit expires the lines
        results[delivery].append({"ignored": "unknown_account"} if line is None else
                                 {"line_id": line.id, "state": line.state, "created": created})
    db.session.commit()
    for delivery in group:
        delivery.results, delivery.done = results[delivery], True


_UNMATCHED, _SUGGESTED = LineState.UNMATCHED.value, LineState.SUGGESTED.value


def _match_new(lines: list[BankLine], actor: Actor) -> None:
    """Match the lines just recorded, as a statement's are (in memory, then bulk writes),
    and set each line's outcome; in the caller's transaction."""
    todo = [line for line in lines if line.state == _UNMATCHED and line.donation_id is None]
    if not todo:
        return
    settings = get_settings()  # held for the call (the identity map is weak): read once
    views = [LineView(line.id, line.direction, line.amount, line.booked_at, line.memo, line.sender_name,
                      line.sender_account, line.state, line.state_reason) for line in todo]
    _counts, recorded, months = match_views(views, actor, itemized=True)
    for line, view in zip(todo, views):
        if view.state == _UNMATCHED and not view.state_reason:
            continue  # nothing found (or a standing pledge's month, applied below)
        line.state, line.confidence, line.state_reason = view.state, view.confidence, view.state_reason
        line.suggestion, line.pledge_id, line.donation_id = view.suggestion, view.pledge_id, view.donation_id
        if view.donation_id is not None:
            audit.record(actor, "bank_line.match", line, after={
                "donation_id": view.donation_id, "pledge_id": view.pledge_id, "reason": view.state_reason})
        elif view.state == _SUGGESTED:
            audit.record(actor, "bank_line.suggest", line, after={"confidence": view.confidence,
                                                                  "suggestion": view.suggestion})
    bulk.issue_receipts_many(recorded, actor, label=f"webhook:{actor.label}")
    for line_id, outcome in months:  # a month of a standing pledge: one by one (few)
        apply(db.session.get(BankLine, line_id), outcome, actor)
    del settings
