"""Benchmark: receipt and annual-statement PDFs per second, fast path against the naive one.

    .venv/bin/python bench/receipts.py                 # defaults: --count 500
    .venv/bin/python bench/receipts.py --count 2000 --naive-count 50 --rounds 5
    .venv/bin/python bench/receipts.py --profile       # cProfile of the fast path

"naive" is what the code looked like before: a new ``FPDF()`` and ``add_font`` for every
document, fonts embedded by fpdf2 itself (``ReceiptRenderer(fund, reuse_fonts=False)``).
"fast" is ``ReceiptRenderer(fund)``. Both run the same drawing code on the same data, in
this one process; every document has its own donor, number, amount and QR code. Each
figure is the best of ``--rounds`` rounds (the machine is shared; the best round is the
least disturbed one). Before timing, the script checks that both paths give the same
text (``pdftotext``) for a sample of documents, and the same pixels (``pdftoppm``).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fpdf  # noqa: E402

from app.renderers.receipt_pdf import (  # noqa: E402
    FundInfo,
    ReceiptData,
    ReceiptRenderer,
    StatementData,
    StatementLine,
)

FUND = FundInfo(
    fund_name="Quỹ Bảo trợ trẻ em thành phố Hải Phòng",
    parent_agency="Sở Lao động - Thương binh và Xã hội thành phố Hải Phòng",
    address="Số 1 Đinh Tiên Hoàng, phường Hoàng Văn Thụ, quận Hồng Bàng, thành phố Hải Phòng",
    phone="0225 3 842 197 · Tư vấn: 1800 6605",
    email="quybaotrotreem@haiphong.gov.vn",
    signatory_name="Nguyễn Thị Minh Hằng",
    signatory_title="Giám đốc",
)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Quốc", "Thanh", "Hữu", "Thu", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hùng", "Khánh", "Lan", "Long", "Mai",
         "Nam", "Phương", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Uyên", "Việt", "Yến", "Ánh"]
COMPANIES = [
    "Công ty Cổ phần Đầu tư Phát triển Hạ tầng Khu công nghiệp Đình Vũ Hải Phòng",
    "Công ty TNHH Một thành viên Cảng Hải Phòng",
    "Ngân hàng TMCP Ngoại thương Việt Nam - Chi nhánh Hải Phòng",
    "Công ty TNHH Thương mại và Dịch vụ Hoa Phượng Đỏ",
    "Hội Doanh nhân trẻ thành phố Hải Phòng",
]
CHANNELS = ["Chuyển khoản ngân hàng", "Tiền mặt", "Thẻ quốc tế (Stripe)", "Ví điện tử"]
PURPOSES = [
    "Chiến dịch: Tháng hành động vì trẻ em 2024 — Quỹ phẫu thuật tim bẩm sinh",
    "Phẫu thuật sứt môi, hở hàm ếch cho trẻ em có hoàn cảnh khó khăn",
    "Học bổng cho trẻ em hộ nghèo, cận nghèo",
    "Không chỉ định mục đích (Quỹ sử dụng theo điều lệ)",
]


#: The verification URL is the app's (app/services/receipts/documents.py verify_url):
#: PUBLIC_BASE_URL + /receipts/verify/ + a 32-character token (secrets.token_urlsafe(24)),
#: 87 characters, a version-6 QR code. Tokens here are random-looking but repeatable.
PUBLIC_BASE_URL = "https://quybaotrotreem.haiphong.gov.vn"


def _token(index: int) -> str:
    return base64.urlsafe_b64encode(random.Random(index).randbytes(24)).decode()


def _receipt(index: int) -> ReceiptData:
    organization = index % 4 == 0
    name = (
        COMPANIES[index % len(COMPANIES)]
        if organization
        else f"{FAMILY[index % 12]} {MIDDLE[index * 7 % 10]} {GIVEN[index * 5 % 22]}"
    )
    number = f"BTTE-2024-{index + 1:06d}"
    return ReceiptData(
        number=number,
        issued_at_local=datetime(2024, 6, 1, 8, 0) + timedelta(minutes=37 * index),
        donor_name=name,
        donor_kind="organization" if organization else "individual",
        tax_code=f"0200{index:06d}" if organization else None,
        donor_address="Lô CN4.1, Khu công nghiệp Đình Vũ, phường Đông Hải 2, quận Hải An, Hải Phòng"
        if organization else None,
        amount=(index * 7919 % 500 + 1) * 50_000,
        channel_label=CHANNELS[index % len(CHANNELS)],
        purpose=PURPOSES[index % len(PURPOSES)],
        verify_url=f"{PUBLIC_BASE_URL}/receipts/verify/{_token(index)}",
        void=index % 50 == 7,
        void_reason="Nhập sai số tiền." if index % 50 == 7 else None,
    )


def _statement(index: int, lines: int = 12) -> StatementData:
    organization = index % 3 == 0
    rows = [
        StatementLine(
            datetime(2024, month, 5 + index % 20, 10, 0),
            f"BTTE-2024-{index * 12 + month:06d}",
            PURPOSES[(index + month) % len(PURPOSES)],
            (month * 37 + index) % 40 * 100_000 + 500_000,
        )
        for month in range(1, lines + 1)
    ]
    rows[-1] = StatementLine(rows[-1][0], None, "Hoàn trả khoản ủng hộ trùng lặp", -500_000)
    return StatementData(
        year=2024,
        donor_name=COMPANIES[index % len(COMPANIES)] if organization
        else f"{FAMILY[index % 12]} {MIDDLE[index % 10]} {GIVEN[index % 22]}",
        donor_kind="organization" if organization else "individual",
        tax_code=f"0200{index:06d}" if organization else None,
        donor_address="Số 12 Lạch Tray, phường Lạch Tray, quận Ngô Quyền, Hải Phòng",
        lines=rows,
        net_total=sum(row.amount for row in rows),
        issued_on=date(2025, 1, 15),
        statement_number=f"SK-2024-{index + 1:06d}",  # as the app numbers them; no QR code, as in the app
    )


def _rate(render, items, rounds: int) -> tuple[float, float]:
    """(documents per wall-clock second, per CPU second of this process), best of *rounds*.

    On a shared machine the wall clock also counts time other processes held the CPU;
    the CPU-time rate is what one otherwise idle core would do.
    """
    best_wall = best_cpu = float("inf")
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for item in items:
            render(item)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(items) / best_wall, len(items) / best_cpu


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _check_identical(fast: ReceiptRenderer, naive: ReceiptRenderer, samples: int) -> str:
    """Compare pdftotext output (and pdftoppm pixels) of both paths on sample documents."""
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        return "not checked (poppler-utils missing)"
    documents = [("receipt", _receipt(i)) for i in range(samples)]
    documents += [("receipt", _receipt(7))]  # a void one
    documents += [("statement", _statement(i)) for i in range(2)]
    with tempfile.TemporaryDirectory() as tmp:
        for index, (kind, data) in enumerate(documents):
            outputs = {}
            for name, renderer in (("fast", fast), ("naive", naive)):
                render = renderer.render_receipt if kind == "receipt" else renderer.render_statement
                pdf_path = Path(tmp, f"{index}-{name}.pdf")
                pdf_path.write_bytes(render(data))
                text = subprocess.run(
                    ["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"],
                    check=True, capture_output=True,
                ).stdout
                subprocess.run(
                    ["pdftoppm", "-r", "72", "-png", str(pdf_path), str(pdf_path.with_suffix(""))],
                    check=True, capture_output=True,
                )
                pixels = b"".join(p.read_bytes() for p in sorted(Path(tmp).glob(f"{index}-{name}-*.png")))
                outputs[name] = (text, pixels)
            if outputs["fast"][0] != outputs["naive"][0]:
                raise SystemExit(f"DIFFERENT TEXT for {kind} {index}")
            if outputs["fast"][1] != outputs["naive"][1]:
                raise SystemExit(f"DIFFERENT PIXELS for {kind} {index}")
    return f"identical text and pixels on {len(documents)} sample documents"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="documents per round, fast path")
    parser.add_argument("--naive-count", type=int, default=None,
                        help="documents per round, naive path (default: min(count, 40))")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported")
    parser.add_argument("--statement-lines", type=int, default=12)
    parser.add_argument("--no-check", action="store_true", help="skip the identical-output check")
    parser.add_argument("--profile", action="store_true", help="cProfile the fast receipt path")
    args = parser.parse_args()
    naive_count = args.naive_count or min(args.count, 40)

    fast = ReceiptRenderer(FUND)
    naive = ReceiptRenderer(FUND, reuse_fonts=False)
    if not fast.fast:
        print(f"WARNING: fast path disabled for fpdf2 {fpdf.FPDF_VERSION}")

    receipts = [_receipt(i) for i in range(args.count)]
    statements = [_statement(i, args.statement_lines) for i in range(args.count)]

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for data in receipts:
            fast.render_receipt(data)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return

    check = "skipped" if args.no_check else _check_identical(fast, naive, 4)

    # Warm up both paths (first-use caches, imports).
    for i in range(3):
        fast.render_receipt(receipts[i]), naive.render_receipt(receipts[i])
        fast.render_statement(statements[i]), naive.render_statement(statements[i])

    results = {}
    for kind, items in (("receipts", receipts), ("statements", statements)):
        fast_render = fast.render_receipt if kind == "receipts" else fast.render_statement
        naive_render = naive.render_receipt if kind == "receipts" else naive.render_statement
        naive_rate = _rate(naive_render, items[:naive_count], args.rounds)
        fast_rate = _rate(fast_render, items, args.rounds)
        results[kind] = (naive_rate, fast_rate)

    sizes = {
        name: sum(len(r.render_receipt(d)) for d in receipts[:20]) / 20 / 1024
        for name, r in (("naive", naive), ("fast", fast))
    }

    print(f"machine: {_cpu_model()}, nproc={os.cpu_count()}, Python {platform.python_version()}, "
          f"fpdf2 {fpdf.FPDF_VERSION}")
    print(f"documents per round: fast {args.count}, naive {naive_count}; best of {args.rounds} rounds; "
          f"statements have {args.statement_lines} lines")
    print(f"same output: {check}")
    print()
    print(f"{'':12} {'naive/s':>9} {'fast/s':>9} {'ratio':>7}   {'per CPU-second:':>16} {'naive':>7} {'fast':>7} {'ratio':>7}")
    for kind, (naive_rate, fast_rate) in results.items():
        print(
            f"{kind:12} {naive_rate[0]:9.1f} {fast_rate[0]:9.1f} {fast_rate[0] / naive_rate[0]:6.1f}x"
            f"   {'':16} {naive_rate[1]:7.1f} {fast_rate[1]:7.1f} {fast_rate[1] / naive_rate[1]:6.1f}x"
        )
    print()
    print(f"load average during the run: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"average receipt size: naive {sizes['naive']:.1f} KiB, fast {sizes['fast']:.1f} KiB")


if __name__ == "__main__":
    main()
