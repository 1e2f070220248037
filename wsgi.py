"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`.

APP_ENV selects the configuration (development by default; set APP_ENV=production in production).
"""
import os

from app import create_app
from config import CONFIGS

app = create_app(CONFIGS[os.environ.get("APP_ENV", "development")])
