"""Benchmark: the commendation list over 1,000,000 donations and 100,000 donors.

    .venv/bin/python bench/commendation.py                      # SQLite and local PostgreSQL
    .venv/bin/python bench/commendation.py --database sqlite:////tmp/bench.db
    .venv/bin/python bench/commendation.py --donations 200000 --donors 20000

For each database: migrate, bulk-load fictional donors and donations (executemany on SQLite,
COPY on PostgreSQL; skipped when the database already holds exactly this data set, so a
second run starts timing at once), then time side by side, best of --repeat runs:

* the list build: `app.services.commendation.build_list(year)`, the service the page, the
  exports and the freeze use (SQL, Python objects, exclusions, overrides, Vietnamese sort);
* a plain SQL GROUP BY over the same table: net signed sum per donor of the year's counted
  donations, every row fetched.

Every donation falls in the benchmarked year (the worst case: nothing for the date range to
skip); about 1 % are reversed, 2 % are pending or failed, 5 % are in kind.
Target: the list build under 2 seconds on both databases.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_DATABASES = (
    f"sqlite:///{ROOT / 'instance' / 'bench_commendation.db'}",
    "postgresql+psycopg://postgres@127.0.0.1:5432/quy_bench_commendation",
)
YEAR = 2023
SEED = 20231231

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Minh", "Đức", "Thu", "Quang", "Thanh", "Hữu", "Ngọc", "Kim", "Xuân"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hùng", "Lan", "Linh", "Mai",
         "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vinh", "Yến"]
ORG_FORMS = ["Công ty TNHH", "Công ty Cổ phần", "Hợp tác xã", "Doanh nghiệp tư nhân"]
ORG_WORDS = ["Thép", "Cảng", "Logistics", "Dệt may", "Xi măng", "Dược phẩm", "Thực phẩm", "Vận tải",
             "Xây dựng", "Điện tử", "Du lịch", "Nhựa"]
PLACES = ["Đình Vũ", "Lạch Tray", "Tràng Kênh", "Cát Bà", "Đồ Sơn", "Kiến An", "Tiên Lãng",
          "Vĩnh Bảo", "Hải An", "An Dương", "Thủy Nguyên", "Bạch Đằng"]
AMOUNTS = [100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000]
AMOUNT_WEIGHTS = [20, 20, 25, 15, 8, 6, 3, 2, 1]


def make_bench_app(url: str):
    from app import create_app
    from config import Config, database_url

    config = type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": database_url(url, url), "DEBUG": False, "TESTING": False})
    return create_app(config)


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": parsed.database}).scalar()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    server.dispose()


def generate(n_donations: int, n_donors: int):
    """Donor rows and donation rows (tuples, ids assigned here), deterministic."""
    rng = random.Random(SEED)
    now = datetime.now(timezone.utc)
    donors = []
    for donor_id in range(1, n_donors + 1):
        if rng.random() < 0.2:
            kind = "organization"
            name = f"{rng.choice(ORG_FORMS)} {rng.choice(ORG_WORDS)} {rng.choice(PLACES)} {donor_id}"
            tax_code = f"02{donor_id:08d}"
        else:
            kind = "individual"
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            tax_code = None
        anonymous = rng.random() < 0.02
        donors.append((donor_id, kind, name, tax_code, f"Số {donor_id % 300 + 1} đường Lạch Tray, "
                       f"phường Lê Chân, thành phố Hải Phòng", anonymous, rng.random() < 0.5, now, now))
    # Some donors give much more often than others (a few large businesses, many one-offs).
    weights = [rng.paretovariate(1.2) for _ in range(n_donors)]
    donor_ids = rng.choices(range(1, n_donors + 1), weights=weights, k=n_donations)
    start = datetime(YEAR, 1, 1, tzinfo=timezone.utc) - timedelta(hours=7)  # 1 January, Vietnam
    seconds = 365 * 24 * 3600 - 2 * 3600
    donations = []
    next_id = 1
    while len(donations) < n_donations:
        donor_id = donor_ids[len(donations)]
        amount = rng.choices(AMOUNTS, weights=AMOUNT_WEIGHTS)[0]
        received = start + timedelta(seconds=rng.randrange(seconds))
        roll = rng.random()
        status = "pending" if roll < 0.01 else "failed" if roll < 0.02 else "confirmed"
        channel = "in_kind" if rng.random() < 0.05 else rng.choice(["bank_transfer", "cash", "card"])
        reverse = status == "confirmed" and rng.random() < 0.01 and len(donations) + 2 <= n_donations
        if reverse:
            status = "reversed"
        donations.append((next_id, donor_id, amount, channel, status, received, None,
                          "20 xe lăn" if channel == "in_kind" else None))
        original_id = next_id
        next_id += 1
        if reverse:
            donations.append((next_id, donor_id, amount, channel, "confirmed",
                              received + timedelta(hours=3), original_id, None))
            next_id += 1
    return donors, donations


DONOR_COLUMNS = ("id", "kind", "name", "tax_code", "address", "anonymous", "public_listing_consent",
                 "created_at", "updated_at")
DONATION_COLUMNS = ("id", "donor_id", "amount", "channel", "status", "received_at", "reverses_id",
                    "in_kind_description", "programme_id", "currency", "created_at")


def sqlite_time(value: datetime) -> str:
    # The format SQLAlchemy's SQLite DateTime stores (naive UTC, see UTCDateTime).
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def load(engine, donors, donations, programme_id: int) -> None:
    now = datetime.now(timezone.utc)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            # A throw-away benchmark database: no fsync, a large page cache for the index
            # inserts (random keys), foreign keys trusted (the ids are generated above).
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO donors ({', '.join(DONOR_COLUMNS)}, search_text) VALUES ({', '.join('?' * 10)})",
                [(*d[:7], sqlite_time(d[7]), sqlite_time(d[8]), "") for d in donors])
            cursor.executemany(
                f"INSERT INTO donations ({', '.join(DONATION_COLUMNS)}) VALUES ({', '.join('?' * 11)})",
                [(*d[:5], sqlite_time(d[5]), d[6], d[7], programme_id, "VND", sqlite_time(now))
                 for d in donations])
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
        else:
            # COPY, with the foreign-key triggers off for this session (superuser; the ids
            # are generated above and consistent).
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SET maintenance_work_mem = '256MB'")
            with cursor.copy(f"COPY donors ({', '.join(DONOR_COLUMNS)}, search_text) FROM STDIN") as copy:
                for d in donors:
                    copy.write_row((*d, ""))
            with cursor.copy(f"COPY donations ({', '.join(DONATION_COLUMNS)}) FROM STDIN") as copy:
                for d in donations:
                    copy.write_row((*d, programme_id, "VND", now))
            cursor.execute("SELECT setval('donors_id_seq', (SELECT max(id) FROM donors))")
            cursor.execute("SELECT setval('donations_id_seq', (SELECT max(id) FROM donations))")
            raw.commit()
            cursor.execute("SET session_replication_role = DEFAULT")
            raw.commit()
            raw.driver_connection.autocommit = True
            # VACUUM sets the visibility map, so the covering index serves index-only scans.
            cursor.execute("VACUUM ANALYZE donors")
            cursor.execute("VACUUM ANALYZE donations")
    finally:
        raw.close()


def empty_tables(engine) -> None:
    from app.extensions import db

    tables = [t for t in reversed(db.metadata.sorted_tables)
              if t.name not in ("programmes", "fund_settings", "admin_units", "alembic_version")]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())


def plain_group_by(engine) -> int:
    from app.timeutil import year_bounds_utc

    start, end = year_bounds_utc(YEAR)
    if engine.dialect.name == "sqlite":
        start, end = sqlite_time(start), sqlite_time(end)
    sql = sa.text(
        "SELECT donor_id, SUM(CASE WHEN reverses_id IS NULL THEN amount ELSE -amount END) "
        "FROM donations WHERE status IN ('confirmed', 'reversed') "
        "AND received_at >= :start AND received_at < :end GROUP BY donor_id")
    with engine.connect() as conn:
        return len(conn.execute(sql, {"start": start, "end": end}).all())


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def run(url: str, n_donations: int, n_donors: int, repeat: int) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Donation, Donor
    from app.services import commendation
    from app.services.setup import ensure_reference_data, general_programme

    ensure_database(url)
    app = make_bench_app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        ensure_reference_data()
        engine = db.engine
        have = (db.session.scalar(sa.select(sa.func.count(Donation.id))),
                db.session.scalar(sa.select(sa.func.count(Donor.id))))
        db.session.commit()
        loaded = "reused"
        if have != (n_donations, n_donors):
            started = time.perf_counter()
            donors, donations = generate(n_donations, n_donors)
            generated = time.perf_counter() - started
            programme_id = general_programme().id
            db.session.commit()
            empty_tables(engine)
            started = time.perf_counter()
            load(engine, donors, donations, programme_id)
            loaded = f"generated in {generated:.1f} s, loaded in {time.perf_counter() - started:.1f} s"
        commendation.build_list(YEAR)  # warm caches, as a second page view would
        db.session.commit()
        db.session.remove()

        def build():
            result = commendation.build_list(YEAR)
            db.session.commit()
            return result

        list_time, clist = best_of(repeat, build)
        plain_time, groups = best_of(repeat, lambda: plain_group_by(engine))
        db.session.remove()
        engine.dispose()
    return dict(database=make_url(url).get_backend_name(), loaded=loaded, list_time=list_time,
                plain_time=plain_time, groups=groups, organizations=len(clist.organizations),
                individuals=len(clist.individuals), near=len(clist.near_threshold))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--donors", type=int, default=100_000)
    parser.add_argument("--database", action="append", help="SQLAlchemy URL (repeatable); "
                        "default: an SQLite file in instance/ and quy_bench_commendation on local PostgreSQL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "development")
    results = []
    for url in args.database or DEFAULT_DATABASES:
        print(f"== {make_url(url).render_as_string(hide_password=True)}", flush=True)
        result = run(url, args.donations, args.donors, args.repeat)
        print(f"   data: {args.donations:,} donations, {args.donors:,} donors ({result['loaded']})", flush=True)
        results.append(result)
    print()
    print(f"Commendation list {YEAR}, best of {args.repeat}: {args.donations:,} donations, {args.donors:,} donors")
    print(f"{'database':<11}{'list build (s)':>16}{'plain GROUP BY (s)':>20}{'ratio':>8}"
          f"{'listed (org/ind)':>19}{'near':>7}{'groups':>9}")
    ok = True
    for r in results:
        ratio = r["list_time"] / r["plain_time"] if r["plain_time"] else float("inf")
        print(f"{r['database']:<11}{r['list_time']:>16.3f}{r['plain_time']:>20.3f}{ratio:>8.2f}"
              f"{r['organizations']:>10,}/{r['individuals']:<8,}{r['near']:>7,}{r['groups']:>9,}")
        ok = ok and r["list_time"] < 2.0
    print("target < 2 s on every database:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
