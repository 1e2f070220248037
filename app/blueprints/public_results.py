"""/ket-qua-ho-tro: what the fund's money did, per programme, without identifying any child.

Counts and totals per programme, and anonymised stories (initials, no photo) only for cases
whose consent record allows publishing. Nothing here reads a child's name, birth date,
address, guardian, diagnosis or documents.
"""
from __future__ import annotations

from flask import render_template

from app.blueprints.public import bp
from app.services import results


@bp.get("/ket-qua-ho-tro")
def support_results():
    return render_template("public/results.html", rows=results.programme_results(),
                           stories=results.public_stories())
