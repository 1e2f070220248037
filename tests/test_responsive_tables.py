"""Every staff list is a responsive table (issue 12, item 26): one class, `table-stack`,
turns a table into stacked cards on a phone (app/static/css/app.css; js/tables.js copies
the headings into data-label). A new staff list without it would be unusable on a phone."""
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.nodb

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STAFF = sorted([*TEMPLATES.glob("staff/**/*.html"), *TEMPLATES.glob("cases/**/*.html")])


def tables(text: str):
    for match in re.finditer(r"<table\b[^>]*>", text):
        yield match.group(0), text[match.end():text.find("</table>", match.end())]


def test_every_staff_list_table_stacks_on_a_phone():
    missing = [f"{path.relative_to(TEMPLATES)}: {tag}" for path in STAFF
               for tag, body in tables(path.read_text()) if "<thead" in body and "table-stack" not in tag]
    assert missing == []
    assert len([1 for path in STAFF for tag, _ in tables(path.read_text()) if "table-stack" in tag]) >= 30


def test_the_mechanism_is_loaded_on_every_page():
    base = (TEMPLATES / "base.html").read_text()
    assert "js/tables.js" in base
    css = (TEMPLATES.parent / "app/static/css/app.css").read_text()
    assert ".table-stack thead { display: none; }" in css and "attr(data-label)" in css
