"""File storage behind one small interface: a folder on this machine (default) or an
S3-compatible bucket (AWS S3, MinIO, Ceph, …), so several app servers and workers share case
documents, uploaded import files and generated files (job results).

Keys are relative paths with "/" separators ("imports/ab12….csv", "jobs/7/sao-ke-2025.zip").
Both backends write a file whole or not at all: the folder backend writes `<key>.part` and
renames it into place; S3 PUTs are atomic by themselves.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO, Iterator

_KEY_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


class StorageError(Exception):
    pass


def check_key(key: str) -> str:
    if not key or key.startswith("/") or ".." in key.split("/") or not set(key) <= _KEY_OK:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class FolderStorage:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"FolderStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    def put_file(self, key: str, source: str | os.PathLike,
                 content_type: str = "application/octet-stream") -> None:
        self.put(key, Path(source).read_bytes(), content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            pass

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def _s3_client(endpoint_url: str | None, region: str | None):
    import boto3
    from botocore.config import Config

    key = (endpoint_url, region)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.client(
                "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
                config=Config(retries={"max_attempts": 3, "mode": "standard"},
                              connect_timeout=5, read_timeout=30))
        return _clients[key]


class S3Storage:
    """Objects under `prefix` in `bucket`. Credentials come the standard boto3 way
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = _s3_client(endpoint_url, region)

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, {self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data,
                               ContentType=content_type)

    def put_file(self, key: str, source: str | os.PathLike,
                 content_type: str = "application/octet-stream") -> None:
        self.client.upload_file(str(source), self.bucket, self._name(key),
                                ExtraArgs={"ContentType": content_type})

    def get(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def open(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise StorageError(str(error)) from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StorageError(str(error)) from error

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix):]

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def make_storage(*, folder: str | os.PathLike, s3_bucket: str | None = None, s3_prefix: str = "",
                 s3_endpoint_url: str | None = None, s3_region: str | None = None):
    if s3_bucket:
        return S3Storage(s3_bucket, s3_prefix, endpoint_url=s3_endpoint_url, region=s3_region)
    return FolderStorage(folder)
