"""Online (card) donations in the back office: pending, confirmed, failed and flagged ones,
with the provider events each received; staff resolve flagged ones."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from app.params import parse_page
from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.i18n import _
from app.models import AuditEntry, Donation, DonationStatus, Donor, Role
from app.security import current_actor, roles_required
from app.services.donations import online as online_giving
from app.services.donations.online import ONLINE_FILTERS as FILTERS
from app.services.donations.online import ONLINE_GIFTS as online

RESOLVERS = (Role.ACCOUNTANT, Role.DIRECTOR)
READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.VIEWER)


@bp.get("/online-donations")
@roles_required(*READERS)
def online_donations():
    state = request.args.get("state", "all")
    if state not in FILTERS:
        state = "all"
    page = parse_page(request.args.get("page"))
    query = sa.select(Donation).join(Donor).where(online).order_by(Donation.created_at.desc(), Donation.id.desc())
    if FILTERS[state][1] is not None:
        query = query.where(FILTERS[state][1])
    rows = db.paginate(query, page=page, per_page=50, error_out=False)
    counts = {key: db.session.scalar(sa.select(sa.func.count()).select_from(Donation).where(
        online, *( [cond] if cond is not None else [] ))) for key, (_label, cond) in FILTERS.items()}
    return render_template("staff/online_donations.html", rows=rows, state=state, filters=FILTERS,
                           counts=counts)


@bp.get("/online-donations/<int:donation_id>")
@roles_required(*READERS)
def online_donation(donation_id: int):
    donation = db.session.scalars(sa.select(Donation).where(Donation.id == donation_id, online)).first()
    if donation is None:
        abort(404)
    history = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity_type == "donations", AuditEntry.entity_id == str(donation.id))
        .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    from app.models import Receipt

    receipts = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)
                                  .order_by(Receipt.id)).all()
    return render_template("staff/online_donation.html", donation=donation, history=history,
                           events=online_giving.recent_events(donation.id), receipts=receipts,
                           can_resolve=donation.status == DonationStatus.PENDING.value)


@bp.post("/online-donations/<int:donation_id>/resolve")
@roles_required(*RESOLVERS)
def online_donation_resolve(donation_id: int):
    action = request.form.get("action", "")
    note = (request.form.get("note") or "").strip()
    if action not in ("confirm", "fail"):
        abort(400)
    try:
        online_giving.resolve_by_staff(donation_id, action, note, current_actor())
    except DomainError as error:
        flash(error.message, "danger")
        if error.status_code == 404:
            abort(404)
        return redirect(url_for("staff.online_donation", donation_id=donation_id))
    flash(_("Đã xác nhận khoản ủng hộ và cấp giấy chứng nhận.") if action == "confirm"
          else _("Đã đánh dấu khoản ủng hộ là không thành công."), "success")
    return redirect(url_for("staff.online_donation", donation_id=donation_id))


@bp.post("/online-donations/<int:donation_id>/donor-check")
@roles_required(*RESOLVERS)
def online_donation_donor_check(donation_id: int):
    """Accept the suggested donor of a public-form gift, or move it to the right one."""
    action = request.form.get("action", "")
    donor_id = request.form.get("donor_id", type=int)
    try:
        online_giving.settle_donor_check(donation_id, action, current_actor(), donor_id=donor_id,
                                         apply_preferences=request.form.get("apply_preferences") == "1")
    except DomainError as error:
        if error.status_code == 404:
            abort(404)
        flash(error.message, "danger")
        return redirect(url_for("staff.online_donation", donation_id=donation_id))
    flash({"accept": _("Đã chấp nhận nhà hảo tâm của khoản ủng hộ."),
           "reassign": _("Đã chuyển khoản ủng hộ sang nhà hảo tâm đã chọn."),
           "new": _("Đã tạo hồ sơ nhà hảo tâm mới theo thông tin đã nhập.")}[action], "success")
    return redirect(url_for("staff.online_donation", donation_id=donation_id))
