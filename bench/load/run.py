"""Load and fault tests against gunicorn + PostgreSQL on this machine, one command:

    .venv/bin/python bench/load/run.py [--duration 10] [--connections 16,64] [--rows 20000]
                                       [--events 300] [--bank-events 200] [--only a,b,...]
                                       [--skip-load] [--skip-faults] [--json FILE]

Scenarios (all by default, in this order; `--only` picks some):
  load          wrk (bench/load/latency.lua) on the home, appeal and results pages and the
                donate form, each right after a bare Flask "hello" (bench/load/hello.py) under
                the same gunicorn settings (gunicorn.conf.py, 2 sync workers), as a ratio;
  checkout      wrk POSTing the donate form (card) with one visitor's session and CSRF token:
                pending donation, two commits, a Checkout Session on the suite's Stripe stub
                (tests/stripe_stub.py, in this process), 303; then the same under 4 threads
                per process (gunicorn.conf.py's default);
  stripe        Stripe webhook storm: signed checkout.session.completed events, every event
                sent twice, from a threaded client;
  bank          bank-notification storm: signed SePay (API key) and Casso (HMAC-SHA512)
                deliveries for open transfer pledges, every transfer notified twice;
  kill-import   kill -9 the worker in the middle of a donation import; start a new one;
  kill-statements  kill -9 the worker in the middle of an annual statement run;
  kill-web      kill -9 a web worker during a webhook storm (gunicorn starts a new one;
                the sender's retries are the storm's second copies);
  pg-webhooks   pg_terminate_backend on every app connection every 0.4 s during a storm;
  pg-import     the same during an import job, until it was interrupted at least once;
  pg-statements the same during the annual statements (PDFs + e-mails) of a past year.
Each storm and fault is followed by the invariants: no donation without its receipt, no
receipt without its donation, no gap in receipt numbers, no donation with two valid
receipts, no receipt mailed twice, every job finished, every webhook/transfer applied once.
Exit status 1 when one does not hold.

Needs wrk, PostgreSQL (BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
a throw-away database is created and dropped) and Redis for the queue, cache and rate limits
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/5). Ports BENCH_PORT (default 5106) to +3.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
VENV = ROOT / ".venv" / "bin"
PG = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
PORT = int(os.environ.get("BENCH_PORT", "5106"))
WEBHOOK_SECRET = "whsec_bench_only"
SEPAY_KEY = "bench-sepay-key"
CASSO_SECRET = "bench-casso-secret"
BANK_ACCOUNT = "0011009876543"
SCENARIOS = ("load", "checkout", "stripe", "bank", "kill-import", "kill-statements", "kill-web",
             "pg-webhooks", "pg-import", "pg-statements")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def log(*parts):
    print(*parts, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="quy-bench-"))
        url = make_url(PG)
        self.dbname = f"quy_bench_{os.getpid()}"
        self.server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.db_url = url.set(database=self.dbname).render_as_string(hide_password=False)
        self.env = {**os.environ, "DATABASE_URL": self.db_url, "SECRET_KEY": "bench-secret",
                    "QUEUE_URL": REDIS, "CACHE_URL": REDIS, "CACHE_KEY_PREFIX": f"bench{os.getpid()}:",
                    "RATELIMIT_STORAGE_URI": REDIS, "FILES_FOLDER": str(self.tmp / "files"),
                    "IMPORT_FOLDER": str(self.tmp / "imports"), "UPLOAD_FOLDER": str(self.tmp / "uploads"),
                    "MAIL_FOLDER": str(self.tmp / "mail"), "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "STRIPE_SECRET_KEY": "sk_test_bench", "SEPAY_API_KEY": SEPAY_KEY,
                    "CASSO_WEBHOOK_SECRET": CASSO_SECRET,
                    # The checkout load test posts from one address: the limiter still runs
                    # (Redis), with a limit the bench does not reach.
                    "DONATE_RATE_LIMIT": "1000000 per minute",
                    "JOB_STALE_SECONDS": "5", "LOG_FORMAT": "json", "WEB_CONCURRENCY": "2",
                    "GUNICORN_THREADS": "1", "GUNICORN_LOGLEVEL": "warning",
                    "PROMETHEUS_MULTIPROC_DIR": str(self.tmp / "metrics")}
        (self.tmp / "metrics").mkdir()
        self.procs: list[subprocess.Popen] = []
        self.results: list[dict] = []

    # ------------------------------------------------------------------ set-up
    def flask(self, *args, env_extra=None):
        env = {**self.env, **(env_extra or {})}
        subprocess.run([str(VENV / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def setup(self):
        from tests.stripe_stub import StripeStub

        # Stripe's API for the checkout path: the suite's Stripe-compatible stub, in this
        # process, on BENCH_PORT + 2.
        self.stripe = StripeStub(port=PORT + 2).start()
        self.env["STRIPE_API_BASE"] = self.stripe.base_url
        with self.server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.dbname}"')
        self.flask("db", "upgrade")
        self.flask("seed-demo", env_extra={"APP_ENV": "development"})
        os.environ.update({k: v for k, v in self.env.items()})
        os.environ["APP_ENV"] = "production"
        from config import ProductionConfig
        from app import create_app

        cfg = type("BenchConfig", (ProductionConfig,), {
            "SECRET_KEY": "bench-secret", "SQLALCHEMY_DATABASE_URI": self.db_url,
            # The bench's own connections are spared by the pg_terminate_backend fault.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                          "connect_args": {"application_name": "quy-bench"}}})
        self.app = create_app(cfg)
        with self.app.app_context():
            from app.models import Appeal

            from app.extensions import db
            # An open appeal: a closed one's donate form is a warning page ("đã kết thúc").
            self.slug = db.session.scalar(sa.select(Appeal.slug).where(
                Appeal.is_public, Appeal.status == "open").order_by(Appeal.id).limit(1))
            db.session.add(Appeal(slug="bench-appeal", title="Chiến dịch thử tải", status="open"))
            db.session.commit()
            from app.services.audit import Actor
            from app.services.bank.accounts import save_account

            save_account(Actor.system("bench"), bank_bin="970436", account_number=BANK_ACCOUNT,
                         account_name="QUY BAO TRO TRE EM HAI PHONG", is_default=True)
            db.session.commit()

    def start(self, name, argv, env_extra=None):
        env = {**self.env, **(env_extra or {})}
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(self.tmp / f"{name}.log", "ab"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def gunicorn(self, app: str, port: int, env_extra=None):
        proc = self.start(f"gunicorn-{port}", [str(VENV / "gunicorn"), "-c", "gunicorn.conf.py",
                                                "-b", f"127.0.0.1:{port}", app],
                          {"APP_ENV": "production", **(env_extra or {})})
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz" if "wsgi" in app
                                       else f"http://127.0.0.1:{port}/hello", timeout=1)
                return proc
            except Exception:  # noqa: BLE001
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {app} did not start; see {self.tmp}")

    def worker(self):
        return self.start("worker", [str(VENV / "flask"), "--app", "wsgi", "worker"], {"APP_ENV": "production"})

    def stop(self, proc, sig=signal.SIGTERM):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

    def teardown(self):
        if hasattr(self, "stripe"):
            self.stripe.stop()
        for proc in self.procs:
            if proc.poll() is None:
                self.stop(proc)
        try:
            import redis

            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(f"bench{os.getpid()}:*"):
                client.delete(key)
            for key in client.scan_iter("huey*quy*"):
                client.delete(key)
        except Exception:  # noqa: BLE001
            pass
        if hasattr(self, "app"):
            from app.extensions import db

            with self.app.app_context():
                db.engine.dispose()
        with self.server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')

    # ------------------------------------------------------------------ load
    def wrk(self, url: str, connections: int, *, body: str = "", cookie: str = "") -> dict:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{self.args.duration}s",
                              "-s", str(ROOT / "bench/load/latency.lua"), url],
                             capture_output=True, text=True,
                             env={**os.environ, "WRK_BODY": body, "WRK_COOKIE": cookie}).stdout
        match = re.search(r"RESULT (.*)", out)
        values = dict(part.split("=") for part in match.group(1).split())
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        values["errors"] = int(values["errors"]) + (int(non2xx.group(1)) if non2xx else 0)
        return {k: float(v) for k, v in values.items()}

    def servers(self):
        """The app's gunicorn (PORT) and the bare hello's (PORT + 1), started once."""
        if not hasattr(self, "web"):
            self.web = self.gunicorn("wsgi:app", PORT)
            self.hello = self.gunicorn("bench.load.hello:app", PORT + 1)

    def header(self, title: str) -> None:
        log(f"\n== {title}; wrk -t2, {self.args.duration}s per run, hello measured right before each row")
        log(f"{'page':<14}{'conns':>6}{'req/s':>10}{'hello':>10}{'ratio':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'errors':>8}")

    def measure(self, name: str, path: str, connections: int, **wrk_args) -> dict:
        # hello right before each page: the two share the machine's load of the moment
        base = self.wrk(f"http://127.0.0.1:{PORT + 1}/hello", connections)
        r = self.wrk(f"http://127.0.0.1:{getattr(self, 'app_port', PORT)}{path}", connections, **wrk_args)
        ratio = r["rps"] / base["rps"] if base["rps"] else 0.0
        log(f"{name:<14}{connections:>6}{r['rps']:>10.0f}{base['rps']:>10.0f}{ratio:>7.0%} "
            f"{r['p50']:>8.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}{int(r['errors']):>8}")
        self.results.append({"page": name, "connections": connections, **r, "hello_rps": base["rps"], "ratio": ratio})
        return r

    def load(self):
        self.servers()
        pages = [("home", "/"), ("appeal", f"/appeals/{self.slug}"), ("results", "/ket-qua-ho-tro"),
                 ("donate form", f"/donate?appeal={self.slug}")]
        self.header("Load: gunicorn, 2 workers (gunicorn.conf.py), PostgreSQL, Redis cache")
        for connections in self.args.connections:
            for name, path in pages:
                self.measure(name, path, connections)

    def visitor(self) -> tuple[str, str]:
        """A visitor's session cookie and the CSRF token of the donate form it was given."""
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/donate?appeal={self.slug}", timeout=10) as response:
            page = response.read().decode()
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        return cookie, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def checkout(self):
        """POST /donate (card) under load: validate, record the pending donation (donor
        match, two commits, audit), open a Checkout Session on the Stripe stub, 303 to it."""
        from urllib.parse import urlencode

        from app.extensions import db
        from app.models import Donation

        self.servers()
        cookie, token = self.visitor()
        body = urlencode({"csrf_token": token, "method": "card", "kind": "individual", "name": "Nguyễn Thử Tải",
                          "email": "thu.tai@example.com", "preset": "200000", "custom_amount": "",
                          "designation": "appeal", "appeal": self.slug, "currency": "VND"})
        request = urllib.request.Request(f"http://127.0.0.1:{PORT}/donate", data=body.encode(),
                                         headers={"Cookie": cookie}, method="POST")
        opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,), {
            "redirect_request": lambda *a, **k: None}))
        try:
            opener.open(request, timeout=10)
            raise RuntimeError("checkout did not redirect")
        except urllib.error.HTTPError as answer:
            if answer.code != 303 or not answer.headers["Location"].startswith(self.stripe.base_url):
                raise RuntimeError(f"checkout answered {answer.code} {answer.headers.get('Location')}") from None
        with self.app.app_context():
            before = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
            db.session.remove()
        self.header("Checkout: POST /donate (card) → Stripe stub Checkout Session → 303; "
                    "stub in the bench process, same 2 cores")
        for connections in self.args.connections:
            self.measure("checkout", "/donate", connections, body=body, cookie=cookie)
        # The production default (gunicorn.conf.py): 4 threads per process, so a request
        # waiting on Stripe's answer does not hold the whole process.
        threaded = self.gunicorn("wsgi:app", PORT + 3, {"GUNICORN_THREADS": "4"})
        saved, self.app_port = getattr(self, "app_port", PORT), PORT + 3
        try:
            for connections in self.args.connections:
                self.measure("checkout 4thr", "/donate", connections, body=body, cookie=cookie)
        finally:
            self.app_port = saved
            self.stop(threaded)
        with self.app.app_context():
            rows = db.session.execute(sa.select(Donation.status, Donation.stripe_checkout_session_id.is_(None),
                                                sa.func.count()).where(Donation.channel == "card")
                                      .group_by(Donation.status, Donation.stripe_checkout_session_id.is_(None))).all()
            after = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
            db.session.remove()
        without = sum(n for status, missing, n in rows if status == "pending" and missing)
        log(f"   {after - before:,} checkouts recorded, {len(self.stripe.sessions):,} Checkout Sessions on the stub; "
            f"pending card donations without a session: {without}")
        self.check("checkout load")

    # ------------------------------------------------------------------ webhooks
    def pending_donations(self, n: int) -> list[tuple[int, int, str]]:
        from app.extensions import db
        from app.models import Donation, Donor, Programme
        from app.timeutil import utcnow

        with self.app.app_context():
            programme = db.session.scalar(sa.select(Programme).where(Programme.is_general))
            donor = Donor(name="Nhà hảo tâm thử tải", kind="individual", email="tai@example.com")
            db.session.add(donor)
            tag = uuid.uuid4().hex[:8]
            rows = [Donation(donor=donor, amount=100_000 + i, channel="card", programme=programme,
                             status="pending", received_at=utcnow(),
                             stripe_checkout_session_id=f"cs_bench_{tag}_{i}") for i in range(n)]
            db.session.add_all(rows)
            db.session.commit()
            return [(d.id, d.amount, d.stripe_checkout_session_id) for d in rows]

    def storm(self, n: int, connections: int, *, during=None, with_hello=False) -> dict:
        from tests.stripe_stub import signed_webhook

        donations = self.pending_donations(n)
        bodies = []
        for donation_id, amount, session_id in donations:
            event = {"id": f"evt_{session_id}", "type": "checkout.session.completed", "object": "event",
                     "data": {"object": {"id": session_id, "object": "checkout.session", "amount_total": amount,
                                         "currency": "vnd", "payment_status": "paid",
                                         "client_reference_id": str(donation_id),
                                         "metadata": {"donation_id": str(donation_id)},
                                         "payment_intent": f"pi_{session_id}"}}}
            bodies.append(signed_webhook(event, WEBHOOK_SECRET))
        bodies = bodies + bodies  # Stripe delivers at least once: every event twice
        url = f"http://127.0.0.1:{PORT}/payments/stripe/webhook"
        items = [(lambda b=b: (url, *b)) for b in bodies]
        base = self.hello_storm(items, connections) if with_hello else None
        result = self.deliver(items, connections, during=during)
        return {**result, "ids": [d[0] for d in donations], "base": base}

    def deliver(self, items, connections: int, *, during=None) -> dict:
        """POST every item (a callable giving url, body, headers: signed when called) from
        `connections` threads; like the providers, retry what was not acknowledged with a 200
        (up to 6 times). Returns throughput, latency percentiles and error counts."""
        latencies, statuses, given_up = [], [], []
        lock = threading.Lock()

        def send(make):
            for attempt in range(6):
                url, body, headers = make()
                started = time.perf_counter()
                request = urllib.request.Request(url, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except Exception:  # noqa: BLE001 - connection reset by a killed worker
                    status = 0
                with lock:
                    latencies.append(time.perf_counter() - started)
                    statuses.append(status)
                if status == 200:
                    return
                time.sleep(0.2 * (attempt + 1))
            with lock:
                given_up.append(url)

        stop = threading.Event()
        side = threading.Thread(target=during, args=(stop,)) if during else None
        started = time.perf_counter()
        if side:
            side.start()
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(send, items))
        elapsed = time.perf_counter() - started
        stop.set()
        if side:
            side.join()
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        return {"events": len(items), "rps": len(items) / elapsed, "p50": pick(.5), "p95": pick(.95),
                "p99": pick(.99), "non200": sum(1 for s in statuses if s != 200), "given_up": len(given_up),
                "statuses": sorted({s for s in statuses if s != 200})}

    def hello_storm(self, items, connections: int) -> dict:
        """The same client, bodies and concurrency against the bare hello (POST /hello)."""
        url = f"http://127.0.0.1:{PORT + 1}/hello"
        return self.deliver([(lambda m=make: (url, *m()[1:])) for make in items], connections)

    def storm_line(self, label: str, r: dict, base: dict | None = None) -> None:
        ratio = f" = {r['rps'] / base['rps']:.0%} of hello's {base['rps']:.0f}/s (same client)" if base else ""
        log(f"{label}: {r['events']} deliveries, {r['rps']:.0f}/s{ratio}, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
            f"p99 {r['p99']:.1f} ms, not acknowledged {r['non200']} (statuses {r['statuses'] or '-'}; "
            f"retried by the sender), given up {r['given_up']}")
        self.results.append({"storm": label, **{k: v for k, v in r.items() if k not in ("ids", "pledges")},
                             "hello_rps": base["rps"] if base else None})

    def webhooks(self):
        self.servers()
        log("\n== Stripe webhook storm (every event twice; threaded Python client on the same 2 cores)")
        for connections in self.args.connections:
            r = self.storm(self.args.events, connections, with_hello=True)
            self.storm_line(f"stripe c={connections}", r, r.pop("base"))
            self.check(f"webhook storm c={connections}", donation_ids=r["ids"])

    # ------------------------------------------------------------------ bank notifications
    def pending_pledges(self, n: int) -> list[tuple[int, str, int]]:
        from app.extensions import db
        from app.services.audit import Actor
        from app.services.bank.pledges import create_pledge
        from app.services.donations.online import DonationRequest

        out = []
        with self.app.app_context():
            for i in range(n):
                pledge = create_pledge(DonationRequest(kind="individual", name=f"Nhà hảo tâm chuyển khoản {i}",
                                                       email=f"ck{i}@example.com", amount=150_000 + i),
                                       Actor.system("bench"), minimum=10_000, expiry_days=7)
                out.append((pledge.id, pledge.code, pledge.amount))
            db.session.commit()
            db.session.remove()
        return out

    def bank_items(self, pledges) -> list:
        """Half the transfers notified by SePay (API key), half by Casso (HMAC-SHA512, signed
        when sent: Casso refuses deliveries older than 5 minutes); each delivered twice."""
        from app.adapters.bank_notifications import casso

        base = int(time.time()) % 10_000_000 * 100
        items = []
        for n, (_pledge_id, code, amount) in enumerate(pledges):
            txn = base + n
            if n % 2 == 0:
                body = json.dumps({"id": txn, "gateway": "VCB", "transactionDate": time.strftime("%Y-%m-%d %H:%M:%S"),
                                   "accountNumber": BANK_ACCOUNT, "content": f"MBVCB.{txn}.{code}.CHUYEN TIEN UNG HO",
                                   "transferType": "in", "transferAmount": amount, "referenceCode": f"FT{txn:012d}",
                                   "accumulated": 0, "subAccount": None, "description": "", "code": None}).encode()
                item = (lambda b=body: (f"http://127.0.0.1:{PORT}/payments/sepay/webhook", b,
                                         {"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"}))
            else:
                data = {"error": 0, "data": {
                    "id": txn, "reference": f"CS{txn:012d}", "description": f"CT DEN:{txn} {code} ung ho quy",
                    "amount": amount, "runningBalance": 25_000_000, "transactionDateTime": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "accountNumber": BANK_ACCOUNT, "bankName": "Vietcombank", "bankAbbreviation": "VCB",
                    "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "190333444555",
                    "counterAccountBankName": "Techcombank"}}

                def item(d=data):
                    raw = json.dumps(d, ensure_ascii=False).encode()
                    return (f"http://127.0.0.1:{PORT}/payments/casso/webhook", raw,
                            {"X-Casso-Signature": casso.sign(d, CASSO_SECRET, int(time.time() * 1000)),
                             "Content-Type": "application/json"})
            items.append(item)
        return items + items

    def bank(self):
        self.servers()
        log("\n== Bank notification storm: signed SePay and Casso deliveries for open transfer pledges "
            "(every transfer notified twice; threaded Python client on the same 2 cores)")
        for connections in self.args.connections:
            pledges = self.pending_pledges(self.args.bank_events)
            items = self.bank_items(pledges)
            base = self.hello_storm(items, connections)
            r = self.deliver(items, connections)
            self.storm_line(f"bank c={connections}", r, base)
            self.check(f"bank storm c={connections}", pledge_ids=[p[0] for p in pledges])

    # ------------------------------------------------------------------ invariants
    def check(self, label: str, donation_ids=None, pledge_ids=None) -> None:
        from app.extensions import db
        from app.models import BankLine, Donation, Job, OutboxMessage, PaymentEvent, Receipt, TransferPledge

        with self.app.app_context():
            problems = []
            orphans = db.session.scalar(sa.select(sa.func.count()).select_from(Donation).where(
                Donation.status == "confirmed", Donation.reverses_id.is_(None),
                ~sa.exists().where(Receipt.donation_id == Donation.id)))
            if orphans:
                problems.append(f"{orphans} confirmed donations without a receipt")
            stray = db.session.scalar(sa.select(sa.func.count()).select_from(Receipt).where(
                ~sa.exists().where(Donation.id == Receipt.donation_id)))
            if stray:
                problems.append(f"{stray} receipts without a donation")
            for year, count, top in db.session.execute(sa.select(Receipt.year, sa.func.count(),
                                                                 sa.func.max(Receipt.sequence)).group_by(Receipt.year)):
                if count != top:
                    problems.append(f"receipt numbers of {year}: {count} receipts up to {top} (gap)")
            double = db.session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(Receipt.donation_id).where(Receipt.voided_at.is_(None))
                .group_by(Receipt.donation_id).having(sa.func.count() > 1).subquery()))
            if double:
                problems.append(f"{double} donations with two valid receipts")
            if donation_ids:
                pending = db.session.scalar(sa.select(sa.func.count()).select_from(Donation).where(
                    Donation.id.in_(donation_ids), Donation.status != "confirmed"))
                events = db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent).where(
                    PaymentEvent.donation_id.in_(donation_ids)))
                if pending:
                    problems.append(f"{pending} webhook donations not confirmed")
                if events != len(donation_ids):
                    problems.append(f"{events} events applied for {len(donation_ids)} webhooks")
            if pledge_ids:
                # Each transfer applied exactly once: one bank line, one confirmed donation.
                lines = db.session.scalar(sa.select(sa.func.count()).select_from(BankLine).where(
                    BankLine.pledge_id.in_(pledge_ids)))
                gifts = db.session.scalar(sa.select(sa.func.count(sa.distinct(BankLine.donation_id))).where(
                    BankLine.pledge_id.in_(pledge_ids), BankLine.donation_id.is_not(None)))
                confirmed = db.session.scalar(sa.select(sa.func.count()).select_from(TransferPledge).join(
                    Donation, Donation.id == TransferPledge.donation_id).where(
                    TransferPledge.id.in_(pledge_ids), Donation.status == "confirmed"))
                if not (lines == gifts == confirmed == len(pledge_ids)):
                    problems.append(f"{len(pledge_ids)} transfers: {lines} bank lines, {gifts} donations from them, "
                                    f"{confirmed} pledges with a confirmed donation")
            stuck = db.session.scalars(sa.select(Job).where(Job.state.in_(("queued", "running")))).all()
            if stuck:
                problems.append(f"jobs not finished: {[(j.id, j.state) for j in stuck]}")
            dup_mail = db.session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(OutboxMessage.receipt_id).where(OutboxMessage.receipt_id.is_not(None))
                .group_by(OutboxMessage.receipt_id).having(sa.func.count() > 1).subquery()))
            if dup_mail:
                problems.append(f"{dup_mail} receipts with two mails")
            db.session.remove()
        status = "OK" if not problems else "FAILED: " + "; ".join(problems)
        log(f"   invariants after {label}: {status}")
        self.results.append({"check": label, "ok": not problems, "problems": problems})

    # ------------------------------------------------------------------ faults
    def submit(self, kind: str, params: dict, key: str) -> int:
        from app.extensions import db
        from app.services.audit import Actor
        from app.services.jobs import runner

        with self.app.app_context():
            job, _ = runner.submit(kind, params, Actor.system("bench"), key=key)
            job_id = job.id
            db.session.remove()
        return job_id

    def job(self, job_id: int):
        from app.extensions import db
        from app.models import Job
        from app.services.jobs import runner

        with self.app.app_context():
            job = db.session.get(Job, job_id)
            view = runner.view(job)
            state, attempts, done, total, error = job.state, job.attempts, view.done, view.total, job.error
            result = job.result
            db.session.remove()
        return state, attempts, done, total, error, result

    def wait_job(self, job_id: int, until, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.job(job_id)
            if until(state):
                return state
            time.sleep(0.2)
        raise RuntimeError(f"job {job_id} stuck: {self.job(job_id)}")

    def import_file(self, rows: int) -> str:
        import hashlib

        from bench.import_bench import generate

        data = generate(rows, seed=int(time.time()) % 1000, ref_prefix=f"B{uuid.uuid4().hex[:6]}")
        token = f"{hashlib.sha256(data).hexdigest()}.csv"
        with self.app.app_context():
            from app.services import files

            files.imports().put(token, data)
        return token

    def fault_import(self):
        log(f"\n== Fault: kill -9 the worker during a {self.args.rows:,}-row import")
        worker = self.worker()
        token = self.import_file(self.args.rows)
        job_id = self.submit("donation_import", {"token": token, "file_name": "bench.csv"}, token)
        # Kill in the write phase (progress past the validation half).
        state = self.wait_job(job_id, lambda s: s[0] == "running" and s[3] and s[2] > s[3] * 0.6)
        log(f"   killed at {state[2]:,}/{state[3] or 0:,} units")
        self.stop(worker, signal.SIGKILL)
        started = time.time()
        worker = self.worker()
        state = self.wait_job(job_id, lambda s: s[0] in ("done", "failed"))
        log(f"   new worker resumed it: {state[0]} after {time.time() - started:.1f} s, attempts {state[1]}, "
            f"imported {state[5] and state[5].get('imported')}")
        self.check("import + kill -9")
        self.stop(worker)

    def fault_statements(self):
        log("\n== Fault: kill -9 the worker during the annual statements (PDFs + e-mails)")
        from app.timeutil import local_today

        worker = self.worker()
        year = local_today().year
        job_id = self.submit("annual_statements", {"year": year, "email": True}, str(year))
        state = self.wait_job(job_id, lambda s: s[0] == "running" and (s[2] or 0) > 20)
        log(f"   killed at {state[2]:,}/{state[3] or 0:,} units")
        self.stop(worker, signal.SIGKILL)
        worker = self.worker()
        state = self.wait_job(job_id, lambda s: s[0] in ("done", "failed"))
        log(f"   resumed: {state[0]}, attempts {state[1]}, {state[5]}")
        from app.extensions import db
        from app.models import OutboxMessage

        with self.app.app_context():
            twice = db.session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(OutboxMessage.to_address, OutboxMessage.subject).where(OutboxMessage.kind == "statement")
                .group_by(OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.dedupe_key)
                .having(sa.func.count() > 1).subquery()))
            db.session.remove()
        log(f"   statement mails queued twice: {twice}")
        self.check("statements + kill -9")
        self.stop(worker)

    def fault_webhook_kill(self):
        self.servers()
        log("\n== Fault: kill -9 a web worker during a webhook storm")
        master = self.web

        def killer(stop):
            time.sleep(0.5)
            children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
            if children:
                os.kill(int(children[0]), signal.SIGKILL)
                log(f"   killed web worker {children[0]}")

        r = self.storm(self.args.events, 32, during=killer)
        log(f"   {r['events']} deliveries, {r['non200']} retried by the sender")
        self.check("webhook storm + kill -9 web worker", donation_ids=r["ids"])

    def terminate_loop(self, stop):
        killer = sa.create_engine(make_url(PG).set(database="postgres"), isolation_level="AUTOCOMMIT",
                                  connect_args={"application_name": "quy-bench"})
        n = 0
        with killer.connect() as conn:
            while not stop.is_set():
                time.sleep(0.4)
                n += conn.execute(sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid() AND application_name <> 'quy-bench'"), {"d": self.dbname}).scalar() or 0
        killer.dispose()
        log(f"   terminated {n} database connections")

    def fault_pg_webhooks(self):
        self.servers()
        log("\n== Fault: pg_terminate_backend every 0.4 s during a webhook storm")
        r = self.storm(self.args.events, 32, during=self.terminate_loop)
        log(f"   {r['events']} deliveries, {r['non200']} failed and were retried by the sender, given up {r['given_up']}")
        self.check("webhook storm + pg_terminate_backend", donation_ids=r["ids"])

    def fault_pg_job(self, label: str, kind: str, params: dict, key: str):
        """pg_terminate_backend on every app connection every 0.4 s from the job's start
        until it has been interrupted at least once (attempt 2) or ended; then the job must
        end by itself: done, or failed and done after one retry (from its checkpoint)."""
        from app.extensions import db
        from app.services.audit import Actor
        from app.services.jobs import runner

        log(f"\n== Fault: pg_terminate_backend every 0.4 s during {label}")
        worker = self.worker()
        stop = threading.Event()
        side = threading.Thread(target=self.terminate_loop, args=(stop,))
        started = time.time()
        job_id = self.submit(kind, params, key)
        side.start()
        try:
            self.wait_job(job_id, lambda s: s[1] >= 2 or s[0] in ("done", "failed"), timeout=180)
        finally:
            stop.set()
            side.join()
        state = self.wait_job(job_id, lambda s: s[0] in ("done", "failed"), timeout=300)
        log(f"   job {state[0]} after {time.time() - started:.1f} s and {state[1]} attempts"
            + (f": {state[4]}" if state[4] else ""))
        if state[0] == "failed":
            with self.app.app_context():
                runner.retry(job_id, Actor.system("bench"))
                db.session.remove()
            state = self.wait_job(job_id, lambda s: s[0] in ("done", "failed"), timeout=300)
            log(f"   retried by staff: {state[0]}, attempts {state[1]}")
        summary = {k: v for k, v in (state[5] or {}).items() if not isinstance(v, (list, dict))}
        log(f"   result: {summary}")
        self.results.append({"fault": label, "state": state[0], "attempts": state[1]})
        if state[0] != "done":
            self.results.append({"check": f"{label}: job {state[0]}", "ok": False, "problems": [state[4]]})
        self.check(f"{label} + pg_terminate_backend")
        self.stop(worker)
        return job_id

    def fault_pg_import(self):
        token = self.import_file(max(self.args.rows // 4, 2000))
        self.fault_pg_job("an import job", "donation_import", {"token": token, "file_name": "bench2.csv"}, token)

    def fault_pg_statements(self):
        from app.extensions import db
        from app.models import OutboxMessage, Receipt
        from app.timeutil import local_today

        with self.app.app_context():
            # The year with the most receipts other than the one the kill -9 test runs.
            year = db.session.scalar(sa.select(Receipt.year).where(Receipt.year != local_today().year)
                                     .group_by(Receipt.year).order_by(sa.func.count().desc()).limit(1))
            db.session.remove()
        self.fault_pg_job(f"the annual statements {year}", "annual_statements", {"year": year, "email": True},
                          str(year))
        with self.app.app_context():
            mails = db.session.execute(sa.select(OutboxMessage.dedupe_key, sa.func.count()).where(
                OutboxMessage.kind == "statement", OutboxMessage.dedupe_key.like(f"statement:{year}:%"))
                .group_by(OutboxMessage.dedupe_key)).all()
            db.session.remove()
        twice = sum(1 for _, n in mails if n > 1)
        log(f"   statement mails for {year}: {len(mails)} donors, {twice} mailed twice")
        if twice:
            self.results.append({"check": f"statements {year}: mails twice", "ok": False, "problems": [twice]})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=lambda v: [int(x) for x in v.split(",")], default=[16, 64])
    parser.add_argument("--rows", type=int, default=20000, help="rows of the import killed mid-way")
    parser.add_argument("--events", type=int, default=300, help="Stripe webhook events per storm (each sent twice)")
    parser.add_argument("--bank-events", type=int, default=200, help="bank transfers per storm (each notified twice)")
    parser.add_argument("--only", type=lambda v: v.split(","), default=list(SCENARIOS),
                        help="comma-separated scenarios: " + ",".join(SCENARIOS))
    parser.add_argument("--skip-load", action="store_true", help="no wrk runs (load, checkout)")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(SCENARIOS)}")
    chosen = [name for name in SCENARIOS if name in args.only
              and not (args.skip_load and name in ("load", "checkout"))
              and not (args.skip_faults and (name.startswith("kill-") or name.startswith("pg-")))]
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still tear down (servers, database)
    steps = {"load": bench.load, "checkout": bench.checkout, "stripe": bench.webhooks, "bank": bench.bank,
             "kill-import": bench.fault_import, "kill-statements": bench.fault_statements,
             "kill-web": bench.fault_webhook_kill, "pg-webhooks": bench.fault_pg_webhooks,
             "pg-import": bench.fault_pg_import, "pg-statements": bench.fault_pg_statements}
    log(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start "
        "(shared with other work: read the ratios to hello, measured in the same run)")
    try:
        bench.setup()
        for name in chosen:
            steps[name]()
    finally:
        bench.teardown()
    failed = [r for r in bench.results if r.get("ok") is False]
    if args.json:
        Path(args.json).write_text(json.dumps(bench.results, indent=2))
    log(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    log(f"{'ALL INVARIANTS HELD' if not failed else f'{len(failed)} CHECKS FAILED'}; logs in {bench.tmp}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
