"""The yearly commendation list (danh sách đề nghị khen thưởng) and its frozen submissions.

The rule (plan 2024, III.6.2): for a calendar year in Vietnam time, per donor, the net sum of
counted donations of every channel (in kind at its valuation; reversals and refunds counted
negative, through `Donation.counted()` / `Donation.net_sum()`), after merges. A donor is listed
when the sum is at or above the threshold in fund settings (inclusive). Two groups, never
mixed: organizations (Tập thể) and individuals (Cá nhân).

Order within a group: amount, largest first; equal amounts by name in Vietnamese order —
organizations by the whole name (`vietnamese_sort_key`), individuals by given name, then
the full name (`vietnamese_person_sort_key`), the usual order of Vietnamese lists of people
and the one the Board's own lists use; the donor id breaks any remaining tie so the order
is repeatable. Names are compared as printed (after overrides), without the title.

Left off the printed list, but shown to staff:
* donors excluded for the year with a recorded reason (`CommendationExclusion`);
* anonymous donors without consent to public listing (listed only with consent).

Reversals and refunds count in the year of the gift they reverse, whenever they were
recorded (see `_year_crossing_adjustments`): corrections are made while the list is being
reviewed, early in the following year, and must fix that list.

The list is computed by one SQL GROUP BY over the year's range of `received_at` joined to
donors (see `_totals_query`), plus a small query over the reversals that cross a year
boundary; a frozen submission stores its printed rows and is never recomputed (see `freeze`).

Languages (issue 17): the list itself is an official document and is rendered inside
`vietnamese()` (`render`), whoever downloads it; what the staff pages say about it (group
labels, a donor's standing, why a row left the list, errors) is in the reader's language.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, _l, vietnamese
from app.models import (
    CommendationExclusion,
    CommendationOverride,
    CommendationSubmission,
    CommendationSubmissionRow,
    Donation,
    Donor,
    DonorKind,
    ExclusionReason,
    FundSettings,
)
from app.renderers.commendation import (
    DEFAULT_COMMENDATION_FORM,
    CommendationDocument,
    CommendationRow,
    render_csv,
    render_pdf,
    render_xlsx,
)
from app.services import audit
from app.services.audit import Actor
from app.services.setup import get_settings, require_settings
from app.text import vietnamese_person_sort_key, vietnamese_sort_key
from app.timeutil import local_today, to_local, utcnow, year_bounds_utc

FIRST_YEAR = 2000
NEAR_THRESHOLD_PERCENT = 80
# Fund settings have no "place" field yet; the fund is the city's, so its lists are dated
# from the city. Stored on each frozen submission, so a later change reprints nothing.
DOCUMENT_PLACE = "Hải Phòng"
# A list of year Y is submitted early in Y+1 (the awards are made at the Action Month
# launch): DS-2024-01 is the first frozen list of the 2023 donations, DS-2024-02 the second.
SUBMISSION_NUMBER_FORMAT = "DS-{submitted_year}-{sequence:02d}"

GROUPS = (DonorKind.ORGANIZATION.value, DonorKind.INDIVIDUAL.value)
GROUP_LABELS = {DonorKind.ORGANIZATION.value: _l("Tập thể"), DonorKind.INDIVIDUAL.value: _l("Cá nhân")}

FORMATS = {
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (render_csv, "text/csv"),  # send_file adds "; charset=utf-8" to a text type
    "pdf": (render_pdf, "application/pdf"),
}

MAX_NAME, MAX_TITLE, MAX_ADDRESS = 255, 60, 500


# --------------------------------------------------------------------------- the live list


@dataclass(frozen=True)
class Entry:
    """One donor's total for the year, with the texts as they would be printed."""

    donor_id: int
    kind: str
    donor_name: str
    tax_code: str | None
    anonymous: bool
    listing_consent: bool
    amount: int
    donation_count: int
    name: str  # as printed (override or the donor's name)
    title: str | None
    address: str | None
    overridden: bool = False
    exclusion: CommendationExclusion | None = None

    @property
    def group_label(self) -> str:
        """In the language being drawn (Vietnamese in a report, which is drawn in `vietnamese()`)."""
        return str(GROUP_LABELS[self.kind])

    @property
    def withheld_anonymous(self) -> bool:
        """Anonymous and without consent: listed only with consent."""
        return self.anonymous and not self.listing_consent

    @property
    def printed_name(self) -> str:
        return f"{self.title} {self.name}" if self.title else self.name

    def row(self) -> CommendationRow:
        return CommendationRow(name=self.name, title=self.title, address=self.address,
                               tax_code=self.tax_code if self.kind == DonorKind.ORGANIZATION.value else None,
                               amount=self.amount, donation_count=self.donation_count)


