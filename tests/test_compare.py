"""``lab compare`` as the tools people know: files in three formats, a failing threshold, a
headline that leaves out what it cannot vouch for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lab_builders import cell, results

from lab.cli import main
from lab.runner import Layout

IO = {"task": "io", "bound": "io", "size": 0.0001}


def _write(path: Path, spans_threads: list[float], spans_processes: list[float]) -> str:
    run = results(
        [
            cell("single", Layout(), [1.0, 1.0, 1.0], **IO),
            cell("threads", Layout(threads=2), spans_threads, **IO),
            cell("processes", Layout(processes=2), spans_processes, **IO),
        ]
    )
    path.write_text(run.to_json())
    return str(path)


@pytest.fixture
def runs(tmp_path: Path) -> tuple[str, str]:
    before = _write(tmp_path / "before.json", [0.5, 0.5, 0.5], [0.0004, 0.0004, 0.0004])
    after = _write(tmp_path / "after.json", [0.6, 0.6, 0.6], [0.0004, 0.0004, 0.0004])
    return before, after


def test_compare_writes_markdown_csv_and_json(
    runs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "c.md", tmp_path / "c.csv", tmp_path / "c.json"]
    args = ["--markdown", str(files[0]), "--csv", str(files[1]), "--json", str(files[2])]
    assert main(["compare", *runs, *args]) == 0
    out = capsys.readouterr().out
    assert "400 µs" in out and "0.0004" not in out  # sub-millisecond times in µs
    assert files[0].read_text().startswith("# concurrency-lab comparison")
    assert "| task " in files[0].read_text()
    rows = list(csv.DictReader(files[1].open()))
    threads = next(r for r in rows if r["runner"] == "threads")
    assert float(threads["ratio"]) == pytest.approx(1.2) and threads["verdict"] == "slower"
    data = json.loads(files[2].read_text())
    assert data["schema"] == "concurrency-lab/comparison"
    assert {c["runner"] for c in data["runs"][0]["cells"]} == {"single", "threads", "processes"}


def test_fail_slower_exits_1_naming_the_cell(
    runs: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", *runs, "--fail-slower", "25%"]) == 0
    capsys.readouterr()
    assert main(["compare", *runs, "--fail-slower", "5%"]) == 1
    err = capsys.readouterr().err
    assert "io threads 2 is 20.0% slower, past the 5.0% allowed" in err
    assert main(["compare", *runs, "--fail-slower", "lots"]) == 2


def test_the_headline_leaves_out_unstable_cells_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _write(tmp_path / "a.json", [0.5, 0.5, 0.5], [0.2, 0.5, 0.9])
    after = _write(tmp_path / "b.json", [0.5, 0.5, 0.5], [0.9, 0.2, 0.5])
    assert main(["compare", before, after]) == 0
    out = capsys.readouterr().out
    assert "over 2 cells" in out
    assert "1 cell left out: unstable, not significant or without an interval" in " ".join(
        out.split()
    )
    assert "(unstable)" in out


def test_one_run_each_is_said_only_when_both_sides_had_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _write(tmp_path / "one.json", [0.5], [0.5])
    three = _write(tmp_path / "three.json", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    main(["compare", three, one])
    out = capsys.readouterr().out
    assert "one run after: no interval" in out and "one run each" not in out
