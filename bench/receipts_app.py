"""Benchmark: receipts and annual statements end to end, through the app and its database.

    .venv/bin/python bench/receipts_app.py                  # demo data + 1 000 extra donors
    .venv/bin/python bench/receipts_app.py --donors 3000    # a bigger year-end
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/quy_bench .venv/bin/python bench/receipts_app.py

`bench/receipts.py` times the renderer alone (plain data in, bytes out). This one times
what staff and cron actually run, on a fresh database (SQLite in a temporary folder unless
DATABASE_URL names an empty PostgreSQL database), with the demo data of `make run` plus
`--donors` synthetic donors with three gifts each in 2024:

1. `flask --app wsgi receipts annual --year 2024` over the demo data alone (its 2024 donors);
2. the same over the demo data plus the synthetic donors (thousands of statements);
3. single receipts as the staff download and the mail outbox make them: load a `Receipt`
   from the database, resolve it (`receipt_documents.receipt_data`) and render it.

Each figure is the best of `--rounds` rounds; the renderer (fonts parsed once per process)
is built before timing, as it is in a running server.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("APP_ENV", "development")


def build_app(database_url: str):
    from app import create_app
    from config import DevelopmentConfig

    config = type("BenchConfig", (DevelopmentConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "DEBUG": False,
        "MAIL_SEND_AFTER_COMMIT": "off", "SQLALCHEMY_ECHO": False})
    return create_app(config)


def add_synthetic_year(n_donors: int, seed: int = 2024) -> int:
    """n_donors individuals and organisations, three confirmed 2024 gifts each, receipted."""
    from app.extensions import db
    from app.models import Channel, Donation, DonationStatus, Donor, DonorKind, Programme
    from app.services.audit import Actor
    from app.services.receipts.issuing import allocate_receipt
    from app.timeutil import local_to_utc

    rng = random.Random(seed)
    actor = Actor.system("bench")
    programmes = list(db.session.scalars(__import__("sqlalchemy").select(Programme)))
    families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
    given = ["Văn An", "Thị Bình", "Đức Cường", "Minh Dũng", "Thu Hà", "Quốc Khánh", "Thị Lan"]
    plan = []
    for i in range(n_donors):
        organization = i % 5 == 0
        donor = Donor(
            kind=(DonorKind.ORGANIZATION if organization else DonorKind.INDIVIDUAL).value,
            name=(f"Công ty TNHH Thương mại Dịch vụ Hải Phòng số {i}" if organization
                  else f"{rng.choice(families)} {rng.choice(given)} {i}"),
            tax_code=f"02{i:08d}" if organization else None,
            address=f"Số {rng.randint(1, 300)} đường Lạch Tray, phường Ngô Quyền, thành phố Hải Phòng")
        db.session.add(donor)
        for _ in range(3):
            plan.append((donor, local_to_utc(datetime(2024, 1, 2) + timedelta(
                minutes=rng.randrange(360 * 24 * 60)))))
    db.session.flush()
    plan.sort(key=lambda item: item[1])
    for donor, when in plan:
        donation = Donation(donor_id=donor.id, programme=rng.choice(programmes),
                            amount=rng.choice([200_000, 500_000, 1_000_000, 5_000_000]),
                            channel=Channel.BANK_TRANSFER.value, status=DonationStatus.CONFIRMED.value,
                            received_at=when, confirmed_at=when)
        db.session.add(donation)
        db.session.flush()
        allocate_receipt(donation, actor, issued_at=when, notify=False)
    db.session.commit()
    return len(plan)


def best_of(rounds: int, run) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donors", type=int, default=1000, help="synthetic donors added to the demo data")
    parser.add_argument("--receipts", type=int, default=500, help="single receipts to render")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-receipts-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    app = build_app(database_url)
    try:
        with app.app_context():
            from app.extensions import db
            from app.models import Receipt
            from app.demo import donations as demo
            from app.services.receipts import documents as receipt_documents

            upgrade()
            from app.models import Donation

            if db.session.scalar(sa.select(sa.func.count()).select_from(Donation)):
                raise SystemExit("DATABASE_URL must name an empty, throw-away database.")
            demo.seed_demo()
            receipt_documents.renderer_for()  # fonts parsed once, as in a running server
            print(f"database: {db.engine.dialect.name}; Python {platform.python_version()}; "
                  f"{os.cpu_count()} CPUs (shared)")

            def annual(label: str) -> None:
                holder = {}

                def run():
                    out = tmp / f"annual-{label}-{time.perf_counter_ns()}"
                    holder["result"] = receipt_documents.write_annual_statements(2024, out)
                    shutil.rmtree(out)

                seconds = best_of(args.rounds, run)
                n = holder["result"].written
                print(f"annual 2024, {label}: {n} statements in {seconds:.2f} s = "
                      f"{n / seconds:.0f} statements/s (query + render + write)")

            annual("demo data")
            started = time.perf_counter()
            rows = add_synthetic_year(args.donors)
            print(f"(added {args.donors} donors, {rows} receipted 2024 gifts in "
                  f"{time.perf_counter() - started:.1f} s)")
            annual(f"demo + {args.donors} donors")

            ids = list(db.session.scalars(sa.select(Receipt.id).order_by(Receipt.id).limit(args.receipts)))

            def singles():
                db.session.expire_all()
                for receipt_id in ids:
                    receipt_documents.receipt_pdf(receipt_documents.load_receipt(receipt_id))
                db.session.rollback()

            seconds = best_of(args.rounds, singles)
            print(f"single receipts through the app: {len(ids)} in {seconds:.2f} s = "
                  f"{len(ids) / seconds:.0f} receipts/s (load + resolve + render)")
            db.session.remove()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