@dataclass
class CommendationList:
    year: int
    threshold: int
    organizations: list[Entry] = field(default_factory=list)
    individuals: list[Entry] = field(default_factory=list)
    # 80–100 % of the threshold, both groups, largest first: for follow-up.
    near_threshold: list[Entry] = field(default_factory=list)
    # At or above the threshold but kept off the printed list.
    excluded: list[Entry] = field(default_factory=list)
    withheld_anonymous: list[Entry] = field(default_factory=list)
    # Every exclusion recorded for the year (also those of donors now under the threshold).
    exclusions: list[CommendationExclusion] = field(default_factory=list)

    @property
    def near_floor(self) -> int:
        return near_threshold_floor(self.threshold)

    @property
    def organizations_total(self) -> int:
        return sum(e.amount for e in self.organizations)

    @property
    def individuals_total(self) -> int:
        return sum(e.amount for e in self.individuals)

    @property
    def grand_total(self) -> int:
        return self.organizations_total + self.individuals_total

    def group(self, kind: str) -> list[Entry]:
        return self.organizations if kind == DonorKind.ORGANIZATION.value else self.individuals


def near_threshold_floor(threshold: int) -> int:
    """The smallest whole amount that is at least NEAR_THRESHOLD_PERCENT % of the threshold."""
    return -(-threshold * NEAR_THRESHOLD_PERCENT // 100)


def check_year(year: int) -> int:
    """A list exists for years from FIRST_YEAR to this year (Vietnam time)."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= local_today().year:
        raise NotFound(_("Không có danh sách khen thưởng cho năm %(year)s.", year=year))
    return year


def check_threshold(threshold: int) -> int:
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= 0:
        raise ValidationFailed(_("Ngưỡng khen thưởng phải là số nguyên đồng lớn hơn 0."), field="threshold")
    return threshold


def _year_net_query(year: int):
    """The fund's usual per-donor net for the year: `Donation.net_sum()` of the
    `Donation.counted()` rows whose `received_at` falls in the year (a range, never a
    function of the column), grouped by donor. Served by the covering index
    ix_donations_reports, which holds donor_check (ix_donations_commendation does not, and
    SQLite then visited the table for every row of the year)."""
    start, end = year_bounds_utc(year)
    return (
        sa.select(Donation.donor_id.label("donor_id"), Donation.net_sum().label("net"),
                  sa.func.count(sa.case((Donation.reverses_id.is_(None), 1))).label("gifts"))
        .where(Donation.credited(), Donation.received_at >= start, Donation.received_at < end)
        .group_by(Donation.donor_id)
    )


def _year_crossing_adjustments(year: int, donor_ids=None) -> dict[int, int]:
    """Per-donor corrections moving reversals to the year of the gift they reverse.

    A 2023 gift mistyped and corrected in February 2024, while the 2023 list is being
    reviewed, must lower the 2023 total, not the 2024 one. So a counted reversal recorded in
    the year for a gift of another year is added back (+amount), and one recorded outside
    the year for a gift of the year is taken off (-amount). Reversals are few: they are read
    through the partial index ix_donations_reversals and reach their gift by primary key.
    """
    start, end = year_bounds_utc(year)
    gift = aliased(Donation, name="gift")
    reversal_in_year = sa.and_(Donation.received_at >= start, Donation.received_at < end)
    gift_in_year = sa.and_(gift.received_at >= start, gift.received_at < end)
    query = (
        sa.select(Donation.donor_id,
                  sa.cast(sa.func.sum(sa.case((reversal_in_year, Donation.amount), else_=-Donation.amount)),
                          sa.BigInteger))
        .join(gift, Donation.reverses_id == gift.id)
        .where(Donation.reverses_id.is_not(None), Donation.credited(),
               sa.or_(sa.and_(reversal_in_year, sa.not_(gift_in_year)),
                      sa.and_(gift_in_year, sa.not_(reversal_in_year))))
        .group_by(Donation.donor_id)
    )
    if donor_ids is not None:
        query = query.where(Donation.donor_id.in_(donor_ids))
    return {donor_id: int(amount) for donor_id, amount in db.session.execute(query) if amount}


def _totals_query(year: int, floor: int, also_donor_ids):
    """The one GROUP BY over the year's donations, joined to the live donors, keeping those
    at or above `floor` (and `also_donor_ids`, whose year-crossing corrections may raise
    them to it; the caller applies the corrections and filters again)."""
    net = _year_net_query(year)
    keep = Donation.net_sum() >= floor
    if also_donor_ids:
        keep = sa.or_(keep, Donation.donor_id.in_(also_donor_ids))
    totals = net.having(keep).subquery("totals")
    return (
        sa.select(Donor.id, Donor.kind, Donor.name, Donor.tax_code, Donor.address,
                  Donor.anonymous, Donor.public_listing_consent, totals.c.net, totals.c.gifts)
        .join(totals, totals.c.donor_id == Donor.id)
        # merge_donors moves the donations to the survivor; a merged-away record never lists.
        .where(Donor.merged_into_id.is_(None))
    )


def _tie_key(entry: Entry, memo: dict):
    # The group comes before the name so the two kinds of name key are never compared
    # (the near-threshold and excluded lists hold both groups).
    key = memo.get((entry.kind, entry.name))
    if key is None:
        key = (vietnamese_sort_key(entry.name) if entry.kind == DonorKind.ORGANIZATION.value
               else vietnamese_person_sort_key(entry.name))
        memo[(entry.kind, entry.name)] = key
    return entry.kind != DonorKind.ORGANIZATION.value, key, entry.donor_id


def _sort_entries(entries: list[Entry]) -> None:
    """Amount, largest first; equal amounts by group, then name in Vietnamese order.

    The Vietnamese keys are costly (per syllable), so they are computed only for runs of
    equal amounts; the order is the same as sorting everything by (-amount, _tie_key).
    """
    entries.sort(key=lambda e: -e.amount)
    ordered: list[Entry] = []
    memo: dict = {}
    for _amount, run in groupby(entries, key=lambda e: e.amount):
        run = list(run)
        if len(run) > 1:
            run.sort(key=lambda e: _tie_key(e, memo))
        ordered.extend(run)
    entries[:] = ordered


def _year_exclusions(year: int) -> tuple[list[CommendationExclusion], dict[int, CommendationExclusion]]:
    """The year's exclusions, and which live donor each one keeps off the list.

    An exclusion follows its donor into a merge: if a record that declined is merged into
    another, the surviving record stays off the list (its own exclusion, if any, wins).
    """
    exclusions = db.session.scalars(
        sa.select(CommendationExclusion).where(CommendationExclusion.year == year)
        .order_by(CommendationExclusion.created_at, CommendationExclusion.id)
        .options(joinedload(CommendationExclusion.donor))
    ).all()
    by_live_donor = {e.donor_id: e for e in exclusions if e.donor.merged_into_id is None}
    for exclusion in exclusions:
        target, seen = exclusion.donor, set()
        while target.merged_into_id is not None and target.id not in seen:
            seen.add(target.id)
            target = target.merged_into
        by_live_donor.setdefault(target.id, exclusion)
    return list(exclusions), by_live_donor


def listed_donors_select(per_donor, floor: int, also_donor_ids):
    """`_totals_query` over an already grouped source: `per_donor` (a subquery or CTE) holds
    one row per donor with credited rows in the year: donor_id, net and gifts, as
    `_year_net_query` gives them. Same columns, same donors, same figures; the disclosure
    takes the list from its own pass over the year (app/services/reports/figures.py
    `year_pass`)."""
    keep = per_donor.c.net >= floor
    if also_donor_ids:
        keep = sa.or_(keep, per_donor.c.donor_id.in_(also_donor_ids))
    return (
        sa.select(Donor.id, Donor.kind, Donor.name, Donor.tax_code, Donor.address,
                  Donor.anonymous, Donor.public_listing_consent, per_donor.c.net, per_donor.c.gifts)
        .join(per_donor, per_donor.c.donor_id == Donor.id)
        .where(Donor.merged_into_id.is_(None), keep)
    )


def build_list(year: int, *, threshold: int | None = None, totals=None) -> CommendationList:
    """The list for `year` as it stands today (threshold from settings unless given).

    `totals`, when given, is called once as `totals(floor, also_donor_ids)` and returns the
    rows `_totals_query(year, floor, also_donor_ids)` would (see `listed_donors_select`):
    a caller that reads the year's donations anyway computes them in its own pass."""
    check_year(year)
    threshold = check_threshold(threshold if threshold is not None else get_settings().commendation_threshold)
    floor = near_threshold_floor(threshold)
    exclusions, excluded_by_donor = _year_exclusions(year)
    overrides = {o.donor_id: o for o in db.session.scalars(
        sa.select(CommendationOverride).where(CommendationOverride.year == year))}

    result = CommendationList(year=year, threshold=threshold, exclusions=list(exclusions))
    if db.session.get_bind().dialect.name == "postgresql":
        # The per-donor hash aggregate holds one entry per donor of the year (100,000 in the
        # benchmark): give it room in memory for this transaction only, instead of spilling
        # to disk at the 4 MB default.
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    adjustments = _year_crossing_adjustments(year)
    raised = [donor_id for donor_id, adjustment in adjustments.items() if adjustment > 0]
    rows = (db.session.execute(_totals_query(year, floor, raised)) if totals is None
            else totals(floor, raised))
    for (donor_id, kind, name, tax_code, address, anonymous, consent, net, gifts) in rows:
        amount = int(net) + adjustments.get(donor_id, 0)
        if amount < floor:
            continue
        override = overrides.get(donor_id)
        printed = (override.name if override and override.name else name).strip()
        title = override.title if override and override.title else None
        if title and printed.lower().startswith(title.lower() + " "):
            # The record was renamed to "Ông …" after the title was set: print it once.
            title = None
        entry = Entry(
            donor_id=donor_id, kind=kind, donor_name=name, tax_code=tax_code,
            anonymous=anonymous, listing_consent=consent, amount=amount,
            donation_count=int(gifts), name=printed, title=title,
            address=override.address if override and override.address else address,
            overridden=override is not None,
            exclusion=excluded_by_donor.get(donor_id),
        )
        if entry.amount < threshold:
            result.near_threshold.append(entry)
        elif entry.exclusion is not None:
            result.excluded.append(entry)
        elif entry.withheld_anonymous:
            result.withheld_anonymous.append(entry)
        else:
            result.group(kind).append(entry)
    for entries in (result.organizations, result.individuals, result.near_threshold,
                    result.excluded, result.withheld_anonymous):
        _sort_entries(entries)
    return result


def donations_behind(year: int, donor_id: int) -> tuple[Donor, list[Donation], int]:
    """The counted gifts and reversals making up one donor's total for the year (the same
    rows as the list: reversals of the year's gifts, whenever recorded)."""
    check_year(year)
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    start, end = year_bounds_utc(year)
    original = aliased(Donation, name="original")
    in_year = sa.and_(Donation.received_at >= start, Donation.received_at < end)
    rows = db.session.scalars(
        sa.select(Donation).outerjoin(original, Donation.reverses_id == original.id)
        .where(Donation.donor_id == donor_id, Donation.credited(),
               sa.or_(sa.and_(Donation.reverses_id.is_(None), in_year),
                      sa.and_(original.received_at >= start, original.received_at < end)))
        .order_by(Donation.received_at, Donation.id)
    ).all()
    return donor, list(rows), sum(d.signed_amount for d in rows)


def donor_totals(year: int, donor_ids) -> dict[int, int]:
    """Net totals of a few donors for the year (as on the list; absent: no counted donation)."""
    ids = list(donor_ids)
    if not ids:
        return {}
    net = _year_net_query(year).where(Donation.donor_id.in_(ids)).subquery()
    totals = {donor_id: int(amount) for donor_id, amount in db.session.execute(sa.select(net.c.donor_id, net.c.net))}
    for donor_id, adjustment in _year_crossing_adjustments(year, ids).items():
        totals[donor_id] = totals.get(donor_id, 0) + adjustment
    return totals


# --------------------------------------------------------------------------- staff decisions


def _live_donor(donor_id: int) -> Donor:
    donor = db.session.get(Donor, donor_id) if isinstance(donor_id, int) else None
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    if donor.merged_into_id is not None:
        raise Conflict(_("Hồ sơ này đã được gộp vào một hồ sơ khác; hãy thao tác trên hồ sơ còn lại."))
    return donor


def exclude_donor(year: int, donor_id: int, reason: str, note: str | None, actor: Actor) -> CommendationExclusion:
    """Keep a donor off `year`'s list, with a recorded reason ("other" needs a note)."""
    check_year(year)
    try:
        reason = ExclusionReason(reason).value
    except ValueError:
        raise ValidationFailed(_("Vui lòng chọn lý do loại khỏi danh sách."), field="reason") from None
    note = (note or "").strip() or None
    if reason == ExclusionReason.OTHER.value and not note:
        raise ValidationFailed(_("Vui lòng ghi rõ lý do khác."), field="note")
    donor = _live_donor(donor_id)
    existing = _year_exclusions(year)[1].get(donor.id)
    if existing is not None:
        raise Conflict(_("%(name)s đã được loại khỏi danh sách năm %(year)s.", name=donor.name, year=year))
    exclusion = CommendationExclusion(year=year, donor_id=donor.id, reason=reason, note=note,
                                      created_by_id=actor.user_id)
    db.session.add(exclusion)
    audit.record(actor, "commendation.exclude", exclusion,
                 after={"year": year, "donor_id": donor.id, "donor_name": donor.name,
                        "reason": reason, "note": note})
    db.session.commit()
    return exclusion


def include_donor(year: int, donor_id: int, actor: Actor) -> None:
    """Take back an exclusion (the audit log keeps what it was)."""
    check_year(year)
    exclusion = _year_exclusions(year)[1].get(donor_id) or db.session.scalar(
        sa.select(CommendationExclusion).where(CommendationExclusion.year == year,
                                               CommendationExclusion.donor_id == donor_id))
    if exclusion is None:
        raise NotFound(_("Nhà hảo tâm này không nằm trong danh sách loại trừ."))
    audit.record(actor, "commendation.include", exclusion,
                 before=audit.snapshot(exclusion, ("year", "donor_id", "reason", "note", "created_at")))
    db.session.delete(exclusion)
    db.session.commit()


def set_override(year: int, donor_id: int, actor: Actor, *, name: str | None = None,
                 title: str | None = None, address: str | None = None) -> CommendationOverride | None:
    """Set how a donor's name, title and address print on `year`'s list.

    Empty fields print the donor record's value; all empty removes the override."""
    check_year(year)
    donor = _live_donor(donor_id)
    values = {"name": (name or "").strip() or None, "title": (title or "").strip() or None,
              "address": (address or "").strip() or None}
    for key, limit in (("name", MAX_NAME), ("title", MAX_TITLE), ("address", MAX_ADDRESS)):
        if values[key] and len(values[key]) > limit:
            raise ValidationFailed(_("Tối đa %(limit)s ký tự.", limit=limit), field=key)
    printed = values["name"] or donor.name
    if values["title"] and printed.lower().startswith(values["title"].lower() + " "):
        raise ValidationFailed(_("Tên in đã bắt đầu bằng danh xưng “%(title)s”; hãy bỏ danh xưng khỏi tên.",
                                 title=values["title"]), field="name")
    override = db.session.scalar(sa.select(CommendationOverride).where(
        CommendationOverride.year == year, CommendationOverride.donor_id == donor.id))
    fields = ("name", "title", "address")
    before = audit.snapshot(override, fields) if override else None
    if not any(values.values()):
        if override is not None:
            audit.record(actor, "commendation.override_remove", override, before=before)
            db.session.delete(override)
            db.session.commit()
        return None
    if override is None:
        override = CommendationOverride(year=year, donor_id=donor.id)
        db.session.add(override)
    for key, value in values.items():
        setattr(override, key, value)
    override.updated_by_id = actor.user_id
    if before != values:
        audit.record(actor, "commendation.override", override, before=before,
                     after={**values, "year": year, "donor_id": donor.id})
    db.session.commit()
    return override


# --------------------------------------------------------------------------- documents


def _letterhead(settings: FundSettings) -> dict:
    return dict(
        parent_agency=settings.parent_agency.upper(),
        proposing_body=settings.operator_name.upper(),
        city=DOCUMENT_PLACE,
        signatory_title=settings.signatory_title.upper(),
        signatory_name=settings.signatory_name,
        commendation_form=DEFAULT_COMMENDATION_FORM,
    )


def live_document(clist: CommendationList, *, document_date: date | None = None) -> CommendationDocument:
    """The draft document of a live list (no number), dated today unless told otherwise."""
    return CommendationDocument(
        year=clist.year, threshold=clist.threshold,
        organizations=[e.row() for e in clist.organizations],
        individuals=[e.row() for e in clist.individuals],
        document_date=document_date or local_today(),
        **_letterhead(get_settings()),
    )


def submission_rows(submission: CommendationSubmission, kind: str) -> list[CommendationSubmissionRow]:
    return [r for r in sorted(submission.rows, key=lambda r: r.position) if r.group_kind == kind]


def submission_document(submission: CommendationSubmission) -> CommendationDocument:
    """The document exactly as frozen: stored rows and letterhead, nothing recomputed."""
    def rows(kind):
        return [CommendationRow(name=r.name, title=r.title, address=r.address, tax_code=r.tax_code,
                                amount=r.amount, donation_count=r.donation_count)
                for r in submission_rows(submission, kind)]

    return CommendationDocument(
        year=submission.year, threshold=submission.threshold,
        organizations=rows(DonorKind.ORGANIZATION.value),
        individuals=rows(DonorKind.INDIVIDUAL.value),
        parent_agency=submission.parent_agency, proposing_body=submission.proposing_body,
        city=submission.city, signatory_title=submission.signatory_title,
        signatory_name=submission.signatory_name, document_date=submission.document_date,
        commendation_form=submission.commendation_form, submission_number=submission.number,
    )


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    filename: str
    mimetype: str


def render(document: CommendationDocument, fmt: str) -> ExportFile:
    """The list as a file: an official document, in Vietnamese whatever the reader's language."""
    if fmt not in FORMATS:
        raise NotFound(_("Định dạng tệp không được hỗ trợ (xlsx, csv hoặc pdf)."))
    renderer, mimetype = FORMATS[fmt]
    suffix = f"-{document.submission_number}" if document.submission_number else "-du-thao"
    with vietnamese():
        data = renderer(document)
    return ExportFile(data, f"danh-sach-khen-thuong-{document.year}{suffix}.{fmt}", mimetype)


def export_live(year: int, fmt: str, *, threshold: int | None = None) -> ExportFile:
    return render(live_document(build_list(year, threshold=threshold)), fmt)


def export_submission(submission: CommendationSubmission, fmt: str) -> ExportFile:
    return render(submission_document(submission), fmt)


# --------------------------------------------------------------------------- freezing


def freeze(year: int, actor: Actor) -> CommendationSubmission:
    """Turn today's list for `year` into an immutable, numbered submission.

    Stores who, when, the threshold, the letterhead and every printed row; the rows are
    never recomputed. Only a year that has ended can be frozen. A later freeze of the same
    year is a new submission with the next number; nothing is ever updated.
    """
    check_year(year)
    if year >= local_today().year:
        raise Conflict(_("Năm %(year)s chưa kết thúc; chỉ chốt danh sách của năm đã qua.", year=year))
    require_settings("chốt danh sách khen thưởng")  # a frozen list prints them forever
    # Serialise concurrent freezes: a row lock on PostgreSQL (SQLite already holds the
    # database write lock for the whole transaction). The unique (year, sequence) is the
    # last line of defence.
    settings = db.session.scalars(sa.select(FundSettings).where(FundSettings.id == 1)
                                  .with_for_update()).one()
    clist = build_list(year, threshold=settings.commendation_threshold)
    sequence = (db.session.scalar(sa.select(sa.func.max(CommendationSubmission.sequence))
                                  .where(CommendationSubmission.year == year)) or 0) + 1
    now = utcnow()
    submission = CommendationSubmission(
        number=SUBMISSION_NUMBER_FORMAT.format(submitted_year=year + 1, sequence=sequence),
        year=year, sequence=sequence, threshold=clist.threshold, frozen_at=now,
        frozen_by_id=actor.user_id, frozen_by_label=actor.label,
        document_date=to_local(now).date(),
        organizations_total=clist.organizations_total, individuals_total=clist.individuals_total,
        pdf_sha256="", **_letterhead(settings),
    )
    for kind in GROUPS:
        for position, entry in enumerate(clist.group(kind), start=1):
            row = entry.row()
            submission.rows.append(CommendationSubmissionRow(
                group_kind=kind, position=position, donor_id=entry.donor_id, name=row.name,
                title=row.title, address=row.address, tax_code=row.tax_code,
                amount=row.amount, donation_count=row.donation_count))
    with vietnamese():
        pdf = render_pdf(submission_document(submission))
    submission.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    db.session.add(submission)
    audit.record(actor, "commendation.freeze", submission, after={
        "number": submission.number, "year": year, "threshold": submission.threshold,
        "organizations": len(clist.organizations), "individuals": len(clist.individuals),
        "organizations_total": submission.organizations_total,
        "individuals_total": submission.individuals_total,
        "excluded_donor_ids": [e.donor_id for e in clist.excluded],
        "withheld_anonymous_donor_ids": [e.donor_id for e in clist.withheld_anonymous],
        "pdf_sha256": submission.pdf_sha256,
    })
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict(_("Danh sách vừa được chốt bởi người khác. Vui lòng tải lại trang.")) from None
    return submission


def submissions_for(year: int) -> list[CommendationSubmission]:
    return list(db.session.scalars(
        sa.select(CommendationSubmission).where(CommendationSubmission.year == year)
        .order_by(CommendationSubmission.sequence.desc())))


def get_submission(submission_id: int) -> CommendationSubmission:
    submission = db.session.get(CommendationSubmission, submission_id)
    if submission is None:
        raise NotFound(_("Không tìm thấy danh sách đã chốt."))
    return submission


def get_submission_by_number(number: str) -> CommendationSubmission:
    submission = db.session.scalar(sa.select(CommendationSubmission)
                                   .where(CommendationSubmission.number == (number or "").strip()))
    if submission is None:
        raise NotFound(_("Không tìm thấy danh sách đã chốt số %(number)s.", number=number))
    return submission


@dataclass(frozen=True)
class Removed:
    row: CommendationSubmissionRow
    current_amount: int | None  # None: no counted donation left in the year
    why: str


@dataclass(frozen=True)
class Changed:
    row: CommendationSubmissionRow
    entry: Entry

    @property
    def difference(self) -> int:
        return self.entry.amount - self.row.amount


@dataclass
class SubmissionDiff:
    """What differs between a frozen submission and today's list (same threshold)."""

    added: list[Entry]
    removed: list[Removed]
    changed: list[Changed]
    # Same donor and amount, printed differently today (a print override set or changed).
    reprinted: list[Changed] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.reprinted)


