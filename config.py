"""Configuration classes. Secrets come only from the environment.

Pick one with APP_ENV=development|testing|production (wsgi.py); `make run` uses development.
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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key"
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
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    ITEMS_PER_PAGE = 25
    # Case documents (children's files): outside the web root, never under static/.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or str(INSTANCE_DIR / "uploads")
    # Demo data and the built-in demo checkout are allowed outside production only.
    DEMO_MODE_ALLOWED = True
    # Receipt e-mail (SMTP through smtplib). With no MAIL_SERVER, mails are written as .eml
    # files to MAIL_FOLDER instead, so `make run` shows them. MAIL_SEND_AFTER_COMMIT:
    # "thread" sends a new receipt's mail in a background thread after the commit, "inline"
    # sends it in the same request/command right after the commit, "off" leaves it to
    # `flask --app wsgi receipts send-pending` (cron). Failures stay queued either way.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_FROM = os.environ.get("MAIL_FROM") or "Quỹ Bảo trợ trẻ em Hải Phòng <no-reply@localhost>"
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT") or 5)
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER") or str(INSTANCE_DIR / "mail")
    MAIL_SEND_AFTER_COMMIT = os.environ.get("MAIL_SEND_AFTER_COMMIT") or "thread"
    MAIL_MAX_ATTEMPTS = 8
    # Online giving (Stripe Checkout). Without STRIPE_SECRET_KEY the app runs its own demo
    # checkout (never in production). STRIPE_API_BASE points the library at a
    # Stripe-compatible server (the test stub); unset means api.stripe.com.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    # Signs demo-mode events when STRIPE_WEBHOOK_SECRET is unset; refused in production.
    STRIPE_DEMO_WEBHOOK_SECRET = "whsec_demo_only_not_a_secret"
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
    # Open data API (/api/v1): requests per client address (Flask-Limiter syntax).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute;2000 per hour")


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    # The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set;
    # tests/conftest.py replaces this with a database of its own for each run.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL"), "sqlite://")
    WTF_CSRF_ENABLED = False
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


class ProductionConfig(Config):
    SECRET_KEY = os.environ.get("SECRET_KEY")  # required: create_app refuses to start without it
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    DEMO_MODE_ALLOWED = False
    STRIPE_DEMO_WEBHOOK_SECRET = None


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
