"""Small things a user meets: every line within the terminal's width, a repeated sweep level
refused, an interrupted report that says it was the report, and timeline titles that cannot
run into their summaries."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
from pathlib import Path

import pytest
from conftest import LabProcess
from lab_builders import cell, results, sample
from matplotlib.axes import Axes
from matplotlib.text import Text

from lab.cli import main
from lab.cli.listing import FROM_ELSEWHERE
from lab.errors import UsageError
from lab.jobs import JobRecord
from lab.plan.sweep import parse_levels
from lab.report.plots import MAX_STACKED, timelines_figure
from lab.results.model import span
from lab.runner import PROCESSES_THREADS, Layout

#: A task name as a third-party plugin may give it: longer than any built-in one.
PLUGIN_TASK = "countdown-from-a-third-party-plugin-with-a-rather-long-name"


def too_wide(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


# Every line within the width


def renamed(path: Path, old: str, new: str) -> Path:
    """A copy of the results file at ``path`` whose task ``old`` is called ``new``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for found in [*data["tasks"], *data["cells"]]:
        key = "name" if "name" in found else "task"
        if found[key] == old:
            found[key] = new
    copy = path.with_name(f"renamed-{path.name}")
    copy.write_text(json.dumps(data), encoding="utf-8")
    return copy


def test_every_line_of_a_matrix_and_its_report_fits_the_width(
    lab_process: LabProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny matrix at 80 columns, then its report at 100 and 80, and the report of the same
    run with a task named as a plugin may name it: the header, the tables, the verdict and the
    classic comparison all within the width (the words wrap, the columns give way)."""
    saved = tmp_path / "run.json"
    monkeypatch.setenv("COLUMNS", "80")
    ran = lab_process.run(
        "matrix", "--tasks", "cpu,io", "--runners", "single,threads", "--workers", "1,2",
        "--size", "cpu=20000", "--size", "io=0.005", "--fast", "-q", "--json", str(saved),
        timeout=180,
    )  # fmt: skip
    assert ran.returncode in (0, 1), ran.stderr  # 1: a cell judged failed on a busy machine
    assert "threads or processes?" in ran.stdout
    assert too_wide(ran.stdout, 80) == []
    plugin = renamed(saved, "cpu", PLUGIN_TASK)
    for width in (100, 80):
        monkeypatch.setenv("COLUMNS", str(width))
        for path in (saved, plugin):
            shown = lab_process.run("report", str(path), timeout=120)
            assert shown.returncode == 0, shown.stderr
            assert "the classic comparison" in shown.stdout
            assert too_wide(shown.stdout, width) == [], f"{path.name} at {width}"


@pytest.mark.parametrize("width", [80, 100, 250])
def test_lab_list_fits_the_width_and_says_where_its_origins_went(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["list"]) == 0
    shown = capsys.readouterr().out
    assert too_wide(shown, width) == []
    header = shown.splitlines()[0].split()
    assert header[:2] == ["runner", "kind"] and "available" in header
    # where each runner comes from: in its column, or where to look when it gave way
    assert ("from" in header) != (FROM_ELSEWHERE.split()[0] in shown.split())
    assert "from" in header or "lab plugins --all" in shown


@pytest.mark.parametrize("width", [80, 100, 250])
def test_lab_plugins_fits_the_width_with_every_hook_and_name(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table where it fits; else a paragraph a plugin, leaving out nothing the table says."""
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["plugins", "--all"]) == 0
    shown = capsys.readouterr().out
    assert too_wide(shown, width) == []
    words = shown.replace(",", " ").split()
    assert {"lab_register_runners", "lab_register_tasks", "threads", "uvloop", "cpu"} <= set(words)
    table = shown.splitlines()[0].split() == ["plugin", "distribution", "hooks", "runners", "tasks"]
    assert table or "threads: concurrency-lab" in shown
    if width == 250:
        assert table
    if width == 80:
        assert not table


# A repeated sweep level


@pytest.mark.parametrize(("text", "level"), [("1,1", 1), ("10,1,10", 10), ("1,01", 1)])
def test_a_level_given_twice_is_refused(text: str, level: int) -> None:
    with pytest.raises(
        UsageError, match=re.escape(f"--levels names level {level} twice: {text!r}")
    ):
        parse_levels(text)


