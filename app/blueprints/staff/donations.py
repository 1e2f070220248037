"""Offline donations: list with filters and net totals, CSV/XLSX download, record (with an
inline new donor), detail, reversal/refund, and the donor-free summary for case workers."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for

from app.params import parse_id, parse_year
from app.blueprints.staff import once
from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.forms.backoffice import DonationForm, ReverseForm
from app.models import Appeal, AppealStatus, Channel, CHANNEL_LABELS, Donation, Programme, Receipt, Role
from app.renderers import donation_list
from app.security import ALL_STAFF, current_actor, roles_required
from app.services.donations import queries
from app.services.donations import ledger as donation_service
from app.services import donor_profiles as profiles
from app.services.paging import page_number
from app.timeutil import local_to_utc, local_today, to_local, utcnow
from app.i18n import _, money
from flask_babel import pgettext

READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.VIEWER)
RECORDERS = (Role.ACCOUNTANT, Role.DIRECTOR)
PER_PAGE = 50


def _choices():
    appeals = db.session.scalars(sa.select(Appeal).order_by(Appeal.status != AppealStatus.OPEN.value,
                                                            Appeal.starts_on.desc(), Appeal.id.desc())).all()
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.sort_order)).all()
    return appeals, programmes


@bp.get("/donations")
@roles_required(*READERS)
def donation_list_view():
    f = queries.DonationFilter.from_args(request.args)
    appeals, programmes = _choices()
    return render_template(
        "staff/donations/list.html", f=f, totals=queries.totals(f),
        page=queries.page_of(f, page_number(request.args.get("page")), PER_PAGE),
        args=f.query_args(), appeals=appeals, programmes=programmes,
        channels=[(c.value, CHANNEL_LABELS[c]) for c in Channel], statuses=queries.STATUS_CHOICES,
        receipts=queries.RECEIPT_CHOICES)


def _export_name(ext: str) -> str:
    return f"khoan-ung-ho-{to_local(utcnow()).strftime('%Y%m%d-%H%M')}.{ext}"


@bp.get("/donations/export.csv")
@roles_required(*READERS)
def donation_export_csv():
    f = queries.DonationFilter.from_args(request.args)
    body = donation_list.to_csv(queries.EXPORT_HEADINGS, queries.export_rows(f))
    # content_type, not mimetype: Werkzeug appends "; charset=utf-8" to a text mimetype.
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"'})


@bp.get("/donations/export.xlsx")
@roles_required(*READERS)
def donation_export_xlsx():
    f = queries.DonationFilter.from_args(request.args)
    totals = queries.totals(f)
    body = donation_list.to_xlsx(queries.EXPORT_HEADINGS, queries.export_rows(f),
                                 amount_column=queries.AMOUNT_COLUMN, net_total=totals.net,
                                 title="Danh sách khoản ủng hộ")
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"'})


@bp.get("/donations/summary")
@roles_required(*ALL_STAFF)
def donation_summary():
    year = parse_year(request.args.get("year"), local_today().year)
    years = queries.years_with_donations() or [year]
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    return render_template("staff/donations/summary.html", year=year, years=years, s=queries.summary(year))


@bp.route("/donations/new", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def donation_create():
    form = DonationForm()
    appeals, programmes = _choices()
    form.appeal_id.choices = [("", _("— Không thuộc chiến dịch —"))] + [
        (str(a.id), a.title + ("" if a.status == AppealStatus.OPEN.value else f" ({AppealStatus(a.status).label})"))
        for a in appeals]
    form.programme_id.choices = [(str(p.id), p.name) for p in programmes if p.is_active]
    form.appeal_id.label.text = pgettext("singular", "Chiến dịch")  # "Chiến dịch" alone is the menu's "Appeals"
    if request.method == "GET":
        now = to_local(utcnow())
        form.received_on.data, form.received_time.data = now.date(), now.time().replace(second=0, microsecond=0)
        form.donor_id.data = request.args.get("donor_id", "")
        general = next((p for p in programmes if p.is_general), None)
        form.programme_id.data = str(general.id) if general else None
        if request.args.get("appeal_id"):
            form.appeal_id.data = request.args["appeal_id"]
    donor = None
    if parse_id(form.donor_id.data):
        donor = db.session.get(profiles.Donor, parse_id(form.donor_id.data))
    suggestions = []
    status = 200
    if form.validate_on_submit():
        repeat = once.claim("donation.create", url_for("staff.donation_list_view"))
        if repeat is not None:
            return repeat
        actor = current_actor()
        try:
            if donor is None:
                new = profiles.clean_donor_fields({
                    "kind": form.new_kind.data, "name": form.new_name.data, "tax_code": form.new_tax_code.data,
                    "email": form.new_email.data, "phone": form.new_phone.data, "address": form.new_address.data})
                suggestions = profiles.find_duplicates(kind=new["kind"], name=new["name"],
                                                       tax_code=new["tax_code"], email=new["email"], phone=new["phone"])
                if suggestions and not form.confirm_new.data:
                    form.confirm_new.errors.append(_("Có hồ sơ tương tự: chọn “Dùng hồ sơ này”, hoặc đánh dấu ô này để vẫn tạo mới."))
                    raise _Stop()
                donor = profiles.create_donor(actor, commit=False, **new)
            received_at = local_to_utc(datetime.combine(form.received_on.data, form.received_time.data))
            donation = donation_service.record_donation(
                actor, donor_id=donor.id, amount=form.amount.data, channel=form.channel.data,
                received_at=received_at, programme_id=int(form.programme_id.data),
                appeal_id=int(form.appeal_id.data) if form.appeal_id.data else None,
                reference=form.reference.data, note=form.note.data,
                in_kind_description=form.in_kind_description.data if form.channel.data == Channel.IN_KIND.value else None)
        except _Stop:
            once.release()
            status = 409
        except DomainError as error:
            once.release()
            db.session.rollback()
            donor = None if not parse_id(form.donor_id.data) else db.session.get(profiles.Donor, parse_id(form.donor_id.data))
            field = {"tax_code": "new_tax_code", "email": "new_email", "phone": "new_phone", "name": "new_name",
                     "kind": "new_kind", "received_at": "received_on", "donor_id": "new_name"}.get(error.field, error.field)
            error.field = field
            attach_error(form, error, "amount")
            status = error.status_code
        else:
            flash(_("Đã ghi nhận khoản ủng hộ %(amount)s của %(name)s.", amount=money(donation.amount),
                    name=donor.name), "success")
            url = url_for("staff.donation_detail", donation_id=donation.id)
            once.finish(url)
            return redirect(url)
    elif request.method == "POST":
        status = 422
    return render_template("staff/donations/form.html", form=form, donor=donor, suggestions=suggestions), status


class _Stop(Exception):
    """Re-show the form (duplicate suggestions) without writing."""


@bp.get("/donations/<int:donation_id>")
@roles_required(*READERS)
def donation_detail(donation_id: int):
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        return render_template("errors/error.html", code=404, message=_("Không tìm thấy khoản ủng hộ.")), 404
    receipts = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)
                                  .order_by(Receipt.id)).all()
    remaining = None
    if not donation.is_reversal:
        remaining = donation.amount - queries.reversed_total(donation.id)
    return render_template("staff/donations/detail.html", d=donation, receipts=receipts,
                           remaining=remaining, form=ReverseForm())


@bp.post("/donations/<int:donation_id>/reverse")
@roles_required(*RECORDERS)
def donation_reverse(donation_id: int):
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        return render_template("errors/error.html", code=404, message=_("Không tìm thấy khoản ủng hộ.")), 404
    form = ReverseForm()
    if form.validate_on_submit():
        refund = form.kind.data == "refund"
        label = "Hoàn tiền" if refund else "Đảo bút toán"  # the stored reason stays Vietnamese
        url = url_for("staff.donation_detail", donation_id=donation.id)
        repeat = once.claim("donation.reverse", url)
        if repeat is not None:
            return repeat
        try:
            donation_service.reverse_donation(donation.id, current_actor(),
                                              reason=f"{label}: {form.reason.data.strip()}",
                                              amount=form.amount.data)
        except DomainError as error:
            once.release()
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(_("Đã ghi hoàn tiền cho khoản #%(id)s.", id=donation.id) if refund
                  else _("Đã ghi đảo bút toán cho khoản #%(id)s.", id=donation.id), "success")
            once.finish(url)
            return redirect(url)
    donation = db.session.get(Donation, donation_id)
    receipts = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)).all()
    remaining = None if donation.is_reversal else donation.amount - queries.reversed_total(donation.id)
    return render_template("staff/donations/detail.html", d=donation, receipts=receipts,
                           remaining=remaining, form=form), 422
