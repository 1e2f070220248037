"""The staff dashboards (/staff/): per role, what needs doing next, as numbers that each
link to the filtered list behind them, and the year's figures as charts.

Every number is counted with the very condition its list filters on (the list's own
service function or condition), so a number always equals the rows the link shows. Money
figures come from the report data functions (app/services/reports/figures.py): nothing is
computed twice.

Speed (1,000,000 donations, docs/dashboards.md): what reads the donations table (the year's
figures and charts, gifts without a receipt, flagged online gifts, appeal progress) is one
`YearFigures` kept in the shared cache and recomputed at most once per
DASHBOARD_CACHE_SECONDS (60 s): a request that finds it older serves it as it is and starts
one recomputation in a background thread (a cache lock keeps it to one). The counts over the
small tables (cases, payouts, bank lines, e-mails) run on every request. No child's name is
ever part of what is cached.

Languages (issue 17): the cached part holds texts (the charts' titles and labels, the SVGs),
so it is kept per language (`_key`: CACHE_KEY for Vietnamese, with ":en" after it for
English) and a background recomputation runs in the language of the entry it replaces.
Everything else is made per request in the reader's language.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import pgettext

from app.extensions import cache, db
from app.i18n import DEFAULT as DEFAULT_LANGUAGE
from app.i18n import _, current, language
from app.models import (
    Appeal, AppealStatus, BankLine, CaseState, Donation, DonationStatus, LineState, Role, SupportCase,
)
from app.renderers import charts as chart_renderer
from app.renderers.charts import ChartSpec
from app.services import appeals, commendation
from app.services.cases import workflow as cases
from app.services.donations.online import ONLINE_FILTERS, ONLINE_GIFTS
from app.services.donations.queries import without_receipt
from app.services.receipts import mail as receipt_mail
from app.services.reports import figures
from app.services.reports.period import Period
from app.timeutil import local_today, to_local, utcnow

CACHE_KEY = "staff-dashboard:v2:{year}"
LOCK_KEY = "staff-dashboard:v2:{year}:refreshing"
KEEP_STALE_SECONDS = 3600  # how long an old entry may still be served while a new one is made
WAITING_SHOWN = 5
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Number:
    """One figure on a dashboard and the list it links to (endpoint + query arguments);
    `endpoint` None when the role may not open that list."""

    key: str
    label: str
    value: int
    endpoint: str | None = None
    args: tuple[tuple[str, object], ...] = ()
    money: bool = False
    urgent: bool = False  # a number that asks for action: highlighted when not zero

    @property
    def params(self) -> dict:
        return dict(self.args)


@dataclass(frozen=True)
class AppealLine:
    appeal_id: int
    title: str
    raised: int
    goal: int | None
    percent: int | None
    donors: int


@dataclass(frozen=True)
class WaitingCase:
    """A case waiting for its next step. `child_name` only for roles with identity access."""

    case_id: int
    code: str
    state_label: str
    since: date
    days: int
    child_name: str | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    numbers: list[Number] = field(default_factory=list)
    appeals: list[AppealLine] = field(default_factory=list)
    waiting: list[WaitingCase] = field(default_factory=list)
    # (year, state sentence, needs action) of the commendation list, director only.
    commendation: tuple[int, str, bool] | None = None


@dataclass(frozen=True)
class YearFigures:
    """The cached part: every figure read from the donations table, with the charts (spec
    and SVG). Plain values only (no ORM rows, no child's name)."""

    year: int
    computed_at: datetime
    received: figures.Received
    pending: int
    without_receipt: int
    online_flagged: int
    online_failed: int
    appeals: list[AppealLine]
    commendation_year: int
    commendation_frozen: str | None
    charts: dict[str, ChartSpec]
    svgs: dict[str, str]


@dataclass(frozen=True)
class Dashboard:
    year: int
    role: str
    summary: Section
    sections: list[Section]
    charts: dict[str, ChartSpec]
    svgs: dict[str, str]
    computed_at: datetime


def _year_period(year: int) -> Period:
    return Period(year, date(year, 1, 1), date(year, 12, 31))


# --------------------------------------------------------------------------- cached figures

#: The charts whose labels are programme names (the fund's data, in Vietnamese).
PROGRAMME_CHARTS = ("programmes", "balances")


def _months() -> tuple[str, ...]:
    """The month labels of the monthly chart, "T1"… in Vietnamese, "Jan"… in English."""
    return (_("T1"), _("T2"), _("T3"), _("T4"), _("T5"), _("T6"), _("T7"), _("T8"), _("T9"),
            _("T10"), _("T11"), _("T12"))


def _charts(year: int, received: figures.Received) -> dict[str, ChartSpec]:
    """The dashboard's charts in the current language (the report documents draw their own,
    in Vietnamese, in app/services/reports/layout.py)."""
    this, last = _year_period(year), _year_period(year - 1)
    flows = figures.programme_flows(this)
    with_flow = [r for r in flows.rows if r.closing or r.reserved]
    moved = [r for r in flows.rows if r.received or r.spent]
    channels = [line for line in received.by_channel if line.amount]
    sources = [line for line in received.by_source]
    # "Tiếp nhận" is also a case's first state ("Intake"): the money sense has its context.
    received_label, spent_label = pgettext("money", "Tiếp nhận"), _("Đã chi")
    return {
        "monthly": ChartSpec(_("Tiếp nhận theo tháng: năm %(year)s so với năm %(last)s", year=year, last=year - 1),
                             _months(),
                             ((_("Năm %(year)s", year=year), tuple(figures.monthly_received(this))),
                              (_("Năm %(year)s", year=year - 1), tuple(figures.monthly_received(last))))),
        "channels": ChartSpec(_("Tiếp nhận theo hình thức, năm %(year)s", year=year),
                              tuple(line.label for line in channels),
                              ((received_label, tuple(line.amount for line in channels)),), horizontal=True),
        "sources": ChartSpec(_("Tiếp nhận theo nguồn, năm %(year)s", year=year), tuple(line.label for line in sources),
                             ((received_label, tuple(line.amount for line in sources)),), horizontal=True),
        "programmes": ChartSpec(_("Tiếp nhận và đã chi theo chương trình, năm %(year)s", year=year),
                                tuple(r.name for r in moved),
                                ((received_label, tuple(r.received for r in moved)),
                                 (spent_label, tuple(r.spent for r in moved))), horizontal=True),
        "balances": ChartSpec(_("Số dư các quỹ hạn chế (chương trình) hiện nay"), tuple(r.name for r in with_flow),
                              ((_("Số dư"), tuple(r.closing for r in with_flow)),
                               (_("Trong đó giữ cho trẻ được chỉ định"), tuple(r.reserved for r in with_flow))),
                              horizontal=True),
    }


def _open_appeals() -> list[AppealLine]:
    rows = list(db.session.scalars(sa.select(Appeal).where(Appeal.status == AppealStatus.OPEN.value)
                                   .order_by(Appeal.starts_on.desc(), Appeal.id.desc())))
    progress = appeals.progress_for(rows)
    return [AppealLine(a.id, a.title, progress[a.id].raised, a.goal_amount, progress[a.id].percent,
                       progress[a.id].donors) for a in rows]


def _compute_year(year: int) -> YearFigures:
    received = figures.received(_year_period(year))
    submissions = commendation.submissions_for(year - 1)
    specs = _charts(year, received)
    return YearFigures(
        year=year, computed_at=utcnow(), received=received,
        pending=_count(Donation.status == DonationStatus.PENDING.value),
        without_receipt=_count(without_receipt()), online_flagged=_online("flagged"),
        online_failed=_online("failed"), appeals=_open_appeals(), commendation_year=year - 1,
        commendation_frozen=submissions[0].number if submissions else None,
        charts=specs, svgs={k: chart_renderer.svg(v, current(), "vi" if k in PROGRAMME_CHARTS else None)
                            for k, v in specs.items()})


def _key(template: str, year: int, lang: str) -> str:
    """The cache key of `year`'s figures in `lang` (the Vietnamese ones keep the plain key)."""
    key = template.format(year=year)
    return key if lang == DEFAULT_LANGUAGE else f"{key}:{lang}"


def _refresh_in_background(year: int) -> None:
    """Recompute `year`'s figures in a thread, in the language of the request asking."""
    app = current_app._get_current_object()
    lang = current()

    def run() -> None:
        with app.app_context():
            try:
                with language(lang):
                    _store(year, lang, _compute_year(year))
            except Exception:  # noqa: BLE001 - the old figures stay; the next request retries
                LOG.exception("dashboard refresh failed")
            finally:
                db.session.remove()
                try:
                    cache.delete(_key(LOCK_KEY, year, lang))
                except Exception:  # noqa: BLE001
                    pass

    threading.Thread(target=run, name=f"dashboard-{year}-{lang}", daemon=True).start()


def _store(year: int, lang: str, data: YearFigures) -> None:
    try:
        cache.set(_key(CACHE_KEY, year, lang), (time.time(), data), timeout=KEEP_STALE_SECONDS)
    except Exception:  # noqa: BLE001 - cache down: nothing kept
        LOG.warning("dashboard cache unavailable", exc_info=True)


def year_figures(year: int) -> YearFigures:
    """The year's figures in the current language: fresh from the cache, or the cached ones
    while one background thread recomputes them, or (nothing cached yet) computed now."""
    seconds = int(current_app.config.get("DASHBOARD_CACHE_SECONDS", 60))
    if seconds <= 0:
        return _compute_year(year)
    lang = current()
    try:
        cached = cache.get(_key(CACHE_KEY, year, lang))
    except Exception:  # noqa: BLE001 - cache down: compute
        cached = None
    if cached is not None and isinstance(cached[1], YearFigures):
        stored_at, data = cached
        if time.time() - stored_at >= seconds:
            try:
                if cache.add(_key(LOCK_KEY, year, lang), 1, timeout=300):
                    _refresh_in_background(year)
            except Exception:  # noqa: BLE001
                pass
        return data
    data = _compute_year(year)
    _store(year, lang, data)
    return data


# --------------------------------------------------------------------------- sections

def _count(*where) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Donation).where(*where)))


