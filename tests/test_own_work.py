"""``lab run MODULE:FUNCTION``: a user's own function on every runner that can run it: plain
functions, async twins and async functions, items, the kind of work measured, and the same
answers on every runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LabProcess

from lab.cli import main
from lab.own.literals import literal
from lab.results.analysis import analyse
from lab.results.answers import shown
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
        (["lab_own_work:wait_async", "--async", "x:y"], "with --async, name its plain twin"),
        (["lab_own_work:square", "--items", "lab_own_work:NO_ITEMS"], "has no items"),
        (["lab_own_work:square", "--items", "lab_own_work:count"], "calling it failed"),
        (["lab_own_work:square", "--items", "lab_own_work:NOT_CALLABLE"], "is a int, not a list"),
        (["lab_own_work:square", "--items-file", "nowhere.jsonl"], "no such file"),
        (["lab_own_work:square", "--items", "a:b", "--items-file", "c"], "not allowed with"),
        (["lab_own_work:square", "--items", "lab_own_work:SQUARES", "1", "2"], "too many"),
        (["lab_own_work:wait", "0.1", "--bogus"], "unrecognized arguments: --bogus"),
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
    assert "lab_own_work:count: CPU-bound: a call keeps its thread busy" in result.stdout
    run = load(path)
    [task] = run.tasks
    assert task.name == "lab_own_work:count" and task.bound == "cpu"
    status = {c.runner: (c.not_applicable, c.failure) for c in run.cells}
    assert status["single"] == (None, None) and status["threads"] == (None, None)
    assert status["processes"] == (None, None)
    assert "has no async twin: give one with --async" in (status["asyncio"][0] or "")
    assert {shown(r.result) for c in run.cells for s in c.samples for r in s.records} == {"0"}
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
    assert "lab_own_work:wait: IO-bound: " in result.stdout
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
    assert "its kind of work unmeasured: ValueError: no 3" in result.stdout
    run = load(path)
    failures = [str(c.failure) for c in run.cells]
    assert len(failures) == 2
    assert all(f.startswith("error: job 0 failed: ValueError: no 3") for f in failures)
    # The traceback's last lines are in the results, not in the table.
    assert all("in boom" in (c.failure.traceback if c.failure else "") for c in run.cells)
    assert "in boom" not in result.stdout
    assert lab_process.leftovers() == []


def test_a_function_that_hangs_is_ended_by_the_timeout_with_what_it_started(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:hang", "--runners", "processes", "--workers", "1", "--repeat",
        "1", "--timeout", "2", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "its kind of work unmeasured: timeout after 2 s" in " ".join(result.stdout.split())
    assert {str(c.failure) for c in load(path).cells} == {"timeout after 2 s"}
    assert lab_process.leftovers() == []


def test_results_that_do_not_pickle_fail_only_where_they_must_cross(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:make_lock", "--runners", "threads,processes", *QUICK,
        "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    run = load(path)
    status = {a.cell.runner: a.status for a in analyse(run).cells}
    assert not status["threads"].failed and not status["single"].failed
    assert "pickle" in str(status["processes"])
    assert "answers: not compared across runners: <unlocked _thread.lock" in result.stdout


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
    assert {shown(r.result) for c in run.cells for s in c.samples for r in s.records} == {"'x+2'"}


def test_an_async_function_runs_on_event_loops_and_is_na_elsewhere(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:wait_async", "0.02", "--runners", "threads,asyncio",
        *QUICK, "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cells = {c.runner: c for c in load(path).cells}
    assert "is an async def: it runs on event loops" in (cells["threads"].not_applicable or "")
    assert "is an async def" in (cells["single"].not_applicable or "")
    assert cells["asyncio"].failure is None and cells["asyncio"].samples
    assert lab_process.leftovers() == []


@pytest.mark.parametrize("source", ["module", "file"])
def test_one_job_per_item_each_the_first_argument(
    lab_process: LabProcess, tmp_path: Path, source: str
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text("1\n2\n\n3\n")
    given = (
        ["--items", "lab_own_work:SQUARES"] if source == "module" else ["--items-file", str(items)]
    )
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:square", *given, "--runners", "processes", "--workers", "2",
        "--repeat", "1", "--kw", "plus=10", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = load(path)
    assert run.settings["jobs"] == 3 and "for each ITEM of" in result.stdout
    for cell in run.cells:
        [sample] = cell.samples
        assert [shown(r.result) for r in sample.records] == ["11", "14", "19"]
    assert run.tasks[0].options["items_digest"]


def test_items_that_differ_between_processes_are_an_error_cell(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:square", "--items", "lab_own_work:SHUFFLED", "--runners",
        "threads", *QUICK, "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 1
    failures = {str(c.failure) for c in load(path).cells}
    assert all("the items loaded here differ from those the lab loaded" in f for f in failures)


def test_a_runner_that_gives_another_answer_is_an_error_naming_the_job(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:in_main_thread", "--runners", "threads,processes",
        "--workers", "2", "--repeat", "2", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "a different answer: job 0 returned False, not True as on single" in result.stdout
    assert "answers: 1 of 2 cells gave different answers from single's" in result.stdout
    report = lab_process.run("report", str(path))
    assert "a different answer: job 0 returned False" in report.stdout


def test_answers_that_change_from_run_to_run_are_said_not_checked(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    result = lab_process.run(
        "run", "lab_own_work:draw", "--runners", "threads", "--workers", "2", "--repeat", "2"
    )
    assert result.returncode == 0, result.stderr
    assert "answers: not compared across runners: they differ from run to run on single" in (
        " ".join(result.stdout.split())
    )


def test_arguments_may_follow_the_options(lab_process: LabProcess, tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    result = lab_process.run(
        "run", "lab_own_work:square", "--runners", "single", "4", "--repeat", "1", "-q",
        "--json", str(path), "-3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [cell] = load(path).cells
    assert {shown(r.result) for r in cell.samples[0].records} == {"13"}
