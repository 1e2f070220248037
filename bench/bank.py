"""Bank-transfer benchmark, on SQLite and PostgreSQL:

1. import and match a statement of N lines (default 200,000: half carry the code of one
   of the P open pledges (default 100,000), the rest are gifts without a code and debits),
   through `app.services.bank.statements` (what `flask bank import` runs): read the CSV,
   recognise the layout, find what is new, match, bulk-insert lines, confirm code matches
   (donor, donation, receipt, queued e-mail);
2. import the same file again: it must add nothing;
3. a bare insert of the same lines (the same prepared rows, straight into bank_lines of a
   second account): the baseline, printed beside 1 and 2 as ratios — the machine is
   shared, so compare ratios across runs, not seconds;
4. webhooks, each a signed SePay notification that pays one open pledge (line recorded
   once, matched, donation + receipt + queued mail, commit):
   a. through a real server: gunicorn with gunicorn.conf.py (WEB_CONCURRENCY=2 worker
      processes × T threads, once for each T of --threads: 4, gunicorn.conf.py's default,
      and 16, side by side) on 127.0.0.1:BENCH_PORT (8141), driven by C concurrent
      keep-alive HTTP connections (default 32, at most 4 on SQLite, which has one writer
      at a time; Python threads, http.client), W requests per run (default 3,000); every
      answer is checked (200, state matched);
   b. the same through Flask's test client, one at a time, in-process (W/10 requests):
      the cost of one delivery without server or concurrency.
   The fund's settings are completed first, so each webhook issues a real receipt (with
   placeholder settings receipts would be deferred).

    .venv/bin/python bench/bank.py [--lines N] [--pledges P] [--webhooks W] [--connections C] [--threads 4,16]
                                   [--no-postgres] [--no-sqlite] [--xlsx]

PostgreSQL: BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a
throw-away database is created and dropped. --xlsx also times reading the statement as XLSX.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

FAMILY = ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU", "DANG", "BUI", "DO", "HO", "NGO", "DUONG"]
MIDDLE = ["VAN", "THI", "MINH", "QUANG", "THU", "DUC", "THANH", "HONG", "NGOC", "XUAN"]
GIVEN = ["AN", "BINH", "CUONG", "DUNG", "HA", "HAI", "HUONG", "KHOA", "LAN", "LONG", "MAI", "NAM"]
ACCOUNT = "0011001234567"
SEPAY_KEY = "bench-sepay-key"


ROOT = Path(__file__).resolve().parent.parent


def make(url: str):
    from app import create_app
    from config import TestingConfig

    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                                                     "SEPAY_API_KEY": SEPAY_KEY})
    return create_app(config)


def server_app():
    """What gunicorn serves in step 4a: `gunicorn 'bench.bank:server_app()'` (BENCH_APP_DB)."""
    return make(os.environ["BENCH_APP_DB"])


def prepare(pledges: int, rng: random.Random) -> list[tuple[str, int]]:
    """Schema, reference data, the account and `pledges` open pledges (bulk-inserted)."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import TransferPledge
    from app.services.audit import Actor
    from app.services.bank import codes
    from app.services.bank.accounts import save_account
    from app.services.bulk_rows import insert_many
    from app.services.setup import ensure_reference_data, general_programme

    upgrade()
    ensure_reference_data()
    from app.services.setup import get_settings

    settings = get_settings()  # complete, so receipts are issued (placeholders would defer them)
    settings.signatory_name, settings.signatory_title = "Nguyễn Văn Bench", "Giám đốc"
    settings.address = "1 Đường Bench, Hải Phòng"
    db.session.commit()
    account = save_account(Actor.system("bench"), bank_bin="970436", account_number=ACCOUNT,
                           account_name="QUY BENCH", is_default=True)
    save_account(Actor.system("bench"), bank_bin="970436", account_number="999", account_name="BARE")
    general = general_programme().id
    now = datetime.now(timezone.utc)
    seen, rows, out = set(), [], []
    while len(rows) < pledges:
        code = codes.new_code()
        if code in seen:
            continue
        seen.add(code)
        amount = rng.choice([100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000])
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        n = len(rows)
        rows.append(dict(code=code, token=secrets.token_urlsafe(24), account_id=account.id, amount=amount,
                         status="pending", donor_kind="individual", donor_name=name.title(),
                         donor_email=f"nht{n}@example.com", anonymous=False, public_listing=False,
                         programme_id=general, expires_at=now + timedelta(days=14), created_at=now))
        out.append((code, amount))
    for start in range(0, len(rows), 1000):
        insert_many(TransferPledge.__table__, rows[start:start + 1000])
    db.session.commit()
    return out


