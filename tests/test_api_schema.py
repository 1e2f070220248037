"""Schemathesis against /api/openapi.json, in-process through the app's WSGI interface:
every documented operation, with generated valid and invalid query strings, answers with a
documented status and a body that matches its schema; never a server error."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from app.extensions import db
from app.models import Channel
from tests import factories
from tests.case_helpers import fund, make_case, pay


@pytest.fixture
def api_schema(app):
    person = factories.donor("Trần Thị Thu Hà", public_listing_consent=True)
    when = datetime.now(timezone.utc) - timedelta(days=2)
    factories.donation(person, 2_500_000, received_at=when)
    factories.donation(factories.organization(), 30_000_000, received_at=when, channel=Channel.IN_KIND.value,
                       in_kind_description="10 xe lăn")
    case = make_case("approved", approved=5_000_000)
    fund("heart", 20_000_000)
    pay(case, 3_000_000)
    db.session.commit()  # SQLite: no transaction of the test's may stay open during requests
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def test_every_api_operation_keeps_its_schema(api_schema):
    """Each operation in turn (schemathesis' pytest plugin does not run under pytest 9:
    its strategies are driven by hypothesis directly here).

    positive_data_acceptance is left out on purpose: some rules span two parameters or go
    beyond what OpenAPI 3.0 can say (a reversed date range, dates outside the years with
    data); those requests are a documented 400 with a message, which the other checks
    (status code and body conformance) still hold to the schema."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])
            db.session.rollback()

        check()
