"""Admin-defined statement layouts: a column mapping for a bank we have no built-in layout
for (as Odoo's sheet import lets one map columns), edited at /staff/bank/layouts.

A layout is stored as `BankLayout.config` with the keys of the built-in layouts
(app/adapters/statements/layouts.py), so the same engine reads it: the CLI and the import
page accept it by name (`--layout NAME`) and "auto" detects it by its title words and
headers. A column is given by header words (matched after folding, as substrings of the
header cell) or by its letter (A, B… AA). Amounts need no separator setting: "1,000,000",
"1.000.000" and numbers are all read, and anything that is not whole đồng is refused.
Layouts are never deleted (imports record the name); a deactivated one is ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.adapters.bank_lines import ParsedLine
from app.adapters.statements import BUILT_IN, StatementError, parse_statement, read_rows
from app.adapters.statements.engine import SCAN_ROWS, find_account, find_header
from app.adapters.statements.engine import _column_letter as column_letter
from app.adapters.statements.layouts import COMMON
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, _l
from app.models import BankLayout
from app.services import audit
from app.services.audit import Actor
from app.timeutil import utcnow

# (key, label) of the columns a layout maps, in the order the form shows them.
COLUMNS = (
    ("date", _l("Ngày giao dịch")), ("credit", _l("Ghi có (tiền vào)")), ("debit", _l("Ghi nợ (tiền ra)")),
    ("amount", _l("Số tiền có dấu (âm là tiền ra)")), ("memo", _l("Nội dung")), ("reference", _l("Số tham chiếu")),
    ("balance", _l("Số dư")), ("sender_name", _l("Tên người chuyển")), ("sender_account", _l("Tài khoản người chuyển")),
)
COLUMN_LABELS = dict(COLUMNS)
# strptime formats an admin may choose (Vietnam local time in the file), with how they read.
DATE_FORMATS = (
    ("%d/%m/%Y %H:%M:%S", "31/12/2026 14:05:09"), ("%d/%m/%Y %H:%M", "31/12/2026 14:05"),
    ("%d/%m/%Y", "31/12/2026"), ("%d-%m-%Y %H:%M:%S", "31-12-2026 14:05:09"), ("%d-%m-%Y", "31-12-2026"),
    ("%d.%m.%Y", "31.12.2026"), ("%Y-%m-%d %H:%M:%S", "2026-12-31 14:05:09"), ("%Y-%m-%d", "2026-12-31"),
    ("%m/%d/%Y", _l("12/31/2026 (tháng trước ngày)")),
)
AMOUNT_MODES = ("split", "signed")
MAX_HEADER_ROW = 200
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{1,59}")
PREVIEW_ROWS = 100


@dataclass
class LayoutInput:
    """What the form gives (texts as typed: words separated by ';' or new lines)."""

    name: str
    label: str = ""
    titles: str = ""
    header_row: int | None = None
    amount_mode: str = "split"
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    fill_down_date: bool = False
    date_with_reference: bool = False
    opening: str = ""
    closing: str = ""
    footer: str = ""


def words(text: str | None) -> list[str]:
    return [w.strip() for w in re.split(r"[;\n]", text or "") if w.strip()]


def column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def build_config(values: LayoutInput) -> dict:
    """The layout's config from the form, or ValidationFailed (in the reader's language, naming the field)."""
    columns: dict[str, list[str]] = {}
    for key, _label in COLUMNS:
        spec = words(values.columns.get(key))
        if any(len(w) > 100 for w in spec):
            raise ValidationFailed(_("Mỗi từ tiêu đề tối đa 100 ký tự."), field=f"col_{key}")
        if spec:
            columns[key] = spec
    if values.amount_mode not in AMOUNT_MODES:
        raise ValidationFailed(_("Chọn cách ghi số tiền."), field="amount_mode")
    if "date" not in columns:
        raise ValidationFailed(_("Cần khai báo cột ngày giao dịch."), field="col_date")
    if values.amount_mode == "split":
        columns.pop("amount", None)
        for key in ("credit", "debit"):
            if key not in columns:
                raise ValidationFailed(_("Cần khai báo cả cột ghi có và cột ghi nợ (hoặc chọn “một cột số tiền "
                                         "có dấu”)."), field=f"col_{key}")
    else:
        columns.pop("credit", None)
        columns.pop("debit", None)
        if "amount" not in columns:
            raise ValidationFailed(_("Cần khai báo cột số tiền có dấu."), field="col_amount")
    if "memo" not in columns:
        raise ValidationFailed(_("Cần khai báo cột nội dung: mã chuyển khoản nằm trong nội dung."), field="col_memo")
    letters: dict[int, str] = {}
    for key, spec in columns.items():
        for word in spec:
            index = column_letter(word)
            if index is None:
                continue
            if index in letters and letters[index] != key:
                raise ValidationFailed(_("Cột %(letter)s được khai báo cho cả “%(first)s” và “%(second)s”.",
                                         letter=column_name(index), first=COLUMN_LABELS[letters[index]],
                                         second=COLUMN_LABELS[key]), field=f"col_{key}")
            letters[index] = key
    if values.header_row is not None and not 1 <= values.header_row <= MAX_HEADER_ROW:
        raise ValidationFailed(_("Dòng tiêu đề là một số từ 1 đến %(max)d, hoặc để trống để tự tìm.",
                                 max=MAX_HEADER_ROW), field="header_row")
    known = {f for f, _label in DATE_FORMATS}
    formats = [f for f in values.date_formats if f in known]
    if not formats:
        raise ValidationFailed(_("Chọn ít nhất một định dạng ngày."), field="date_formats")
    config = {
        "label": values.label.strip() or values.name.strip(),
        "titles": words(values.titles),
        "columns": columns,
        "header_row": values.header_row,
        "date_formats": formats,
        "fill_down_date": bool(values.fill_down_date),
        "date_with_reference": bool(values.date_with_reference),
        "opening": words(values.opening), "closing": words(values.closing), "footer": words(values.footer),
    }
    return config


def _check_name(name: str, layout_id: int | None) -> str:
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise ValidationFailed(_("Tên mẫu gồm 2–60 ký tự: chữ thường không dấu, chữ số, “-” hoặc “_”, "
                                 "ví dụ acb hoặc sacombank-2026."), field="name")
    if name == "auto" or name in BUILT_IN:
        raise ValidationFailed(_("Tên “%(name)s” trùng với mẫu có sẵn của hệ thống; chọn tên khác.", name=name), field="name")
    clash = db.session.scalar(sa.select(BankLayout.id).where(BankLayout.name == name))
    if clash is not None and clash != layout_id:
        raise ValidationFailed(_("Đã có mẫu sao kê tên “%(name)s”.", name=name), field="name")
    return name


def list_layouts() -> list[BankLayout]:
    return list(db.session.scalars(sa.select(BankLayout).order_by(BankLayout.is_active.desc(), BankLayout.name)))


def get_layout(layout_id: int) -> BankLayout:
    layout = db.session.get(BankLayout, layout_id)
    if layout is None:
        raise NotFound(_("Không tìm thấy mẫu sao kê."))
    return layout


def save_layout(actor: Actor, values: LayoutInput, *, layout_id: int | None = None) -> BankLayout:
    """Create or update a layout; audited with the config before and after; committed."""
    layout = get_layout(layout_id) if layout_id else None
    name = _check_name(values.name, layout_id)
    config = build_config(values)
    if layout is None:
        layout = BankLayout(name=name, config=config, is_active=True)
        db.session.add(layout)
        db.session.flush()
        audit.record(actor, "bank_layout.create", layout, after={"name": name, "config": config})
    else:
        before = {"name": layout.name, "config": layout.config}
        layout.name, layout.config, layout.updated_at = name, config, utcnow()
        audit.record(actor, "bank_layout.update", layout, before=before, after={"name": name, "config": config})
    db.session.commit()
    return layout


def set_active(actor: Actor, layout_id: int, active: bool) -> BankLayout:
    layout = get_layout(layout_id)
    if layout.is_active != active:
        layout.is_active, layout.updated_at = active, utcnow()
        audit.record(actor, "bank_layout.activate" if active else "bank_layout.deactivate", layout,
                     before={"is_active": not active}, after={"is_active": active, "name": layout.name})
    db.session.commit()
    return layout


def form_values(layout: BankLayout | None) -> LayoutInput:
    """The form's starting values: a layout's, or sensible defaults for a new one."""
    if layout is None:
        return LayoutInput(name="", date_formats=["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"],
                           opening="\n".join(COMMON["opening"]), closing="\n".join(COMMON["closing"]),
                           footer="\n".join(COMMON["footer"]))
    c = layout.config or {}
    cols = c.get("columns") or {}
    return LayoutInput(
        name=layout.name, label=c.get("label") or "", titles="\n".join(c.get("titles") or []),
        header_row=c.get("header_row"), amount_mode="signed" if "amount" in cols else "split",
        columns={k: "; ".join([v] if isinstance(v, str) else v) for k, v in cols.items()},
        date_formats=list(c.get("date_formats") or []), fill_down_date=bool(c.get("fill_down_date")),
        date_with_reference=bool(c.get("date_with_reference")), opening="\n".join(c.get("opening") or []),
        closing="\n".join(c.get("closing") or []), footer="\n".join(c.get("footer") or []))


# --------------------------------------------------------------------------- "try it on a file"

@dataclass
class LayoutPreview:
    message: str | None = None  # why the file cannot be read with this layout (one sentence)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, problem)
    header_row: int | None = None  # 1-based
    mapping: list[tuple[str, str, str]] = field(default_factory=list)  # (label, letter, header text)
    account_number: str | None = None
    lines: list[ParsedLine] = field(default_factory=list)  # the first PREVIEW_ROWS
    line_count: int = 0
    credits: int = 0
    debits: int = 0
    opening_balance: int | None = None
    closing_balance: int | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.message is None and not self.errors


def preview(config: dict, name: str, data: bytes, file_name: str) -> LayoutPreview:
    """Read a file with an unsaved layout: the header row found and what each column maps
    to, the parsed rows, and every bad row by number. Nothing is written."""
    result = LayoutPreview()
    try:
        rows = read_rows(data, file_name)
    except StatementError as error:
        result.message = error.message
        return result
    header = find_header(rows, config)
    if header is None:
        if config.get("header_row"):
            result.message = _("Không tìm thấy dòng tiêu đề cột ở dòng %(row)s: cần thấy cột ngày và cột ghi "
                               "có/ghi nợ (hoặc số tiền) như đã khai báo.", row=config["header_row"])
        else:
            result.message = _("Không tìm thấy dòng tiêu đề cột ở %(num)d dòng đầu: cần thấy cột ngày và cột "
                               "ghi có/ghi nợ (hoặc số tiền) như đã khai báo.", num=SCAN_ROWS)
        return result
    index, found = header
    result.header_row = index + 1
    header_cells = rows[index]
    for key, label in COLUMNS:
        if key in found:
            col = found[key]
            text = header_cells[col] if col < len(header_cells) else None
            result.mapping.append((label, column_name(col), " ".join(str(text or "").split())))
    result.account_number = find_account(rows[:index + 1])
    try:
        statement = parse_statement(rows, name or "preview", config)
    except StatementError as error:
        result.errors = list(error.errors)
        if not error.errors:
            result.message = error.message
        result.lines = list(getattr(error, "lines", []) or [])[:PREVIEW_ROWS]
        return result
    result.lines = statement.lines[:PREVIEW_ROWS]
    result.line_count = len(statement.lines)
    result.credits, result.debits = statement.credit_total, statement.debit_total
    result.opening_balance, result.closing_balance = statement.opening_balance, statement.closing_balance
    result.differences = list(statement.differences)
    return result


__all__ = ["COLUMNS", "DATE_FORMATS", "LayoutInput", "LayoutPreview", "build_config", "form_values",
           "get_layout", "list_layouts", "preview", "save_layout", "set_active"]
