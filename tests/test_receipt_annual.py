"""`flask --app wsgi receipts annual`: one statement per donor, resumable."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime

import pytest

from app.extensions import db
from app.services.donations import ledger as donations
from app.services.receipts import documents as receipt_documents
from app.timeutil import local_to_utc
from app.vnd import amount_in_words
from tests import factories


def text_of(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(out.split())


def at(y, m, d, hh=10, mm=0):
    return local_to_utc(datetime(y, m, d, hh, mm))


def make_year(n_donors: int = 5):
    donors = [factories.donor(f"Nhà hảo tâm số {i + 1}") for i in range(n_donors)]
    for i, donor in enumerate(donors):
        factories.donation(donor, 1_000_000 * (i + 1), received_at=at(2024, 3, i + 1))
    return donors


def test_statement_lists_the_year_with_reversals_negative_and_net_total_in_words(runner, tmp_path):
    donor = factories.organization("Công ty TNHH Dệt may Tiên Lãng", tax_code="0202345678")
    factories.donation(donor, 30_000_000, received_at=at(2024, 1, 1, 0, 30))
    wrong = factories.donation(donor, 100_000_000, received_at=at(2024, 4, 3))
    donations.reverse_in_tx(donations.lock_donation(wrong.id), factories.SYSTEM,
                            reason="Nhập sai số tiền", received_at=at(2024, 4, 3, 11))
    db.session.commit()
    factories.donation(donor, 18_000_000, received_at=at(2024, 12, 31, 23, 30))
    factories.donation(donor, 7_000_000, received_at=at(2023, 12, 31, 23, 30))  # 2023
    factories.donation(donor, 9_000_000, received_at=at(2025, 1, 1, 0, 10))    # 2025
    factories.donation(donor, 4_000_000, received_at=at(2024, 5, 5), confirm=False)  # pending

    result = runner.invoke(args=["receipts", "annual", "--year", "2024", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "[1/1] sao-ke-2024-" in result.output and "ghi mới 1" in result.output
    [pdf] = list(tmp_path.glob("*.pdf"))
    text = text_of(pdf)
    assert "Công ty TNHH Dệt may Tiên Lãng" in text and "0202345678" in text
    assert "30.000.000 ₫" in text and "100.000.000 ₫" in text and "18.000.000 ₫" in text
    assert "-100.000.000 ₫" in text or "−100.000.000 ₫" in text
    assert "7.000.000" not in text and "9.000.000" not in text and "4.000.000" not in text
    assert "48.000.000 ₫" in text
    assert f"Bằng chữ: {amount_in_words(48_000_000)}." in text


def test_interrupted_run_resumes_without_redoing_finished_files(runner, tmp_path):
    make_year(5)
    first = runner.invoke(args=["receipts", "annual", "--year", "2024", "--output", str(tmp_path),
                                "--limit", "2"])
    assert first.exit_code == 0, first.output
    done = sorted(tmp_path.glob("*.pdf"))
    assert len(done) == 2 and "chạy lại lệnh để tiếp tục" in first.output
    stamps = {p.name: p.stat().st_mtime_ns for p in done}

    second = runner.invoke(args=["receipts", "annual", "--year", "2024", "--output", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert second.output.count("đã có, bỏ qua") == 2 and second.output.count("đã ghi") == 3
    assert len(list(tmp_path.glob("*.pdf"))) == 5
    assert {p.name: p.stat().st_mtime_ns for p in done} == stamps  # untouched


def test_a_crash_mid_file_leaves_no_partial_file_and_the_rerun_completes(tmp_path, monkeypatch):
    make_year(4)
    renderer = receipt_documents.renderer_for()
    real = type(renderer).render_statement
    calls = {"n": 0}

    def crash_on_third(self, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if Ctrl-C arrived while rendering the third
        return real(self, data)

    monkeypatch.setattr(type(renderer), "render_statement", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        receipt_documents.write_annual_statements(2024, tmp_path)
    assert len(list(tmp_path.glob("*.pdf"))) == 2
    assert list(tmp_path.glob("*.part")) == []

    # A leftover half-written file (a crash during the write itself) is redone, not kept.
    (tmp_path / "sao-ke-2024-999999.pdf.part").write_bytes(b"%PDF-1.4 half")
    monkeypatch.setattr(type(renderer), "render_statement", real)
    written = []
    result = receipt_documents.write_annual_statements(
        2024, tmp_path, progress=lambda done, total, name, what: written.append((name, what)))
    assert (result.written, result.skipped, result.total) == (2, 2, 4)
    assert [w for _, w in written] == ["skipped", "skipped", "written", "written"]
    texts = [text_of(p) for p in tmp_path.glob("*.pdf")]
    for n in range(1, 5):  # each donor exactly once
        assert sum(f"Họ và tên: Nhà hảo tâm số {n} " in t for t in texts) == 1


def test_a_truncated_final_file_is_redone(tmp_path):
    make_year(1)
    receipt_documents.write_annual_statements(2024, tmp_path)
    [pdf] = list(tmp_path.glob("*.pdf"))
    pdf.write_bytes(pdf.read_bytes()[:500])
    result = receipt_documents.write_annual_statements(2024, tmp_path)
    assert result.written == 1 and pdf.read_bytes().rstrip().endswith(b"%%EOF")


def test_bad_year_is_refused(runner, tmp_path):
    result = runner.invoke(args=["receipts", "annual", "--year", "1890", "--output", str(tmp_path)])
    assert result.exit_code != 0 and "Năm phải trong khoảng" in result.output
