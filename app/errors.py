"""Domain errors. Services raise them with a message fit to show a user, in the reader's
language (`_()` at raise time; Vietnamese is the source);
views turn them into a flash message or a 4xx, the API into JSON."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


class Throttled(DomainError):
    status_code = 429


class NotInitialized(DomainError, RuntimeError):
    """The database was migrated but its reference data (fund settings, programmes) was
    never installed: every entry point answers with this one sentence (503 on the web)."""
    status_code = 503

    def __init__(self):
        from app.i18n import _

        super().__init__(_("Hệ thống chưa được khởi tạo dữ liệu tham chiếu (cài đặt quỹ, chương trình): "
                           "quản trị viên cần chạy `flask --app wsgi init-data`."))
