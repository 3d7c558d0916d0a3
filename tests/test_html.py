"""The HTML report without a browser: what each page kind holds, that it is one file that
fetches nothing, that long tables are paged, and that bad paths are refused before a run."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lab_builders import cell, results

from lab.cli import main
from lab.report.comparison_table import compare_all
from lab.report.html import comparison_page, results_page
from lab.report.html.content import MOST_RATIOS
from lab.report.html.tables import PAGED_FROM
from lab.results.analysis import analyse
from lab.runner import Layout

if TYPE_CHECKING:
    from conftest import LabProcess

    from lab.results.model import Results


class Page(HTMLParser):
    """What a page holds: its elements' attributes, its text, its scripts and its data."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in != "style":
            self.text.append(data)

    @property
    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            next(s for s in self.scripts if s.lstrip().startswith("{"))
        )
        return found

    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def matrix_run() -> Results:
    return results(
        [
            cell("single", Layout(1, 1), [1.0, 1.02, 0.98]),
            cell("threads", Layout(1, 2), [1.0, 1.01, 0.99]),
            cell("processes", Layout(2, 1), [0.52, 0.5, 0.51]),
        ]
    )


def test_a_matrix_page_has_every_section_and_the_figures_of_the_analysis() -> None:
    run = matrix_run()
    page = Page(results_page(run))
    words = page.words()
    for section in ("the table", "the verdict", "how to read the tables", "speed-up against"):
        assert section in words
    assert "CPython 3.11.7" in words  # the header's facts
    charts = page.data["charts"]
    speedup = next(c for c in charts if "speed-up" in c["title"])
    shown = {s["name"]: [p["y"] for p in s["points"]] for s in speedup["series"]}
    analysed = {
        a.cell.runner: a.figures.speedup for a in analyse(run).cells if a.figures is not None
    }
    assert shown == {name: [analysed[name]] for name in analysed}
    canvases = [attrs for tag, attrs in page.tags if tag == "canvas"]
    assert len(canvases) == len(charts)
    assert all(attrs.get("role") == "img" and attrs.get("aria-label") for attrs in canvases)


def test_each_chart_has_its_figures_as_text() -> None:
    page = Page(results_page(matrix_run()))
    details = [attrs for tag, attrs in page.tags if tag == "details"]
    assert len(details) == len(page.data["charts"])


def test_the_page_fetches_nothing() -> None:
    text = results_page(matrix_run())
    page = Page(text)
    policy = next(a for t, a in page.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (policy["content"] or "")
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value or value.startswith("#"), (name, value)
    assert "sourceMappingURL" not in text
    assert not re.search(r"<script[^>]+src=", text)


def test_a_long_table_is_paged_not_written_out_row_by_row() -> None:
    cells = [cell("single", Layout(1, 1), [1.0])] + [
        cell("threads", Layout(1, workers), [1.0 / workers]) for workers in range(2, 400)
    ]
    page = Page(results_page(results(cells, repeat=1)))
    table = next(t for t in page.data["tables"] if len(t["rows"]) == len(cells))
    assert table["paged"]
    rows = sum(1 for tag, _ in page.tags if tag == "tr")
    assert rows < len(cells)  # the static tables hold a page, the data every row
    assert f"{len(cells)} rows: the first {PAGED_FROM}" in page.words()


def test_a_comparison_page_puts_the_significant_changes_first() -> None:
    before = matrix_run()
    slower = results(
        [
            cell("single", Layout(1, 1), [1.0, 1.02, 0.98]),
            cell("threads", Layout(1, 2), [1.0, 1.01, 0.99]),
            cell("processes", Layout(2, 1), [1.0, 1.02, 1.01]),
        ]
    )
    page = Page(comparison_page(compare_all([("before.json", before), ("after.json", slower)])))
    chart = page.data["charts"][0]
    assert chart["kind"] == "ratios"
    assert chart["rows"][0].startswith("cpu processes")
    assert chart["points"][0]["verdict"].startswith("slower")
    assert "after.json against before.json" in page.words()


def test_a_comparison_chart_shows_at_most_its_share_of_cells() -> None:
    cells = [cell("threads", Layout(1, w), [1.0, 1.0, 1.0]) for w in range(1, MOST_RATIOS + 10)]
    run = results(cells)
    page = Page(comparison_page(compare_all([("a", run), ("b", run)])))
    assert len(page.data["charts"][0]["rows"]) == MOST_RATIOS
    assert len(page.data["tables"][0]["rows"]) == len(cells)


def test_lab_report_writes_the_page(tmp_path: Path) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(matrix_run().to_json())
    page = tmp_path / "run.html"
    assert main(["report", str(saved), "--html", str(page)]) == 0
    assert "the verdict" in Page(page.read_text()).words()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp, "is a folder; name a file"),
        (lambda tmp: tmp / "no-such-folder" / "page.html", "no folder"),
        (lambda tmp: tmp / "page.html/", "ends with a slash"),
    ],
)
def test_a_bad_html_path_is_one_line_and_exit_2_before_anything_runs(
    tmp_path: Path, make: Any, expected: str, lab_process: LabProcess
) -> None:
    path = str(make(tmp_path))
    if not path.endswith("/") and expected == "ends with a slash":
        path += "/"
    found = lab_process.run("matrix", "--tasks", "io", "--runners", "single", "--fast",
                            "--html", path, timeout=60)  # fmt: skip
    assert found.returncode == 2
    assert found.stderr.strip().count("\n") == 0
    assert expected in found.stderr and "--html" in found.stderr
    assert "single" not in found.stdout  # nothing ran


def test_a_page_in_the_folder_save_makes_is_written_there(
    tmp_path: Path, lab_process: LabProcess
) -> None:
    saved = tmp_path / "results"  # not there yet: --save makes it
    found = lab_process.run("matrix", "--tasks", "io", "--runners", "single", "--fast",
                            "--save", str(saved), "--html", str(saved / "mine.html"),
                            "--csv", str(saved / "mine.csv"), timeout=60)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert Page((saved / "mine.html").read_text()).data["tables"]
    assert (saved / "mine.csv").read_text().startswith("task,")
    assert len(list(saved.glob("lab-*.json"))) == 1


def test_a_file_in_a_missing_folder_that_save_does_not_make_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved, elsewhere = tmp_path / "results", tmp_path / "elsewhere" / "mine.html"
    args = ["matrix", "--tasks", "io", "--fast", "--save", str(saved), "--html", str(elsewhere)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no folder {elsewhere.parent}" in err
    assert not saved.exists()


@pytest.mark.parametrize("command", ["report", "compare"])
def test_the_html_page_and_another_output_on_one_path_are_refused(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(matrix_run().to_json())
    same = str(tmp_path / "out")
    runs = [str(saved)] * (2 if command == "compare" else 1)
    assert main([command, *runs, "--html", same, "--markdown", same]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name the same path" in err
    assert not Path(same).exists()


def test_lab_compare_writes_its_page(tmp_path: Path) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(matrix_run().to_json())
    page = tmp_path / "compare.html"
    assert main(["compare", str(saved), str(saved), "--html", str(page)]) == 0
    assert Page(page.read_text()).data["charts"][0]["kind"] == "ratios"


def test_a_folder_for_the_comparison_page_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(matrix_run().to_json())
    assert main(["compare", str(saved), str(saved), "--html", str(tmp_path)]) == 2
    assert "--html" in capsys.readouterr().err
