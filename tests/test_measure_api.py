"""``lab.measure``: ``lab run`` from Python. The same cells as ``lab run`` for a module's
function, a script's function by its path, a lambda or closure pickled by value, items given
as a list, bad input as one line, and the results saved, re-read and shown as Markdown."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import lab_own_work
import pytest
from conftest import MARKER_ENV, LabProcess, processes_marked

import lab
from lab.api import Measured
from lab.errors import UsageError
from lab.report.markdown_csv import CSV_COLUMNS
from lab.results.answers import shown
from lab.results.journal import load
from lab.results.model import Results

QUICK = {"workers": [2], "repeat": 1}


@pytest.fixture
def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``lab.measure`` in this process: a machine lock and a temporary folder of the test's
    own, and a check that nothing it started is left running; the temporary folder."""
    marker = uuid.uuid4().hex
    monkeypatch.setenv("LAB_LOCK", str(tmp_path / "lab.lock"))
    monkeypatch.setenv(MARKER_ENV, marker)  # the lab's workers inherit it
    monkeypatch.setenv("COLUMNS", "100")
    folder = tmp_path / "t"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    left = processes_marked(marker)
    for process in left:
        process.kill()
    assert left == []


def answers(measured: Measured) -> set[str]:
    cells = measured.results.cells
    return {shown(r.result) for c in cells for s in c.samples for r in s.records}


def run_script(
    lab_process: LabProcess, script: Path, timeout: float = 120
) -> subprocess.Popen[str]:
    """Start ``python SCRIPT`` as the fixture starts the lab: its own session, lock and
    temporary folder; :meth:`LabProcess.finish` reaps it."""
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=lab_process.env(),
        start_new_session=True,
        cwd=script.parent,
    )


def test_a_module_function_gives_the_cells_lab_run_gives(
    in_process: Path, lab_process: LabProcess, tmp_path: Path
) -> None:
    measured = lab.measure(
        lab_own_work.count, 300000, runners=["threads", "processes", "asyncio"], **QUICK
    )
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:count", "300000", "--runners", "threads,processes,asyncio",
        "--workers", "2", "--repeat", "1", "-q", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert measured.exit_code == 0
    by_cli, by_api = load(path), measured.results
    # The same function, arguments, source, items and kind of work (its share of CPU aside).
    assert [replace(t, description="") for t in by_api.tasks] == [
        replace(t, description="") for t in by_cli.tasks
    ]
    assert by_api.settings == by_cli.settings

    def cells(run: Results) -> list[tuple[object, ...]]:
        return [
            (c.runner, c.kind, c.workers, c.jobs, c.not_applicable, c.failure is None)
            for c in run.cells
        ]

    assert cells(by_api) == cells(by_cli)
    assert answers(measured) == {"0"}
    assert [list(row) for row in measured.rows] == [list(CSV_COLUMNS)] * len(by_api.cells)
    rows = {row["runner"]: row for row in measured.rows}
    assert rows["processes"]["status"] in ("ok", "unstable") and rows["asyncio"]["status"] == "n/a"
    assert isinstance(rows["threads"]["job_s_median"], float)
    assert "the verdict on lab_own_work:count" in measured.verdict
    assert measured.verdict in measured.table and str(measured) == measured.table


