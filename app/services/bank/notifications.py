"""Applying bank notifications (any provider): record each line once, match it, commit.

One delivery is one transaction: its lines, the donations they confirm and their receipts
are written together or not at all, so a provider's retry after a failure applies cleanly,
and a retry after success finds the lines already recorded and changes nothing."""
from __future__ import annotations

import logging

from app.adapters.bank_lines import ParsedLine
from app.extensions import db
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts
from app.services.bank.lines import record_webhook_line
from app.services.bank.matching import match_lines

log = logging.getLogger(__name__)


def apply_lines(lines: list[ParsedLine], actor: Actor) -> list[dict]:
    """Returns, per line, what happened: {"line_id", "state", "created"} or
    {"ignored": "unknown_account"} for an account the fund does not hold."""
    results = []
    try:
        with audit.deferred():  # the delivery's audit entries in one INSERT
            _apply(lines, actor, results)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return results


def _apply(lines: list[ParsedLine], actor: Actor, results: list[dict]) -> None:
    for parsed in lines:
        account = accounts.account_by_number(parsed.account_number)
        if account is None:
            log.warning("bank notification for an account we do not hold: %s", parsed.account_number[-4:])
            results.append({"ignored": "unknown_account"})
            continue
        line, created = record_webhook_line(account, parsed)
        if created:
            match_lines([line], actor)
        results.append({"line_id": line.id, "state": line.state, "created": created})