def statement_csv(lines: int, pledges: list[tuple[str, int]], rng: random.Random) -> bytes:
    """A Vietcombank-layout CSV: half the lines pay a pledge (code in a bank-rewritten memo),
    the rest are gifts without code and a tenth debits."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerows([["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"], [f"Số tài khoản/ Account number: {ACCOUNT}"],
                 ["Số dư đầu kỳ/ Opening balance", "", "", "", "", "0"],
                 ["STT", "Ngày giao dịch/\nTransaction date", "Số tham chiếu/\nReference No.", "Số tiền ghi nợ/\nDebit",
                  "Số tiền ghi có/\nCredit", "Số dư/\nBalance", "Nội dung chi tiết/\nTransactions in detail"]])
    start = datetime(2026, 11, 1, 7, 0)
    paying = rng.sample(pledges, min(int(len(pledges) * 0.8), lines // 2))  # the rest stay open for the webhooks
    balance, credits, debits = 0, 0, 0
    for n in range(lines):
        when = start + timedelta(seconds=n * 7)
        if n < len(paying):
            code, amount = paying[n]
            style = n % 4
            memo = [f"MBVCB.{n}.{code}.{rng.choice(FAMILY)} {rng.choice(GIVEN)} chuyen tien",
                    f"IBFT {code[:4]} {code[4:8]} {code[8:]}", f"{code.lower()} ung ho",
                    f"CT DEN:{n} {code[:6]}-{code[6:]}"][style]
            debit, credit = None, amount
        elif n % 10 == 0:
            debit, credit, memo = rng.choice([11_000, 22_000, 5_500_000]), None, "Phi dich vu / chi ho tro"
        else:
            debit, credit = None, rng.choice([50_000, 100_000, 300_000, 1_000_000])
            memo = rng.choice(["ung ho quy tre em", f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} ung ho",
                               "CONG TY TNHH ABC UNG HO MO TIM", "ung ho hoc bong cho em"])
        balance += (credit or 0) - (debit or 0)
        credits += credit or 0
        debits += debit or 0
        w.writerow([n + 1, when.strftime("%d/%m/%Y %H:%M:%S"), f"FT{n:010d}", debit or "", credit or "", balance, memo])
    w.writerow(["Tổng/ Total", "", "", debits, credits])
    w.writerow(["Số dư cuối kỳ/ Closing balance", "", "", "", "", balance])
    return out.getvalue().encode("utf-8-sig")


def bare_insert(plan) -> float:
    """The same lines, prepared the same way, straight into bank_lines (another account)."""
    from app.extensions import db
    from app.models import BankLine
    from app.services.bank.accounts import account_by_number
    from app.services.bulk_rows import insert_many, reserve_ids

    other = account_by_number("999")
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    for start in range(0, len(plan.new), 900):
        chunk = plan.new[start:start + 900]
        ids = reserve_ids(BankLine.__table__, len(chunk))
        insert_many(BankLine.__table__, [dict(
            id=i, account_id=other.id, direction=l.direction, amount=l.amount, booked_at=l.booked_at, memo=l.memo,
            bank_reference=l.bank_reference, fingerprint=fp, source="statement", raw=json.dumps(l.raw),
            state="unmatched", confidence=0, created_at=now) for i, (l, fp) in zip(ids, chunk)])
    db.session.commit()
    return time.perf_counter() - started


def _webhook_bodies(count: int, offset: int) -> list[str]:
    from app.extensions import db
    from app.models import TransferPledge

    rows = db.session.execute(sa.select(TransferPledge.code, TransferPledge.amount).where(
        TransferPledge.status == "pending").order_by(TransferPledge.id).offset(offset).limit(count)).all()
    db.session.commit()
    return [json.dumps({"id": 10_000_000 + offset + n, "gateway": "VCB", "transactionDate": "2026-11-30 10:00:00",
                        "accountNumber": ACCOUNT, "content": f"MBVCB.{offset + n}.{code}.CHUYEN TIEN",
                        "transferType": "in", "transferAmount": amount,
                        "referenceCode": f"WH{offset + n:010d}"}) for n, (code, amount) in enumerate(rows)]


HEADERS = {"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"}


def webhooks_test_client(app, count: int) -> tuple[float, int]:
    """One delivery at a time through Flask's test client (no server)."""
    bodies = _webhook_bodies(count, 0)
    client = app.test_client()
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/payments/sepay/webhook", data=body, headers=HEADERS)
        assert response.status_code == 200 and response.get_json()["results"][0]["state"] == "matched", response.get_json()
    return time.perf_counter() - started, len(bodies)


def webhooks_server(url: str, count: int, connections: int, offset: int, threads: int) -> tuple[float, int]:
    """`count` deliveries through gunicorn (gunicorn.conf.py, 2 workers × `threads`) from
    `connections` concurrent keep-alive connections; every answer checked."""
    bodies = _webhook_bodies(count, offset)
    port = int(os.environ.get("BENCH_PORT", "8141"))
    env = {**os.environ, "BENCH_APP_DB": url, "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
           "GUNICORN_THREADS": str(threads), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_LOGLEVEL": "warning", "APP_ENV": "testing"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                               "bench.bank:server_app()"], cwd=ROOT, env=env)
    try:
        for _ in range(300):  # wait until both workers answer
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)  # both workers booted
        failures: list = []
        lock = threading.Lock()
        queue = list(reversed(bodies))

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while True:
                with lock:
                    if not queue:
                        break
                    body = queue.pop()
                conn.request("POST", "/payments/sepay/webhook", body=body, headers=HEADERS)
                response = conn.getresponse()
                data = response.read()
                if response.status != 200 or json.loads(data)["results"][0]["state"] != "matched":
                    failures.append((response.status, data[:200]))
            conn.close()

        clients = [threading.Thread(target=client) for _ in range(connections)]
        started = time.perf_counter()
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not failures, failures[:3]
    return elapsed, len(bodies)


