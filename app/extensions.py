"""Extensions, created unbound; only the application factory calls init_app."""
from flask_bootstrap import Bootstrap5
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.models.base import Base

db = SQLAlchemy(model_class=Base)
# render_as_batch lets Alembic alter tables on SQLite (copy-and-move); compare_type makes
# `flask db check` notice column type drift.
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Shared cache (public pages, job progress): a folder by default, Redis in production.
cache = Cache()
