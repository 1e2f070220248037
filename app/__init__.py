"""Application factory."""
from __future__ import annotations

from markupsafe import Markup
from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event

from app import web_headers, web_input
from app.errors import DomainError
from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate


def N_(text: str) -> str:
    """Marks a msgid for the catalog without translating it (babel's default keyword)."""
    return text


def create_app(config_class) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_relative_config=False)
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY must be set in the environment: only `flask run` / `make run` in development "
            "may start without it (for gunicorn: APP_ENV=production SECRET_KEY=...).")
    web_input.init_app(app)  # bounded <int:> converter, NUL refused: before any route exists
    web_headers.init_app(app)  # CSP, HSTS, nosniff, framing, referrer, no-store
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    from app import i18n

    i18n.init_app(app)  # issue 17: Vietnamese (source) and English
    from app import vnd

    vnd.use_translations(i18n._, i18n.money)  # amount errors in the reader's language
    bootstrap.init_app(app)
    limiter.init_app(app)
    init_production_profile(app)  # issue 15: cache, queue, request ids, logs, metrics
    login_manager.login_view = "auth.login"
    # A msgid (N_ only marks it for the catalog): Flask-Login translates it through
    # localize_callback when it flashes it.
    login_manager.login_message = N_("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "warning"
    login_manager.localize_callback = i18n.gettext_now

    @login_manager.user_loader
    def load_user(session_id: str):
        """`<user id>.<session version>` (User.get_id); an older version is a session that
        was ended (sign-out, password change, deactivation), covering remember cookies."""
        from app.models import User
        from app.params import parse_id, parse_int

        user_id, _, version = (session_id or "").partition(".")
        user_id, version = parse_id(user_id), parse_int(version, minimum=0, maximum=2**31 - 1)
        if user_id is None or version is None:
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version:
            return None
        return user

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def init_production_profile(app: Flask) -> None:
    from app import observability, static_files
    from app.extensions import cache
    from app.services import page_cache  # noqa: F401  (invalidates public pages on commit)
    from app.services.jobs.tasks import init_queue

    cache.init_app(app)
    init_queue(app)
    observability.init_app(app)
    static_files.init_app(app)
    app.wsgi_app = page_cache.FastPath(app, app.wsgi_app, web_headers.fixed_headers(app.config))


def configure_sqlite(engine) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE: every transaction takes the write lock
    up front, so concurrent writers queue (busy timeout) instead of failing half-way
    through a read-then-write transaction. The SQLAlchemy-documented pysqlite recipe."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def register_blueprints(app: Flask) -> None:
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.public import bp as public_bp
    from app.blueprints.receipts_public import bp as receipts_public_bp
    from app.blueprints.staff.base import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(receipts_public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)

    from app.blueprints.giving import bp as giving_bp
    from app.blueprints.payments import bp as payments_bp

    app.register_blueprint(giving_bp)
    app.register_blueprint(payments_bp)

    from app.blueprints.ops import bp as ops_bp

    app.register_blueprint(ops_bp)
    csrf.exempt(payments_bp)  # provider callbacks are verified by signature instead

    from app.blueprints.account import bp as account_bp  # donor accounts, /tai-khoan

    app.register_blueprint(account_bp)

    from app.blueprints import api, transparency  # reports and transparency (issue 14)

    app.register_blueprint(transparency.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.docs_bp)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/payments/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def register_errorhandlers(app: Flask) -> None:
    from app.i18n import _l

    messages = {
        400: _l("Yêu cầu không hợp lệ."),
        403: _l("Bạn không có quyền truy cập trang này."),
        404: _l("Không tìm thấy trang bạn yêu cầu."),
        405: _l("Phương thức không được hỗ trợ."),
        413: _l("Dữ liệu gửi lên quá lớn."),
        429: _l("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút."),
        500: _l("Đã có lỗi xảy ra. Chúng tôi đã ghi nhận và sẽ khắc phục sớm."),
    }

    def render_error(code: int, message: str | None = None):
        if code >= 500:
            db.session.rollback()
        # In the request's language (the page's, or the API caller's Accept-Language).
        text = str(message or messages.get(code, messages[400]))
        if wants_json():
            return jsonify(error=text, status=code), code
        return render_template("errors/error.html", code=code, message=text), code

    for code in messages:
        app.register_error_handler(code, lambda _error, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def on_csrf_error(_error):
        return render_error(400, _l("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại."))

    @app.errorhandler(DomainError)
    def on_domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.message)


def hidden_fields(form) -> Markup:
    """`form.hidden_tag()` without the CSRF field's id="csrf_token", which repeats on every
    page with two forms (an HTML error, issue 12 item 27); other hidden fields keep theirs."""
    return Markup("".join(str(field(id=False) if field.type == "CSRFTokenField" else field())
                          for field in form if field.type in ("CSRFTokenField", "HiddenField")))


def csrf_field(form) -> Markup:
    """The form's CSRF field without an id ("" when CSRF is off, as in tests)."""
    field = getattr(form, "csrf_token", None)
    return Markup(field(id=False)) if field is not None else Markup("")


def register_template_helpers(app: Flask) -> None:
    from app.models import Role

    # vnd, vnd_plain, local_date, local_dt: app/i18n.py (they follow the page's language)
    app.jinja_env.globals["hidden_fields"] = hidden_fields
    app.jinja_env.globals["csrf_field"] = csrf_field
    from app.services.audit_display import action_label
    app.jinja_env.filters["audit_action"] = action_label  # "receipt.issue" → "Cấp giấy chứng nhận"

    @app.context_processor
    def inject_globals():
        from app.services.setup import get_settings

        if "fund_settings" not in g:
            try:
                g.fund_settings = get_settings()
            except RuntimeError:
                g.fund_settings = None
        return {"fund_settings": g.fund_settings, "Role": Role}


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
