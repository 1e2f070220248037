"""A confirmation step for actions that cannot be undone with a click (voiding a receipt,
approving a payout): the first POST shows what will happen on a page of its own; the
button there posts the same fields again with `confirmed=1`. No JavaScript needed."""
from __future__ import annotations

from flask import render_template, request

FIELD = "confirmed"


def confirmation_page(title: str, lines: list[str], *, button: str, cancel_url: str,
                      style: str = "danger"):
    """None when this POST is already confirmed; otherwise the confirmation page."""
    if request.form.get(FIELD) == "1":
        return None
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", FIELD)]
    return render_template("staff/confirm.html", title=title, lines=lines, button=button,
                           cancel_url=cancel_url, style=style, fields=fields, action=request.path)
