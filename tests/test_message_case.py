"""Every sentence of a message starts with a capital (issue 12, item 33: "lowercase after a
full stop"). Messages are scanned where they are written — string literals and f-strings
under app/, text in templates — and the two ways it happened are checked where they run: a
sentence with a comma grouped like a number (`"… {x:,}, vui lòng …".replace(",", ".")` turned
", vui lòng" into ". vui lòng"), and a message assembled from pieces."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.errors import ValidationFailed
from app.services.donations.online import check_amount

ROOT = Path(__file__).resolve().parent.parent
LOWER = "a-zàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
# A word, a full stop, a space, then a lowercase word. Not a sentence end: an abbreviation
# ("e.g.", "v.v.", "N.V.A.": a dot inside the word) or a code name ("donor_kind").
LOWER_AFTER_STOP = re.compile(rf"(\S+)\.\s+([{LOWER}]\S*)")


def lowercase_after_stop(text: str) -> list[str]:
    if not VIETNAMESE.search(text):
        return []
    return [text[max(0, m.start() - 25):m.end()] for m in LOWER_AFTER_STOP.finditer(text)
            if "." not in m.group(1) and "_" not in m.group(2)]


def literal_text(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # placeholders read as a capitalised word
        return "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
    return None


def test_the_scan_finds_a_lowercase_sentence():
    assert lowercase_after_stop("Số tiền tối đa là 5 ₫. vui lòng chia thành nhiều lần.")
    assert not lowercase_after_stop("Số tiền tối đa là 5 ₫. Vui lòng chia thành nhiều lần.")
    assert not lowercase_after_stop("Cột: donor_kind, amount_vnd. donor_kind : individual")


def test_no_message_in_the_code_has_a_lowercase_sentence():
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            text = None if id(node) in docstrings else literal_text(node)
            if text:
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {hit}" for hit in lowercase_after_stop(text)]
    assert found == []


def test_no_template_text_has_a_lowercase_sentence():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"<code>.*?</code>", "X", path.read_text(), flags=re.S)  # code names
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|<[^>]*>", " ", text, flags=re.S)
        text = re.sub(r"\{\{.*?\}\}", "X", text, flags=re.S)
        found += [f"{path.relative_to(ROOT)}: {hit}" for hit in lowercase_after_stop(text)]
    assert found == []


def test_no_sentence_is_grouped_like_a_number():
    """`.replace(",", ".")` belongs on a number (format_vnd does it), never on a sentence."""
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
                    and [ast.unparse(a) for a in node.args] == ["','", "'.'"]):
                text = literal_text(node.func.value)
                if text is not None and re.search(r"[^\W\d_]", text.replace("X", "")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_the_card_limit_message_reads_as_two_sentences():
    with pytest.raises(ValidationFailed) as caught:
        check_amount(60_000_000, "VND", minimum=10_000, maximum=50_000_000)
    assert caught.value.message.startswith("Thanh toán bằng thẻ tối đa 50.000.000\u00a0₫ mỗi lần. Với khoản lớn hơn, vui lòng")
    assert lowercase_after_stop(caught.value.message) == []
