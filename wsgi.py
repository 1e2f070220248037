"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`.

APP_ENV selects the configuration; unset, the `flask` command gets development and a WSGI
server production (which refuses to start without SECRET_KEY). See config.config_for.
"""
import os

from app import create_app
from config import config_for

app = create_app(config_for(os.environ.get("APP_ENV")))