def diff_submission(submission: CommendationSubmission) -> SubmissionDiff:
    clist = build_list(submission.year, threshold=submission.threshold)
    live = {e.donor_id: e for e in [*clist.organizations, *clist.individuals]}
    frozen = {r.donor_id: r for r in submission.rows}
    gone = [r for r in submission.rows if r.donor_id not in live]
    current = donor_totals(submission.year, [r.donor_id for r in gone])
    excluded = {e.donor_id: e for e in clist.excluded}
    withheld = {e.donor_id for e in clist.withheld_anonymous}
    removed = []
    for row in gone:
        donor = db.session.get(Donor, row.donor_id)
        if donor.merged_into_id is not None:
            why = _("Hồ sơ đã được gộp vào “%(name)s”", name=donor.merged_into.name)
        elif row.donor_id in excluded:
            why = _("Đã loại khỏi danh sách: %(reason)s", reason=excluded[row.donor_id].exclusion.reason_label)
        elif row.donor_id in withheld:
            why = _("Ẩn danh, chưa đồng ý công khai")
        else:
            why = _("Tổng ủng hộ hiện dưới ngưỡng")
        removed.append(Removed(row=row, current_amount=current.get(row.donor_id), why=why))
    return SubmissionDiff(
        added=[e for e in [*clist.organizations, *clist.individuals] if e.donor_id not in frozen],
        removed=removed,
        changed=[Changed(row=frozen[d], entry=e) for d, e in live.items()
                 if d in frozen and frozen[d].amount != e.amount],
        reprinted=[Changed(row=frozen[d], entry=e) for d, e in live.items()
                   if d in frozen and (frozen[d].name, frozen[d].title, frozen[d].address)
                   != (e.name, e.title, e.address)],
    )


