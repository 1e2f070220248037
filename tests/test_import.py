"""Bulk import: validation with row numbers, nothing written on errors, idempotency,
donor matching rules, receipts numbered in one counter update per chunk, XLSX, upload."""
import io

import sqlalchemy as sa
from openpyxl import Workbook

from app.extensions import db
from app.models import AuditEntry, Donation, Donor, Receipt, ReceiptSequence, Role
from app.services.donations import importer
from tests import factories

HEADER = "received_at,donor_kind,donor_name,tax_code,email,phone,address,amount_vnd,channel,appeal,programme,reference,note\n"


def csv_bytes(*lines, bom=True) -> bytes:
    return (("\ufeff" if bom else "") + HEADER + "\n".join(lines) + "\n").encode()


GOOD = [
    "2024-06-01 09:30,organization,Công ty TNHH Thép Đình Vũ,0201234567,,,Hải Phòng,50.000.000,bank_transfer,,heart,UNC-1,",
    "2024-06-02,tập thể,CTY TNHH THÉP ĐÌNH VŨ,,,,,\"5,000,000 đ\",bank_transfer,,,UNC-2,",
    "2024-06-03 10:00,cá nhân,Nguyễn Văn An,,an@example.com,0912345678,,500000,cash,,,,Phiếu thu",
    "2024-06-04 10:00,individual,Nguyễn Văn An,,,+84 912 345 678,,200.000,cash,,,,",
    "2024-06-05 10:00,individual,Nguyễn Văn An,,,,,100.000,cash,,,,",
    "2024-06-06 10:00,individual,Trần Thị Bình,,,,,1.000.000,in_kind,,gifts,,Sách vở",
]


def write_file(tmp_path, data: bytes, name="import.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_cli_import_matches_donors_and_is_idempotent(runner, tmp_path):
    existing = factories.donor("Nguyễn Văn An", phone="0912345678")  # an existing person with that phone
    path = write_file(tmp_path, csv_bytes(*GOOD))
    result = runner.invoke(args=["donations", "import", path])
    assert result.exit_code == 0, result.output
    assert "Imported 6 donations" in result.output
    orgs = db.session.scalars(sa.select(Donor).where(Donor.kind == "organization")).all()
    assert len(orgs) == 1 and orgs[0].tax_code == "0201234567"  # matched by normalised name, no MST clash
    by_donor = dict(db.session.execute(sa.select(Donation.reference, Donation.donor_id)
                                       .where(Donation.reference.like("UNC-%"))).all())
    assert by_donor["UNC-1"] == by_donor["UNC-2"] == orgs[0].id
    an_rows = db.session.execute(sa.select(Donation.amount, Donation.donor_id).join(Donor)
                                 .where(Donor.search_text.like("nguyen van an%")).order_by(Donation.amount)).all()
    # 500.000 (same phone) and 200.000 (same phone, +84 form) go to the existing An; the
    # 100.000 row has no email/phone: a separate donor, reported as a possible duplicate.
    assert [(a, d == existing.id) for a, d in an_rows] == [(100_000, False), (200_000, True), (500_000, True)]
    assert "Possible duplicate individuals" in result.output and "row 6: Nguyễn Văn An" in result.output
    in_kind = db.session.scalars(sa.select(Donation).where(Donation.channel == "in_kind")).one()
    assert in_kind.in_kind_description == "Sách vở" and in_kind.programme.code == "gifts"
    assert count(Receipt) == 6 and db.session.scalar(sa.select(ReceiptSequence.last_number)) == 6
    assert count(Donation) == 6
    heart = db.session.scalars(sa.select(Donation).where(Donation.reference == "UNC-1")).one()
    assert heart.status == "confirmed" and heart.received_at.hour == 2  # 09:30 in Vietnam
    # Exactly one audit entry for the import, with the counts and the file's hash.
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("donation.%"))).all()
    assert [e.action for e in entries] == ["donation.import"]
    assert entries[0].after["imported"] == 6 and len(entries[0].after["sha256"]) == 64

    again = runner.invoke(args=["donations", "import", path])
    assert again.exit_code == 0 and "Imported 0 donations" in again.output
    assert "already imported (same reference, or same content for rows without one): 6" in again.output
    assert count(Donation) == 6 and count(Receipt) == 6 and count(Donor) == 4
    # Rows without a reference are recognised by content, even from a re-saved file.
    resaved = write_file(tmp_path, csv_bytes(*reversed(GOOD), bom=False), "resaved.csv")
    assert "Imported 0 donations" in runner.invoke(args=["donations", "import", resaved]).output
    assert count(Donation) == 6


