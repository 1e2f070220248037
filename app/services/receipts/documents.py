"""From the database to the PDF renderer: receipts and annual statements as documents.

`app/renderers/receipt_pdf.py` takes plain data and returns bytes; this module resolves a
`Receipt` (donation, donor, appeal/programme, fund settings) into that plain data, keeps one
renderer per process and per version of the fund settings (parsing the fonts is the slow
part, so it happens once), and writes the year-end batch of annual statements.
"""
from __future__ import annotations

import os
import threading
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, current, date_text, language, language_of, money, vietnamese
from app.models import Donation, Donor, DonorKind, FundSettings, Receipt
from app.renderers.receipt_pdf import (
    FundInfo, ReceiptData, ReceiptRenderer, ReceiptTranslation, StatementData, StatementLine,
)
from app.services.donations.queries import reversed_total
from app.services.setup import get_settings
from app.timeutil import format_local, local_today, to_local, year_bounds_utc

MIN_YEAR, MAX_YEAR = 2000, 2100

# --------------------------------------------------------------------------- renderer cache

_cache_lock = threading.Lock()
_cached: tuple[tuple, ReceiptRenderer] | None = None


def fund_info(settings: FundSettings) -> FundInfo:
    return FundInfo(
        fund_name=settings.fund_name,
        parent_agency=settings.parent_agency,
        address=settings.address,
        phone=settings.phone or "",
        email=settings.email,
        signatory_name=settings.signatory_name,
        signatory_title=settings.signatory_title,
    )


def renderer_for(settings: FundSettings | None = None) -> ReceiptRenderer:
    """The process's renderer for the current fund settings.

    Building one parses the fonts (slow); rendering with it is fast. Settings are edited
    rarely, so the cache holds one renderer, keyed on the settings' `updated_at`: an edit
    in /staff/settings is picked up by the next document. Renderers are thread-safe.
    """
    global _cached
    settings = settings or get_settings()
    key = (settings.id, settings.updated_at)
    with _cache_lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, ReceiptRenderer(fund_info(settings)))
        return _cached[1]


# --------------------------------------------------------------------------- receipts

def public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def verify_url(receipt: Receipt) -> str:
    return public_url(f"/receipts/verify/{receipt.verification_token}")


def reversed_amount(donation_id: int) -> int:
    return reversed_total(donation_id)


def net_amount(donation: Donation) -> int:
    """What the donor finally gave: the amount less every counted (partial) reversal."""
    return donation.amount - reversed_amount(donation.id)


def purpose_text(donation: Donation) -> str:
    """The purpose line of a receipt, in the language being used (receipts draw it inside
    `vietnamese()`; the courtesy translation in English)."""
    programme = donation.programme
    if programme.is_general:
        purpose = _("Quỹ chung, không chỉ định mục đích")
    else:
        purpose = _("Chương trình %(name)s", name=programme.name)
    if donation.appeal is not None:
        purpose += f" — {donation.appeal.title}"
    return purpose


def official_channel_label(donation: Donation) -> str:
    """The channel as a receipt prints it: Vietnamese, whatever the reader's language."""
    from app.i18n import vietnamese

    with vietnamese():
        return donation.channel_label


def receipt_data(receipt: Receipt, *, amount: int | None = None) -> ReceiptData:
    """The plain data the renderer draws for one receipt.

    The amount is the donation's net amount after partial reversals (a partial refund
    voids the receipt and issues a replacement for what remains). A void receipt keeps
    the amount it was issued for, as far as it can be known: the original amount.
    """
    donation = receipt.donation
    donor = donation.donor
    if amount is None:
        amount = donation.amount if receipt.is_void else net_amount(donation)
    organization = donor.kind == DonorKind.ORGANIZATION.value
    translation = None
    if language_of(donor) == "en":  # the donor's language, whoever downloads or mails it
        with language("en"):
            translation = ReceiptTranslation(
                issued_on=date_text(receipt.issued_at), amount=money(amount),
                channel_label=str(donation.channel_label), purpose=purpose_text(donation))
    # The receipt itself is Vietnamese (the law), whatever the reader's language.
    with nullcontext() if current() == "vi" else vietnamese():  # (forcing costs ~40 µs)
        channel_label, purpose = str(donation.channel_label), purpose_text(donation)
    return ReceiptData(
        translation=translation,
        number=receipt.number,
        issued_at_local=to_local(receipt.issued_at),
        donor_name=donation.shown_name,
        donor_kind=donor.kind,
        amount=amount,
        channel_label=channel_label,
        purpose=purpose,
        verify_url=verify_url(receipt),
        tax_code=donation.shown_tax_code if organization else None,
        donor_address=donation.shown_address,
        void=receipt.is_void,
        void_reason=receipt.void_reason,
        replaces_number=receipt.replaces.number if receipt.replaces is not None else None,
        in_kind_description=donation.in_kind_description,
    )


