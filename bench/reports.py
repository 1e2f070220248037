"""Benchmark: reports and transparency over 1,000,000 donations and 100,000 donors.

    .venv/bin/python bench/reports.py                       # SQLite and local PostgreSQL
    .venv/bin/python bench/reports.py --database sqlite:////tmp/bench.db
    BENCH_DATABASE=postgresql+psycopg://postgres@127.0.0.1:5432/quy_bench_reports .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --donations 200000 --donors 20000 --queries 50

For each database: migrate, bulk-load the data set of bench/commendation.py (executemany on
SQLite, COPY on PostgreSQL; reused when already in place), give the donors their search
text, then time, through the Flask test client (no page cache, no rate limit):

* the public ledger /cong-khai/sao-ke: 200 varied queries (no filter, date ranges, amount
  ranges, channel, consented name, combinations; pages 1–40; 25/50/100 lines), p50 and
  p95, beside the bare SQL of the same queries (the page's SELECT and capped COUNT run on a
  raw connection): the ratio is what the app adds (filter parsing, rendering);
* the yearly disclosure (data + PDF, `catalogue.export("disclosure", 2023, "pdf")`), best of
  --repeat, beside a plain GROUP BY over the year (the baseline of bench/commendation.py);
* the staff dashboard `/staff/`, signed in as director and as accountant, p50 and p95 of
  20 requests each.

Targets: ledger p95 < 100 ms, disclosure < 5 s, dashboard < 300 ms. Exits 1 when one is
missed. The machine is shared: compare the ratios, not only the figures.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import commendation as dataset  # noqa: E402  (bench/commendation.py: the shared data set)

DEFAULT_DATABASES = (
    f"sqlite:///{ROOT / 'instance' / 'bench_reports.db'}",
    "postgresql+psycopg://postgres@127.0.0.1:5432/quy_bench_reports",
)
YEAR = dataset.YEAR
TARGETS = {"ledger_p95": 0.100, "disclosure": 5.0, "dashboard_p95": 0.300}


def make_bench_app(url: str):
    from app import create_app
    from config import Config, database_url

    config = type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": database_url(url, url), "DEBUG": False, "TESTING": False,
        "PUBLIC_PAGE_CACHE_SECONDS": 0, "RATELIMIT_ENABLED": False, "CACHE_TYPE": "SimpleCache",
        "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://quy.example.org"})
    return create_app(config)


def ensure_data(engine, n_donations: int, n_donors: int) -> str:
    from app.extensions import db
    from app.models import Donation, Donor
    from app.services.setup import general_programme

    have = (db.session.scalar(sa.select(sa.func.count(Donation.id))),
            db.session.scalar(sa.select(sa.func.count(Donor.id))))
    db.session.commit()
    if have == (n_donations, n_donors):
        return "reused"
    started = time.perf_counter()
    donors, donations = dataset.generate(n_donations, n_donors)
    generated = time.perf_counter() - started
    programme_id = general_programme().id
    db.session.commit()
    dataset.empty_tables(engine)
    started = time.perf_counter()
    dataset.load(engine, donors, donations, programme_id)
    set_search_text(engine, donors)
    return f"generated in {generated:.1f} s, loaded in {time.perf_counter() - started:.1f} s"


def set_search_text(engine, donors) -> None:
    """bench/commendation.py leaves search_text empty; the ledger's name search needs it."""
    from app.text import fold

    rows = [{"t": fold(d[2]), "i": d[0]} for d in donors]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE donors SET search_text = :t WHERE id = :i"), rows)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE donors")


def ensure_staff() -> dict[str, str]:
    from app.extensions import db
    from app.models import Role, User

    ids = {}
    for role in (Role.DIRECTOR.value, Role.ACCOUNTANT.value):
        email = f"bench-{role}@example.org"
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=f"Bench {role}", role=role)
            user.set_password("bench-password-long")
            db.session.add(user)
            db.session.commit()
        ids[role] = user.get_id()
    return ids


def ledger_queries(n: int, seed: int = 14) -> list[dict]:
    """Varied public-ledger queries, as people type them."""
    rng = random.Random(seed)
    year_start = date(YEAR, 1, 1)
    out = []
    for i in range(n):
        q: dict = {}
        shape = i % 7
        if shape in (1, 5, 6):
            start = year_start + timedelta(days=rng.randrange(0, 360))
            q["date_from"] = start.isoformat()
            q["date_to"] = min(start + timedelta(days=rng.choice([0, 1, 6, 30, 90])), date(YEAR, 12, 31)).isoformat()
        if shape in (2, 5):
            low = rng.choice(dataset.AMOUNTS)
            q["amount_min"] = str(low)
            if rng.random() < 0.5:
                q["amount_max"] = str(low * rng.choice([1, 2, 10]))
        if shape in (3, 6):
            q["channel"] = rng.choice(["bank_transfer", "cash", "card", "in_kind"])
        if shape == 4:
            q["name"] = rng.choice([rng.choice(dataset.GIVEN), f"{rng.choice(dataset.FAMILY)} {rng.choice(dataset.MIDDLE)}",
                                    f"{rng.choice(dataset.FAMILY)} {rng.choice(dataset.MIDDLE)} {rng.choice(dataset.GIVEN)}"])
        q["per_page"] = str(rng.choice([25, 25, 50, 100]))
        page = rng.choice([1, 1, 1, 2, 3, 5, 10, 40])
        if page > 1:
            q["page"] = str(page)
        out.append(q)
    return out