def test_quiet_prints_nothing_and_loud_prints_what_lab_run_does(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.measure(lab_own_work.square, 3, runners=["single"], **QUICK)
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")
    measured = lab.measure(lab_own_work.square, 3, runners=["single"], quiet=False, **QUICK)
    out, _ = capsys.readouterr()
    assert "lab_own_work:square is CPU-bound" in out or "lab_own_work:square is IO-bound" in out
    assert measured.verdict in out


def test_a_closure_and_a_lambda_are_measured_by_value(in_process: Path) -> None:
    plus = 5

    def add(n: int) -> int:
        return n + plus

    measured = lab.measure(
        add, 1, runners=["threads", "processes", "threads-in-processes"], **QUICK
    )
    [task] = measured.results.tasks
    assert task.name == f"{__name__}:{add.__qualname__}" and "<locals>" in task.name
    assert task.options["pickled"] and task.options["pickled_on"] == "{}.{}".format(
        *sys.version_info
    )
    assert all(c.failure is None and c.not_applicable is None for c in measured.results.cells)
    assert answers(measured) == {"6"}

    async def sleep_async(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    lambda_ = lambda seconds: time.sleep(seconds) or seconds  # noqa: E731
    measured = lab.measure(
        lambda_, 0.01, async_twin=sleep_async, runners=["processes", "asyncio"], **QUICK
    )
    assert measured.results.tasks[0].name.endswith("<lambda>")
    assert all(c.failure is None and c.not_applicable is None for c in measured.results.cells)
    assert answers(measured) == {"0.01"}


def test_a_script_s_function_is_imported_by_its_path(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    script = tmp_path / "mine.py"
    saved = tmp_path / "run.json"
    script.write_text(
        "import lab\n\n\ndef join(a, b='', *, sep='-'):\n    return f'{a}{sep}{b}'\n\n\n"
        "if __name__ == '__main__':\n"
        "    measured = lab.measure(join, 'x', 2, kwargs={'sep': '+'}, runners=['processes'],"
        " workers=[2], repeat=1)\n"
        f"    measured.save({str(saved)!r})\n"
        "    print(measured.exit_code)\n"
    )
    result = lab_process.finish(run_script(lab_process, script), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0\n"
    run = load(saved)
    assert run.tasks[0].name == f"{script}:join" and "pickled" not in run.tasks[0].options
    assert {shown(r.result) for c in run.cells for s in c.samples for r in s.records} == {"'x+2'"}
    assert lab_process.leftovers() == []


def test_a_script_without_its_main_guard_is_one_error(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import lab\n\n\ndef f(n):\n    return n\n\n\n"
        "lab.measure(f, 1, runners=['processes'], workers=[2], repeat=1)\n"
    )
    result = lab_process.finish(run_script(lab_process, script), timeout=60)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("lab.errors.UsageError: lab.measure ")
    assert 'guard the script\'s top level with `if __name__ == "__main__":`' in last
    assert lab_process.leftovers() == []


def test_items_given_as_a_list_one_job_each(in_process: Path) -> None:
    measured = lab.measure(
        lab_own_work.square, items=[1, 2, 3], kwargs={"plus": 10}, runners=["processes"], **QUICK
    )
    run = measured.results
    assert run.settings["jobs"] == 3
    for cell in run.cells:
        [sample] = cell.samples
        assert [shown(r.result) for r in sample.records] == ["11", "14", "19"]
    options = run.tasks[0].options
    assert options["items_digest"] and options["items_literals"].endswith(".literals")
    assert list(in_process.iterdir()) == []  # the items' file is removed after the run


def test_items_by_reference_and_from_a_file(in_process: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text("1\n2\n")
    for given in ("lab_own_work:SQUARES", items):
        measured = lab.measure(lab_own_work.square, items=given, runners=["single"], **QUICK)
        assert measured.results.settings["jobs"] == (3 if isinstance(given, str) else 2)
        assert measured.exit_code == 0


def _holding_a_lock() -> object:
    lock = threading.Lock()
    return lambda n: lock and n


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lab.measure(lab_own_work.square, object()), "argument 0 is not a Python literal"),
        (lambda: lab.measure(lab_own_work.square, float("nan")), "argument 0 is not a Python"),
        (lambda: lab.measure(lab_own_work.square, 1, kwargs={"1x": 2}), "must be Python names"),
        (lambda: lab.measure(lab_own_work.square, 1, kwargs={"plus": [object()]}),
         "kwargs plus is not a Python literal"),
        (lambda: lab.measure(lab_own_work.square, 1, workers=[0]), "workers= must be at least 1"),
        (lambda: lab.measure(lab_own_work.square, 1, workers=["2y"]), "workers= must be a whole"),
        (lambda: lab.measure(lab_own_work.square, 1, jobs=0), "jobs= must be at least 1"),
        (lambda: lab.measure(lab_own_work.square, 1, repeat=True), "repeat= must be a whole"),
        (lambda: lab.measure(lab_own_work.square, 1, timeout=-1), "timeout= must be a finite"),
        (lambda: lab.measure(lab_own_work.square, 1, runners=["nope"]), "unknown runner 'nope'"),
        (lambda: lab.measure(lab_own_work.square, items=b"12"), "items= must be an iterable"),
        (lambda: lab.measure(lab_own_work.square, items=[]), "items= has no items"),
        (lambda: lab.measure(lab_own_work.square, items=[1, object()]), "items= item 1 is not"),
        (lambda: lab.measure(lab_own_work.square, items="lab_own_work:NO_ITEMS"), "has no items"),
        (lambda: lab.measure(lab_own_work.wait), "lab.measure 'lab_own_work:wait': missing a"),
        (lambda: lab.measure(lab_own_work.wait, 1, async_twin=lab_own_work.wait),
         "async_twin= 'lab_own_work:wait' is not an async def function"),
        (lambda: lab.measure(_holding_a_lock(), 1), "cannot be pickled by value: TypeError"),
        (lambda: lab.measure(3), "the function must be callable, not int"),
        (lambda: lab.measure(lab_own_work.square, 1, jobs=10**9), "allow_large=True"),
    ],
)  # fmt: skip
def test_bad_input_is_one_usage_error_before_anything_runs(
    in_process: Path, call: object, message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        call()  # type: ignore[operator]
    text = str(raised.value)
    assert "\n" not in text and message in text, text
    assert "--" not in text, text  # the keywords, not lab run's options
    assert list(in_process.iterdir()) == []


def test_saved_results_are_what_lab_report_reads_and_the_rich_display_shows(
    in_process: Path, lab_process: LabProcess, tmp_path: Path
) -> None:
    measured = lab.measure(lab_own_work.square, 4, runners=["threads"], **QUICK)
    path = measured.save(tmp_path / "saved.json")
    report = lab_process.run("report", str(path))
    assert report.returncode == 0, report.stderr
    assert report.stdout == measured.table + "\n"
    markdown = measured._repr_markdown_()
    assert markdown.startswith("# concurrency-lab results")
    assert "## lab_own_work:square" in markdown and "| runner " in markdown

    printed: list[str] = []
    measured._repr_pretty_(SimpleNamespace(text=printed.append), cycle=False)
    assert printed == [measured.table]
    with pytest.raises(UsageError, match="save "):
        measured.save(tmp_path / "no" / "such" / "folder.json")
    assert json.loads(path.read_text())["tasks"][0]["name"] == "lab_own_work:square"


def test_measure_is_the_lab_s_but_not_part_of_the_plugin_contract(
    lab_process: LabProcess,
) -> None:
    assert callable(lab.measure) and "measure" not in lab.__all__
    found = subprocess.run(
        [sys.executable, "-c", "import lab, sys; print('lab.api' in sys.modules)"],
        capture_output=True, text=True, timeout=60, env=lab_process.env(),
    )  # fmt: skip
    assert found.stdout == "False\n", found.stderr  # importing lab loads none of the host