def load_receipt(receipt_id: int) -> Receipt | None:
    """A receipt with everything its document shows, in one query."""
    return db.session.scalars(
        sa.select(Receipt).where(Receipt.id == receipt_id)
        .options(joinedload(Receipt.donation).joinedload(Donation.donor),
                 joinedload(Receipt.donation).joinedload(Donation.programme),
                 joinedload(Receipt.donation).joinedload(Donation.appeal),
                 joinedload(Receipt.replaces))).unique().one_or_none()


def receipt_pdf(receipt: Receipt) -> bytes:
    return renderer_for().render_receipt(receipt_data(receipt))


def receipt_filename(receipt: Receipt) -> str:
    return f"{receipt.number}.pdf"


# --------------------------------------------------------------------------- statements

def check_year(year: int) -> int:
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(_("Năm phải trong khoảng %(low)s–%(high)s.", low=MIN_YEAR, high=MAX_YEAR), field="year")
    return year


def _year_donations(year: int, donor_id: int | None = None) -> list[Donation]:
    """Every counted row (gifts and reversals) received in a Vietnam calendar year, with
    what a statement line needs loaded up front (no query per line)."""
    start, end = year_bounds_utc(check_year(year))
    query = (
        sa.select(Donation)
        .where(Donation.credited(), Donation.received_at >= start, Donation.received_at < end)
        .options(joinedload(Donation.programme), joinedload(Donation.appeal),
                 joinedload(Donation.reverses))
        .order_by(Donation.donor_id, Donation.received_at, Donation.id)
    )
    if donor_id is not None:
        query = query.where(Donation.donor_id == donor_id)
    return list(db.session.scalars(query).unique())


def _receipt_numbers(donation_ids: list[int]) -> dict[int, str]:
    """Each donation's receipt number for a statement line: the valid receipt's, else the
    latest one's (a fully reversed gift keeps its void receipt's number)."""
    numbers: dict[int, str] = {}
    valid: set[int] = set()
    for chunk in (donation_ids[i:i + 500] for i in range(0, len(donation_ids), 500)):
        rows = db.session.execute(
            sa.select(Receipt.donation_id, Receipt.number, Receipt.voided_at)
            .where(Receipt.donation_id.in_(chunk)).order_by(Receipt.id))
        for donation_id, number, voided_at in rows:
            if donation_id not in valid:
                numbers[donation_id] = number
            if voided_at is None:
                valid.add(donation_id)
    return numbers


def statement_line(donation: Donation, numbers: dict[int, str]) -> StatementLine:
    when = to_local(donation.received_at).date()
    if donation.is_reversal:
        original = donation.reverses
        description = (f"Điều chỉnh giảm khoản ủng hộ ngày "
                       f"{format_local(original.received_at, '%d/%m/%Y')}")
        if donation.reason:
            description += f": {donation.reason}"
        return StatementLine(when, numbers.get(original.id), description, -donation.amount)
    description = purpose_text(donation)
    if donation.in_kind_description:
        description += f" ({donation.in_kind_description})"
    return StatementLine(when, numbers.get(donation.id), description, donation.amount)


def statement_data(donor: Donor, year: int, donations: list[Donation],
                   numbers: dict[int, str], *, issued_on: date | None = None) -> StatementData:
    with nullcontext() if current() == "vi" else vietnamese():  # an official document
        lines = [statement_line(d, numbers) for d in donations]
    organization = donor.kind == DonorKind.ORGANIZATION.value
    return StatementData(
        year=year,
        donor_name=donor.name,
        donor_kind=donor.kind,
        lines=lines,
        net_total=sum(line.amount for line in lines),
        issued_on=issued_on or local_today(),
        tax_code=donor.tax_code if organization else None,
        donor_address=donor.address,
        statement_number=statement_number(donor.id, year),
    )


