"""The storage adapter on a folder and on an S3-compatible server (moto's server mode,
started on 127.0.0.1 by this module): the same behaviour, and case documents and job
results go to the bucket when STORAGE_S3_BUCKET is set."""
from __future__ import annotations

import io
import socket

import pytest

from app.adapters.storage import FolderStorage, S3Storage, StorageError
from app.extensions import db
from app.models import Role
from app.services import files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    moto = pytest.importorskip("moto.server")
    server = moto.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    import os

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def bucket(s3_endpoint):
    import uuid

    from app.adapters.storage import _s3_client

    name = f"quy-{uuid.uuid4().hex[:8]}"
    _s3_client(s3_endpoint, None).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["folder", "s3"])
def storage(request, tmp_path):
    if request.param == "folder":
        return FolderStorage(tmp_path / "store")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Storage(request.getfixturevalue("bucket"), "files", endpoint_url=endpoint)


@pytest.mark.nodb
def test_put_get_exists_keys_delete(storage):
    storage.ping()
    storage.put("jobs/1/a.zip", b"PK one")
    storage.put("jobs/2/b.pdf", b"%PDF two")
    assert storage.get("jobs/1/a.zip") == b"PK one" and storage.exists("jobs/2/b.pdf")
    assert sorted(storage.keys()) == ["jobs/1/a.zip", "jobs/2/b.pdf"]
    assert list(storage.keys("jobs/2/")) == ["jobs/2/b.pdf"]
    with storage.open("jobs/2/b.pdf") as handle:
        assert handle.read() == b"%PDF two"
    storage.delete("jobs/1/a.zip")
    assert not storage.exists("jobs/1/a.zip")
    with pytest.raises(KeyError):
        storage.get("jobs/1/a.zip")
    for bad in ("../etc/passwd", "/abs", "a/../../b", "sp ace"):
        with pytest.raises(StorageError):
            storage.put(bad, b"x")


def test_case_documents_and_results_live_in_the_bucket(app, client, login_as, s3_endpoint, bucket, tmp_path):
    from tests.case_helpers import make_case

    app.config.update(STORAGE_S3_BUCKET=bucket, STORAGE_S3_ENDPOINT_URL=s3_endpoint)
    try:
        login_as(Role.CASE_WORKER)
        case = make_case()
        pdf = b"%PDF-1.4 giay xac nhan"
        response = client.post(f"/staff/cases/{case.id}/documents",
                               data={"kind": "other", "file": (io.BytesIO(pdf), "xac-nhan.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        from app.models import CaseDocument

        document = db.session.query(CaseDocument).one()
        assert files.documents().get(document.stored_name) == pdf
        assert isinstance(files.documents(), S3Storage)
        assert not list((tmp_path).rglob(document.stored_name))  # nothing on local disk
        download = client.get(f"/staff/cases/{case.id}/documents/{document.id}")
        assert download.status_code == 200 and download.data == pdf
    finally:
        for key in ("STORAGE_S3_BUCKET", "STORAGE_S3_ENDPOINT_URL"):
            app.config[key] = None