def test_identical_rows_without_reference_are_both_kept(runner, tmp_path):
    row = "2024-06-05 10:00,individual,Lê Văn Cường,,,0901111222,,100.000,cash,,,,"
    path = write_file(tmp_path, csv_bytes(row, row))
    assert runner.invoke(args=["donations", "import", path]).exit_code == 0
    assert count(Donation) == 2 and count(Donor) == 1


def test_broken_file_is_rejected_with_row_numbers_and_nothing_written(runner, tmp_path):
    factories.appeal("thang-6")
    lines = [
        GOOD[0],
        "2024-13-01,individual,A,,,,,1000,cash,,,,",              # row 3: impossible date
        "2024-06-01,someone,,12345,bad-email,0123,,-5,cheque,khong-co,xyz,,",  # row 4: many
        "2024-06-01 10:00,individual,B,,,,,1.5,cash,thang-6,,UNC-1,",           # row 5: fraction + dup ref
        "2099-01-01,individual,C,,,,,1000,in_kind,,,,",             # row 6: future + no description
    ]
    path = write_file(tmp_path, csv_bytes(*lines))
    result = runner.invoke(args=["donations", "import", path])
    assert result.exit_code != 0 and "nothing was written" in result.output
    out = result.output
    for expected in ("Dòng 3, cột received_at", "Dòng 4, cột donor_kind", "Dòng 4, cột donor_name",
                     "Dòng 4, cột tax_code", "Dòng 4, cột email", "Dòng 4, cột phone", "Dòng 4, cột amount_vnd",
                     "Dòng 4, cột channel", "Dòng 4, cột appeal", "Dòng 4, cột programme",
                     "Dòng 5, cột amount_vnd", "Dòng 6, cột received_at", "Dòng 6, cột note"):
        assert expected in out, expected
    assert count(Donation) == 0 and count(Donor) == 0 and count(Receipt) == 0
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "donation.import")) is None
    skipped = runner.invoke(args=["donations", "import", path, "--skip-invalid", "--no-receipts"])
    assert skipped.exit_code == 0 and "Imported 1 donations" in skipped.output
    assert count(Donation) == 1 and count(Receipt) == 0


def test_missing_columns_and_bad_encoding_are_reported(runner, tmp_path):
    path = write_file(tmp_path, b"received_at,donor_name\n2024-01-01,A\n")
    result = runner.invoke(args=["donations", "import", path])
    assert result.exit_code != 0 and "Thiếu cột bắt buộc: donor_kind, amount_vnd, channel" in result.output
    latin = write_file(tmp_path, (HEADER + "2024-06-01,individual,Nguy\xe1n,,,,,1000,cash,,,,\n").encode("latin-1"), "x.csv")
    assert "UTF-8" in runner.invoke(args=["donations", "import", latin]).output


def test_individuals_are_never_matched_on_name_but_organizations_are_unless_mst_differs(runner, tmp_path):
    org = factories.organization("Công ty Cổ phần Nhựa Kiến An", tax_code="0200234561")
    factories.donor("Phạm Thị Hoa", email="hoa@example.com")
    path = write_file(tmp_path, csv_bytes(
        "2024-01-02,organization,CTCP Nhựa Kiến An,,,,,1000000,bank_transfer,,,R1,",
        "2024-01-03,organization,Công ty CP Nhựa Kiến An,0209999999,,,,1000000,bank_transfer,,,R2,",
        "2024-01-04,individual,Phạm Thị Hoa,,,,,1000000,cash,,,R3,",
        "2024-01-05,individual,Pham Thi Hoa,,HOA@example.com,,,1000000,cash,,,R4,"))
    result = runner.invoke(args=["donations", "import", path])
    assert result.exit_code == 0, result.output
    donor_of = dict(db.session.execute(sa.select(Donation.reference, Donation.donor_id)).all())
    assert donor_of["R1"] == org.id                     # same normalised name, nothing contradicts
    assert donor_of["R2"] != org.id                     # different MST: a different organization
    hoa = db.session.scalar(sa.select(Donor.id).where(Donor.email == "hoa@example.com"))
    assert donor_of["R4"] == hoa and donor_of["R3"] != hoa  # email matches; the name alone does not
    assert "row 4: Phạm Thị Hoa" in result.output


def test_xlsx_import_with_numeric_and_date_cells(runner, tmp_path):
    from datetime import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([datetime(2024, 12, 31, 23, 30), "individual", "Đỗ Minh Khoa", None, None, 912345678, None,
                  2_000_000, "bank_transfer", None, None, "X-1", None])
    sheet.append(["2024-05-05", "individual", "Ngô Thị Hạnh", None, None, None, None, 1500.5, "cash", None, None, None, None])
    out = io.BytesIO()
    workbook.save(out)
    path = write_file(tmp_path, out.getvalue(), "import.xlsx")
    result = runner.invoke(args=["donations", "import", path])
    assert result.exit_code != 0 and "Dòng 3, cột amount_vnd" in result.output
    result = runner.invoke(args=["donations", "import", path, "--skip-invalid"])
    assert result.exit_code == 0, result.output
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.amount == 2_000_000 and donation.donor.phone == "0912345678"
    from app.timeutil import local_year
    assert local_year(donation.received_at) == 2024


