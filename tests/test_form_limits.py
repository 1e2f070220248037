"""Every text field states its length limit in its form, no longer than its column
(issue 12, item 17): an over-long value is a form message, never a 500 or a silent cut."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

import app.forms
from app.extensions import db
from app.models import Role
from tests import factories

# Which tables a form's fields are stored in ("new_name" is looked up as "name").
FORM_TABLES = {
    "backoffice.DonorForm": ["donors"],
    "backoffice.DonationForm": ["donors", "donations"],
    "backoffice.AppealForm": ["appeals"],
    "donate.DonationForm": ["donors", "donations"],
    "auth.UserCreateForm": ["users"],
    "cases.CaseForm": ["cases"],
    "cases.CategoryForm": ["circumstance_categories"],
    "cases.CategoryUpdateForm": ["circumstance_categories"],
    "cases.ConsentForm": ["cases"],
    "cases.DisbursementForm": ["disbursements"],
    "cases.CaseDonationForm": ["donations"],
    "commendation.OverrideForm": ["commendation_overrides"],
    "settings.FundSettingsForm": ["fund_settings"],
}
ALIASES = {"message": "public_message", "to": "to_address"}


def all_form_classes():
    for info in pkgutil.iter_modules(app.forms.__path__):
        module = importlib.import_module(f"app.forms.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__:
                yield f"{info.name}.{name}", cls


def column_length(tables: list[str], field_name: str) -> int | None:
    name = ALIASES.get(field_name, field_name.removeprefix("new_"))
    for table in tables:
        column = db.metadata.tables[table].columns.get(name)
        if column is not None and isinstance(column.type, sa.String) and column.type.length:
            return column.type.length
    return None


FORMS = sorted(all_form_classes())


def test_the_walk_finds_the_forms():
    assert len(FORMS) >= 20 and {"donate.DonationForm", "cases.CaseForm"} <= {n for n, _ in FORMS}
    assert set(FORM_TABLES) <= {n for n, _ in FORMS}


@pytest.mark.parametrize("name,form_class", FORMS, ids=[n for n, _ in FORMS])
def test_every_text_field_has_a_limit_within_its_column(app, name, form_class):
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
    problems = []
    for field in form:
        if not isinstance(field, StringField) or field.type == "CSRFTokenField":
            continue
        limits = [v for v in field.validators if isinstance(v, Length) and v.max and v.max > 0]
        if not limits:
            problems.append(f"{field.name}: no Length(max=…)")
            continue
        if not limits[0].message:
            problems.append(f"{field.name}: no message")
        column = column_length(FORM_TABLES.get(name, []), field.name)
        if column is not None and limits[0].max > column:
            problems.append(f"{field.name}: form allows {limits[0].max}, column holds {column}")
    assert problems == []


def test_an_over_long_category_name_is_a_message_not_a_500(client, login_as):
    login_as(Role.DIRECTOR)
    response = client.post("/staff/case-categories", data={"name": "x" * 201})
    assert response.status_code in (400, 422) and "Tối đa 200 ký tự" in response.get_data(as_text=True)
    from app.models import CircumstanceCategory

    category = db.session.scalars(sa.select(CircumstanceCategory)).first()
    db.session.commit()
    response = client.post(f"/staff/case-categories/{category.id}", data={"name": "y" * 201},
                           follow_redirects=True)
    assert response.status_code in (200, 400, 422)
    assert "Tối đa 200 ký tự" in response.get_data(as_text=True)


def test_an_over_long_donor_name_is_refused_not_cut(client, login_as):
    login_as(Role.ACCOUNTANT)
    response = client.post("/staff/donors/new", data={"kind": "individual", "name": "A" * 10_000})
    assert response.status_code in (400, 422) and "Tối đa 255 ký tự" in response.get_data(as_text=True)
