"""The commendation list: the rule's edges, staff decisions, freezing and the CLI export.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    AuditEntry, Channel, CommendationSubmission, CommendationSubmissionRow, Donor,
)
from app.renderers.commendation import render_pdf
from app.services import commendation, donors
from app.services.donations import ledger as donations
from app.services.setup import get_settings, update_settings
from app.timeutil import local_to_utc
from tests import factories
from tests.factories import SYSTEM

THRESHOLD = 50_000_000


def vn(year, month, day, hour=10, minute=0):
    """A Vietnam wall-clock moment, in UTC."""
    return local_to_utc(datetime(year, month, day, hour, minute))


def give(donor, amount, when=None, **fields):
    return factories.donation(donor, amount, received_at=when or vn(2023, 6, 1),
                              issue_receipt=False, **fields)


def names(entries):
    return [e.name for e in entries]


def xlsx_cells(data: bytes) -> list:
    return [c.value for row in load_workbook(io.BytesIO(data)).active.iter_rows() for c in row
            if c.value is not None]


def listed(year=2023, **kwargs):
    clist = commendation.build_list(year, **kwargs)
    return names(clist.organizations), names(clist.individuals)


# --------------------------------------------------------------------------- the rule


def test_exactly_the_threshold_is_in_and_one_dong_less_is_out():
    on_org = factories.organization("Công ty TNHH Đúng Ngưỡng", tax_code="0200000001")
    under_org = factories.organization("Công ty TNHH Thiếu Một Đồng", tax_code="0200000002")
    on_person, under_person = factories.donor("Trần Thị Bình"), factories.donor("Lê Văn Cường")
    give(on_org, 30_000_000), give(on_org, 20_000_000)
    give(under_org, 49_999_999)
    give(on_person, 50_000_000)
    give(under_person, 25_000_000), give(under_person, 24_999_999)

    clist = commendation.build_list(2023)
    assert names(clist.organizations) == ["Công ty TNHH Đúng Ngưỡng"]
    assert names(clist.individuals) == ["Trần Thị Bình"]
    assert [(e.name, e.amount, e.donation_count) for e in clist.organizations] == [
        ("Công ty TNHH Đúng Ngưỡng", 50_000_000, 2)]
    # Just under: on the follow-up list, never on the printed one.
    assert {e.name: e.amount for e in clist.near_threshold} == {
        "Công ty TNHH Thiếu Một Đồng": 49_999_999, "Lê Văn Cường": 49_999_999}


def test_threshold_comes_from_settings_and_can_be_given():
    person = factories.donor("Phạm Quang Vinh")
    give(person, 45_000_000)
    assert listed() == ([], [])
    update_settings({"commendation_threshold": 45_000_000}, SYSTEM)
    assert listed() == ([], ["Phạm Quang Vinh"])
    assert listed(threshold=45_000_001) == ([], [])


def test_year_is_cut_in_vietnam_time():
    late = factories.donor("Nguyễn Văn Cuối Năm")
    early = factories.donor("Nguyễn Văn Đầu Năm")
    # 23:30 on 31 December in Hải Phòng is 16:30 UTC the same day: 2023.
    give(late, 50_000_000, vn(2023, 12, 31, 23, 30))
    # 00:30 on 1 January is still 31 December in UTC (17:30): it belongs to 2024.
    give(early, 50_000_000, vn(2024, 1, 1, 0, 30))
    assert vn(2024, 1, 1, 0, 30).year == 2023  # the trap the rule must avoid
    assert listed(2023) == ([], ["Nguyễn Văn Cuối Năm"])
    assert listed(2024) == ([], ["Nguyễn Văn Đầu Năm"])


def test_reversals_and_refunds_lower_the_total():
    refunded = factories.donor("Bùi Thị Hoàn")
    gift = give(refunded, 60_000_000)
    donations.reverse_donation(gift.id, SYSTEM, reason="Hoàn trả một phần theo đề nghị",
                               amount=10_000_001)
    mistyped = factories.organization("Công ty TNHH Nhập Nhầm", tax_code="0200000003")
    wrong = give(mistyped, 500_000_000)
    donations.reverse_donation(wrong.id, SYSTEM, reason="Nhập sai số tiền")
    give(mistyped, 50_000_000)

    clist = commendation.build_list(2023)
    assert [(e.name, e.amount, e.donation_count) for e in clist.organizations] == [
        ("Công ty TNHH Nhập Nhầm", 50_000_000, 2)]
    assert clist.individuals == []
    assert {e.name: e.amount for e in clist.near_threshold} == {"Bùi Thị Hoàn": 49_999_999}


def test_a_correction_made_next_year_lowers_the_year_of_the_gift():
    """The list is reviewed early the next year: a 2023 typo corrected in February 2024
    fixes the 2023 list (and takes nothing off 2024)."""
    donor = factories.donor("Đỗ Minh Quân")
    gift = give(donor, 90_000_000, vn(2023, 11, 20))
    give(donor, 55_000_000, vn(2024, 3, 1))
    original = donations.lock_donation(gift.id)
    donations.reverse_in_tx(original, SYSTEM, reason="Nhập sai", amount=45_000_000,
                            received_at=vn(2024, 2, 10))
    db.session.commit()
    assert {e.name: e.amount for e in commendation.build_list(2023).near_threshold} == {
        "Đỗ Minh Quân": 45_000_000}
    assert [e.amount for e in commendation.build_list(2024).individuals] == [55_000_000]
    _, rows, total = commendation.donations_behind(2023, donor.id)
    assert total == 45_000_000 and [d.signed_amount for d in rows] == [90_000_000, -45_000_000]
    _, rows, total = commendation.donations_behind(2024, donor.id)
    assert total == 55_000_000 and len(rows) == 1


def test_in_kind_counts_at_its_valuation_and_only_counted_statuses_count():
    donor = factories.organization("Công ty Cổ phần Xe Lăn", tax_code="0200000004")
    give(donor, 30_000_000, channel=Channel.IN_KIND.value,
         in_kind_description="20 xe lăn cho trẻ khuyết tật vận động")
    give(donor, 20_000_000, channel=Channel.CASH.value)
    give(factories.donor("Chưa Xác Nhận"), 80_000_000, confirm=False)  # pending: not money yet
    assert listed() == (["Công ty Cổ phần Xe Lăn"], [])


def test_two_merged_records_count_as_one():
    survivor = factories.donor("Hoàng Thị Lan", phone="0912345678")
    duplicate = factories.donor("Hoàng Thị  Lan", email="lan@example.com")
    give(survivor, 30_000_000)
    give(duplicate, 20_000_000)
    assert listed() == ([], [])
    donors.merge_donors(survivor.id, duplicate.id, SYSTEM)
    clist = commendation.build_list(2023)
    assert [(e.donor_id, e.amount, e.donation_count) for e in clist.individuals] == [
        (survivor.id, 50_000_000, 2)]


def test_a_merged_away_record_never_lists_even_with_donations_left():
    # Defensive: merge_donors moves every donation, but a stray one must not list a
    # record that no longer exists for staff.
    survivor = factories.donor("Vũ Đức Thắng")
    stray = factories.donor("Vũ Đức Thắng (trùng)")
    give(stray, 70_000_000)
    stray.merged_into_id = survivor.id
    db.session.commit()
    assert listed() == ([], [])


def test_organizations_and_individuals_never_mix_and_are_ordered():
    for name, amount in [("Công ty TNHH Bình Minh", 60_000_000), ("Công ty TNHH An Phú", 60_000_000),
                         ("Công ty TNHH Đại Dương", 90_000_000), ("Công ty TNHH Âu Lạc", 60_000_000)]:
        give(factories.organization(name), amount)
    for name, amount in [("Nguyễn Văn Bình", 70_000_000), ("Trần Thị An", 70_000_000),
                         ("Lê Văn An", 70_000_000), ("Phạm Thị Đào", 150_000_000)]:
        give(factories.donor(name), amount)
    clist = commendation.build_list(2023)
    assert {e.kind for e in clist.organizations} == {"organization"}
    assert {e.kind for e in clist.individuals} == {"individual"}
    # Amount first; ties in Vietnamese order (An < Âu < Bình; Đ after D).
    assert names(clist.organizations) == [
        "Công ty TNHH Đại Dương", "Công ty TNHH An Phú", "Công ty TNHH Âu Lạc", "Công ty TNHH Bình Minh"]
    # Individuals by given name, then full name: An (Lê < Trần), then Bình.
    assert names(clist.individuals) == ["Phạm Thị Đào", "Lê Văn An", "Trần Thị An", "Nguyễn Văn Bình"]
    assert clist.organizations_total == 270_000_000 and clist.individuals_total == 360_000_000


def test_anonymous_donors_are_listed_only_with_consent():
    give(factories.donor("Ẩn Danh Không Đồng Ý", anonymous=True), 80_000_000)
    give(factories.donor("Ẩn Danh Có Đồng Ý", anonymous=True, public_listing_consent=True), 80_000_000)
    clist = commendation.build_list(2023)
    assert names(clist.individuals) == ["Ẩn Danh Có Đồng Ý"]
    assert names(clist.withheld_anonymous) == ["Ẩn Danh Không Đồng Ý"]
    export = commendation.export_live(2023, "csv")
    assert "Không Đồng Ý" not in export.data.decode("utf-8-sig")


# --------------------------------------------------------------------------- staff decisions


def test_an_excluded_donor_stays_out_of_the_list_and_the_export_and_is_audited():
    kept = factories.organization("Công ty TNHH Ở Lại", tax_code="0200000005")
    declined = factories.organization("Công ty TNHH Từ Chối", tax_code="0200000006")
    give(kept, 70_000_000), give(declined, 90_000_000)
    commendation.exclude_donor(2023, declined.id, "declined", "Gọi điện ngày 5/2", SYSTEM)

    clist = commendation.build_list(2023)
    assert names(clist.organizations) == ["Công ty TNHH Ở Lại"]
    assert [(e.name, e.exclusion.reason_label) for e in clist.excluded] == [
        ("Công ty TNHH Từ Chối", "Từ chối nhận khen thưởng")]
    for fmt in ("csv", "xlsx", "pdf"):
        assert commendation.export_live(2023, fmt).data  # renders
    rows = list(csv.reader(io.StringIO(commendation.export_live(2023, "csv").data.decode("utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == ["Công ty TNHH Ở Lại"]
    # Only for that year.
    give(declined, 90_000_000, vn(2024, 5, 1))
    assert listed(2024) == (["Công ty TNHH Từ Chối"], [])
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "commendation.exclude"))
    assert entry.after["reason"] == "declined" and entry.after["donor_id"] == declined.id

    with pytest.raises(Conflict):
        commendation.exclude_donor(2023, declined.id, "other", "lại", SYSTEM)
    commendation.include_donor(2023, declined.id, SYSTEM)
    assert listed() == (["Công ty TNHH Từ Chối", "Công ty TNHH Ở Lại"], [])


def test_exclusion_needs_a_known_reason_and_a_note_for_other():
    donor = factories.donor()
    with pytest.raises(ValidationFailed):
        commendation.exclude_donor(2023, donor.id, "", None, SYSTEM)
    with pytest.raises(ValidationFailed) as error:
        commendation.exclude_donor(2023, donor.id, "other", "  ", SYSTEM)
    assert error.value.field == "note"
    with pytest.raises(NotFound):
        commendation.exclude_donor(2023, 999999, "declined", None, SYSTEM)


def test_print_override_changes_name_title_and_address_for_that_year_only():
    person = factories.donor("Nguyen Van An", address="Hai Phong")
    give(person, 60_000_000)
    give(person, 60_000_000, vn(2024, 4, 1))
    commendation.set_override(2023, person.id, SYSTEM, name="Nguyễn Văn An", title="Ông",
                              address="Phường Lê Chân, thành phố Hải Phòng")
    entry = commendation.build_list(2023).individuals[0]
    assert (entry.printed_name, entry.address) == ("Ông Nguyễn Văn An", "Phường Lê Chân, thành phố Hải Phòng")
    assert commendation.build_list(2024).individuals[0].printed_name == "Nguyen Van An"
    rows = list(csv.reader(io.StringIO(commendation.export_live(2023, "csv").data.decode("utf-8-sig"))))
    assert rows[1][2:4] == ["Ông Nguyễn Văn An", "Phường Lê Chân, thành phố Hải Phòng"]
    # A title repeated in the name would print "Ông Ông …": refused with a message.
    with pytest.raises(ValidationFailed, match="danh xưng"):
        commendation.set_override(2023, person.id, SYSTEM, name="Ông Nguyễn Văn An", title="Ông")
    # Emptying every field removes the override.
    assert commendation.set_override(2023, person.id, SYSTEM) is None
    assert commendation.build_list(2023).individuals[0].printed_name == "Nguyen Van An"
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("commendation.override%")).order_by(AuditEntry.id)).all()
    assert actions == ["commendation.override", "commendation.override_remove"]


def test_drill_down_shows_the_donations_behind_a_total():
    donor = factories.organization("Công ty Cổ phần Dược phẩm Lạch Tray", tax_code="0200000007")
    first = give(donor, 40_000_000, vn(2023, 2, 1))
    give(donor, 30_000_000, vn(2023, 8, 1))
    give(donor, 9_000_000, vn(2022, 12, 31, 23, 59))  # other year
    donations.reverse_donation(first.id, SYSTEM, reason="Hoàn trả", amount=5_000_000)
    review = commendation.review_donor(2023, donor.id)
    # The reversal is recorded today but belongs to its 2023 gift.
    assert [d.signed_amount for d in review.donations] == [40_000_000, 30_000_000, -5_000_000]
    assert review.total == 65_000_000 == commendation.build_list(2023).organizations[0].amount
    assert review.listed


# --------------------------------------------------------------------------- freezing


def _frozen_fixture():
    org = factories.organization("Công ty TNHH Thép Đình Vũ Xanh", tax_code="0201234567",
                                 address="Khu công nghiệp Đình Vũ, thành phố Hải Phòng")
    person = factories.donor("Trần Thị Thu Hà")
    give(org, 120_000_000), give(person, 52_000_000)
    return org, person


def test_freeze_stores_a_numbered_immutable_submission_with_its_rows():
    org, person = _frozen_fixture()
    director = factories.user("director", email="giamdoc@example.org")
    actor = SYSTEM.__class__.for_user(director)
    submission = commendation.freeze(2023, actor)
    assert submission.number == "DS-2024-01"
    assert (submission.year, submission.threshold, submission.frozen_by_label) == (2023, THRESHOLD, "giamdoc@example.org")
    rows = db.session.scalars(sa.select(CommendationSubmissionRow).order_by(CommendationSubmissionRow.id)).all()
    assert [(r.group_kind, r.position, r.name, r.amount, r.tax_code) for r in rows] == [
        ("organization", 1, "Công ty TNHH Thép Đình Vũ Xanh", 120_000_000, "0201234567"),
        ("individual", 1, "Trần Thị Thu Hà", 52_000_000, None)]
    audit_entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "commendation.freeze"))
    assert audit_entry.actor_id == director.id and audit_entry.after["number"] == "DS-2024-01"
    assert audit_entry.after["pdf_sha256"] == submission.pdf_sha256

    # A second freeze is a new submission with the next number; the first is untouched.
    assert commendation.freeze(2023, SYSTEM).number == "DS-2024-02"
    assert [s.number for s in commendation.submissions_for(2023)] == ["DS-2024-02", "DS-2024-01"]


def test_a_frozen_submission_cannot_be_updated_or_deleted():
    _frozen_fixture()
    submission = commendation.freeze(2023, SYSTEM)
    submission.threshold = 1
    with pytest.raises(RuntimeError, match="frozen"):
        db.session.commit()
    db.session.rollback()
    # Below the ORM, the database refuses it too (triggers from the migration).
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.update(CommendationSubmissionRow).values(amount=1))
    db.session.rollback()
    row = db.session.scalars(sa.select(CommendationSubmissionRow)).first()
    db.session.delete(row)
    with pytest.raises(RuntimeError, match="frozen"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(CommendationSubmission.threshold)) == THRESHOLD


def test_the_frozen_list_never_changes_and_shows_what_differs_today():
    org, person = _frozen_fixture()
    newcomer = factories.donor("Lê Minh Tuấn")
    give(newcomer, 45_000_000)
    submission = commendation.freeze(2023, SYSTEM)
    frozen_exports = {fmt: commendation.export_submission(submission, fmt).data for fmt in ("csv", "xlsx", "pdf")}
    assert commendation.diff_submission(submission).is_empty

    # Afterwards: a late-recorded 2023 gift, a refund, a new donor over the line, an
    # exclusion, a print override and a new threshold in settings.
    give(org, 5_000_000, vn(2023, 12, 30))
    gift = give(person, 1_000_000, vn(2023, 7, 7))
    donations.reverse_donation(gift.id, SYSTEM, reason="Hoàn", amount=1_000_000)
    give(newcomer, 10_000_000, vn(2023, 12, 1))
    commendation.exclude_donor(2023, person.id, "declined", None, SYSTEM)
    commendation.set_override(2023, org.id, SYSTEM, name="Công ty TNHH MTV Thép Đình Vũ Xanh")
    update_settings({"commendation_threshold": 40_000_000, "signatory_name": "Người Khác"}, SYSTEM)
    db.session.expire_all()

    submission = commendation.get_submission_by_number("DS-2024-01")
    for fmt, data in frozen_exports.items():
        exported = commendation.export_submission(submission, fmt)
        assert exported.filename == f"danh-sach-khen-thuong-2023-DS-2024-01.{fmt}"
        if fmt == "xlsx":  # the zip stores its own timestamps: compare what it shows
            assert xlsx_cells(exported.data) == xlsx_cells(data)
            assert "Công ty TNHH Thép Đình Vũ Xanh" in xlsx_cells(data)
        else:
            assert exported.data == data, fmt
    assert hashlib.sha256(frozen_exports["pdf"]).hexdigest() == submission.pdf_sha256

    diff = commendation.diff_submission(submission)
    assert [(e.name, e.amount) for e in diff.added] == [("Lê Minh Tuấn", 55_000_000)]
    assert [(r.row.name, r.row.amount, r.current_amount, r.why) for r in diff.removed] == [
        ("Trần Thị Thu Hà", 52_000_000, 52_000_000, "Đã loại khỏi danh sách: Từ chối nhận khen thưởng")]
    assert [(c.row.name, c.row.amount, c.entry.amount, c.difference) for c in diff.changed] == [
        ("Công ty TNHH Thép Đình Vũ Xanh", 120_000_000, 125_000_000, 5_000_000)]
    assert [(c.row.name, c.entry.printed_name) for c in diff.reprinted] == [
        ("Công ty TNHH Thép Đình Vũ Xanh", "Công ty TNHH MTV Thép Đình Vũ Xanh")]


def test_freeze_refuses_a_year_that_has_not_ended():
    from app.timeutil import local_today

    with pytest.raises(Conflict, match="chưa kết thúc"):
        commendation.freeze(local_today().year, SYSTEM)
    with pytest.raises(NotFound):
        commendation.freeze(1999, SYSTEM)
    assert db.session.scalar(sa.select(sa.func.count(CommendationSubmission.id))) == 0


def test_submission_diff_names_a_merge():
    a, b = factories.donor("Mai Thị Hạnh"), factories.donor("Mai Thị Hạnh (2)")
    give(a, 60_000_000), give(b, 60_000_000)
    submission = commendation.freeze(2023, SYSTEM)
    donors.merge_donors(a.id, b.id, SYSTEM)
    diff = commendation.diff_submission(submission)
    assert [(r.row.donor_id, r.why) for r in diff.removed] == [(b.id, "Hồ sơ đã được gộp vào “Mai Thị Hạnh”")]
    assert [(c.row.donor_id, c.entry.amount) for c in diff.changed] == [(a.id, 120_000_000)]


# --------------------------------------------------------------------------- CLI


def test_cli_exports_the_live_list_in_each_format(runner, tmp_path):
    _frozen_fixture()
    give(factories.donor("Hoàng Thị Lan"), 49_500_000)
    for fmt in ("xlsx", "csv", "pdf"):
        out = tmp_path / f"list.{fmt}"
        result = runner.invoke(args=["commendation", "export", "--year", "2023", "--format", fmt,
                                     "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert "1 organizations, 1 individuals" in result.output
        assert out.read_bytes()[:4] in (b"PK\x03\x04", b"\xef\xbb\xbfS", b"%PDF")
    out = tmp_path / "lower.csv"
    result = runner.invoke(args=["commendation", "export", "--year", "2023", "--format", "csv",
                                 "--output", str(out), "--threshold", "45000000"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == ["Công ty TNHH Thép Đình Vũ Xanh", "Trần Thị Thu Hà", "Hoàng Thị Lan"]


def test_cli_exports_a_frozen_submission_exactly(runner, tmp_path):
    org, _ = _frozen_fixture()
    submission = commendation.freeze(2023, SYSTEM)
    give(org, 10_000_000)
    out = tmp_path / "frozen.pdf"
    result = runner.invoke(args=["commendation", "export", "--year", "2023", "--format", "pdf",
                                 "--output", str(out), "--submission", "DS-2024-01"])
    assert result.exit_code == 0, result.output
    assert "frozen submission DS-2024-01" in result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == submission.pdf_sha256
    wb = load_workbook(io.BytesIO(commendation.export_submission(submission, "xlsx").data))
    assert 120_000_000 in [c.value for row in wb.active.iter_rows() for c in row]


@pytest.mark.parametrize("args, message", [
    (["--year", "2023", "--format", "doc"], "Invalid value for '--format'"),
    (["--year", "1990", "--format", "csv"], "Không có danh sách khen thưởng cho năm 1990"),
    (["--year", "2023", "--format", "csv", "--threshold", "0"], "Invalid value for '--threshold'"),
    (["--year", "2023", "--format", "csv", "--submission", "DS-2024-09"], "Không tìm thấy danh sách đã chốt"),
    (["--year", "2022", "--format", "csv", "--submission", "DS-2024-01"], "is the list of 2023, not 2022"),
    (["--year", "2023", "--format", "csv", "--submission", "DS-2024-01", "--threshold", "1"],
     "--threshold cannot be used with --submission"),
])
def test_cli_refuses_bad_input(runner, tmp_path, args, message):
    _frozen_fixture()
    commendation.freeze(2023, SYSTEM)
    out = tmp_path / "x.csv"
    result = runner.invoke(args=["commendation", "export", *args, "--output", str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()


def test_submission_pdf_is_reproducible_from_stored_rows():
    _frozen_fixture()
    submission = commendation.freeze(2023, SYSTEM)
    document = commendation.submission_document(submission)
    assert document.submission_number == "DS-2024-01"
    assert document.proposing_body == get_settings().operator_name.upper()
    assert hashlib.sha256(render_pdf(document)).hexdigest() == submission.pdf_sha256


def test_donor_merge_between_records_of_different_years_is_by_year():
    # A merged donor's 2022 gift stays in 2022 after the move.
    a, b = factories.donor("Cao Minh Đức"), factories.donor("Cao Minh Đức (cũ)")
    give(a, 30_000_000, vn(2023, 3, 3))
    give(b, 30_000_000, vn(2022, 3, 3))
    donors.merge_donors(a.id, b.id, SYSTEM)
    assert listed(2023) == ([], []) and listed(2022) == ([], [])
    give(a, 20_000_000, vn(2023, 1, 1, 0, 0) + timedelta(minutes=1))
    assert listed(2023) == ([], ["Cao Minh Đức"])
    assert db.session.get(Donor, b.id).merged_into_id == a.id


def test_an_exclusion_follows_its_donor_into_a_merge():
    survivor, declined = factories.donor("Lý Văn Thành"), factories.donor("Lý Văn Thành (cũ)")
    give(survivor, 40_000_000), give(declined, 40_000_000)
    commendation.exclude_donor(2023, declined.id, "declined", None, SYSTEM)
    donors.merge_donors(survivor.id, declined.id, SYSTEM)
    clist = commendation.build_list(2023)
    assert clist.individuals == []
    assert [(e.donor_id, e.amount, e.exclusion.donor_id) for e in clist.excluded] == [
        (survivor.id, 80_000_000, declined.id)]
    assert commendation.review_donor(2023, survivor.id).status == "Đã loại: Từ chối nhận khen thưởng"
    with pytest.raises(Conflict):
        commendation.exclude_donor(2023, survivor.id, "declined", None, SYSTEM)
    commendation.include_donor(2023, survivor.id, SYSTEM)
    assert listed() == ([], ["Lý Văn Thành"])


def test_a_correction_recorded_this_year_for_last_years_gift_does_not_lower_this_year():
    donor = factories.organization("Công ty TNHH Hoàn Trả Muộn", tax_code="0200000008")
    old_gift = give(donor, 60_000_000, vn(2022, 12, 15))
    give(donor, 50_000_000, vn(2023, 3, 1))
    original = donations.lock_donation(old_gift.id)
    donations.reverse_in_tx(original, SYSTEM, reason="Hoàn trả", amount=20_000_000,
                            received_at=vn(2023, 1, 10))
    db.session.commit()
    # The 2023 rows alone net 30,000,000 (under the near-threshold floor): the correction
    # belongs to 2022, so 2023 keeps its 50,000,000 and lists.
    assert [(e.name, e.amount, e.donation_count) for e in commendation.build_list(2023).organizations] == [
        ("Công ty TNHH Hoàn Trả Muộn", 50_000_000, 1)]
    assert commendation.donor_totals(2023, [donor.id]) == {donor.id: 50_000_000}
    assert {e.name: e.amount for e in commendation.build_list(2022).near_threshold} == {
        "Công ty TNHH Hoàn Trả Muộn": 40_000_000}
    assert commendation.review_donor(2022, donor.id).total == 40_000_000


def test_a_title_is_never_printed_twice_after_the_record_is_renamed():
    person = factories.donor("Nguyễn Văn An")
    give(person, 60_000_000)
    commendation.set_override(2023, person.id, SYSTEM, title="Ông")
    person.name = "Ông Nguyễn Văn An"
    db.session.commit()
    rows = list(csv.reader(io.StringIO(commendation.export_live(2023, "csv").data.decode("utf-8-sig"))))
    assert rows[1][2] == "Ông Nguyễn Văn An"
