"""Which configuration a process runs (issue 12, item 8): a WSGI server never gets the
development key or the demo webhook secret by default."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = ("import wsgi; c = wsgi.app.config; "
         "print(c['DEBUG'], c['DEMO_MODE_ALLOWED'], c['STRIPE_DEMO_WEBHOOK_SECRET'], c['SECRET_KEY'])")

pytestmark = pytest.mark.nodb


def run_python(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"APP_ENV", "SECRET_KEY", "FLASK_RUN_FROM_CLI", "STRIPE_SECRET_KEY",
                          "STRIPE_WEBHOOK_SECRET"}}
    clean.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_wsgi_server_without_app_env_or_secret_refuses_to_start(tmp_path):
    result = run_python(PROBE, tmp_path)  # what gunicorn wsgi:app does: import the module
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_wsgi_server_without_app_env_runs_production(tmp_path):
    result = run_python(PROBE, tmp_path, SECRET_KEY="s3cret-from-env")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "None", "s3cret-from-env"]


def test_explicit_development_under_a_wsgi_server_still_needs_a_secret(tmp_path):
    result = run_python(PROBE, tmp_path, APP_ENV="development")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_flask_command_gets_development_and_demo_mode(tmp_path):
    result = run_python(PROBE, tmp_path, FLASK_RUN_FROM_CLI="true")
    assert result.returncode == 0, result.stderr
    debug, demo, webhook, key = result.stdout.split()
    assert (debug, demo, key) == ("True", "True", "dev-only-insecure-key")
    assert webhook.startswith("whsec_demo")


def test_unknown_app_env_is_refused(tmp_path):
    result = run_python(PROBE, tmp_path, APP_ENV="prod", SECRET_KEY="x")
    assert result.returncode != 0 and "APP_ENV='prod' is not one of" in result.stderr
