import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, Programme, Receipt, User
from app.demo.donations import DEMO_PASSWORD
from app.timeutil import year_bounds_utc


def test_users_create_list_deactivate_and_sign_in(runner, client):
    result = runner.invoke(args=["users", "create", "--email", "KeToan@Example.org", "--name",
                                 "Đỗ Minh Khoa", "--role", "accountant", "--password", "mat-khau-dai-du"])
    assert result.exit_code == 0, result.output
    assert "ketoan@example.org" in runner.invoke(args=["users", "list"]).output
    response = client.post("/auth/login", data={"email": "ketoan@example.org", "password": "mat-khau-dai-du"})
    assert response.status_code == 302
    client.post("/auth/logout")
    assert runner.invoke(args=["users", "deactivate", "ketoan@example.org"]).exit_code == 0
    response = client.post("/auth/login", data={"email": "ketoan@example.org", "password": "mat-khau-dai-du"})
    assert response.status_code == 403


def test_users_create_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A",
                                 "--role", "viewer"], input="mat-khau-dai-du\nmat-khau-dai-du\n")
    assert result.exit_code == 0, result.output
    assert "mat-khau-dai-du" not in result.output


def test_users_create_rejects_bad_input_without_writing(runner):
    args = ["users", "create", "--name", "A", "--role", "viewer", "--password", "mat-khau-dai-du"]
    assert "email" in runner.invoke(args=args + ["--email", "not-an-email"]).output.lower()
    assert runner.invoke(args=args + ["--email", "a@example.org"]).exit_code == 0
    duplicate = runner.invoke(args=args + ["--email", "A@example.org"])
    assert duplicate.exit_code != 0 and "đã được dùng" in duplicate.output
    short = runner.invoke(args=["users", "create", "--email", "b@example.org", "--name", "B",
                                "--role", "viewer", "--password", "short"])
    assert short.exit_code != 0 and "10 ký tự" in short.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_init_data_is_idempotent(runner):
    before = db.session.scalar(sa.select(sa.func.count(Programme.id)))
    assert runner.invoke(args=["init-data"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == before == 7


def test_seed_demo_is_realistic_and_idempotent(runner, client):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "admin@example.org" in first.output and DEMO_PASSWORD in first.output
    counts = (db.session.scalar(sa.select(sa.func.count(Donation.id))),
              db.session.scalar(sa.select(sa.func.count(Donor.id))),
              db.session.scalar(sa.select(sa.func.count(Receipt.id))))
    assert counts[0] >= 300
    second = runner.invoke(args=["seed-demo"])
    assert "nothing changed" in second.output
    assert counts == (db.session.scalar(sa.select(sa.func.count(Donation.id))),
                      db.session.scalar(sa.select(sa.func.count(Donor.id))),
                      db.session.scalar(sa.select(sa.func.count(Receipt.id))))
    start, end = year_bounds_utc(2023)
    totals = dict(db.session.execute(
        sa.select(Donation.donor_id, Donation.net_sum())
        .where(Donation.counted(), Donation.received_at >= start, Donation.received_at < end)
        .group_by(Donation.donor_id)).all())
    crossing = [t for t in totals.values() if t >= 50_000_000]
    just_under = [t for t in totals.values() if 40_000_000 <= t < 50_000_000]
    assert 4 <= len(crossing) <= 10 and 50_000_000 in crossing
    assert len(just_under) >= 3
    # The demo administrator can sign in with the printed password.
    response = client.post("/auth/login", data={"email": "admin@example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_seed_demo_refused_in_production(database_uri):
    from tests.conftest import make_app

    app = make_app(database_uri, DEMO_MODE_ALLOWED=False)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "disabled in production" in result.output


def test_seed_demo_follows_todays_date(runner, client, login_as):
    """Issue 12, item 32: gifts last year and this year, so the pages a newcomer opens
    (commendation and annual statements open on last year) show something."""
    from app.models import Role
    from app.timeutil import local_today

    runner.invoke(args=["seed-demo"])
    this_year = local_today().year
    for year in (this_year - 1, this_year):
        start, end = year_bounds_utc(year)
        assert db.session.scalar(sa.select(sa.func.count(Donation.id)).where(
            Donation.counted(), Donation.received_at >= start, Donation.received_at < end)) > 10, year
    login_as(Role.DIRECTOR)
    commendation = client.get("/staff/commendation").get_data(as_text=True)
    assert str(this_year - 1) in commendation and "Công ty TNHH Thép Đình Vũ Xanh" in commendation
    statements = client.get("/staff/receipts/statements").get_data(as_text=True)
    assert "Công ty TNHH Thép Đình Vũ Xanh" in statements
