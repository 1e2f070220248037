import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, FundSettings, Role
from tests.conftest import make_app


def test_public_home_is_vietnamese_and_offline(client):
    page = client.get("/").get_data(as_text=True)
    assert "Hành động thiết thực, ưu tiên nguồn lực cho trẻ em" in page
    assert "111" in page and "1800 6605" in page
    assert "cdn" not in page.lower() and "googleapis" not in page
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_not_found_page_is_vietnamese(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404 and "Không tìm thấy trang" in response.get_data(as_text=True)


def test_server_error_page_is_vietnamese(database_uri):
    app = make_app(database_uri, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500 and "Đã có lỗi xảy ra" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    import pytest

    from app import create_app
    from config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE


def test_admin_edits_fund_settings_with_audit(client, login_as):
    login_as(Role.ADMIN)
    form = {"fund_name": "Quỹ Bảo trợ trẻ em thành phố Hải Phòng", "operator_name": "Trung tâm CTXH",
            "parent_agency": "Sở Y tế thành phố Hải Phòng", "address": "Hải Phòng",
            "signatory_name": "Nguyễn Thị Minh", "signatory_title": "Giám đốc",
            "commendation_threshold": "60.000.000", "receipt_number_format": "BTTE-{year}-{seq:06d}"}
    assert client.post("/staff/settings", data=form).status_code == 302
    db.session.expire_all()
    settings = db.session.get(FundSettings, 1)
    assert settings.commendation_threshold == 60_000_000 and settings.signatory_name == "Nguyễn Thị Minh"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "settings.update")).one()
    assert entry.after["commendation_threshold"] == 60_000_000


def test_bad_settings_input_is_refused_with_a_message(client, login_as):
    login_as(Role.ADMIN)
    form = {"fund_name": "", "operator_name": "x", "parent_agency": "x", "address": "x",
            "signatory_name": "x", "signatory_title": "x", "commendation_threshold": "50.000,5",
            "receipt_number_format": "NO-PLACEHOLDERS"}
    response = client.post("/staff/settings", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Vui lòng nhập thông tin này." in page and "{year}" in page
    db.session.expire_all()
    assert db.session.get(FundSettings, 1).fund_name != ""


def test_admin_creates_and_deactivates_a_user(client, login_as):
    admin = login_as(Role.ADMIN)
    response = client.post("/staff/users", data={"email": "moi@example.org", "name": "Cán bộ mới",
                                                 "role": "case_worker", "password": "mat-khau-dai-du"})
    assert response.status_code == 302
    duplicate = client.post("/staff/users", data={"email": "MOI@example.org", "name": "X",
                                                  "role": "viewer", "password": "mat-khau-dai-du"})
    assert duplicate.status_code == 409 and "đã được dùng" in duplicate.get_data(as_text=True)
    selfie = client.post(f"/staff/users/{admin.id}/active", data={"active": "0"})
    assert selfie.status_code == 403


def test_error_pages_carry_the_site_header(client, login_as):
    """Issue 12, item 33: 404 and 403 pages keep the site's navigation."""
    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and 'href="/donate"' in missing.get_data(as_text=True)
    login_as(Role.VIEWER)
    forbidden = client.get("/staff/users")
    page = forbidden.get_data(as_text=True)
    assert forbidden.status_code == 403 and "Quản trị quỹ" in page and "Đăng xuất" in page
