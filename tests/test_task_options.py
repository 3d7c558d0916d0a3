"""Task options: ``--task-option TASK.KEY=VALUE``, checked before anything runs, in force in
every cell's worker, kept with the run, and part of the work a comparison matches on."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import LabProcess
from lab_builders import cell, results
from test_http_files_tasks import FORMS, record, run_form

from lab import Layout
from lab.cli import main
from lab.results.comparison import compare_runs
from lab.results.journal import load
from lab.results.status import Kind
from lab_plugins.files_task import (
    FILES,
    FILES_TASK,
    anyio_write_read,
    asyncio_write_read,
    sync_write_read,
    writes_folder,
)
from lab_plugins.http_common import REQUESTS, responses_summary
from lab_plugins.http_task import HTTP


@pytest.mark.parametrize(
    ("option", "error"),
    [
        ("http.bytes=abc", "--task-option for http: bytes must be a whole number, not 'abc'"),
        ("http.bytes=-1", "--task-option for http: bytes must be from 0 to 67,108,864, not -1"),
        ("http.size=1", "task 'http' has no option 'size'; its options: bytes"),
        ("files.write=maybe", "--task-option for files: write must be yes or no, not 'maybe'"),
        ("cpu.x=1", "task 'cpu' has no option 'x'; its options: none"),
        ("io.x=1", "task 'io' is not run (http, files, cpu)"),
        ("http", "--task-option takes TASK.KEY=VALUE, not 'http'"),
    ],
)
def test_bad_task_options_are_one_line_before_anything_runs(
    option: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["matrix", "--tasks", "http,files,cpu", "--task-option", option]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert error in err and len(err.strip().splitlines()) == 1


def test_an_option_makes_the_task_it_names() -> None:
    bigger = HTTP.with_options({"bytes": "65536"})
    assert bigger.name == "http" and "answers 65,536 bytes" in bigger.description
    right = responses_summary([(200, 65536)] * REQUESTS)
    assert bigger.check(record(right), 0.2) is None
    assert HTTP.check(record(right), 0.2) is not None
    assert HTTP.with_options({}) is HTTP
    writing = FILES_TASK.with_options({"write": "yes"})
    assert writing.operation == "file" and "writes 16 files" in writing.description
    with pytest.raises(ValueError, match="has no option 'bytes'"):
        FILES_TASK.with_options({"bytes": "1"})


@pytest.mark.parametrize("form", FORMS)
def test_each_writing_form_writes_reads_back_and_removes_its_files(form: str) -> None:
    with writes_folder(4096) as work:
        reading = asyncio_write_read if form == "asyncio" else anyio_write_read
        result, latencies = run_form(form, sync_write_read, reading, work)
        assert os.listdir(work.folder) == []
    assert result == FILES * 4096 and len(latencies) == FILES
    assert not Path(work.folder).exists()


def test_options_reach_every_cell_and_stay_with_the_run(lab_process: LabProcess) -> None:
    path = lab_process.folder / "run.json"
    result = lab_process.run(
        "matrix", "-q", "--fast", "--tasks", "http,files", "--runners", "threads,processes",
        "--workers", "2", "--jobs", "2", "--size", "http=0.01", "--size", "files=4096",
        "--task-option", "http.bytes=70000", "--task-option", "files.write=yes",
        "--json", str(path), timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    run = load(path)
    assert run.task("http").options == {"bytes": "70000"}
    assert run.task("files").options == {"write": "yes"}
    assert "bytes=70000" in result.stdout and "write=yes" in result.stdout
    for found in run.cells:  # the check in the lab expects 70,000 bytes: the workers sent them
        assert found.failure is None or found.failure.kind is Kind.UNSTABLE, found.failure
        results_ = [r.result for s in found.samples for r in s.records]
        expected = (
            f"{REQUESTS} of status 200, {REQUESTS} bodies of 70,000 bytes"
            if found.task == "http"
            else 16 * 4096
        )
        assert set(results_) == {expected}
    assert lab_process.leftovers() == []


def test_runs_with_other_options_are_compared_as_different_work() -> None:
    base = results([cell("threads", Layout(1, 2, 2), [1.0, 1.0])])
    other = results([cell("threads", Layout(1, 2, 2), [1.0, 1.0])])
    other.tasks = [replace(other.tasks[0], options={"bytes": "65536"})]
    found = compare_runs(base, "a.json", other, "b.json")
    assert found.matches == []
    assert found.different[0].differences == [("options", "none", "bytes=65536")]
    same = compare_runs(other, "b.json", other, "b.json")
    assert len(same.matches) == 1


def test_options_are_kept_written_one_way_with_the_defaults() -> None:
    assert FILES_TASK.options == {"write": "no"}
    assert FILES_TASK.with_options({"write": " YES"}).options == {"write": "yes"}
    assert FILES_TASK.with_options({"write": "no"}).options == FILES_TASK.options


def test_an_option_is_applied_once_in_the_lab_and_once_in_each_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lab_counted_options

    monkeypatch.setenv("LAB_LOCK", str(tmp_path / "lab.lock"))
    lab_counted_options.APPLIED[0] = 0
    args = ["matrix", "--tasks", "counted-options", "--runners", "single", "--fast", "-q"]
    args += ["--task-option", "counted-options.mark=x", "--json", str(tmp_path / "run.json")]
    assert main(args, plugins=[lab_counted_options]) == 0
    assert lab_counted_options.APPLIED[0] == 1  # checked and applied at once, in the lab
    cells = load(tmp_path / "run.json").cells
    found = [r.result for c in cells for s in c.samples for r in s.records]
    assert found and set(found) == {1}  # applied once in the cell's worker too
