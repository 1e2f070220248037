"""A bounded random run over every route of the URL map and every form field, as several
roles, with hostile values (issue 12, closing item): no answer may be a server error.

Seeded (FUZZ_SEED, default 12) so a failure can be replayed; FUZZ_ROUNDS (default 2) sets how
many random requests each route × method × role gets. Takes ~20-60 s.
"""
from __future__ import annotations

import importlib
import inspect
import io
import os
import pkgutil
import random

from flask import g
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.routing import IntegerConverter

import app.forms
from app.models import Role
from tests import factories

SEED = int(os.environ.get("FUZZ_SEED", "12"))
ROUNDS = int(os.environ.get("FUZZ_ROUNDS", "2"))
HOSTILE = [
    "", " ", "0", "-1", "1", "2147483647", "2147483648", "9" * 30, "1e309", "NaN", "²", "١٢",
    "0001-01-01", "9999-12-31", "2024-02-30", "31/12/0000", "a\x00b", "\x00", "\ud7ff", "x" * 300,
    "x" * 70_000, "'; DROP TABLE donors; --", "<script>alert(1)</script>", "{year}-{seq.x}",
    "{seq!s:.1}", "Nguyễn Văn An", "🙂" * 50, "=1+1", "../../etc/passwd", "%00", "null", "[]",
    "-9223372036854775809", "1.5", "50.000.000 đ", "+84 912 345 678", "on", "y",
]


def form_field_names() -> tuple[list[str], list[str]]:
    text, files = set(), set()
    for info in pkgutil.iter_modules(app.forms.__path__):
        module = importlib.import_module(f"app.forms.{info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls is not FlaskForm:
                for attr in dir(cls):
                    unbound = getattr(cls, attr, None)
                    if hasattr(unbound, "field_class"):
                        (files if issubclass(unbound.field_class, FileField) else text).add(attr)
    return sorted(text), sorted(files)


def path_value(rng: random.Random, converter) -> str:
    if isinstance(converter, IntegerConverter):
        return str(rng.choice([1, 2, 3, 2**31 - 1, 10**12]))
    return rng.choice(["x", "cs_demo_x", "0" * 64 + ".csv", "a" * 300, "..", "2024", "heart", "%00"])


def build(rule, rng: random.Random) -> str:
    values = {name: path_value(rng, conv) for name, conv in rule._converters.items()}
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:  # noqa: BLE001 - a value the converter refuses: use a safe one
        return rule.build({n: "1" if isinstance(c, IntegerConverter) else "x"
                           for n, c in rule._converters.items()}, append_unknown=False)[1]


def test_no_server_error_anywhere(app, client):
    rng = random.Random(SEED)
    donor = factories.donor()
    factories.donation(donor, 1_000_000)
    factories.appeal(slug="x", is_public=True, status="open")
    users = {role: factories.user(role.value) for role in (Role.ADMIN, Role.ACCOUNTANT, Role.CASE_WORKER)}
    text_fields, file_fields = form_field_names()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in ("static", "bootstrap.static")]
    failures, sent = [], 0
    for who in [None, *users]:
        for rule in rules:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for _ in range(ROUNDS):
                    g.pop("_login_user", None)
                    with client.session_transaction() as session:
                        session.clear()
                        if who is not None:
                            session["_user_id"] = users[who].get_id()
                            session["_fresh"] = True
                    url = build(rule, rng)
                    query = {rng.choice(["page", "year", "q", "donor_id", "date_from", "date_to", "state",
                                         "programme", "other_id", "amount_min", "download", "t",
                                         "session_id"]): rng.choice(HOSTILE) for _ in range(rng.randint(0, 3))}
                    kwargs = {"query_string": query}
                    if method == "POST":
                        data = {name: rng.choice(HOSTILE) for name in rng.sample(text_fields, k=min(12, len(text_fields)))}
                        for name in file_fields:
                            if rng.random() < 0.5:
                                data[name] = (io.BytesIO(rng.choice([b"", b"%PDF-1.4", b"a,b\n1,2\n", b"\x00" * 10])),
                                              rng.choice(["a.csv", "x.pdf", "a\x00.html", "b.xlsx"]))
                        kwargs.update(data=data, content_type="multipart/form-data")
                    sent += 1
                    try:
                        status = client.open(url, method=method, **kwargs).status_code
                    except Exception as error:  # noqa: BLE001 - the app raised: a 500
                        status = f"{type(error).__name__}: {error}"[:200]
                    if not isinstance(status, int) or status >= 500 and status != 503:
                        failures.append((who and who.value, method, url, query, status))
                    # 503 is the documented answer of unconfigured features (webhook without a
                    # secret, giving off); anything else >= 500 is a defect.
    assert sent > 300
    assert failures == [], failures[:10]
