"""The disclosure's one pass over the year (figures.year_pass, issue 14 performance) gives
exactly the figures of the separate queries it replaces: money in by channel and source,
the programmes' received column, and the commendation list's rows — with gifts awaiting a
donor check (counted, not credited), reversals crossing the year, several programmes,
anonymous and merged donors."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Channel, Donation, Donor
from app.services import commendation
from app.services.donations import ledger as donation_ledger
from app.services.reports import disclosure as disclosure_reports
from app.services.reports import figures
from app.services.reports.period import make_period
from tests import factories
from tests.test_reports import YEAR, at, year_of_gifts  # noqa: F401  (the fixture)

THRESHOLD = 2_000_000


@pytest.fixture
def harder_year(year_of_gifts):  # noqa: F811
    actor = factories.SYSTEM
    checked = factories.donor("Phạm Minh Checked", public_listing_consent=True)
    factories.donation(checked, 4_000_000, received_at=at(5, 2), donor_check="Tên khác trên form")
    factories.donation(checked, 1_500_000, received_at=at(5, 3), channel=Channel.CASH.value)
    only_checked = factories.donor("Vũ Thu Chờ", public_listing_consent=True)
    factories.donation(only_checked, 9_000_000, received_at=at(6, 6), donor_check="Chưa khớp")
    # A gift of the year before reversed this year: +amount for the list (raised donor).
    raised = factories.donor("Bùi Văn Nâng", public_listing_consent=True)
    factories.donation(raised, 1_900_000, received_at=at(8, 8), programme_code="heart")
    old = factories.donation(raised, 500_000, received_at=at(12, 1, year=YEAR - 1))
    donation_ledger.reverse_in_tx(db.session.get(Donation, old.id), actor, reason="Năm trước",
                                  received_at=at(2, 2))
    # A gift of the year reversed the next year: -amount for the list.
    late = factories.donor("Hồ Thị Muộn", public_listing_consent=True)
    gift = factories.donation(late, 3_000_000, received_at=at(11, 11), channel=Channel.CARD.value)
    donation_ledger.reverse_in_tx(db.session.get(Donation, gift.id), actor, reason="Năm sau",
                                  received_at=at(1, 5, year=YEAR + 1))
    anonymous = factories.donor("Ẩn Danh", anonymous=True, public_listing_consent=False)
    factories.donation(anonymous, 6_000_000, received_at=at(4, 4), programme_code="motor")
    survivor = factories.organization("Công ty Cổ phần Cảng Đình Vũ", public_listing_consent=True)
    merged = factories.organization("Cảng Đình Vũ (trùng)", public_listing_consent=True)
    factories.donation(survivor, 2_500_000, received_at=at(3, 3), channel=Channel.IN_KIND.value,
                       in_kind_description="Sách vở")
    factories.donation(merged, 2_500_000, received_at=at(3, 4))
    db.session.get(Donor, merged.id).merged_into_id = survivor.id  # its gifts are not moved here
    db.session.commit()


def separate_list(year, threshold):
    return commendation.build_list(year, threshold=threshold)


def pass_list(period, threshold):
    seen = []

    def totals(floor, also):
        seen.append(also)
        return figures.year_pass(period, floor, also).listed_donors

    result = commendation.build_list(period.year, threshold=threshold, totals=totals)
    assert len(seen) == 1
    return result, seen[0]


@pytest.mark.parametrize("columns", [figures.YEAR_PASS_PROGRAMME_COLUMNS, 0])
def test_the_year_pass_gives_the_figures_of_the_separate_queries(harder_year, monkeypatch, columns):
    monkeypatch.setattr(figures, "YEAR_PASS_PROGRAMME_COLUMNS", columns)  # 0: the GROUP BY fallback
    period = make_period(YEAR)
    result = figures.year_pass(period, commendation.near_threshold_floor(THRESHOLD), [])
    assert result.received == figures.received(period)
    separate = figures.programme_flows(period)
    assert figures.programme_flows(period, received=result.programme_received) == separate
    assert {p: v for p, v in result.programme_received.items() if v} == {
        r.programme_id: r.received for r in separate.rows if r.received}

    listed, raised = pass_list(period, THRESHOLD)
    assert raised  # the reversal of last year's gift raised a donor: the OR branch ran
    assert listed.individuals and listed.organizations and listed.near_threshold and listed.withheld_anonymous
    assert listed == separate_list(YEAR, THRESHOLD)
    names = {e.donor_name for e in listed.individuals + listed.organizations + listed.near_threshold
             + listed.withheld_anonymous}
    assert "Vũ Thu Chờ" not in names  # only unchecked gifts: counted for the fund, not credited
    assert "Cảng Đình Vũ (trùng)" not in names


def test_the_disclosure_of_a_whole_year_is_the_one_of_the_separate_queries(harder_year, monkeypatch):
    period = make_period(YEAR)
    fast = disclosure_reports.disclosure(period, public_url="https://quy.example.org/cong-khai")
    monkeypatch.setattr(figures, "year_pass", lambda *a, **k: pytest.fail("not used"))
    threshold, named, unnamed = disclosure_reports.named_donors(YEAR)
    assert (fast.threshold, fast.named_donors, fast.unnamed_above_threshold) == (threshold, named, unnamed)
    assert fast.received == figures.received(period)
    assert fast.flows == figures.programme_flows(period)
    # A narrowed period never takes the pass (the list is of the whole year).
    narrow = make_period(YEAR, f"{YEAR}-03-01", f"{YEAR}-06-30")
    assert disclosure_reports.disclosure(narrow, public_url="x").received == figures.received(narrow)
