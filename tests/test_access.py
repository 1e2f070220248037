"""Every staff route declares its roles and enforces them, for every role.

Walks the URL map: a route added later is covered without editing this file, and one that
forgets `@roles_required` fails `test_every_staff_route_declares_roles`.
"""
import pytest
from werkzeug.routing import IntegerConverter

from app.models import Role


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff"):
            yield rule


def build_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        values[name] = 999999 if isinstance(converter, IntegerConverter) else "khong-ton-tai"
    return rule.build(values, append_unknown=False)[1]


def test_every_staff_route_declares_roles(app):
    missing = [rule.endpoint for rule in staff_rules(app)
               if not getattr(app.view_functions[rule.endpoint], "allowed_roles", None)]
    assert missing == []


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for rule in staff_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(build_url(rule), method=method)
        assert response.status_code == 302, rule.rule
        assert "/auth/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("role", list(Role))
def test_roles_are_enforced_on_every_staff_route(app, client, login_as, role):
    login_as(role)
    checked = 0
    for rule in staff_rules(app):
        allowed = app.view_functions[rule.endpoint].allowed_roles
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(build_url(rule), method=method)
            assert response.status_code < 500, (rule.rule, method, response.status_code)
            if role.value in allowed:
                assert response.status_code != 403, (rule.rule, method)
            else:
                assert response.status_code == 403, (rule.rule, method)
            checked += 1
    assert checked >= 5


def test_admin_only_pages_refuse_other_roles(client, login_as):
    login_as(Role.DIRECTOR)
    assert client.get("/staff/users").status_code == 403
    assert client.get("/staff/settings").status_code == 403


def test_bank_pages_roles(client, login_as):
    """Bank reconciliation: accountants act, directors read, accounts are admin-only."""
    login_as(Role.DIRECTOR)
    assert client.get("/staff/bank").status_code == 200
    assert client.post("/staff/bank/confirm").status_code == 403
    assert client.get("/staff/bank/import").status_code == 403
    assert client.get("/staff/bank/accounts").status_code == 403
    login_as(Role.VIEWER)
    assert client.get("/staff/bank").status_code == 403
    login_as(Role.CASE_WORKER)
    assert client.get("/staff/bank").status_code == 403
    login_as(Role.ACCOUNTANT)
    assert client.get("/staff/bank").status_code == 200 and client.get("/staff/bank/import").status_code == 200
    assert client.get("/staff/bank/accounts").status_code == 403
