"""Public receipt pages: verification by the token in the QR code, and the donor's download.

Nothing here lists receipts: each page needs a token that only the receipt's holder has.
Verification shows no address, MST or e-mail, and masks an anonymous donor's name.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from app.extensions import limiter
from app.i18n import _, _l
from app.models import Receipt
from app.services.receipts import documents as receipt_documents
from app.services.receipts import issuing as receipts

bp = Blueprint("receipts_public", __name__)

NOT_FOUND = _l("Không tìm thấy giấy chứng nhận này. Vui lòng kiểm tra lại đường dẫn "
               "hoặc mã QR trên giấy chứng nhận.")


def _not_found():
    return render_template("errors/error.html", code=404, message=str(NOT_FOUND)), 404


@bp.app_template_global("receipt_download_url")
def receipt_download_url(receipt: Receipt, external: bool = False) -> str:
    """The donor's signed PDF link, for templates (the donation return page, e-mails)."""
    path = url_for("receipts_public.receipt_download", token=receipts.download_token(receipt))
    return receipt_documents.public_url(path) if external else path


@bp.get("/receipts/verify/<token>")
@limiter.limit("60 per minute")
def receipt_verify(token: str):
    receipt = receipts.receipt_by_token(token)
    if receipt is None:
        return _not_found()
    donation = receipt.donation
    amount = donation.amount if receipt.is_void else receipt_documents.net_amount(donation)
    response = Response(render_template(
        "receipts/verify.html", receipt=receipt, amount=amount,
        donor_name=_("Nhà hảo tâm") if donation.is_anonymous else donation.shown_name))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/receipts/download/<token>")
@limiter.limit("30 per minute")
def receipt_download(token: str):
    receipt = receipts.receipt_by_download_token(token)
    if receipt is None:
        return _not_found()
    if receipt.is_void:
        # A void receipt's old link says so and leads to the one that replaces it (the
        # holder of this link is the donor), never to the void PDF.
        replacement = receipts.current_replacement(receipt)
        response = Response(render_template("receipts/voided.html", receipt=receipt,
                                            replacement=replacement), status=410)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response
    return pdf_response(receipt_documents.receipt_pdf(receipt),
                        receipt_documents.receipt_filename(receipt))


def pdf_response(pdf: bytes, filename: str, *, attachment: bool = False) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
