from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from app.blueprints.staff.base import bp
from app.extensions import db
from app.models import Donation, DonationStatus
from app.security import ALL_STAFF, roles_required
from app.timeutil import local_today, year_bounds_utc


@bp.get("/")
@roles_required(*ALL_STAFF)
def dashboard():
    year = local_today().year
    start, end = year_bounds_utc(year)
    in_year = sa.and_(Donation.counted(), Donation.received_at >= start, Donation.received_at < end)
    net_total, donor_count = db.session.execute(
        sa.select(Donation.net_sum(),
                  sa.func.count(sa.distinct(Donation.donor_id))).where(in_year)
    ).one()
    pending = db.session.scalar(
        sa.select(sa.func.count()).where(Donation.status == DonationStatus.PENDING.value))
    return render_template("staff/dashboard.html", year=year, net_total=net_total,
                           donor_count=donor_count, pending=pending)
