"""Configuration classes. Secrets come only from the environment.

Pick one with APP_ENV=development|testing|production (wsgi.py, `config_for`). With APP_ENV
unset, the `flask` command (`flask run`, `make run`) runs the development configuration and
anything else (gunicorn, uwsgi, `import wsgi`) the production one, so a WSGI server never
serves the well-known development key or accepts the demo webhook secret by accident.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def database_url(raw: str | None, default: str) -> str:
    """Normalise DATABASE_URL: plain postgres:// URLs go through psycopg 3 (the driver we ship)."""
    url = raw or default
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def under_flask_cli() -> bool:
    """True inside the `flask` command (Flask sets this before it loads the app)."""
    return os.environ.get("FLASK_RUN_FROM_CLI") == "true"


class Config:
    # Required everywhere except the development configuration under the `flask` command.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL"), f"sqlite:///{INSTANCE_DIR / 'quy.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Bootstrap CSS/JS are served from the bootstrap-flask package, never a CDN.
    BOOTSTRAP_SERVE_LOCAL = True
    # Rate limits (login, donation form). memory:// is per process; use redis://127.0.0.1:6379
    # when running several gunicorn workers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "20 per minute"
    # Account throttling: after LOGIN_SLOWDOWN_AFTER failures each further attempt waits
    # longer; after LOGIN_LOCK_AFTER failures the email is locked for LOGIN_LOCK_MINUTES.
    LOGIN_SLOWDOWN_AFTER = 3
    LOGIN_LOCK_AFTER = 6
    LOGIN_LOCK_MINUTES = 15
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    ITEMS_PER_PAGE = 25
    # Case documents (children's files): outside the web root, never under static/.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or str(INSTANCE_DIR / "uploads")
    # Uploaded import files and their reports (the confirm step re-reads the exact file).
    IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER") or str(INSTANCE_DIR / "imports")
    # Demo data, the built-in demo checkout and its webhook secret: only in an explicitly
    # chosen development or testing configuration, never by default.
    DEMO_MODE_ALLOWED = False
    # Receipt e-mail (SMTP through smtplib). With no MAIL_SERVER, mails are written as .eml
    # files to MAIL_FOLDER instead, so `make run` shows them. MAIL_SEND_AFTER_COMMIT:
    # "queue" (default) hands a new receipt's mail to the worker right after the commit,
    # "thread" sends it in a background thread of the web process, "inline" in the same
    # request/command, "off" leaves it to `flask --app wsgi receipts send-pending` (cron,
    # also the fallback for the other modes). Failures stay queued either way.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_FROM = os.environ.get("MAIL_FROM") or "Quỹ Bảo trợ trẻ em Hải Phòng <no-reply@localhost>"
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT") or 5)
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER") or str(INSTANCE_DIR / "mail")
    MAIL_SEND_AFTER_COMMIT = os.environ.get("MAIL_SEND_AFTER_COMMIT") or "queue"
    MAIL_MAX_ATTEMPTS = 8
    # Online giving (Stripe Checkout). Without STRIPE_SECRET_KEY the app runs its own demo
    # checkout (never in production). STRIPE_API_BASE points the library at a
    # Stripe-compatible server (the test stub); unset means api.stripe.com.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    # Signs demo-mode events when STRIPE_WEBHOOK_SECRET is unset (development/testing only).
    STRIPE_DEMO_WEBHOOK_SECRET = None
    # Base of Checkout's success/cancel addresses: PUBLIC_BASE_URL when it is set in the
    # environment (behind an HTTPS proxy the request may look like plain http), otherwise
    # the address the donor used.
    CHECKOUT_RETURN_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
    # Checkout Sessions expire after this many minutes (Stripe allows 30 to 1440).
    STRIPE_CHECKOUT_EXPIRES_MINUTES = int(os.environ.get("STRIPE_CHECKOUT_EXPIRES_MINUTES", "60"))
    # Webhook bodies larger than this are refused with 413 before any parsing.
    STRIPE_WEBHOOK_MAX_BYTES = int(os.environ.get("STRIPE_WEBHOOK_MAX_BYTES", str(256 * 1024)))
    # Donation form limits, whole đồng. Larger gifts go by bank transfer.
    DONATION_MIN_AMOUNT = int(os.environ.get("DONATION_MIN_AMOUNT", "10000"))
    DONATION_CARD_MAX_AMOUNT = int(os.environ.get("DONATION_CARD_MAX_AMOUNT", "50000000"))
    DONATE_RATE_LIMIT = os.environ.get("DONATE_RATE_LIMIT", "10 per minute;60 per hour")
    # Strict-Transport-Security max-age in seconds (app/web_headers.py); 0 = not sent.
    HSTS_SECONDS = 0
    # Staff forms that create money rows or receipts carry a one-time token (issue 12 #5);
    # a POST without one is refused, like a missing CSRF token.
    FORM_TOKENS_REQUIRED = True

    # Bank transfers (docs/bank-transfers.md). Each webhook answers 503 while its secret is
    # unset. SEPAY_API_KEY: the key SePay sends as "Authorization: Apikey <key>";
    # CASSO_WEBHOOK_SECRET: Casso webhook v2 "Key bảo mật"; PAYOS_CHECKSUM_KEY: payOS
    # checksum key. Bodies above BANK_WEBHOOK_MAX_BYTES get 413 before any parsing.
    SEPAY_API_KEY = os.environ.get("SEPAY_API_KEY") or None
    CASSO_WEBHOOK_SECRET = os.environ.get("CASSO_WEBHOOK_SECRET") or None
    PAYOS_CHECKSUM_KEY = os.environ.get("PAYOS_CHECKSUM_KEY") or None
    BANK_WEBHOOK_MAX_BYTES = int(os.environ.get("BANK_WEBHOOK_MAX_BYTES", str(64 * 1024)))
    # An unpaid transfer pledge expires after this many days (revived if its money comes).
    BANK_PLEDGE_EXPIRY_DAYS = int(os.environ.get("BANK_PLEDGE_EXPIRY_DAYS", "14"))
    # Statement uploads (XLSX/CSV) above this size are refused.
    BANK_STATEMENT_MAX_BYTES = int(os.environ.get("BANK_STATEMENT_MAX_BYTES", str(20 * 1024 * 1024)))
    # Demo mode only: the transfer page's "simulate the transfer" button signs a SePay-shaped
    # notification with this key when SEPAY_API_KEY is unset. Never in production.
    SEPAY_DEMO_API_KEY = None
    # Donor accounts (/tai-khoan, docs/donor-accounts.md): one-time sign-in links are valid
    # this many minutes; a donor session ends after ACCOUNT_SESSION_HOURS; requests for a
    # link are limited per client address (and to 3 mailed links per address per window).
    ACCOUNT_LINK_MINUTES = int(os.environ.get("ACCOUNT_LINK_MINUTES", "15"))
    ACCOUNT_SESSION_HOURS = int(os.environ.get("ACCOUNT_SESSION_HOURS", "12"))
    ACCOUNT_SIGN_IN_RATE_LIMIT = os.environ.get("ACCOUNT_SIGN_IN_RATE_LIMIT", "5 per minute;30 per hour")
    # Monthly card gifts (Stripe subscriptions): limits per month, whole đồng.
    MONTHLY_MIN_AMOUNT = int(os.environ.get("MONTHLY_MIN_AMOUNT", "50000"))
    MONTHLY_MAX_AMOUNT = int(os.environ.get("MONTHLY_MAX_AMOUNT", "20000000"))
    # Monthly gifts by bank transfer (standing pledges): a pledge lapses after this many
    # consecutive finished months without a transfer (and says so by e-mail).
    BANK_PLEDGE_LAPSE_MONTHS = int(os.environ.get("BANK_PLEDGE_LAPSE_MONTHS", "3"))

    # --- Background jobs, cache, files, metrics (issue 15; docs/production.md, docs/jobs.md)
    # The task queue: sqlite:///PATH (default, one machine, no extra service), redis://…
    # (production: workers on any number of machines) or "immediate" (run inline; tests).
    QUEUE_URL = os.environ.get("QUEUE_URL") or f"sqlite:///{INSTANCE_DIR / 'queue.db'}"
    # A running job whose worker has not reported for this long is put back in the queue
    # (it resumes from its checkpoint).
    JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", "120"))
    # Worker threads per `flask --app wsgi worker` process.
    WORKER_THREADS = int(os.environ.get("WORKER_THREADS", "2"))
    # Shared cache for public pages and job progress: CACHE_URL=redis://host:6379/1 in
    # production; otherwise a folder (instance/cache) that the web and worker processes
    # of one machine share.
    CACHE_URL = os.environ.get("CACHE_URL") or ""
    CACHE_TYPE = "RedisCache" if CACHE_URL.startswith("redis") else "FileSystemCache"
    CACHE_REDIS_URL = CACHE_URL or None
    CACHE_DIR = os.environ.get("CACHE_DIR") or str(INSTANCE_DIR / "cache")
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "quy:")
    CACHE_DEFAULT_TIMEOUT = 300
    # Public pages (home, appeals, results) are served from the cache for at most this many
    # seconds; a confirmed donation clears them at once.
    PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "60"))
    # The staff dashboard's year figures and charts (docs/dashboards.md); 0 = always fresh.
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "60"))
    # Static files: versioned URLs (static_url(), ?v=<content hash>) are cached for a year
    # (app/static_files.py).
    # Uploaded import files and generated files (job results). With STORAGE_S3_BUCKET set,
    # these and the case documents live in that S3-compatible bucket instead
    # (STORAGE_S3_ENDPOINT_URL for MinIO/Ceph/…; credentials the standard AWS way).
    FILES_FOLDER = os.environ.get("FILES_FOLDER") or str(INSTANCE_DIR / "files")
    IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER") or str(INSTANCE_DIR / "imports")
    STORAGE_S3_BUCKET = os.environ.get("STORAGE_S3_BUCKET") or None
    STORAGE_S3_ENDPOINT_URL = os.environ.get("STORAGE_S3_ENDPOINT_URL") or None
    STORAGE_S3_REGION = os.environ.get("STORAGE_S3_REGION") or None
    # /metrics (Prometheus): only with "Authorization: Bearer METRICS_TOKEN", or from
    # 127.0.0.1/::1 when no token is set. Refused (404) to everyone else.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # Logs: "json" (one JSON object per line, with the request id) or "text".
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    # Open data API (/api/v1): requests per client address (Flask-Limiter syntax).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute;2000 per hour")


