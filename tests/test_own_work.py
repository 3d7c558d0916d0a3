"""``lab run MODULE:FUNCTION``: a user's own function on every runner that can run it (issue's
first slice: plain functions and their async twins, the kind of work measured)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LabProcess

from lab.cli import main
from lab.own.literals import literal
from lab.results.journal import load

QUICK = ["--workers", "2", "--repeat", "1", "-q"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere_at_all:f"], "lab run 'nowhere_at_all:f': no module named 'nowhere_at_all'"),
        (["lab_own_work:missing"], "module 'lab_own_work' has no 'missing'"),
        (["lab_own_work:NOT_CALLABLE"], "int is not callable"),
        (["lab_own_work"], "lab run must be MODULE:FUNCTION or SCRIPT.py:FUNCTION"),
        (["lab_own_work:count", "[1, 2"], "the argument '[1, 2' is not a Python literal"),
        (["lab_own_work:wait_async"], "is an async def: name a plain function"),
        (["lab_own_work:wait", "--async", "lab_own_work:wait"], "is not an async def function"),
        (["lab_own_work:wait", "--kw", "1x=2"], "--kw takes NAME=VALUE, not '1x=2'"),
        (["no/such/script.py:f"], "no script no/such/script.py"),
        (["lab_own_work:wait", "0.1", "--kw", "x=1"], "unexpected keyword argument 'x'"),
        (["lab_own_work:wait"], "missing a required argument: 'seconds'"),
    ],
)
def test_bad_input_to_lab_run_is_one_line_before_anything_runs(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["run", *args, *QUICK]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and err.count("\n") == 1, err
    assert message in err


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("2.5", 2.5), ("'3'", "3"), ("[1, 2]", [1, 2]), ("hello", "hello"),
     ("data/a.txt", "data/a.txt"), ("None", None), ("b'x'", b"x")],
)  # fmt: skip
def test_an_argument_is_a_literal_or_the_word_it_spells(text: str, value: object) -> None:
    assert literal(text, "the argument") == value


def test_a_cpu_bound_function_runs_on_every_chosen_runner(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:count", "300000", "--runners", "threads,processes,asyncio",
        *QUICK, "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lab_own_work:count is CPU-bound: " in result.stdout
    run = load(path)
    [task] = run.tasks
    assert task.name == "lab_own_work:count" and task.bound == "cpu"
    status = {c.runner: (c.not_applicable, c.failure) for c in run.cells}
    assert status["single"] == (None, None) and status["threads"] == (None, None)
    assert status["processes"] == (None, None)
    assert "has no async twin: give one with --async" in (status["asyncio"][0] or "")
    assert all(r.result == 0 for c in run.cells for s in c.samples for r in s.records)
    assert lab_process.leftovers() == []


def test_an_io_function_with_its_async_twin_runs_on_an_event_loop(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:wait", "0.05", "--async", "lab_own_work:wait_async",
        "--runners", "threads,asyncio", *QUICK, "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lab_own_work:wait is IO-bound: " in result.stdout
    run = load(path)
    assert run.tasks[0].bound == "io"
    assert all(c.failure is None and c.not_applicable is None for c in run.cells)
    assert lab_process.leftovers() == []


def test_a_function_that_raises_is_an_error_cell_and_the_rest_runs(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:boom", "3", "--runners", "threads", *QUICK, "--json", str(path)
    )
    assert result.returncode == 1, result.stderr
    assert "its kind of work could not be measured: ValueError: no 3" in result.stdout
    run = load(path)
    failures = [str(c.failure) for c in run.cells]
    assert len(failures) == 2
    assert all(f.startswith("error: job 0 failed: ValueError: no 3") for f in failures)
    assert lab_process.leftovers() == []


def test_a_script_by_its_path_and_keyword_arguments(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    script = tmp_path / "mine.py"
    script.write_text("def join(a, b='', *, sep='-'):\n    return f'{a}{sep}{b}'\n")
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", f"{script}:join", "x", "'2'", "--kw", "sep=+", "--runners", "processes",
        *QUICK, "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = load(path)
    assert {r.result for c in run.cells for s in c.samples for r in s.records} == {"x+2"}
