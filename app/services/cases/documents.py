"""Case documents: PDF, JPG or PNG up to 10 MB, the type checked by content (magic bytes),
stored with random names in the documents area of the app's storage (app/services/files.py:
UPLOAD_FOLDER, default instance/uploads, never under static/; or an S3-compatible bucket).
Downloads go through a view that checks the role and writes the audit log."""
from __future__ import annotations

import hashlib
import os
import secrets

from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import _
from app.models import CaseDocument, DocumentKind, SupportCase
from app.services import audit, files
from app.services.audit import Actor
from app.services.cases.workflow import IDENTITY_ROLES, get_case

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# (magic prefix, content type, extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF/PNG/JPEG by its first bytes, or None."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def read_upload(file_storage) -> tuple[bytes, str, str, str]:
    """Validate an uploaded file; returns (data, content type, extension, original name)."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ValidationFailed(_("Vui lòng chọn tệp."), field="file")
    data = file_storage.stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(_("Tệp vượt quá 10 MB."), field="file")
    if not data:
        raise ValidationFailed(_("Tệp rỗng."), field="file")
    kind = sniff_type(data[:16])
    if kind is None:
        raise ValidationFailed(_("Chỉ nhận tệp PDF, JPG hoặc PNG (kiểm tra theo nội dung tệp)."), field="file")
    name = os.path.basename(file_storage.filename.replace("\\", "/"))[:200] or f"tai-lieu.{kind[1]}"
    return data, kind[0], kind[1], with_extension(name, kind[1])


_SAME_EXTENSIONS = {"jpg": ("jpg", "jpeg"), "pdf": ("pdf",), "png": ("png",)}


def with_extension(name: str, extension: str) -> str:
    """`name` ending in the extension of its detected type: "x.html" holding a PDF is
    "x.pdf", "scan" is "scan.pdf"; "anh.JPEG" stays as it is."""
    stem, dot, current = name.rpartition(".")
    if dot and current.lower() in _SAME_EXTENSIONS.get(extension, (extension,)):
        return name
    base = stem if dot and stem else name
    return f"{base[:195]}.{extension}"


def download_name(document: CaseDocument) -> str:
    """The name a document downloads under; its extension follows the detected type (also
    for files uploaded before names were corrected on upload)."""
    extension = next((ext for _magic, content_type, ext in SIGNATURES
                      if content_type == document.content_type), None)
    return with_extension(document.original_name, extension) if extension else document.original_name


def store_document(case: SupportCase, kind: str, file_storage, actor: Actor) -> CaseDocument:
    """Write the file and add its row to the caller's transaction (not committed).
    The caller removes the file with `discard_file` if its transaction fails."""
    try:
        kind = DocumentKind(kind).value
    except ValueError:
        raise ValidationFailed(_("Loại tài liệu không hợp lệ."), field="kind") from None
    data, content_type, extension, original = read_upload(file_storage)
    stored = f"{secrets.token_hex(16)}.{extension}"
    files.documents().put(stored, data, content_type)
    document = CaseDocument(case=case, kind=kind, original_name=original, stored_name=stored,
                            content_type=content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.user_id)
    db.session.add(document)
    audit.record(actor, "case.document.upload", document,
                 after={"case": case.code, "kind": kind, "size": len(data), "type": content_type})
    return document


def discard_file(document: CaseDocument | None) -> None:
    if document is not None:
        files.documents().delete(document.stored_name)


def upload_document(case_id: int, kind: str, file_storage, actor: Actor, role: str) -> CaseDocument:
    if role not in IDENTITY_ROLES:
        raise PermissionDenied(_("Bạn không có quyền thêm tài liệu vào hồ sơ trẻ em."))
    case = get_case(case_id)
    document = store_document(case, kind, file_storage, actor)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard_file(document)
        raise
    return document


def open_document(case_id: int, document_id: int, actor: Actor, role: str) -> tuple[CaseDocument, bytes]:
    """A document of a case for download, by a role that may see the case; audited."""
    if role not in IDENTITY_ROLES:
        raise PermissionDenied(_("Bạn không có quyền tải tài liệu của hồ sơ trẻ em."))
    document = db.session.get(CaseDocument, document_id)
    if document is None or document.case_id != case_id:
        raise NotFound(_("Không tìm thấy tài liệu."))
    try:
        data = files.documents().get(document.stored_name)
    except KeyError:
        raise NotFound(_("Tệp tài liệu không còn trên máy chủ.")) from None
    audit.record(actor, "case.document.download", document,
                 after={"case": document.case.code, "name": document.original_name})
    db.session.commit()
    return document, data