def run_on(label: str, url: str, args) -> None:
    from app.extensions import db
    from app.models import BankLine, Donation, OutboxMessage, Receipt
    from app.services.audit import Actor
    from app.services.bank import bulk, statements

    rng = random.Random(13)
    app = make(url)
    with app.app_context():
        t = time.perf_counter()
        pledges = prepare(args.pledges, rng)
        data = statement_csv(args.lines, pledges, rng)
        print(f"{label}: {len(pledges)} open pledges and a {len(data) / 1e6:.1f} MB statement ready in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        started = time.perf_counter()
        plan = statements.plan_statement(data, "bench.csv")
        planned = time.perf_counter() - started
        statements.import_statement(plan, Actor.system("bench"))
        elapsed = time.perf_counter() - started
        phases = dict(bulk.LAST_TIMINGS)
        states = dict(db.session.execute(sa.select(BankLine.state, sa.func.count()).group_by(BankLine.state)).all())
        donations = db.session.scalar(sa.select(sa.func.count(Donation.id)))
        receipts = db.session.scalar(sa.select(sa.func.count(Receipt.id)))
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
        started = time.perf_counter()
        again = statements.plan_statement(data, "bench.csv")
        assert not again.new, "re-import must add nothing"
        statements.import_statement(again, Actor.system("bench"))
        reimport = time.perf_counter() - started
        again_phases = dict(bulk.LAST_TIMINGS)
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == donations
        bare = bare_insert(plan)
        print(f"{label:<10} import+match {args.lines} lines: {elapsed:5.1f} s (read+plan {planned:.1f} s) = "
              f"{args.lines / elapsed:7.0f} lines/s; {states}; {donations} donations, {receipts} receipts, "
              f"{mails} mails queued", flush=True)
        print(f"{label:<10} bare insert of the same lines (baseline): {bare:5.1f} s; import+match = "
              f"{elapsed / bare:.1f}x bare; re-import: {reimport:5.1f} s, 0 added = {reimport / bare:.2f}x bare",
              flush=True)
        for name, timings in (("import", phases), ("re-import", again_phases)):
            print(f"{label:<10} {name} phases: " + ", ".join(
                f"{phase} {seconds:.1f} s" for phase, seconds in timings.items() if seconds >= 0.05), flush=True)
        if args.xlsx:
            from tests.bank_statements import xlsx
            import csv
            import io

            cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            book = xlsx(cells)
            started = time.perf_counter()
            from app.adapters.statements import read_rows

            read_rows(book, "bench.xlsx")
            print(f"{label:<10} reading the same statement as XLSX ({len(book) / 1e6:.1f} MB): "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        if not args.webhooks:  # --webhooks 0: the statement only
            db.session.remove()
            db.engine.dispose()
            return
        seconds, count = webhooks_test_client(app, max(1, args.webhooks // 10))
        print(f"{label:<10} webhooks, test client, one at a time: {count} in {seconds:.1f} s = {count / seconds:.0f}/s "
              f"({1000 * seconds / count:.1f} ms each: line, match, donation, receipt, outbox, commit)", flush=True)
        db.session.remove()
        db.engine.dispose()
        # SQLite has one writer at a time (BEGIN IMMEDIATE): more connections only queue on its lock
        connections = min(args.connections, 4) if label == "SQLite" else args.connections
        offset, rates = count, []
        for threads in args.threads:  # side by side: the group commit's groups grow with the threads
            seconds, count = webhooks_server(url, args.webhooks, connections, offset=offset, threads=threads)
            offset += count
            rates.append(count / seconds)
            print(f"{label:<10} webhooks through gunicorn ({os.environ.get('WEB_CONCURRENCY', '2')} workers x "
                  f"{threads} threads), {connections} concurrent connections: {count} signed SePay notifications "
                  f"in {seconds:.1f} s = {count / seconds:.0f}/s ({count / seconds / rates[0]:.2f}x the first), "
                  f"every one applied (200, matched)", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=3_000, help="per run (0: none, the statement only)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=lambda text: [int(n) for n in text.split(",")], default=[4, 16],
                        help="gunicorn threads per worker, one server run each (default 4,16)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "testing")
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_on("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if not args.no_postgres:
        url = make_url(os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
        name = f"quy_bank_bench_{uuid.uuid4().hex[:8]}"
        server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            run_on("PostgreSQL", url.set(database=name).render_as_string(hide_password=False), args)
        finally:
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.dispose()


if __name__ == "__main__":
    main()