def test_a_sweep_with_a_repeated_level_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As ``--python 3.11,3.11`` is refused: nothing runs, one line, exit 2."""
    args = ["sweep", "--levels", "1,1", "--runners", "threads", "--size", "0.01", "--repeat", "1"]
    assert main([*args, "-q"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "lab: error: --levels names level 1 twice: '1,1'\n"
    assert captured.out == ""


# An interrupted command that measures nothing


def many_cells(count: int) -> str:
    """A results file's text whose report runs to hundreds of KiB: two tasks of ``count``
    cells each (a table row a cell)."""
    cells = []
    for task in ("cpu", "io"):
        cells.append(cell("single", Layout(), [1.0, 1.0, 1.0], task=task))
        cells += [
            cell("threads", Layout(threads=n), [0.9, 1.0, 1.1], task=task)
            for n in range(2, count + 1)
        ]
    return results(cells).to_json()


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_report_ended_by_sigterm_says_the_report_was_interrupted(
    command: str, lab_process: LabProcess, tmp_path: Path
) -> None:
    """The report is stopped while it writes to a pipe nobody reads (so it cannot finish
    first): it says which command was interrupted, not that nothing was measured, and exits
    143 as SIGTERM asks."""
    path = tmp_path / "many-cells.json"
    path.write_text(many_cells(800), encoding="utf-8")
    process = lab_process.start(command, *[str(path)] * (1 if command == "report" else 2))
    assert process.stdout is not None
    if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: a small pipe fills sooner (the report is large)
        with contextlib.suppress(OSError):
            fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    try:
        writing, _, _ = select.select([process.stdout], [], [], 60)
        assert writing, "the report printed nothing in 60 s"
        assert process.stdout.read(1), "the report ended without printing"  # it is writing now
        os.kill(process.pid, signal.SIGTERM)
        finished = lab_process.finish(process, timeout=120)
    finally:
        lab_process.reap()
    assert finished.returncode == 143, finished.stderr
    assert finished.stderr == f"lab: {command} interrupted\n"
    assert lab_process.leftovers() == []


# Timeline titles and summaries


def crowded_records(count: int) -> list[JobRecord]:
    """``count`` jobs at once, half on each of two processes' pool threads: the longest
    summary a timeline has (CPU timed, bars overlapping)."""
    found = []
    for index in range(count):
        pid = 4_000_000 + index % 2
        process, thread = f"SpawnProcess-{index % 2 + 1}", "ThreadPoolExecutor-0_0"
        start = 1000.0 + index * 0.0001
        found.append(
            JobRecord(index, pid, process, thread, pid * 10, start, start + 0.2, 0.1, None)
        )
    return found


def timeline_summary_of(ax: Axes) -> str:
    """What a timeline panel says of its jobs, wherever the panel puts it: a text of its own,
    or a title beside the cell's."""
    found = [t.get_text() for t in ax.texts if "jobs in" in t.get_text()]
    return found[0] if found else ax.get_title(loc="right")


def text_artist(ax: Axes, text: str) -> Text:
    """The one visible text artist of ``ax`` that shows ``text``."""
    (found,) = [
        t
        for t in ax.get_children()
        if isinstance(t, Text) and t.get_visible() and t.get_text() == text
    ]
    return found


def test_a_timeline_title_never_overlaps_its_summary() -> None:
    """A plugin's long task name on a long runner and interpreter name, beside the longest
    summary a timeline has: the title and the summary are laid out apart (their rendered boxes
    do not meet), inside the figure, and neither runs into a panel."""
    records = crowded_records(MAX_STACKED * 2 + 4)
    cells = []
    for interpreter in ("3.13t+gil", "3.13t"):
        found = cell(
            "threads-in-processes", Layout(processes=2, threads=24), [],
            task=PLUGIN_TASK, kind=PROCESSES_THREADS, interpreter=interpreter,
        )  # fmt: skip
        found.samples = [sample(span(records), records=records)]
        cells.append(found)
    figure = timelines_figure(cells)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    page = figure.bbox
    for ax in figure.axes:
        title = text_artist(ax, ax.get_title(loc="left"))
        assert " ".join(title.get_text().split()).startswith(f"{PLUGIN_TASK} on threads-in-")
        summary = text_artist(ax, timeline_summary_of(ax))
        assert "bars overlap" in summary.get_text()
        title_box = title.get_window_extent(renderer)
        summary_box = summary.get_window_extent(renderer)
        assert not title_box.overlaps(summary_box), (title_box, summary_box)
        for box in (title_box, summary_box):
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and box.y1 <= page.y1
            for other in figure.axes:
                assert not box.overlaps(other.bbox), (box, other.bbox)