@dataclass(frozen=True)
class DonorReview:
    """One donor's standing on a year's list, for the drill-down page."""

    donor: Donor
    donations: list[Donation]
    total: int
    threshold: int
    exclusion: CommendationExclusion | None
    override: CommendationOverride | None

    @property
    def standing(self) -> str:
        """merged, near, below, excluded, withheld or listed."""
        if self.donor.merged_into_id is not None:
            return "merged"
        if self.total < self.threshold:
            return "near" if self.total >= near_threshold_floor(self.threshold) else "below"
        if self.exclusion is not None:
            return "excluded"
        if self.donor.anonymous and not self.donor.public_listing_consent:
            return "withheld"
        return "listed"

    @property
    def status(self) -> str:
        """The standing as the page says it, in the reader's language."""
        standing = self.standing
        if standing == "merged":
            return _("Hồ sơ đã gộp vào hồ sơ khác")
        if standing == "near":
            return _("Gần ngưỡng (theo dõi, vận động)")
        if standing == "below":
            return _("Dưới ngưỡng")
        if standing == "excluded":
            return _("Đã loại: %(reason)s", reason=self.exclusion.reason_label)
        if standing == "withheld":
            return _("Ẩn danh, chưa đồng ý công khai: không đưa vào danh sách")
        return _("Có trong danh sách đề nghị")

    @property
    def listed(self) -> bool:
        return self.standing == "listed"


def review_donor(year: int, donor_id: int) -> DonorReview:
    donor, donations, total = donations_behind(year, donor_id)
    return DonorReview(
        donor=donor, donations=donations, total=total,
        threshold=get_settings().commendation_threshold,
        exclusion=_year_exclusions(year)[1].get(donor_id) or db.session.scalar(
            sa.select(CommendationExclusion).where(CommendationExclusion.year == year,
                                                   CommendationExclusion.donor_id == donor_id)),
        override=db.session.scalar(sa.select(CommendationOverride).where(
            CommendationOverride.year == year, CommendationOverride.donor_id == donor_id)),
    )