def statement_number(donor_id: int, year: int) -> str:
    return f"SK-{year}-{donor_id:06d}"


def donor_statement_pdf(donor_id: int, year: int) -> tuple[str, bytes]:
    """One donor's statement for a year: (file name, PDF bytes)."""
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    donations = _year_donations(year, donor_id)
    if not donations:
        raise NotFound(_("Nhà hảo tâm này không có khoản ủng hộ nào được xác nhận trong năm %(year)s.", year=year))
    numbers = _receipt_numbers([d.reverses_id or d.id for d in donations])
    data = statement_data(donor, year, donations, numbers)
    return statement_filename(donor.id, year), renderer_for().render_statement(data)


def statement_filename(donor_id: int, year: int) -> str:
    return f"sao-ke-{year}-{donor_id:06d}.pdf"


def donors_for_year(year: int, q: str | None = None) -> list[tuple[Donor, int, int]]:
    """Donors with counted rows in a year: (donor, number of rows, net total), by name."""
    from app.text import fold

    start, end = year_bounds_utc(check_year(year))
    query = (
        sa.select(Donor, sa.func.count(Donation.id), Donation.net_sum())
        .join(Donation, Donation.donor_id == Donor.id)
        .where(Donation.credited(), Donation.received_at >= start, Donation.received_at < end)
        .group_by(Donor.id).order_by(Donor.name, Donor.id)
    )
    if q and q.strip():
        query = query.where(Donor.search_text.contains(fold(q.strip()), autoescape=True))
    return [(donor, int(count), int(total)) for donor, count, total in db.session.execute(query)]


# --------------------------------------------------------------------------- annual batch

@dataclass
class AnnualResult:
    written: int = 0
    skipped: int = 0
    total: int = 0
    stopped_early: bool = False


def _complete(path: Path) -> bool:
    """A finished statement: renamed into place only after being written in full."""
    try:
        if path.stat().st_size < 64:
            return False
        with path.open("rb") as handle:
            handle.seek(-32, os.SEEK_END)
            return b"%%EOF" in handle.read()
    except OSError:
        return False


def _by_donor(donations: list[Donation]) -> Iterator[tuple[int, list[Donation]]]:
    groups: dict[int, list[Donation]] = defaultdict(list)
    for donation in donations:
        groups[donation.donor_id].append(donation)
    yield from groups.items()


def write_annual_statements(
    year: int,
    output_dir: str | os.PathLike,
    *,
    limit: int | None = None,
    progress: Callable[[int, int, str, str], None] | None = None,
    issued_on: date | None = None,
) -> AnnualResult:
    """Write one PDF per donor with every counted row of `year` into `output_dir`.

    Resumable: a statement is written to `<name>.part` and renamed when complete, and a
    complete file already in place is skipped, so a run that was interrupted (Ctrl-C, a
    crash, `limit`) picks up where it stopped. `limit` caps how many new files this run
    writes. `progress(done, total, name, "written"|"skipped")` is called after each donor.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    donations = _year_donations(year)
    groups = list(_by_donor(donations))
    donors = {d.id: d for d in db.session.scalars(
        sa.select(Donor).where(Donor.id.in_([donor_id for donor_id, _ in groups])))} if groups else {}
    numbers = _receipt_numbers(sorted({d.reverses_id or d.id for d in donations}))
    renderer = renderer_for()
    issued_on = issued_on or local_today()
    result = AnnualResult(total=len(groups))
    for index, (donor_id, rows) in enumerate(groups, start=1):
        name = statement_filename(donor_id, year)
        target = out / name
        if _complete(target):
            result.skipped += 1
            if progress:
                progress(index, result.total, name, "skipped")
            continue
        if limit is not None and result.written >= limit:
            result.stopped_early = True
            break
        data = statement_data(donors[donor_id], year, rows, numbers, issued_on=issued_on)
        pdf = renderer.render_statement(data)
        partial = target.with_name(name + ".part")
        try:
            with partial.open("wb") as handle:
                handle.write(pdf)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, target)
        finally:
            if partial.exists():
                partial.unlink()
        result.written += 1
        if progress:
            progress(index, result.total, name, "written")
    return result