def _online(state: str) -> int:
    return _count(ONLINE_GIFTS, ONLINE_FILTERS[state][1])


def summary_section(year: int, data: YearFigures, role: str) -> Section:
    readers = role in (Role.ADMIN.value, Role.DIRECTOR.value, Role.ACCOUNTANT.value, Role.VIEWER.value)
    in_year = (("date_from", f"{year}-01-01"), ("date_to", f"{year}-12-31"))
    link = "staff.donation_list_view" if readers else None
    r = data.received
    return Section("summary", _("Năm %(year)s", year=year), [
        Number("net-total", _("Tổng tiếp nhận (thực thu) năm %(year)s", year=year), r.total, link, in_year, money=True),
        Number("gifts", _("Lượt ủng hộ"), r.gifts),
        Number("donors", _("Số nhà hảo tâm"), r.donors),
        Number("pending", _("Khoản chờ xác nhận"), data.pending, link, (("status", "pending"),)),
    ])


def director_section(data: YearFigures) -> Section:
    year = data.commendation_year
    frozen = (_("Năm %(year)s: đã chốt, số %(number)s.", year=year, number=data.commendation_frozen)
              if data.commendation_frozen
              else _("Năm %(year)s: chưa chốt — cần rà soát và chốt danh sách trình khen thưởng.", year=year))
    return Section("director", _("Chờ lãnh đạo quỹ quyết định"), [
        Number("cases-proposed", _("Hồ sơ đã đề xuất, chờ phê duyệt"),
               cases.count_cases(state=CaseState.PROPOSED.value), "staff.case_list",
               (("state", CaseState.PROPOSED.value),), urgent=True),
        Number("disbursements-waiting", _("Khoản chi chờ duyệt"), figures.disbursements_pending(),
               "staff.disbursement_list", (("status", "recorded"),), urgent=True),
        Number("flagged", _("Khoản ủng hộ trực tuyến cần kiểm tra"), data.online_flagged,
               "staff.online_donations", (("state", "flagged"),), urgent=True),
    ], appeals=data.appeals, commendation=(year, frozen, data.commendation_frozen is None))


