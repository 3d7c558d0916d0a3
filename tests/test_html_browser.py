"""The HTML report in a real browser: each page kind, made by a real run, opened from disk in
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which ``make browser``
installs): no console errors, every chart drew its series, every section there, a screenshot
kept; one page opened with the network off, one in a narrow window, one printed.

Skipped, saying why, where Chromium, its driver or selenium is missing."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import LabProcess, finish_side_by_side

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the dev extra installs it
    webdriver = None  # type: ignore[assignment]

MISSING = (
    "selenium is not installed (pip install -e '.[dev]')"
    if webdriver is None
    else "no chromium or chromedriver on PATH (make browser installs Debian's)"
    if not (CHROMIUM and DRIVER)
    else None
)
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"no browser test: {MISSING}"),
    pytest.mark.timeout(900),  # the first test waits for the real runs that make the pages
]

#: Each page kind, the command that makes it, and the sections its screenshot must show.
PAGES: dict[str, tuple[list[str], list[str]]] = {
    "matrix": (
        ["matrix", "--tasks", "cpu,io", "--runners", "single,threads,processes,asyncio",
         "--workers", "1,2", "--repeat", "2", "--job-time", "0.05", "--sleep", "0.05"],
        ["speed-up against the workers", "peak memory", "the table", "timelines",
         "the verdict", "the classic comparison", "how to read the tables"],
    ),
    "sweep": (
        ["sweep", "--levels", "1,10,100", "--runners", "asyncio,threads", "--repeat", "2",
         "--size", "0.05"],
        ["time over the ideal", "wake-up p99", "jobs a second", "the table",
         "how to read the tables"],
    ),
    "own": (
        ["run", str(ROOT / "examples" / "own-work" / "work.py") + ":digest", "2000000",
         "--runners", "single,threads,processes", "--workers", "1,2", "--repeat", "2"],
        ["the verdict on", "what it is", "speed-up against the workers", "the table",
         "timelines"],
    ),
}  # fmt: skip
COMPARE_SECTIONS = ["against", "after / before", "significant changes first"]
#: Seconds a page may take to draw before the test gives up on it (a busy machine's).
READY_WITHIN = 60


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A page of each kind, from real runs side by side (the comparison: the matrix against a
    second matrix run)."""
    folder = tmp_path_factory.mktemp("pages")
    made = {kind: folder / f"{kind}.html" for kind in PAGES}
    commands = [
        [*command, "--html", str(made[kind]), "--json", str(folder / f"{kind}.json"), "-q"]
        + (["--save", str(folder / "saved")] if kind == "matrix" else [])
        for kind, (command, _) in PAGES.items()
    ]
    commands.append([*PAGES["matrix"][0], "--json", str(folder / "again.json"), "-q"])
    labs = [LabProcess(folder / f"lab{i}") for i in range(len(commands))]
    started = [(lab, lab.start(*command)) for lab, command in zip(labs, commands, strict=True)]
    for found in finish_side_by_side(started, timeout=600):
        assert found.returncode == 0, found.stderr
    made["compare"] = folder / "compare.html"
    found = labs[0].run("compare", str(folder / "matrix.json"), str(folder / "again.json"),
                        "--html", str(made["compare"]), timeout=120)  # fmt: skip
    labs[0].reap()
    assert found.returncode in (0, 3), found.stderr
    assert [lab.leftovers() for lab in labs] == [[] for _ in labs]
    return made


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1300,1000"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    driver.set_page_load_timeout(READY_WITHIN)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, page: Path) -> list[dict[str, Any]]:
    """Open ``page`` from disk, wait for its script to finish; the console's messages."""
    driver.get_log("browser")  # what an earlier page left
    driver.get(page.as_uri())
    WebDriverWait(driver, READY_WITHIN).until(
        lambda d: d.execute_script("return document.body.dataset.ready") == "true"
    )
    found: list[dict[str, Any]] = driver.get_log("browser")
    return found


#: For each canvas: whether Chart.js drew a chart on it, and each dataset's drawn elements
#: (the charts below the first screen are drawn as they come into view: all are drawn first).
DRAWN = """
window.labDrawAll();
return [...document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
  const chart = Chart.getChart(canvas);
  if (!chart) return null;
  return chart.data.datasets.map((_, i) => chart.getDatasetMeta(i).data.length);
});
"""


def screenshot(driver: Any, page: Path) -> Path:
    """The whole page as a PNG beside it (and in ``LAB_SCREENSHOTS`` when set)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1300, min(int(height), 16000))
    shot = page.with_suffix(".png")
    driver.save_screenshot(str(shot))
    driver.set_window_size(1300, 1000)
    kept = os.environ.get("LAB_SCREENSHOTS")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(kept) / shot.name)
    print(f"screenshot: {shot}")
    return shot


@pytest.mark.parametrize("kind", [*PAGES, "compare"])
def test_each_page_opens_draws_every_chart_and_shows_every_section(
    kind: str, pages: dict[str, Path], browser: Any
) -> None:
    messages = open_page(browser, pages[kind])
    assert [m for m in messages if m["level"] == "SEVERE"] == []
    drawn = browser.execute_script(DRAWN)
    assert drawn, "no chart on the page"
    assert all(chart is not None for chart in drawn), drawn
    assert all(sum(series) > 0 and all(n > 0 for n in series[:1]) for series in drawn), drawn
    text = browser.execute_script("return document.body.innerText")
    for section in COMPARE_SECTIONS if kind == "compare" else PAGES[kind][1]:
        assert section in text, section
    shot = screenshot(browser, pages[kind])
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_save_writes_the_page_beside_the_run(pages: dict[str, Path]) -> None:
    saved = sorted((pages["matrix"].parent / "saved").iterdir())
    assert [p.suffix for p in saved].count(".html") == 1


def test_a_page_opens_with_the_network_off(pages: dict[str, Path], browser: Any) -> None:
    browser.set_network_conditions(
        offline=True, latency=0, download_throughput=0, upload_throughput=0
    )
    try:
        messages = open_page(browser, pages["sweep"])
        drawn = browser.execute_script(DRAWN)
    finally:
        browser.delete_network_conditions()
    assert [m for m in messages if m["level"] == "SEVERE"] == []
    assert drawn and all(chart and sum(chart) > 0 for chart in drawn)


def test_a_narrow_window_needs_no_sideways_scrolling_of_the_page(
    pages: dict[str, Path], browser: Any
) -> None:
    browser.set_window_size(420, 900)
    try:
        open_page(browser, pages["matrix"])
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
    finally:
        browser.set_window_size(1300, 1000)
    assert wide <= 1  # wide tables scroll inside their own box


def test_a_page_prints(pages: dict[str, Path], browser: Any) -> None:
    open_page(browser, pages["own"])
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF")


def test_long_tables_page_in_the_browser(tmp_path: Path, browser: Any) -> None:
    from lab_builders import cell, results

    from lab.report.html import results_page
    from lab.report.html.tables import PAGED_FROM
    from lab.runner import Layout

    cells = [cell("single", Layout(1, 1), [1.0])] + [
        cell("threads", Layout(1, workers), [1.0 / workers]) for workers in range(2, 600)
    ]
    page = tmp_path / "long.html"
    page.write_text(results_page(results(cells, repeat=1)))
    messages = open_page(browser, page)
    assert [m for m in messages if m["level"] == "SEVERE"] == []
    rows = browser.execute_script("return document.querySelectorAll('.grid tbody tr').length")
    assert 0 < rows <= PAGED_FROM  # the grids hold a page at a time, not every row
