"""The audit log: every state change that matters, with who, when, what and from where."""
from __future__ import annotations

import enum
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from app.extensions import db
from app.models import AuditEntry
from app.services.bulk_rows import insert_rows
from app.timeutil import utcnow


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
) -> AuditEntry | None:
    """Add an entry to the current transaction (it commits or rolls back with the change),
    and return it. Inside `deferred()` the entry is written at the block's end (an entity
    without an id yet is not flushed for it) and None is returned."""
    pending = db.session.info.get(_DEFERRED)
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
        if pending is not None and entity_id is None:  # its id is read at the block's end
            pending.append((actor, action, entity_type, None, entity, before, after))
            return None
        if pending is None and getattr(entity, "id", None) is None:
            db.session.flush()
        if entity_id is None:
            entity_id = entity.id
    if pending is not None:
        pending.append((actor, action, entity_type or "", None if entity_id is None else str(entity_id), None,
                        before, after))
        return None
    entry = AuditEntry(actor_id=actor.user_id, actor_label=actor.label, action=action, entity_type=entity_type or "",
                       entity_id=None if entity_id is None else str(entity_id), before=before, after=after,
                       ip=actor.ip)
    db.session.add(entry)
    return entry


_DEFERRED = "audit_deferred_entries"


json_text = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False), built once


@contextmanager
def deferred():
    """Collect the block's entries and write them at its end, after one flush gives every
    entity its id, in one bulk insert (COPY on PostgreSQL), instead of a flush per entry for
    a new entity and an ORM insert (the webhook path: a group of deliveries writes six
    entries per gift). Same entries, same order, same transaction; on an exception they are
    dropped with the rollback that follows."""
    if _DEFERRED in db.session.info:  # nested: the outer block adds them
        yield
        return
    entries: list = []
    db.session.info[_DEFERRED] = entries
    try:
        yield
    finally:
        db.session.info.pop(_DEFERRED, None)
    if any(entity is not None and entity.id is None for *_, entity, _before, _after in entries):
        db.session.flush()
    now = utcnow()
    insert_rows(AuditEntry.__table__, _COLUMNS, [
        [now, actor.user_id, actor.label, action, entity_type, entity_id if entity is None else str(entity.id),
         json_text(before), json_text(after), actor.ip]
        for actor, action, entity_type, entity_id, entity, before, after in entries])


_COLUMNS = ["created_at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "before", "after", "ip"]
