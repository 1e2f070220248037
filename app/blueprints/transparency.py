"""Public transparency, /cong-khai: totals by year, month, programme and appeal with charts;
the yearly disclosure PDF; the public list of money received (sao kê) with search, paging and
CSV; "find my gift" by receipt number or transfer code; money out per programme. Read-only, no login.

Bad input (unknown year or filter, reversed range, absurd page) is a 400 with a message."""
from __future__ import annotations

from dataclasses import replace

from babel.dates import get_month_names

from flask import Blueprint, Response, render_template, request

from app.errors import NotFound, ValidationFailed
from app.i18n import _, is_english
from app.renderers import charts as chart_renderer
from app.renderers import donation_list
from app.services.reports import catalogue, freezing, layout
from app.services.reports import public_ledger as ledger
from app.services.reports.period import make_period
from app.timeutil import local_today

bp = Blueprint("transparency", __name__, url_prefix="/cong-khai")
CACHE_SECONDS = 300


@bp.errorhandler(ValidationFailed)
def on_bad_query(error: ValidationFailed):
    return render_template("errors/error.html", code=400, message=error.message), 400


@bp.after_request
def cache_public(response: Response) -> Response:
    if response.status_code == 200 and request.method == "GET":
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
    return response


@bp.get("/")
def overview():
    year = ledger.year_arg(request.args)
    summary = ledger.year_summary(year)
    # The reports' charts (app/services/reports/layout.py, official wording), with the
    # series named in the reader's language for this public page.
    charts = {
        "monthly": _named_series(layout.monthly_chart(
            year, summary.monthly_received, summary.monthly_spent,
            _("Tiếp nhận và chi theo tháng, năm %(year)s", year=year)),
            _("Tiếp nhận %(year)s", year=year), _("Đã chi %(year)s", year=year), months=True),
        "programmes": _named_series(layout.programme_chart(
            summary.flows, _("Theo chương trình, năm %(year)s", year=year)), _("Tiếp nhận"), _("Đã chi")),
        "channels": _named_series(layout.channel_chart(
            summary.received, _("Theo hình thức tiếp nhận, năm %(year)s", year=year)), _("Tiếp nhận")),
    }
    frozen = freezing.latest("disclosure", year)
    return render_template("public/transparency/overview.html", s=summary, year=year,
                           svgs={k: chart_renderer.svg(v) for k, v in charts.items()},
                           years=ledger.years_with_data(), charts=charts, months=layout.MONTHS,
                           frozen=frozen, year_closed=year < local_today().year)


@bp.get("/sao-ke")
def ledger_page():
    f = ledger.LedgerFilter.from_args(request.args)
    page, per_page = ledger.paging(request.args)
    return render_template("public/transparency/ledger.html", f=f, result=ledger.ledger_page(f, page, per_page),
                           channels=[(c, label) for c, label in _channels()], per_page=per_page)


@bp.get("/sao-ke.csv")
def ledger_csv():
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    f = ledger.LedgerFilter.from_args(args)
    body = donation_list.to_csv(ledger.ledger_csv_headings(), ledger.ledger_csv_rows(ledger.ledger_rows(f)))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="sao-ke.csv"'})


@bp.get("/tra-cuu")
def find_gift():
    if set(request.args) - {"q", "receipt"}:
        raise ledger.BadQuery(_("Chỉ tra cứu theo số giấy chứng nhận hoặc mã chuyển khoản (q)."))
    number = (request.args.get("q") or request.args.get("receipt") or "").strip()
    gift, message = None, None
    if number:
        try:
            gift = ledger.find_gift(number)
        except NotFound as error:
            message = error.message
    return render_template("public/transparency/find.html", number=number, gift=gift, message=message)


@bp.get("/chi")
def money_out():
    year, code, page, per_page = ledger.money_out_args(request.args)
    return render_template("public/transparency/money_out.html", result=ledger.money_out(year, code, page, per_page),
                           programmes=ledger.programme_codes(), years=ledger.years_with_data())


@bp.get("/bao-cao/<int:year>.pdf")
def disclosure_pdf(year: int):
    """The yearly disclosure: the frozen (published) one when there is one, exactly as
    frozen; otherwise today's figures, unnumbered."""
    make_period(year)
    frozen = freezing.latest("disclosure", year)
    exported = freezing.export_frozen(frozen, "pdf") if frozen else catalogue.export("disclosure", make_period(year), "pdf")
    return Response(exported.data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{exported.filename}"'})


def _named_series(spec, *names: str, months: bool = False):
    """`spec` with its series renamed `names` (in order); with `months`, its twelve labels
    are the month names of the reader's language (Vietnamese keeps the reports' T1…T12)."""
    series = tuple((name, values) for name, (_old, values) in zip(names, spec.series))
    if len(series) == len(spec.series):
        spec = replace(spec, series=series)
    if months and is_english() and len(spec.labels) == 12:
        names_of = get_month_names("abbreviated", locale="en")
        spec = replace(spec, labels=tuple(names_of[m] for m in range(1, 13)))
    return spec


def _channels():
    from app.models import CHANNEL_LABELS

    return [(c.value, label) for c, label in CHANNEL_LABELS.items()]


