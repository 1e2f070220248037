"""Where the app keeps files: two areas of one storage (app/adapters/storage.py).

- `documents()` — case documents (children's files): UPLOAD_FOLDER, or `documents/` in the
  bucket.
- `files()` — uploaded import files and generated files (job results): FILES_FOLDER
  (default instance/files), or `files/` in the bucket.

With STORAGE_S3_BUCKET set, both live in that S3-compatible bucket (STORAGE_S3_ENDPOINT_URL
for a non-AWS server), so every app server and worker sees the same files.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from app.adapters.storage import make_storage


def _storage(folder: str, prefix: str):
    config = current_app.config
    return make_storage(folder=folder, s3_bucket=config.get("STORAGE_S3_BUCKET"), s3_prefix=prefix,
                        s3_endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL"),
                        s3_region=config.get("STORAGE_S3_REGION"))


def documents():
    folder = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    static = Path(current_app.static_folder).resolve() if current_app.static_folder else None
    if static and (folder == static or static in folder.parents):
        raise RuntimeError("UPLOAD_FOLDER must not be inside the static folder (web root).")
    return _storage(str(folder), "documents")


def files():
    folder = current_app.config.get("FILES_FOLDER") or str(Path(current_app.instance_path) / "files")
    return _storage(folder, "files")


def imports():
    """Uploaded import files (kept for the preview → confirm step and the job): IMPORT_FOLDER
    (default instance/imports), or `imports/` in the bucket."""
    folder = current_app.config.get("IMPORT_FOLDER") or str(Path(current_app.instance_path) / "imports")
    return _storage(folder, "imports")
