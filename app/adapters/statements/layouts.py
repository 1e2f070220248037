"""The built-in statement layouts. Header words are matched after folding (no diacritics,
lower case, single spaces), as substrings of the header cell. A custom layout (admin-defined,
app/models BankLayout.config) has the same keys; its columns may also be letters ("A", "B")."""
from __future__ import annotations

LAYOUT_KEYS = ("titles", "columns", "fill_down_date", "date_with_reference", "opening", "closing", "footer",
               "date_formats", "header_row", "signed_amount")

COMMON = dict(
    opening=["so du dau ky", "opening balance", "du dau"],
    closing=["so du cuoi ky", "closing balance", "du cuoi"],
    footer=["tong", "total", "cong phat sinh", "cong"],
    date_formats=["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    fill_down_date=False,
    date_with_reference=False,
)

BUILT_IN: dict[str, dict] = {
    "vietcombank": {**COMMON, "label": "Vietcombank",
                    "titles": ["vietcombank", "sao ke tai khoan"],
                    "columns": {"date": ["ngay giao dich"], "reference": ["so tham chieu", "so ct", "reference"],
                                "debit": ["ghi no", "debit"], "credit": ["ghi co", "credit"],
                                "balance": ["so du", "balance"],
                                "memo": ["noi dung chi tiet", "transactions in detail"]}},
    "vietinbank": {**COMMON, "label": "VietinBank",
                   "titles": ["lich su giao dich - transaction history", "vietinbank"],
                   "columns": {"date": ["ngay hach toan", "accounting date"], "memo": ["noi dung", "description"],
                               "debit": ["no/ debit", "no / debit", "debit"], "credit": ["co / credit", "co/ credit", "credit"],
                               "reference": ["so giao dich", "transaction no"], "balance": ["so du tk", "balance"],
                               "sender_name": ["ten doi ung", "corresponsive name"],
                               "sender_account": ["tai khoan doi ung", "corresponsive account"]},
                   "fill_down_date": True},
    "bidv": {**COMMON, "label": "BIDV",
             "titles": ["bao cao chi tiet so du tai khoan"],
             "columns": {"date": ["ngay hieu luc"], "debit": ["ghi no"], "credit": ["ghi co"], "memo": ["mo ta"],
                         "reference": ["so but toan", "so ct", "so tham chieu"], "balance": ["so du"]}},
    "mb": {**COMMON, "label": "MB",
           "titles": ["sao ke chi tiet tai khoan"],
           "columns": {"date": ["ngay hach toan/posting date", "ngay hach toan"], "debit": ["phat sinh no"],
                       "credit": ["phat sinh co"], "memo": ["noi dung", "description"],
                       "reference": ["so but toan", "ma giao dich", "reference"], "balance": ["so du", "balance"],
                       "sender_name": ["ten tk doi ung"], "sender_account": ["so tk doi ung"]}},
    "techcombank": {**COMMON, "label": "Techcombank",
                    "titles": ["techcombank"],
                    "columns": {"date": ["ngay giao dich", "transaction date"],
                                "sender_name": ["doi tac", "remitter"], "memo": ["dien giai", "details"],
                                "debit": ["no/debit", "no / debit", "debit"], "credit": ["co/credit", "co / credit", "credit"],
                                "balance": ["so du", "balance"]},
                    "date_with_reference": True},
}