DEMO_WEBHOOK_SECRET = "whsec_demo_only_not_a_secret"
SEPAY_DEMO_API_KEY = "sepay_demo_only_not_a_secret"


class DevelopmentConfig(Config):
    DEBUG = True
    # The well-known development key only for the `flask` command on a developer's machine;
    # a WSGI server with APP_ENV=development still needs SECRET_KEY.
    SECRET_KEY = os.environ.get("SECRET_KEY") or ("dev-only-insecure-key" if under_flask_cli() else None)
    DEMO_MODE_ALLOWED = True
    STRIPE_DEMO_WEBHOOK_SECRET = DEMO_WEBHOOK_SECRET
    SEPAY_DEMO_API_KEY = SEPAY_DEMO_API_KEY


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    DEMO_MODE_ALLOWED = True
    STRIPE_DEMO_WEBHOOK_SECRET = DEMO_WEBHOOK_SECRET
    SEPAY_DEMO_API_KEY = SEPAY_DEMO_API_KEY
    # The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set;
    # tests/conftest.py replaces this with a database of its own for each run.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL"), "sqlite://")
    WTF_CSRF_ENABLED = False
    FORM_TOKENS_REQUIRED = False  # like CSRF: tests that check one-time tokens turn it on
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing for tests only
    PUBLIC_BASE_URL = "http://localhost"
    SERVER_NAME = None
    # Receipt mails stay in the outbox unless a test sends them (tests/test_receipt_mail.py).
    MAIL_SEND_AFTER_COMMIT = "off"
    MAIL_SERVER = None
    # Never let a developer's environment send the suite to a real Stripe account; tests
    # that need Stripe point these at tests/stripe_stub.py.
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_API_BASE = None
    CHECKOUT_RETURN_BASE_URL = None
    SEPAY_API_KEY = None
    CASSO_WEBHOOK_SECRET = None
    PAYOS_CHECKSUM_KEY = None
    QUEUE_URL = "immediate"
    CACHE_TYPE = "SimpleCache"
    PUBLIC_PAGE_CACHE_SECONDS = 0  # tests see every change at once; tests/test_cache.py turns it on
    DASHBOARD_CACHE_SECONDS = 0


class ProductionConfig(Config):
    SECRET_KEY = os.environ.get("SECRET_KEY")  # required: create_app refuses to start without it
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 365 * 24 * 3600
    DEMO_MODE_ALLOWED = False
    STRIPE_DEMO_WEBHOOK_SECRET = None
    SEPAY_DEMO_API_KEY = None
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(app_env: str | None) -> type[Config]:
    """The configuration for APP_ENV; unset means development under the `flask` command and
    production anywhere else (a WSGI server)."""
    name = (app_env or "").strip().lower() or ("development" if under_flask_cli() else "production")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV={app_env!r} is not one of {', '.join(CONFIGS)}.")
    return CONFIGS[name]
