"""The yearly public disclosure (Decree 03/2026: published before 31 March) and the
restricted-funds report. Plain data; app/renderers/reports.py prints them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.services import commendation
from app.services.reports import figures
from app.services.reports.documents import FundInfo, fund_info
from app.services.reports.period import ChildCount, Period


@dataclass(frozen=True)
class NamedDonor:
    name: str
    kind_label: str
    amount: int


@dataclass(frozen=True)
class BankCheck:
    """Bank balances against the books. Bank statements come from the bank-import feature
    (another branch): until it lands `bank_balance` is None and the report says so."""

    book_balance: int
    bank_balance: int | None = None

    @property
    def difference(self) -> int | None:
        return None if self.bank_balance is None else self.bank_balance - self.book_balance


@dataclass(frozen=True)
class CostLine:
    label: str
    amount: int


@dataclass(frozen=True)
class RestrictedFunds:
    period: Period
    fund: FundInfo
    flows: figures.ProgrammeFlows


@dataclass(frozen=True)
class Disclosure:
    period: Period
    fund: FundInfo
    received: figures.Received
    in_kind_gifts: list[figures.InKindGift]
    threshold: int
    named_donors: list[NamedDonor]
    unnamed_above_threshold: int
    flows: figures.ProgrammeFlows
    use: list[figures.ProgrammeUse]
    children: ChildCount
    costs: list[CostLine]
    bank: BankCheck
    published_at: str
    published_on: date

    @property
    def spent(self) -> int:
        return self.flows.total("spent")


def restricted_funds(period: Period) -> RestrictedFunds:
    return RestrictedFunds(period, fund_info(), figures.programme_flows(period))


def named_donors(year: int, *, totals=None) -> tuple[int, list[NamedDonor], int]:
    """Donors of `year` at or above the commendation threshold (the commendation rule and
    list, app/services/commendation.py) who consented to public listing and are not
    anonymous; the others are only counted. `totals`: see `commendation.build_list`."""
    clist = commendation.build_list(year, totals=totals)
    above = clist.organizations + clist.individuals + clist.excluded + clist.withheld_anonymous
    named = [NamedDonor(e.printed_name, e.group_label, e.amount) for e in above
             if e.listing_consent and not e.anonymous]
    named.sort(key=lambda d: -d.amount)
    return clist.threshold, named, len(above) - len(named)


def disclosure(period: Period, *, public_url: str) -> Disclosure:
    if period.is_whole_year:
        # The year's donations are read once (figures.year_pass) for the money in, the
        # programmes' received column and the commendation list's totals.
        passed: list[figures.YearPass] = []

        def totals(floor, also_donor_ids):
            passed.append(figures.year_pass(period, floor, also_donor_ids))
            return passed[0].listed_donors

        threshold, named, unnamed = named_donors(period.year, totals=totals)
        received = passed[0].received
        flows = figures.programme_flows(period, received=passed[0].programme_received)
    else:
        threshold, named, unnamed = named_donors(period.year)
        received = figures.received(period)
        flows = figures.programme_flows(period)
    fund = fund_info()
    return Disclosure(
        period=period, fund=fund, received=received,
        in_kind_gifts=figures.in_kind_gifts(period), threshold=threshold, named_donors=named,
        unnamed_above_threshold=unnamed, flows=flows, use=figures.programme_use(period),
        children=figures.children_reached(period),
        # Operating costs and bank fees are not recorded by the application yet: the report
        # prints "not recorded" rather than a made-up zero.
        costs=[],
        bank=BankCheck(book_balance=flows.total("closing")),
        published_at=public_url, published_on=fund.document_date)
