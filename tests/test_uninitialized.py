"""A database only migrated (no init-data) refuses with one clear sentence (issue 12, item 20);
IMPORT_FOLDER, documented in the README, is read from the environment."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AdminUnit, FundSettings, Programme
from app.models import Role

SENTENCE = "chưa được khởi tạo dữ liệu tham chiếu"


@pytest.fixture
def migrated_only():
    for model in (FundSettings, Programme, AdminUnit):
        db.session.execute(sa.delete(model))
    db.session.commit()


def test_donate_answers_with_one_sentence(client, migrated_only):
    for method, kwargs in (("get", {}), ("post", {"data": {"name": "An", "email": "a@example.org",
                                                            "custom_amount": "100000", "kind": "individual"}})):
        response = getattr(client, method)("/donate", **kwargs)
        assert response.status_code == 503
        assert SENTENCE in response.get_data(as_text=True) and "init-data" in response.get_data(as_text=True)


def test_staff_pages_answer_with_the_sentence(client, login_as, migrated_only):
    login_as(Role.ADMIN)
    response = client.get("/staff/settings")
    assert response.status_code == 503 and SENTENCE in response.get_data(as_text=True)


def test_import_cli_answers_with_the_sentence(runner, tmp_path, migrated_only):
    path = tmp_path / "gifts.csv"
    path.write_text("received_at,donor_kind,donor_name,amount_vnd,channel\n"
                    "2024-05-01,individual,Nguyễn An,100000,cash\n", encoding="utf-8")
    result = runner.invoke(args=["donations", "import", str(path)])
    assert result.exit_code == 1 and SENTENCE in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.nodb
def test_import_folder_comes_from_the_environment(tmp_path):
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "IMPORT_FOLDER": str(tmp_path / "imp")}
    out = subprocess.run([sys.executable, "-c", "import config; print(config.Config.IMPORT_FOLDER)"],
                         cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(tmp_path / "imp")