def bare_sql(engine, query: dict) -> float:
    """The page's statements (the consented donors matching a searched name, the SELECT of
    the page, the capped COUNT), compiled with their values and run on a raw connection: the
    database's share of the page."""
    from app.extensions import db
    from app.services.reports import public_ledger as ledger

    f = ledger.LedgerFilter.from_args(query)
    page, per_page = ledger.paging(query)
    rows = ledger._ledger_select(f, limit=per_page + 1, offset=(page - 1) * per_page)
    count = ledger._capped_count(f)
    looked_up = [ledger.named_donor_select(f.name)] if f.name else []  # the page looks the names up first
    statements = [str(s.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
                  for s in (*looked_up, rows, count)]
    db.session.commit()
    with engine.connect() as conn:
        started = time.perf_counter()
        for sql in statements:
            conn.exec_driver_sql(sql).all()
        return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_get(client, url: str, **kw) -> float:
    started = time.perf_counter()
    response = client.get(url, **kw)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


def run(url: str, n_donations: int, n_donors: int, n_queries: int, repeat: int) -> dict:
    from urllib.parse import urlencode

    from flask import g
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.reports import catalogue
    from app.services.reports.period import make_period
    from app.services.setup import ensure_reference_data

    dataset.ensure_database(url)
    app = make_bench_app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        ensure_reference_data()
        engine = db.engine
        loaded = ensure_data(engine, n_donations, n_donors)
        staff = ensure_staff()
        db.session.commit()
        client = app.test_client()

        queries = ledger_queries(n_queries)
        for q in queries[:10]:  # warm the caches, as the first visitors would
            client.get("/cong-khai/sao-ke?" + urlencode(q))
        page_times, sql_times = [], []
        for q in queries:
            db.session.remove()
            page_times.append(timed_get(client, "/cong-khai/sao-ke?" + urlencode(q)))
            sql_times.append(bare_sql(engine, q))
        api_times = []
        for q in queries[: max(1, n_queries // 4)]:
            api_times.append(timed_get(client, "/api/v1/ledger?" + urlencode(q)))

        def disclosure():
            result = catalogue.export("disclosure", make_period(YEAR), "pdf")
            db.session.commit()
            return result

        disclosure()
        disclosure_time, exported = dataset.best_of(repeat, disclosure)
        plain_time, _groups = dataset.best_of(repeat, lambda: dataset.plain_group_by(engine))

        dashboards = {}
        for role, user_id in staff.items():
            with client.session_transaction() as session:
                session.clear()
                session["_user_id"] = user_id
                session["_fresh"] = True
            g.pop("_login_user", None)  # Flask-Login caches the user in the app context's g
            timed_get(client, "/staff/")
            times = []
            for _ in range(20):
                db.session.remove()
                times.append(timed_get(client, "/staff/"))
            dashboards[role] = times
        db.session.remove()
        engine.dispose()
    return dict(database=make_url(url).get_backend_name(), loaded=loaded,
                page_p50=statistics.median(page_times), page_p95=percentile(page_times, 95),
                sql_p50=statistics.median(sql_times), sql_p95=percentile(sql_times, 95),
                api_p95=percentile(api_times, 95), disclosure=disclosure_time, plain=plain_time,
                pdf_bytes=len(exported.data),
                dashboards={r: (statistics.median(t), percentile(t, 95)) for r, t in dashboards.items()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--donors", type=int, default=100_000)
    parser.add_argument("--database", action="append",
                        help="SQLAlchemy URL (repeatable); default: $BENCH_DATABASE, else an SQLite file in "
                             "instance/ and quy_bench_reports on local PostgreSQL")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "development")
    urls = args.database or ([os.environ["BENCH_DATABASE"]] if os.environ.get("BENCH_DATABASE") else DEFAULT_DATABASES)
    results = []
    for url in urls:
        print(f"== {make_url(url).render_as_string(hide_password=True)}", flush=True)
        result = run(url, args.donations, args.donors, args.queries, args.repeat)
        print(f"   data: {args.donations:,} donations, {args.donors:,} donors ({result['loaded']})", flush=True)
        results.append(result)
    print()
    print(f"Reports and transparency: {args.donations:,} donations, {args.donors:,} donors, year {YEAR} "
          "(shared machine: read the ratios)")
    ok = True
    for r in results:
        print(f"-- {r['database']}")
        print(f"   ledger page, {args.queries} queries: p50 {r['page_p50'] * 1000:.1f} ms, p95 {r['page_p95'] * 1000:.1f} ms"
              f" | bare SQL p50 {r['sql_p50'] * 1000:.1f} ms, p95 {r['sql_p95'] * 1000:.1f} ms"
              f" | ratio p95 {r['page_p95'] / r['sql_p95']:.2f} | API p95 {r['api_p95'] * 1000:.1f} ms"
              f" | target p95 < 100 ms: {'met' if r['page_p95'] < TARGETS['ledger_p95'] else 'NOT met'}")
        print(f"   disclosure (data + PDF, {r['pdf_bytes']:,} bytes), best of {args.repeat}: {r['disclosure']:.2f} s"
              f" | plain GROUP BY {r['plain']:.2f} s | ratio {r['disclosure'] / r['plain']:.2f}"
              f" | target < 5 s: {'met' if r['disclosure'] < TARGETS['disclosure'] else 'NOT met'}")
        for role, (p50, p95) in r["dashboards"].items():
            print(f"   /staff/ as {role}: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
                  f" | target < 300 ms: {'met' if p95 < TARGETS['dashboard_p95'] else 'NOT met'}")
        ok = ok and r["page_p95"] < TARGETS["ledger_p95"] and r["disclosure"] < TARGETS["disclosure"] and all(
            p95 < TARGETS["dashboard_p95"] for _, p95 in r["dashboards"].values())
    print("all targets:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
