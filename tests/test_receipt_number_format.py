"""The receipt-number pattern is checked by rendering several sequences (issue 12, item 19)."""
from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.models import Role
from app.services.receipts.issuing import valid_receipt_for
from app.services.setup import check_number_format, get_settings, update_settings
from tests import factories

BAD = ["{year}-{seq.x}", "{year}-{seq!s:.1}", "{year}-{seq[0]}", "{year}", "{seq}", "{year}-{seq}-{seq}",
       "{year}-{seq:.1}", "{year}-{seq:>80}", "{year}-{seq:x}", "{year}-{other}", "{year}-{seq", "BT}{year}{seq}",
       "{year}-{seq:0}", "<b>{year}</b>{seq}", "{year:.2}-{seq}", "{year!r}-{seq}", "X" * 55 + "{year}{seq}"]
GOOD = ["BTTE-{year}-{seq:06d}", "{year}/{seq}", "GCN {year}.{seq:05d}", "{seq:06d}-{year}"]


@pytest.mark.nodb
@pytest.mark.parametrize("pattern", BAD)
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(ValidationFailed) as caught:
        check_number_format(pattern)
    assert "Mẫu số không hợp lệ" in caught.value.message


@pytest.mark.nodb
@pytest.mark.parametrize("pattern", GOOD)
def test_good_patterns_pass(pattern):
    check_number_format(pattern)


def test_the_settings_page_refuses_and_issuing_keeps_working(client, login_as):
    login_as(Role.ADMIN)
    settings = get_settings()
    form = {name: getattr(settings, name) or "" for name in (
        "fund_name", "operator_name", "parent_agency", "address", "phone", "email", "bank_name",
        "bank_bin", "bank_account_number", "bank_account_name", "signatory_name", "signatory_title")}
    form.update(commendation_threshold="50000000", receipt_number_format="{year}-{seq!s:.1}")
    response = client.post("/staff/settings", data=form)
    assert response.status_code in (400, 422)
    assert "Mẫu số không hợp lệ" in response.get_data(as_text=True)
    assert client.post("/staff/settings", data={**form, "receipt_number_format": "{year}-{seq.x}"}).status_code in (400, 422)
    donation = factories.donation(factories.donor(), 200_000)
    assert valid_receipt_for(donation.id) is not None  # receipts still issue


def test_the_service_refuses_too():
    with pytest.raises(ValidationFailed):
        update_settings({"receipt_number_format": "{year}-{seq!s:.1}"}, factories.SYSTEM)