def accountant_section(data: YearFigures) -> Section:
    lines = dict(db.session.execute(sa.select(BankLine.state, sa.func.count()).where(
        BankLine.state.in_((LineState.SUGGESTED.value, LineState.UNMATCHED.value)))
        .group_by(BankLine.state)).all())
    return Section("accountant", _("Việc của kế toán"), [
        Number("bank-suggested", _("Dòng sao kê có gợi ý, chờ xác nhận"), lines.get(LineState.SUGGESTED.value, 0),
               "staff.bank_queue", (("state", LineState.SUGGESTED.value),), urgent=True),
        Number("bank-unmatched", _("Dòng sao kê chưa khớp"), lines.get(LineState.UNMATCHED.value, 0),
               "staff.bank_queue", (("state", LineState.UNMATCHED.value),), urgent=True),
        Number("online-flagged", _("Ủng hộ trực tuyến cần kiểm tra"), data.online_flagged,
               "staff.online_donations", (("state", "flagged"),), urgent=True),
        Number("online-failed", _("Ủng hộ trực tuyến không thành công"), data.online_failed,
               "staff.online_donations", (("state", "failed"),)),
        Number("mail-failed", _("Thư gửi giấy chứng nhận bị lỗi"), receipt_mail.problem_count(),
               "staff.receipt_mail_list", urgent=True),
        Number("no-receipt", _("Khoản đã xác nhận chưa có giấy chứng nhận"), data.without_receipt,
               "staff.donation_list_view", (("receipt", "missing"),), urgent=True),
    ])


