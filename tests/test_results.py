"""Results people keep: JSON that re-renders, survives interruption, compares; CSV, Markdown. The
labs of the fault tests here run side by side (they measure nothing: ``conftest.side_by_side``)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Completed, LabProcess, Ran, side_by_side
from lab_builders import cell as built_cell
from lab_builders import results as built_results

from lab.boundary.files import current_umask
from lab.cli import main
from lab.report.comparison_table import compare
from lab.report.markdown_csv import to_csv, to_markdown
from lab.results.comparison import Judgement, compare_runs
from lab.results.journal import load
from lab.results.model import SCHEMA_VERSION, ResultsError
from lab.runner import Layout

TINY = ["--count", "300000", "--sleep", "0.05", "--jobs", "2", "--workers", "2", "-q"]
TINY += ["--tasks", "cpu,io"]
RUNNERS = ["--runners", "threads,processes,asyncio"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One small run saved as JSON, CSV and Markdown, with what it printed."""
    folder = tmp_path_factory.mktemp("run")
    lab = LabProcess(folder / "lab")
    result = lab.run(
        "matrix", *TINY, *RUNNERS, "--repeat", "2", "--warmups", "0",
        "--json", str(folder / "run.json"), "--csv", str(folder / "run.csv"),
        "--markdown", str(folder / "run.md"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


def test_a_saved_run_re_renders_to_the_same_tables(
    saved: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, printed = saved
    assert main(["report", str(folder / "run.json")]) == 0
    assert capsys.readouterr().out == printed


def test_the_json_is_versioned_data_with_raw_samples_and_records(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    data = json.loads((folder / "run.json").read_text())
    assert data["schema"] == "concurrency-lab/results"
    assert data["version"] == SCHEMA_VERSION
    assert data["complete"] is True
    assert data["metadata"]["cpus"] >= 1
    assert "pluggy" in data["metadata"]["versions"]
    cell = next(c for c in data["cells"] if c["runner"] == "processes" and c["task"] == "io")
    assert len(cell["samples"]) == 2
    records = cell["samples"][0]["records"]  # by column: a value a job, or one all share
    assert records["jobs"] == 2 and len(records["start"]) == len(records["end"]) == 2
    assert records["end"][0] - records["start"][0] >= 0.05 - 0.002  # a sleep lasts its length
    assert not (folder / "run.json.partial").exists()


def test_csv_has_every_cell_with_its_figures(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    rows = list(csv.DictReader(io.StringIO((folder / "run.csv").read_text())))
    assert len(rows) == 8  # single, threads, processes, asyncio on cpu and io
    processes = next(r for r in rows if r["runner"] == "processes" and r["task"] == "io")
    assert float(processes["job_s_median"]) >= 0.05
    assert float(processes["speedup_ci_low"]) <= float(processes["speedup"])
    assert float(processes["speedup"]) <= float(processes["speedup_ci_high"])
    asyncio_cpu = next(r for r in rows if r["runner"] == "asyncio" and r["task"] == "cpu")
    assert asyncio_cpu["status"] == "n/a"
    assert asyncio_cpu["status_detail"] == "CPU-bound work blocks the event loop"
    assert asyncio_cpu["kind"] == "event-loop"
    assert asyncio_cpu["job_s_median"] == ""


def test_markdown_has_a_table_per_task_and_the_verdict(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    text = (folder / "run.md").read_text()
    assert text.startswith("# concurrency-lab results\n")
    assert "## cpu\n" in text and "## io\n" in text
    assert "| runner " in text
    assert "## Threads or processes?" in text
    assert "processes on CPU-bound work" in text


def test_report_writes_other_formats_without_running(
    saved: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = saved
    out = tmp_path / "again.csv"
    assert main(["report", str(folder / "run.json"), "--csv", str(out)]) == 0
    assert out.read_text() == (folder / "run.csv").read_text()


def test_two_runs_compare_with_a_readable_verdict(saved: tuple[Path, str]) -> None:
    folder, _ = saved
    first = load(folder / "run.json")
    slower = load(folder / "run.json")
    slower.metadata = replace(slower.metadata, gil_enabled=False)
    for cell in first.cells:  # steady samples: the verdicts below cannot hang on noise
        for sample in cell.samples:
            sample.job_span = 0.25
    for cell in slower.cells:
        for sample in cell.samples:
            sample.job_span = 0.5
    text, every = compare([("a.json", first), ("b.json", slower)], "simple")
    assert every
    assert "note: the runs differ in GIL on: True in a.json, False in b.json" in text
    matches = compare_runs(first, "a.json", slower, "b.json").matches
    assert len(matches) == 7
    assert {m.judgement for m in matches} == {Judgement.SLOWER}
    assert all(m.ratio == 2.0 for m in matches)
    assert "geometric mean of after / before over 7 cells: 2.000 (b.json is 100.0% slower" in text
    again = [("a.json", first), ("c.json", load(folder / "run.json"))]
    for cell in again[1][1].cells:  # the same steady samples: the same, whatever the noise
        for sample in cell.samples:
            sample.job_span = 0.25
    same, _ = compare(again, "simple")
    assert "the same (within 1%)" in same


def test_cells_on_different_work_are_named_and_never_given_a_ratio(
    saved: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = saved
    other = load(folder / "run.json")
    for cell in other.cells:
        if cell.task == "io":
            cell.size = 0.01
        if cell.task == "cpu":
            cell.jobs = 1
    other.tasks = [replace(t, size=0.01) if t.name == "io" else t for t in other.tasks]
    (tmp_path / "other.json").write_text(other.to_json())
    assert main(["compare", str(folder / "run.json"), str(tmp_path / "other.json")]) == 3
    out = capsys.readouterr().out
    assert "no cell was measured on the same work in both runs" in out
    assert "not compared, 7 cells measured on different work" in out
    assert "seconds 0.05 → 0.01" in out and "jobs 2 → 1" in out
    assert "geometric mean" not in out and "slower" not in out and "faster" not in out


def test_a_matrix_and_a_sweep_are_not_compared(
    saved: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = saved
    sweep = load(folder / "run.json")
    sweep.settings["kind"] = "sweep"
    sweep.settings["levels"] = [1, 2]
    (tmp_path / "sweep.json").write_text(sweep.to_json())
    assert main(["compare", str(folder / "run.json"), str(tmp_path / "sweep.json")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"lab: error: cannot compare {folder / 'run.json'} (a matrix run) with"
        f" {tmp_path / 'sweep.json'} (a sweep run): they measure different things\n"
    )


def test_a_file_whose_cells_disagree_with_their_task_is_refused(
    saved: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = saved
    data = json.loads((folder / "run.json").read_text())
    data["cells"][0]["size"] = 1
    (tmp_path / "mixed.json").write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="cell 0 has size 1, its task 'cpu' 300000"):
        load(tmp_path / "mixed.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "is not a concurrency-lab results file"),
        ('{"schema": "something else"}', "is not a concurrency-lab results file"),
        ('{"schema": "concurrency-lab/results", "version": 99}', "has results version 99"),
        ('{"schema": "concurrency-lab/results", "version": 2}', "the document must contain"),
        (
            '{"schema": "concurrency-lab/results", "version": 1}',
            "has results version 1 from an earlier lab; this lab reads versions 2 and 3",
        ),
    ],
)
def test_a_corrupt_or_foreign_file_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and message in err and err.count("\n") == 1
    with pytest.raises(ResultsError):
        load(path)


def test_an_unwritable_results_file_fails_before_running_and_keeps_the_old_one(
    tmp_path: Path, lab_process: LabProcess
) -> None:
    earlier = tmp_path / "run.json"
    earlier.write_text("earlier")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    result = lab_process.run("matrix", *TINY, "--json", str(blocked / "run.json"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr == f"lab: error: --json {blocked / 'run.json'}: {blocked} is not a folder\n"
    )
    assert earlier.read_text() == "earlier"


def wait_for_samples(path: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count('"sample"') >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never had {count} samples")


def _interrupt_a_long_run(lab: LabProcess) -> Completed:
    path = lab.folder / "run.json"
    process = lab.start(
        "matrix", *TINY, "--tasks", "io", "--runners", "threads", "--repeat", "50",
        "--json", str(path),
    )  # fmt: skip
    wait_for_samples(path.with_name("run.json.partial"), 3)
    process.send_signal(signal.SIGINT)
    return lab.finish(process, timeout=30)


@side_by_side(_interrupt_a_long_run)
def test_an_interrupted_run_leaves_a_valid_partial_results_file(
    ran: Ran, capsys: pytest.CaptureFixture[str]
) -> None:
    result: Completed = ran.outcome
    path = ran.lab.folder / "run.json"
    assert result.returncode == 130
    results = load(path)
    assert results.complete is False
    assert sum(len(c.samples) for c in results.cells) >= 3
    assert main(["report", str(path)]) == 0
    assert "note: this run was interrupted" in capsys.readouterr().out


def _kill_a_long_run(lab: LabProcess) -> None:
    path = lab.folder / "run.json"
    process = lab.start(
        "matrix", *TINY, "--tasks", "io", "--runners", "threads", "--repeat", "50",
        "--json", str(path),
    )  # fmt: skip
    wait_for_samples(path.with_name("run.json.partial"), 3)
    os.kill(process.pid, signal.SIGKILL)
    lab.finish(process, timeout=30)


@side_by_side(_kill_a_long_run)
def test_a_killed_run_leaves_a_loadable_journal(ran: Ran) -> None:
    path = ran.lab.folder / "run.json"
    partial = path.with_name("run.json.partial")
    assert not path.exists()
    results = load(partial)
    assert results.complete is False
    assert sum(len(c.samples) for c in results.cells) >= 3
    with partial.open("a") as file:
        file.write('{"cell": 0, "sam')  # cut short mid-line
    assert load(partial).complete is False


def test_save_writes_the_run_under_a_folder(tmp_path: Path, lab_process: LabProcess) -> None:
    result = lab_process.run(
        "matrix",
        *TINY,
        "--tasks",
        "io",
        "--runners",
        "threads",
        "--save",
        str(tmp_path / "results"),
    )
    assert result.returncode == 0, result.stderr
    [saved] = (tmp_path / "results").glob("lab-*.json")
    assert load(saved).complete is True
    assert f"lab: wrote {saved}" in result.stderr


def test_a_sweep_compares_level_by_level_and_writes_its_own_tables() -> None:
    """In a sweep, a processes-threads runner has the same workers at two levels (2x2 holds 3
    and 4 waiters on 2 CPUs): the levels are still told apart."""
    grid = Layout(processes=2, threads=2)
    three = built_cell("grid", grid, [0.2, 0.2], bound="io", jobs=3, size=0.2)
    four = built_cell("grid", grid, [0.2, 0.2], bound="io", jobs=4, size=0.2)
    run = built_results([three, four], repeat=2)
    run.settings.update(kind="sweep", levels=[3, 4])
    found = compare_runs(run, "a.json", run, "b.json")
    assert [(m.before.jobs, m.after.jobs) for m in found.matches] == [(3, 3), (4, 4)]
    assert found.different == []
    markdown = to_markdown(run)
    assert "level |" in markdown and "wake-up p50 ms" in markdown
    assert "Threads or processes?" not in markdown
    rows = list(csv.DictReader(io.StringIO(to_csv(run))))
    assert [float(r["overhead_s"]) for r in rows] == [0.0, 0.0]
    assert all(r["jobs_per_second"] for r in rows)


def _run_writing_every_format(lab: LabProcess) -> Completed:
    """One cell is enough: what is checked is how each file was created."""
    return lab.run(
        "matrix", "--tasks", "io", "--runners", "single", "--fast", "--jobs", "1",
        "--sleep", "0.01", "-q", "--json", str(lab.folder / "run.json"),
        "--csv", str(lab.folder / "run.csv"), "--markdown", str(lab.folder / "run.md"),
    )  # fmt: skip


@side_by_side(_run_writing_every_format)
def test_results_files_get_the_permissions_of_any_new_file(ran: Ran) -> None:
    result: Completed = ran.outcome
    assert result.returncode == 0, result.stderr
    mask = current_umask()
    for name in ("run.json", "run.csv", "run.md"):
        assert (ran.lab.folder / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
