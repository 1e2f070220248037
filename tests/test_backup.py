"""Backup and restore through the CLI: a backup of a database with donations, a reversal,
receipts (one void), a case document and a job's result file restores into an empty
database with the same counts, sums and receipt numbers, and the files come back."""
from __future__ import annotations

import io
import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Donation, Receipt
from app.services import files
from app.services.donations import ledger
from tests import factories
from tests.conftest import CommittingCliRunner, make_app, scratch_database

pytestmark = pytest.mark.slow


@pytest.fixture
def empty_database(database_uri, tmp_path):
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with scratch_database(url, f"{url.database}_r{uuid.uuid4().hex[:6]}") as uri:
        yield uri


def figures():
    return {
        "donations": db.session.scalar(sa.select(sa.func.count()).select_from(Donation)),
        "sum": db.session.scalar(sa.select(sa.func.sum(Donation.amount))),
        "net": db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted())),
        "receipts": list(db.session.execute(sa.select(Receipt.number, Receipt.voided_at.is_(None))
                                            .order_by(Receipt.id)).all()),
    }


def test_backup_restores_into_an_empty_database(app, tmp_path, empty_database):
    previous = app.config["UPLOAD_FOLDER"]
    app.config.update(UPLOAD_FOLDER=str(tmp_path / "up"), FILES_FOLDER=str(tmp_path / "files"))
    try:
        survivor = factories.donor("Nguyễn Văn An", email="an@example.com")
        gift = factories.donation(survivor, 5_000_000)
        factories.donation(factories.organization(), 50_000_000)
        ledger.reverse_donation(gift.id, factories.SYSTEM, amount=1_000_000, reason="Hoàn một phần")
        files.documents().put("abc.pdf", b"%PDF-1.4 case document")
        files.files().put("jobs/1/sao-ke-2025.zip", b"PK zip")
        before = figures()
        result = CommittingCliRunner(app).invoke(args=["backup", "create", "--output", str(tmp_path / "b")])
        assert result.exit_code == 0, result.output
        assert "receipts" in result.output
    finally:
        app.config.update(UPLOAD_FOLDER=previous)
        app.config.pop("FILES_FOLDER")
    target = make_app(empty_database, UPLOAD_FOLDER=str(tmp_path / "up2"), FILES_FOLDER=str(tmp_path / "files2"))
    with target.app_context():
        upgrade()
        db.session.remove()
        result = CommittingCliRunner(target).invoke(args=["backup", "restore", str(tmp_path / "b")])
        assert result.exit_code == 0, result.output
        assert "matches the backup" in result.output
        assert figures() == before
        assert files.documents().get("abc.pdf") == b"%PDF-1.4 case document"
        assert files.files().get("jobs/1/sao-ke-2025.zip") == b"PK zip"
        # The restored database keeps numbering where the old one stopped.
        factories.donation(factories.donor("Mới"), 100_000)
        numbers = [n for n, _ in figures()["receipts"]]
        assert len(set(numbers)) == len(numbers) == len(before["receipts"]) + 1
        # A second restore is refused: the database is no longer empty.
        again = CommittingCliRunner(target).invoke(args=["backup", "restore", str(tmp_path / "b")])
        assert again.exit_code != 0 and "not empty" in again.output
        db.session.remove()
