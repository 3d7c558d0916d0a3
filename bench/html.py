"""``python -m bench html``: what the HTML report costs: the page's size, the time to write it,
and the time headless Chromium takes to open it from disk and draw every chart and table
(from navigation to the page's script finishing), for a run the size of the default matrix
and for a run of 10,000 cells.

Goals (issue 25): the default matrix's page under 1 MiB and drawn in under 1 s; a 10,000-cell
page still opens (its tables paged). Without Chromium or selenium the drawing is not timed,
and the bench says so."""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from time import process_time
from typing import Any

import tabulate

from bench import cells
from lab.report.html import results_page
from lab.results.journal import load

#: The default matrix: cpu, io and echo on every runner at the usable CPUs' workers, about
#: this many cells.
DEFAULT_CELLS = 40
LARGE_CELLS = 10_000
MOST_BYTES = 2**20
MOST_READY_MS = 1000.0
OPENINGS = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench html", description=__doc__)
    parser.add_argument(
        "--results",
        metavar="RUN.json",
        help="a saved run to stand for the default matrix (default: a generated one)",
    )
    parser.add_argument("--large", type=int, default=LARGE_CELLS, help="cells of the large run")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    default = load(Path(args.results)) if args.results else cells.build(DEFAULT_CELLS)
    runs = [
        ("default matrix", default, True),
        (f"{args.large:,} cells", cells.build(args.large), False),
    ]
    driver = _browser()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, results, judged in runs:
            start = process_time()
            text = results_page(results)
            written = process_time() - start
            page = Path(folder) / "page.html"
            page.write_text(text, encoding="utf-8")
            size = page.stat().st_size
            ready = None if driver is None else _ready_ms(driver, page)
            rows.append(
                [
                    name,
                    f"{len(results.cells):,}",
                    f"{size / 1024:,.0f}",
                    f"{written:.2f}",
                    "" if ready is None else f"{ready:,.0f}",
                    _verdict(size, ready) if judged else "opens" if ready is not None else "",
                ]
            )
    if driver is not None:
        driver.quit()
    headers = ["run", "cells", "page KiB", "write s (CPU)", "drawn ms", "goal: < 1 MiB, < 1 s"]
    print(tabulate.tabulate(rows, headers, disable_numparse=True))
    if driver is None:
        print("not drawn: no chromium, chromedriver or selenium here (make browser)")
    return 0


def _verdict(size: int, ready: float | None) -> str:
    if size >= MOST_BYTES:
        return "missed: page too large"
    if ready is None:
        return "size met; drawing not timed"
    return "met" if ready < MOST_READY_MS else "missed: drawn too slowly"


def _browser() -> Any:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        return None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(driver))


def _ready_ms(driver: Any, page: Path) -> float:
    """The median over :data:`OPENINGS` openings of the milliseconds from navigation to the
    page's script having drawn everything."""
    found = []
    for _ in range(OPENINGS):
        driver.get(page.as_uri())
        found.append(float(driver.execute_script("return document.body.dataset.readyMs")))
    return statistics.median(found)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