def case_section(role: str, user_id: int | None) -> Section:
    """A case worker's own cases (`user_id`), or every case (admin: `user_id` None)."""
    mine = (("mine", "1"),) if user_id else ()
    counts = cases.state_counts(created_by_id=user_id)
    numbers = [Number(f"state-{s.value}", str(s.label), counts.get(s.value, 0), "staff.case_list",
                      (("state", s.value),) + mine)
               for s in CaseState if s.value in cases.OPEN_STATES or counts.get(s.value)]
    numbers += [Number(f"attention-{kind}", str(label), cases.count_cases(attention=kind, created_by_id=user_id),
                       "staff.case_list", (("attention", kind),) + mine, urgent=True)
                for kind, label in cases.ATTENTION.items()]
    return Section("cases", _("Hồ sơ của tôi") if user_id else _("Hồ sơ hỗ trợ trẻ em"), numbers,
                   waiting=waiting_cases(role, user_id))


def waiting_cases(role: str, user_id: int | None, limit: int = WAITING_SHOWN) -> list[WaitingCase]:
    """The cases waiting longest; the child's name only for roles with identity access."""
    identity = cases.may_see_identity(role)
    moved = cases.last_moved_at().label("moved")
    columns = [SupportCase.id, SupportCase.code, SupportCase.state, moved]
    if identity:
        columns.append(SupportCase.child_name)
    query = (sa.select(*columns).where(*cases.case_conditions(attention="waiting", created_by_id=user_id))
             .order_by(moved, SupportCase.id).limit(limit))
    today = local_today()
    out = []
    for row in db.session.execute(query):
        since = to_local(_aware(row.moved)).date()
        out.append(WaitingCase(row.id, row.code, str(CaseState(row.state).label), since, (today - since).days,
                               row.child_name if identity else None))
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def dashboard(role: str, user_id: int) -> Dashboard:
    year = local_today().year
    data = year_figures(year)
    sections: list[Section] = []
    if role in (Role.ADMIN.value, Role.DIRECTOR.value):
        sections.append(director_section(data))
    if role in (Role.ADMIN.value, Role.ACCOUNTANT.value):
        sections.append(accountant_section(data))
    if role == Role.CASE_WORKER.value:
        sections.append(case_section(role, user_id))
    elif role == Role.ADMIN.value:
        sections.append(case_section(role, None))
    return Dashboard(year=year, role=role, summary=summary_section(year, data, role), sections=sections,
                     charts=data.charts, svgs=data.svgs, computed_at=data.computed_at)
