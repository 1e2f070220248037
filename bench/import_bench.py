"""Import benchmark: generate N donation rows (default 100,000) as a CSV and import them
with the bulk path (`flask donations import`'s service) on SQLite and on PostgreSQL, then
run a sample (default 2,000 rows) through the naive row-by-row path (create_donor +
record_donation, one transaction per row) on the same database, and print rows/s and the
ratio.

    .venv/bin/python bench/import_bench.py [--rows N] [--naive-rows M] [--no-postgres]

PostgreSQL: BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
a throw-away database is created on that server and dropped at the end.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Minh", "Quang", "Thu", "Đức", "Thanh", "Hồng", "Ngọc", "Xuân", "Hữu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hương", "Khoa", "Lan", "Long", "Mai", "Nam",
         "Ngọc", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vinh", "Yến"]
ORG_FORMS = ["Công ty TNHH", "Cty TNHH", "Công ty Cổ phần", "CTCP", "Công ty TNHH MTV"]
ORG_WORDS = ["Thép", "Cảng", "Dệt may", "Logistics", "Xi măng", "Thực phẩm", "Dược phẩm", "Điện tử",
             "Vận tải", "Xây dựng", "Du lịch", "Nhựa", "Thủy sản", "Bao bì"]
PLACES = ["Hải Phòng", "Đình Vũ", "Lạch Tray", "Cát Bà", "Đồ Sơn", "Kiến An", "Tiên Lãng", "Vĩnh Bảo",
          "An Dương", "Thủy Nguyên", "Hồng Bàng", "Lê Chân", "Ngô Quyền", "Hải An"]
HEADER = ["received_at", "donor_kind", "donor_name", "tax_code", "email", "phone", "address",
          "amount_vnd", "channel", "appeal", "programme", "reference", "note"]


def generate(rows: int, seed: int, ref_prefix: str) -> bytes:
    """A realistic file: repeat donors (organizations with MST, individuals with a phone or
    an email, some with neither), mixed amount formats, 70% of rows with a bank reference."""
    rng = random.Random(seed)
    orgs = []
    for i in range(max(10, rows // 60)):
        name = f"{rng.choice(ORG_FORMS)} {rng.choice(ORG_WORDS)} {rng.choice(PLACES)} {i + 1}"
        orgs.append(("organization", name, f"02{seed % 10}{i:07d}", f"ketoan{i}@dn{seed}.example.vn",
                     "", f"Số {rng.randint(1, 400)} {rng.choice(PLACES)}, Hải Phòng"))
    people = []
    for i in range(max(20, rows // 6)):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        phone = f"09{seed % 10}{i:07d}" if rng.random() < 0.7 else ""
        email = f"nhahaotam{i}.{seed}@example.com" if rng.random() < 0.4 else ""
        people.append(("cá nhân" if i % 3 == 0 else "individual", name, "", email, phone,
                       f"phường {rng.choice(PLACES)}"))
    start = datetime(2021, 1, 1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(rows):
        kind, name, tax, email, phone, address = rng.choice(orgs) if rng.random() < 0.25 else rng.choice(people)
        when = start + timedelta(minutes=rng.randrange(0, 5 * 365 * 24 * 60))
        amount = rng.choice([100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000])
        amount_text = rng.choice([str(amount), f"{amount:,}".replace(",", "."), f"{amount:,} đ"])
        channel = rng.choices(["bank_transfer", "cash", "card", "in_kind"], weights=[80, 15, 4, 1])[0]
        note = "Sách vở và quần áo" if channel == "in_kind" else rng.choice(["", "Ủng hộ quỹ", "Tết yêu thương"])
        writer.writerow([
            when.strftime("%Y-%m-%d %H:%M" if n % 4 else "%Y-%m-%d"), kind, name, tax, email, phone, address,
            amount_text, channel, rng.choice(["", "", "bench-appeal"]),
            rng.choice(["", "heart", "scholarship", "gifts"]),
            f"{ref_prefix}-{n:07d}" if rng.random() < 0.7 else "", note])
    return ("\ufeff" + out.getvalue()).encode()


def make(url: str):
    from app import create_app
    from config import TestingConfig

    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    return create_app(config)


def prepare(app):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Appeal
    from app.services.setup import ensure_reference_data

    upgrade()
    ensure_reference_data()
    db.session.add(Appeal(slug="bench-appeal", title="Chiến dịch thử tải", status="open"))
    db.session.commit()


def bulk(data: bytes) -> tuple[float, int]:
    from app.services.donations import importer
    from app.services.audit import Actor

    started = time.perf_counter()
    plan, result = importer.import_file(data, "bench.csv", Actor.system("bench"))
    elapsed = time.perf_counter() - started
    assert result is not None, plan.errors[:5]
    return elapsed, result.donations


def naive(data: bytes) -> tuple[float, int]:
    """Row by row: validate with the same reader, then one create_donor + record_donation
    (its own transaction, receipt and audit entries) per row."""
    from app.extensions import db
    from app.services.donations import ledger as donations
    from app.services.donations import importer
    from app.services.audit import Actor
    from app.services.donor_profiles import create_donor

    actor = Actor.system("bench-naive")
    started = time.perf_counter()
    plan = importer.plan_import(data, "naive.csv")
    created: dict[int, int] = {}
    for r in plan.rows:
        donor_id = r.donor_key
        if donor_id < 0:
            if donor_id not in created:
                donor = create_donor(actor, kind=r.kind, name=r.name, tax_code=r.tax_code, email=r.email,
                                     phone=r.phone, address=r.address, commit=False)
                created[donor_id] = donor.id
            donor_id = created[donor_id]
        donations.record_donation(actor, donor_id=donor_id, amount=r.amount, channel=r.channel,
                                  received_at=r.received_at, programme_id=r.programme_id,
                                  appeal_id=r.appeal_id, reference=r.reference, note=r.note,
                                  in_kind_description=r.note if r.channel == "in_kind" else None)
    db.session.commit()
    return time.perf_counter() - started, len(plan.rows)


def run_on(label: str, url: str, data: bytes, naive_data: bytes) -> dict:
    from app.extensions import db
    from app.models import Donation, Receipt

    app = make(url)
    with app.app_context():
        prepare(app)
        seconds, rows = bulk(data)
        count = db.session.scalar(sa.select(sa.func.count(Donation.id)))
        receipts = db.session.scalar(sa.select(sa.func.count(Receipt.id)))
        again, _ = bulk_again(data)
        naive_seconds, naive_rows = naive(naive_data)
        db.session.remove()
        db.engine.dispose()
    result = dict(label=label, rows=rows, seconds=seconds, rate=rows / seconds, donations=count,
                  receipts=receipts, reimport_seconds=again, naive_rows=naive_rows,
                  naive_seconds=naive_seconds, naive_rate=naive_rows / naive_seconds)
    result["ratio"] = result["rate"] / result["naive_rate"]
    print(f"{label:<10} bulk: {rows} rows in {seconds:6.1f} s = {result['rate']:8.0f} rows/s "
          f"({count} donations, {receipts} receipts); re-import adds nothing ({again:.1f} s); "
          f"naive: {naive_rows} rows in {naive_seconds:.1f} s = {result['naive_rate']:.0f} rows/s; "
          f"bulk/naive = {result['ratio']:.0f}x", flush=True)
    return result


def bulk_again(data: bytes) -> tuple[float, int]:
    from app.extensions import db
    from app.models import Donation
    from app.services.donations import importer
    from app.services.audit import Actor

    before = db.session.scalar(sa.select(sa.func.count(Donation.id)))
    started = time.perf_counter()
    plan, result = importer.import_file(data, "bench.csv", Actor.system("bench"))
    assert result is not None and result.donations == 0, "re-import must add nothing"
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == before
    return time.perf_counter() - started, plan.already_imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=2_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "testing")
    t = time.perf_counter()
    data = generate(args.rows, seed=1, ref_prefix="BANK")
    naive_data = generate(args.naive_rows, seed=2, ref_prefix="NAIVE")
    print(f"generated {args.rows} rows ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run_on("SQLite", f"sqlite:///{tmp}/bench.db", data, naive_data))
    if not args.no_postgres:
        raw = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        url = make_url(raw)
        name = f"quy_bench_{uuid.uuid4().hex[:8]}"
        server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with server.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as error:
            print(f"PostgreSQL skipped (cannot connect: {error.orig})")
        else:
            try:
                results.append(run_on("PostgreSQL", url.set(database=name).render_as_string(hide_password=False),
                                      data, naive_data))
            finally:
                with server.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                server.dispose()
    print()
    print("| database | rows | bulk seconds | bulk rows/s | naive rows/s (sample) | bulk / naive |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['label']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | "
              f"{r['naive_rate']:,.0f} ({r['naive_rows']:,} rows) | {r['ratio']:.0f}× |")


if __name__ == "__main__":
    main()
