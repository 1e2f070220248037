"""The audit log, for the director and the administrator: filter by actor, entity, date.

Shown in Vietnamese (issue 12, item 29): action and table labels, a link to the object's staff
page when the reader's role may open it, and before/after as "field: old → new"
(`app/services/audit_display.py`)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, render_template, request, url_for
from flask_login import current_user

from app.params import parse_date
from app.blueprints.staff.base import bp
from app.extensions import db
from app.models import AuditEntry, Role
from app.security import roles_required
from app.services import audit_display
from app.services.paging import page_number, paginate
from app.timeutil import local_day_start_utc


def _day(name: str) -> date | None:
    try:
        return parse_date(request.args.get(name))
    except ValueError:
        return None


#: The staff page of an audited object: its endpoint and the endpoint's id argument.
ENTITY_PAGES = {
    "donations": ("staff.donation_detail", "donation_id"),
    "donors": ("staff.donor_detail", "donor_id"),
    "receipts": ("staff.receipt_detail", "receipt_id"),
    "cases": ("staff.case_detail", "case_id"),
    "appeals": ("staff.appeal_detail", "appeal_id"),
    "bank_lines": ("staff.bank_line", "line_id"),
    "jobs": ("staff.job_detail", "job_id"),
    "commendation_submissions": ("staff.commendation_submission", "submission_id"),
}


def entity_url(entry: AuditEntry) -> str | None:
    """The object's staff page, if it has one and the signed-in role may open it (the
    page itself decides what of a child's identity that role sees)."""
    page = ENTITY_PAGES.get(entry.entity_type)
    entity_id = entry.entity_id or ""
    if page is None or not entity_id.isdecimal() or not 0 < int(entity_id) < 2**31:
        return None
    endpoint, argument = page
    view = current_app.view_functions.get(endpoint)
    if current_user.role not in getattr(view, "allowed_roles", ()):
        return None
    return url_for(endpoint, **{argument: int(entity_id)})


@bp.get("/audit")
@roles_required(Role.DIRECTOR)
def audit_log():
    actor = (request.args.get("actor") or "").strip()
    entity = (request.args.get("entity") or "").strip()
    entity_id = (request.args.get("entity_id") or "").strip()
    action = (request.args.get("action") or "").strip()
    day_from, day_to = _day("date_from"), _day("date_to")
    stmt = sa.select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if actor:
        stmt = stmt.where(AuditEntry.actor_label.ilike(f"%{actor}%"))
    if entity:
        stmt = stmt.where(AuditEntry.entity_type == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if day_from:
        stmt = stmt.where(AuditEntry.created_at >= local_day_start_utc(day_from))
    if day_to:
        stmt = stmt.where(AuditEntry.created_at < local_day_start_utc(day_to + timedelta(days=1)))
    page = paginate(stmt, page_number(request.args.get("page")), 50, scalars=True)
    entities = db.session.scalars(sa.select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)).all()
    actions = db.session.scalars(sa.select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    args = {k: v for k, v in dict(actor=actor, entity=entity, entity_id=entity_id, action=action,
                                  date_from=day_from.isoformat() if day_from else None,
                                  date_to=day_to.isoformat() if day_to else None).items() if v}
    return render_template("staff/audit.html", page=page, entities=entities, actions=actions, args=args,
                           show=audit_display, entity_url=entity_url,
                           names=audit_display.reference_names())
