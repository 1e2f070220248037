"""Load and fault tests against gunicorn + PostgreSQL on this machine, one command:

    .venv/bin/python bench/load/run.py [--duration 10] [--connections 16,64] [--rows 20000]
                                       [--skip-load] [--skip-faults]

Load (wrk, bench/load/latency.lua): the home, appeal and results pages, the donate form,
each beside a bare Flask "hello" (bench/load/hello.py) under the same gunicorn settings
(gunicorn.conf.py, 2 workers), as a ratio; then a Stripe webhook storm (signed
checkout.session.completed events, every event sent twice, from a threaded client).

Faults, each followed by the invariants (no donation without its receipt, no receipt
without its donation, no gap in receipt numbers, every job finished or resumable, every
webhook applied once):
  1. kill -9 the worker in the middle of a donation import; start a new one;
  2. kill -9 the worker in the middle of an annual statement run (PDFs + e-mails);
  3. kill -9 a web worker during a webhook storm (gunicorn starts a new one; Stripe's
     retries are the storm's second copies);
  4. pg_terminate_backend on every app connection, repeatedly, during a webhook storm and
     during an import job.

Needs PostgreSQL (BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
a throw-away database is created and dropped) and Redis for the queue and cache
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/5). Ports BENCH_PORT (default 5106) and +1.
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
                    "STRIPE_SECRET_KEY": "sk_test_bench_unused", "STRIPE_API_BASE": "http://127.0.0.1:9",
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
    def wrk(self, url: str, connections: int) -> dict:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{self.args.duration}s",
                              "-s", str(ROOT / "bench/load/latency.lua"), url],
                             capture_output=True, text=True).stdout
        match = re.search(r"RESULT (.*)", out)
        values = dict(part.split("=") for part in match.group(1).split())
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        values["errors"] = int(values["errors"]) + (int(non2xx.group(1)) if non2xx else 0)
        return {k: float(v) for k, v in values.items()}

    def load(self):
        app_port, hello_port = PORT, PORT + 1
        web = self.gunicorn("wsgi:app", app_port)
        hello = self.gunicorn("bench.load.hello:app", hello_port)
        pages = [("home", "/"), ("appeal", f"/appeals/{self.slug}"), ("results", "/ket-qua-ho-tro"),
                 ("donate form", f"/donate?appeal={self.slug}")]
        log("\n== Load: gunicorn, 2 workers (gunicorn.conf.py), PostgreSQL, Redis cache; "
            f"wrk -t2, {self.args.duration}s per run")
        log(f"{'page':<14}{'conns':>6}{'req/s':>10}{'hello':>10}{'ratio':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'errors':>8}")
        for connections in self.args.connections:
            for name, path in pages:
                # hello right before each page: the two share the machine's load of the moment
                base = self.wrk(f"http://127.0.0.1:{hello_port}/hello", connections)
                r = self.wrk(f"http://127.0.0.1:{app_port}{path}", connections)
                ratio = r["rps"] / base["rps"]
                log(f"{name:<14}{connections:>6}{r['rps']:>10.0f}{base['rps']:>10.0f}{ratio:>7.0%} "
                    f"{r['p50']:>8.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}{int(r['errors']):>8}")
                self.results.append({"page": name, "connections": connections, **r, "hello_rps": base["rps"],
                                     "ratio": ratio})
        self.stop(hello)
        self.web = web

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

    def storm(self, n: int, connections: int, *, during=None) -> dict:
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
        latencies, statuses = [], []
        lock = threading.Lock()

        def send(item):
            body, headers = item
            for attempt in range(6):  # like Stripe: retry what was not acknowledged
                started = time.perf_counter()
                request = urllib.request.Request(f"http://127.0.0.1:{PORT}/payments/stripe/webhook",
                                                 data=body, headers=headers, method="POST")
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

        stop = threading.Event()
        side = threading.Thread(target=during, args=(stop,)) if during else None
        started = time.perf_counter()
        if side:
            side.start()
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(send, bodies))
        elapsed = time.perf_counter() - started
        stop.set()
        if side:
            side.join()
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        return {"events": len(bodies), "rps": len(bodies) / elapsed, "p50": pick(.5), "p95": pick(.95),
                "p99": pick(.99), "non200": sum(1 for s in statuses if s != 200), "ids": [d[0] for d in donations]}

    def webhooks(self):
        log("\n== Stripe webhook storm (every event twice; threaded Python client on the same 2 cores)")
        for connections in self.args.connections:
            r = self.storm(self.args.events, connections)
            self.check(f"webhook storm c={connections}", donation_ids=r["ids"])
            log(f"webhooks c={connections}: {r['events']} deliveries, {r['rps']:.0f}/s, p50 {r['p50']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, retried {r['non200']}")

    # ------------------------------------------------------------------ invariants
    def check(self, label: str, donation_ids=None) -> None:
        from app.extensions import db
        from app.models import Donation, Job, OutboxMessage, PaymentEvent, Receipt

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

    def fault_pg_terminate(self):
        log("\n== Fault: pg_terminate_backend every 0.4 s during a webhook storm")
        r = self.storm(self.args.events, 32, during=self.terminate_loop)
        log(f"   {r['events']} deliveries, {r['non200']} failed and were retried by the sender")
        self.check("webhook storm + pg_terminate_backend", donation_ids=r["ids"])
        log("\n== Fault: pg_terminate_backend every 0.4 s during an import job")
        worker = self.worker()
        token = self.import_file(max(self.args.rows // 4, 2000))
        stop = threading.Event()
        side = threading.Thread(target=self.terminate_loop, args=(stop,))
        job_id = self.submit("donation_import", {"token": token, "file_name": "bench2.csv"}, token)
        side.start()
        try:
            self.wait_job(job_id, lambda s: s[1] >= 2 or s[0] in ("done", "failed"), timeout=120)
        finally:
            stop.set()
            side.join()
        state = self.wait_job(job_id, lambda s: s[0] in ("done", "failed"))
        log(f"   job {state[0]} after {state[1]} attempts; imported {state[5] and state[5].get('imported')}")
        self.check("import + pg_terminate_backend")
        self.stop(worker)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=lambda v: [int(x) for x in v.split(",")], default=[16, 64])
    parser.add_argument("--rows", type=int, default=20000, help="rows of the import killed mid-way")
    parser.add_argument("--events", type=int, default=300, help="webhook events per storm (each sent twice)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still tear down (servers, database)
    try:
        bench.setup()
        if not args.skip_load:
            bench.load()
        else:
            bench.web = bench.gunicorn("wsgi:app", PORT)
        bench.webhooks()
        if not args.skip_faults:
            bench.fault_import()
            bench.fault_statements()
            bench.fault_webhook_kill()
            bench.fault_pg_terminate()
    finally:
        bench.teardown()
    failed = [r for r in bench.results if r.get("ok") is False]
    if args.json:
        Path(args.json).write_text(json.dumps(bench.results, indent=2))
    log(f"\n{'ALL INVARIANTS HELD' if not failed else f'{len(failed)} CHECKS FAILED'}; logs in {bench.tmp}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
