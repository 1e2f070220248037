"""Import edge cases (issue 12, item 18): an over-long cell is a clear error, two
confirmations of the same file write once (the other is a 409)."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.errors import Conflict
from app.extensions import db
from app.models import Donation, Role
from app.services.donations import importer
from tests import factories

HEADER = "received_at,donor_kind,donor_name,amount_vnd,channel,reference,note\n"


def test_a_cell_over_the_csv_limit_is_a_clear_error(client, login_as):
    login_as(Role.ACCOUNTANT)
    big = HEADER + "2024-05-01,individual,An,100000,cash,R1," + "x" * (csv.field_size_limit() + 1) + "\n"
    response = client.post("/staff/donations/import", data={"file": (io.BytesIO(big.encode()), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Dòng 2: có ô dài quá 131.072 ký tự" in response.get_data(as_text=True)


def test_nul_inside_a_csv_file_is_a_clear_error():
    data = (HEADER + "2024-05-01,individual,An\x00,100000,cash,R1,\n").encode()
    with pytest.raises(importer.ImportFileError, match="NUL"):
        importer.plan_import(data, "nul.csv")


def test_two_confirmations_of_the_same_file_write_once(client, login_as):
    data = (HEADER + "2024-05-01,individual,Nguyễn An,100000,cash,REF-1,\n"
                     "2024-05-02,individual,Trần Bình,200000,cash,REF-2,\n").encode()
    first, second = importer.plan_import(data, "a.csv"), importer.plan_import(data, "a.csv")
    db.session.rollback()
    importer.execute_plan(first, factories.SYSTEM)
    with pytest.raises(Conflict) as caught:
        importer.execute_plan(second, factories.SYSTEM)
    assert caught.value.status_code == 409 and "vừa được nhập" in caught.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 2
