"""The yearly disclosure of two checkouts, side by side on a shared machine.

    .venv/bin/python bench/disclosure_ab.py --rounds 6 \\
        BEFORE_CHECKOUT sqlite:////tmp/before.db  AFTER_CHECKOUT sqlite:////tmp/after.db
    .venv/bin/python bench/disclosure_ab.py --phases sqlite:////tmp/after.db   # this checkout

Each checkout runs in its own process (its own code, its own database: a copy of the
bench/reports.py data set migrated by that checkout), warmed up once; then the two are
timed in turn, alternating which goes first, `catalogue`'s disclosure of YEAR as
bench/reports.py times it: data (`disclosure.disclosure`) + layout + PDF. Load from other
users hits both alike, so the ratio is what to read. `--phases` prints where the time of
this checkout's disclosure goes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2023


def app_for(url: str, root: Path = ROOT):
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(root / "bench"))
    os.environ.setdefault("APP_ENV", "development")
    import reports  # bench/reports.py

    return reports.make_bench_app(url)


def worker(url: str) -> None:
    app = app_for(url, Path.cwd())  # the checkout under test (its code, its bench/reports.py)
    with app.app_context():
        from app.extensions import db
        from app.renderers.reports import render
        from app.services.reports import catalogue, disclosure, layout
        from app.services.reports.period import make_period

        period = make_period(YEAR)
        catalogue.export("disclosure", period, "pdf")
        db.session.commit()
        print("ready", flush=True)
        for _line in sys.stdin:
            started = time.perf_counter()
            data = disclosure.disclosure(period, public_url=catalogue.public_url())
            db.session.commit()
            middle = time.perf_counter()
            pdf = render(layout.disclosure_document(data), "pdf")
            print(f"{time.perf_counter() - started:.4f} {middle - started:.4f} {len(pdf)}", flush=True)


def phases(url: str, repeat: int) -> None:
    app = app_for(url)
    with app.app_context():
        from app.extensions import db
        from app.renderers.reports import render
        from app.services import commendation
        from app.services.reports import disclosure, figures, layout
        from app.services.reports.period import make_period

        period = make_period(YEAR)
        floor = commendation.near_threshold_floor(commendation.get_settings().commendation_threshold)
        for _ in range(repeat + 1):  # the first warms the caches
            times = {}

            def timed(name, fn, *args, **kw):
                started = time.perf_counter()
                result = fn(*args, **kw)
                times[name] = time.perf_counter() - started
                return result

            passed = timed("year pass (SQL)", figures.year_pass, period, floor, [])
            timed("commendation list (Python)", commendation.build_list, YEAR,
                  totals=lambda _floor, _raised: passed.listed_donors)
            timed("programme flows", figures.programme_flows, period, received=passed.programme_received)
            timed("in-kind gifts", figures.in_kind_gifts, period)
            timed("use, children", lambda: (figures.programme_use(period), figures.children_reached(period)))
            data = timed("disclosure data (all)", disclosure.disclosure, period, public_url="x")
            document = timed("layout", layout.disclosure_document, data)
            timed("PDF", render, document, "pdf")
            db.session.commit()
        print(" | ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--phases", metavar="URL")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("sides", nargs="*", metavar="CHECKOUT URL")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return 0
    if args.phases:
        phases(args.phases, 3)
        return 0
    if len(args.sides) != 4:
        parser.error("give BEFORE_CHECKOUT BEFORE_URL AFTER_CHECKOUT AFTER_URL")
    sides = [("before", args.sides[0], args.sides[1]), ("after", args.sides[2], args.sides[3])]
    procs = {}
    for name, checkout, url in sides:
        python = Path(checkout) / ".venv" / "bin" / "python"
        script = Path(checkout) / "bench" / "disclosure_ab.py"
        if not script.exists():  # a checkout from before this script: run ours with its code
            script = Path(__file__).resolve()
        proc = subprocess.Popen([str(python), str(script), "--worker", url], cwd=checkout, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"{name}: the worker did not start")
        procs[name] = proc
    results = {name: [] for name, _c, _u in sides}
    for i in range(args.rounds):
        for name, _c, _u in (sides if i % 2 == 0 else sides[::-1]):
            procs[name].stdin.write("go\n")
            procs[name].stdin.flush()
            total, data, size = procs[name].stdout.readline().split()
            results[name].append((float(total), float(data), int(size)))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    print(f"disclosure {YEAR}, data + PDF, {args.rounds} rounds alternating; load average {os.getloadavg()[0]:.1f}")
    for name, rows in results.items():
        totals, datas = [r[0] for r in rows], [r[1] for r in rows]
        print(f"  {name:<7} best {min(totals):.2f} s, median {statistics.median(totals):.2f} s"
              f" (data best {min(datas):.2f} s) | PDF {rows[0][2]:,} bytes | {' '.join(f'{t:.2f}' for t in totals)}")
    before, after = results["before"], results["after"]
    print(f"  ratio before / after: best {min(r[0] for r in before) / min(r[0] for r in after):.2f},"
          f" median {statistics.median(r[0] for r in before) / statistics.median(r[0] for r in after):.2f},"
          f" data best {min(r[1] for r in before) / min(r[1] for r in after):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