def test_receipts_continue_the_years_sequence(runner, tmp_path):
    first = factories.donation()  # takes number 1 through the normal path
    path = write_file(tmp_path, csv_bytes(*GOOD[:3]))
    assert runner.invoke(args=["donations", "import", path]).exit_code == 0
    sequences = db.session.scalars(sa.select(Receipt.sequence).order_by(Receipt.sequence)).all()
    assert sequences == [1, 2, 3, 4]
    numbers = db.session.scalars(sa.select(Receipt.number)).all()
    assert len(set(numbers)) == 4
    assert db.session.scalar(sa.select(ReceiptSequence.last_number)) == 4
    del first


def test_plan_writes_nothing_and_chunks_write_in_one_transaction(app):
    data = csv_bytes(*[f"2024-02-01 08:00,individual,Người {n},,,09{n:08d},,{1000 + n},cash,,,C-{n},"
                       for n in range(2500)])
    plan = importer.plan_import(data, "big.csv")
    assert plan.ok and len(plan.rows) == 2500 and count(Donation) == 0
    result = importer.execute_plan(plan, factories.SYSTEM)
    assert result.donations == 2500 and count(Donation) == 2500 and count(Donor) == 2500
    assert db.session.scalar(sa.select(ReceiptSequence.last_number)) == 2500
    total = db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted()))
    assert total == sum(1000 + n for n in range(2500))


def test_upload_preview_then_confirm(client, login_as, tmp_path, app):
    app.config["IMPORT_FOLDER"] = str(tmp_path)
    try:
        login_as(Role.ACCOUNTANT)
        response = client.post("/staff/donations/import", data={"file": (io.BytesIO(csv_bytes(*GOOD)), "sao-ke.csv")},
                               content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "Xác nhận nhập 6 khoản" in page and "Có thể trùng" in page
        assert count(Donation) == 0  # the preview writes nothing
        token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/staff/donations/import/confirm", data={"token": token, "file_name": "sao-ke.csv"})
        assert response.status_code == 302 and count(Donation) == 6
        # The import ran as a background job (inline here: QUEUE_URL=immediate); its page
        # shows the outcome and links to the full report.
        assert "/staff/jobs/" in response.headers["Location"]
        job_page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Hoàn thành" in job_page and "Đã nhập: <strong>6</strong>" in job_page
        report = client.get(f"/staff/donations/import/report/{token}").get_data(as_text=True)
        assert "Đã nhập: <strong>6</strong>" in report and "Nguyễn Văn An" in report
        broken = client.post("/staff/donations/import", data={"file": (io.BytesIO(csv_bytes("2024-01-01,x,,,,,,0,cash,,,,")), "b.csv")},
                             content_type="multipart/form-data").get_data(as_text=True)
        assert "Dòng 2, cột donor_kind" in broken and "Dòng 2, cột amount_vnd" in broken
    finally:
        app.config.pop("IMPORT_FOLDER")


def test_templates_have_vietnamese_headings_and_import_as_they_are(client, login_as):
    """Issue 12, item 31: the downloadable templates import unchanged (Vietnamese
    headings, names for programmes), and English headings still work."""
    login_as(Role.ACCOUNTANT)
    page = client.get("/staff/donations/import").get_data(as_text=True)
    assert "/staff/donations/import/template.xlsx" in page and "/staff/donations/import/template.csv" in page
    csv_file = client.get("/staff/donations/import/template.csv")
    assert csv_file.status_code == 200 and "attachment" in csv_file.headers["Content-Disposition"]
    assert csv_file.data.decode("utf-8-sig").startswith("Thời điểm nhận,Loại nhà hảo tâm,Tên nhà hảo tâm")
    xlsx_file = client.get("/staff/donations/import/template.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx_file.data)).worksheets[0]
    assert sheet["H1"].value == "Số tiền (đồng)" and sheet["D2"].value == "0200000000"
    for data, name in ((csv_file.data, "mau.csv"), (xlsx_file.data, "mau.xlsx")):
        plan = importer.plan_import(data, name)
        assert plan.ok and len(plan.rows) == 2, [str(e) for e in plan.errors]
        assert plan.rows[0].programme_id == factories.programme("heart").id
    assert client.get("/staff/donations/import/template.pdf").status_code == 404
