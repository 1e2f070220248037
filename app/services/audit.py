"""The audit log: every state change that matters, with who, when, what and from where."""
from __future__ import annotations

import enum
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from app.extensions import db
from app.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or a named system process ("cli", "stripe")."""

    user_id: int | None
    label: str
    ip: str | None = None

    @classmethod
    def system(cls, label: str) -> "Actor":
        return cls(user_id=None, label=label)

    @classmethod
    def for_user(cls, user, ip: str | None = None) -> "Actor":
        return cls(user_id=user.id, label=user.email, ip=ip)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (str, int, bool, float)) or value is None:
        return value
    return str(value)


def snapshot(obj, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-safe copy of some attributes of a model, for before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record(
    actor: Actor,
    action: str,
    entity=None,
    *,
    entity_type: str | None = None,
    entity_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Add an entry to the current transaction (it commits or rolls back with the change).
    Inside `deferred()`, an entity without an id yet is not flushed for it: the entry waits
    for the block's end."""
    pending = db.session.info.get(_DEFERRED)
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
        if pending is None and getattr(entity, "id", None) is None:
            db.session.flush()
        if entity_id is None and pending is None:
            entity_id = entity.id
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type or "",
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        ip=actor.ip,
    )
    if pending is not None:
        pending.append((entry, entity if entity is not None and entity_id is None else None))
        return entry
    db.session.add(entry)
    return entry


_DEFERRED = "audit_deferred_entries"


@contextmanager
def deferred():
    """Collect the block's entries and add them at its end, after one flush gives every
    entity its id, instead of a flush per entry for a new entity (the webhook path: one
    delivery writes six entries in one INSERT). Same entries, same order, same
    transaction; on an exception they are dropped with the rollback that follows."""
    if _DEFERRED in db.session.info:  # nested: the outer block adds them
        yield
        return
    entries: list = []
    db.session.info[_DEFERRED] = entries
    try:
        yield
    finally:
        db.session.info.pop(_DEFERRED, None)
    if any(entity is not None and getattr(entity, "id", None) is None for _, entity in entries):
        db.session.flush()
    for entry, entity in entries:
        if entity is not None:
            entry.entity_id = str(entity.id)
        db.session.add(entry)
