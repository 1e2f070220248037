"""Case documents: type by content, the 10 MB limit, storage outside static/, who may download."""
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, CaseDocument, Role
from app.services.cases.documents import MAX_DOCUMENT_BYTES, sniff_type
from tests.case_helpers import make_case, sign_in

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 64


@pytest.fixture(autouse=True)
def uploads(app, tmp_path):
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = previous


def upload(client, case, data: bytes, name: str, kind: str = "quote"):
    return client.post(f"/staff/cases/{case.id}/documents", content_type="multipart/form-data",
                       data={"kind": kind, "file": (io.BytesIO(data), name)})


@pytest.mark.parametrize("data,expected", [(PDF, "application/pdf"), (PNG, "image/png"), (JPG, "image/jpeg"),
                                           (b"GIF89a....", None), (b"<html>", None), (b"MZ\x90\x00", None)])
def test_type_is_read_from_content(data, expected):
    assert (sniff_type(data) or (None,))[0] == expected


def test_upload_is_stored_under_a_random_name_outside_static(client, login_as, uploads, app):
    case = make_case()
    login_as(Role.CASE_WORKER)
    response = upload(client, case, PDF, "bao-gia-benh-vien.pdf")
    assert response.status_code == 302
    document = db.session.scalars(sa.select(CaseDocument)).one()
    stored = uploads / document.stored_name
    assert stored.read_bytes() == PDF
    assert "bao-gia" not in document.stored_name and len(document.stored_name) >= 32
    assert Path(app.static_folder).resolve() not in stored.resolve().parents
    assert document.content_type == "application/pdf" and document.size == len(PDF)


def test_a_renamed_file_is_refused_by_content(client, login_as, uploads):
    case = make_case()
    login_as(Role.CASE_WORKER)
    response = upload(client, case, b"MZ\x90\x00 this is an exe", "hoa-don.pdf")
    assert response.status_code == 422
    assert "Chỉ nhận tệp PDF, JPG hoặc PNG" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseDocument)) == 0
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_files_over_ten_megabytes_are_refused(client, login_as):
    case = make_case()
    login_as(Role.CASE_WORKER)
    too_big = PNG + b"\x00" * (MAX_DOCUMENT_BYTES - len(PNG) + 1)
    response = upload(client, case, too_big, "anh-chup.png")
    assert response.status_code == 422 and "Tệp vượt quá 10 MB." in response.get_data(as_text=True)
    exactly = PNG + b"\x00" * (MAX_DOCUMENT_BYTES - len(PNG))
    assert upload(client, case, exactly, "anh-chup.png").status_code == 302


@pytest.mark.parametrize("role,allowed", [(Role.CASE_WORKER, True), (Role.DIRECTOR, True), (Role.ADMIN, True),
                                          (Role.ACCOUNTANT, False), (Role.VIEWER, False)])
def test_download_only_for_roles_that_see_the_child(client, login_as, role, allowed):
    case = make_case()
    login_as(Role.CASE_WORKER)
    upload(client, case, JPG, "phieu-dong-y.jpg", kind="consent")
    document = db.session.scalars(sa.select(CaseDocument)).one()
    sign_in(login_as, role)
    response = client.get(f"/staff/cases/{case.id}/documents/{document.id}")
    if allowed:
        assert response.status_code == 200 and response.data == JPG
        assert response.headers["Content-Type"] == "image/jpeg"
        assert "attachment" in response.headers["Content-Disposition"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "case.document.download")) == 1
    else:
        assert response.status_code == 403
    other = make_case()
    assert client.get(f"/staff/cases/{other.id}/documents/{document.id}").status_code in (403, 404)


@pytest.mark.parametrize("name, data, downloaded", [("x.html", PDF, "x.pdf"), ("scan", PNG, "scan.png"),
                                                     ("anh.JPEG", JPG, "anh.JPEG"), ("a.pdf.exe", PDF, "a.pdf.pdf")])
def test_the_download_name_follows_the_detected_type(client, login_as, name, data, downloaded):
    """Issue 12, item 12."""
    case = make_case()
    login_as(Role.CASE_WORKER)
    assert upload(client, case, data, name).status_code == 302
    document = db.session.scalars(sa.select(CaseDocument)).one()
    response = client.get(f"/staff/cases/{case.id}/documents/{document.id}")
    assert response.status_code == 200
    assert f'filename={downloaded}' in response.headers["Content-Disposition"].replace('"', "")


def test_an_old_row_with_a_wrong_extension_downloads_under_the_right_one(client, login_as):
    case = make_case()
    login_as(Role.CASE_WORKER)
    upload(client, case, PDF, "bao-gia.pdf")
    document = db.session.scalars(sa.select(CaseDocument)).one()
    document.original_name = "bao-gia.html"  # as stored before the fix
    db.session.commit()
    response = client.get(f"/staff/cases/{case.id}/documents/{document.id}")
    assert "bao-gia.pdf" in response.headers["Content-Disposition"]
