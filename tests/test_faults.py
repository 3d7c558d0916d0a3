"""Faults the lab must survive (docs/faults.md): files that cannot be written or read, leftovers,
name conflicts, and runners that lie. Every lab runs in its own session with an outer timeout,
and nothing it started may outlive it; the labs of the tests here run side by side (they
measure nothing: ``conftest.side_by_side``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Completed, LabProcess, Ran, side_by_side
from lab_builders import cell, results

from lab.cli import main
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.model import ResultsError
from lab.results.status import Kind
from lab.runner import Layout

SMALL_IO = ["--tasks", "io", "--runners", "threads,asyncio", "--workers", "1,2", "--fast"]
SMALL_IO += ["--sleep", "0.02", "--jobs", "4", "-q"]
#: The cells SMALL_IO plans: the baseline, then two runners at two worker settings. Its journal
#: holds a header of about 2.3 kB and a line of about 0.9 kB a run: a disk full after 4 kB
#: stops it at the second or third run, and the matrix goes on for the others.
SMALL_IO_CELLS = 5
#: A run of a single cell, for tests of what becomes of a run's files and folders.
ONE_CELL = ["--tasks", "io", "--runners", "single", "--fast", "--sleep", "0.02", "--jobs", "1"]
ONE_CELL += ["-q"]


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs -o size=12k tmpfs /mnt 2>/dev/null"]  # fmt: skip
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(probe, timeout=10, capture_output=True).returncode == 0
    return False


def _full_disk(kind: str, folder: Path) -> dict[str, object]:
    """How to start a lab whose writes into ``folder`` fail after a few kilobytes."""
    if kind == "size-limit":
        return {"file_size_limit": 4000}
    if not _can_mount_tmpfs():
        pytest.skip("needs root and unshare to mount a private tmpfs")
    script = 'mount -t tmpfs -o size=4k tmpfs "$0" && exec "$@"'
    return {"prefix": ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                       str(folder)]}  # fmt: skip


def _run_on_a_full_disk(lab: LabProcess, kind: str) -> Completed:
    full = lab.folder / "full"
    full.mkdir()
    return lab.run(
        "matrix", *SMALL_IO, "--json", str(full / "r.json"), "--csv", str(lab.folder / "r.csv"),
        **_full_disk(kind, full),
    )  # fmt: skip


@side_by_side(_run_on_a_full_disk)
@pytest.mark.parametrize("kind", ["size-limit", "tmpfs"])
def test_a_full_disk_stops_the_journal_not_the_matrix(ran: Ran, kind: str) -> None:
    result: Completed = ran.outcome
    full, csv = ran.lab.folder / "full", ran.lab.folder / "r.csv"
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("lab: error: ")]
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith(f"lab: error: cannot write {full / 'r.json.partial'}: ")
    assert errors[1].startswith(f"lab: error: cannot write results to {full / 'r.json'}: ")
    measured = (" ok\n", "unstable: ", "used at most ")  # the last: a busy machine's scheduling
    assert sum(map(result.stdout.count, measured)) >= SMALL_IO_CELLS
    assert csv.read_text().count("\n") == SMALL_IO_CELLS + 1  # every cell, and the header
    assert ran.lab.leftovers() == []


def _run_with_a_file_size_limit(lab: LabProcess) -> Completed:
    return lab.run(
        "matrix", *SMALL_IO, "--json", str(lab.folder / "r.json"), "--csv",
        str(lab.folder / "r.csv"), file_size_limit=4000,  # the CSV is about 2.9 kB, the JSON 5.7
    )  # fmt: skip


@side_by_side(_run_with_a_file_size_limit)
def test_every_file_of_a_run_is_written_whatever_became_of_the_others(ran: Ran) -> None:
    """The JSON is too large for the limit, the CSV is not: the CSV is still written."""
    result: Completed = ran.outcome
    tmp_path = ran.lab.folder
    assert result.returncode == 1
    assert f"lab: wrote {tmp_path / 'r.csv'}" in result.stderr
    assert f"lab: error: cannot write results to {tmp_path / 'r.json'}" in result.stderr
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("option", "path", "message"),
    [
        ("--json", "{tmp}", "is a folder; name a file"),
        ("--csv", "/proc/nope/x.csv", "no folder /proc/nope"),
        ("--json", "{tmp}/missing/x.json", "no folder {tmp}/missing"),
        ("--json", "/proc/version", "cannot create files in /proc"),
        ("--markdown", "/dev/null", "is not a regular file"),
        ("--plot", "{tmp}/file", "is not a folder"),
        ("--save", "{tmp}/file/deeper", "{tmp}/file is not a folder"),
        ("--json", "", "--json needs a path, not ''"),
    ],
)
def test_output_paths_are_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, path: str, message: str
) -> None:
    (tmp_path / "file").write_text("a file")
    before = sorted(tmp_path.iterdir())
    args = ["matrix", "--tasks", "io", "--runners", "threads", option, path.format(tmp=tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lab: error: {option} ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp_path) in err
    assert sorted(tmp_path.iterdir()) == before  # nothing created, nothing left


def test_two_outputs_on_one_path_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = str(tmp_path / "r.out")
    assert main(["matrix", "--json", same, "--csv", same]) == 2
    assert "--json and --csv name the same path" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["cells"][0]["samples"][0].update(wall="abc"), "cells[0].samples[0].wall"),
        (lambda d: d["metadata"].update(cpus="two"), "metadata.cpus"),
        (lambda d: d.update(settings={}), "settings"),
        (lambda d: d["cells"][1].update(layout=[2, 1]), "cells[1].layout"),
        (lambda d: d["tasks"][0].pop("size"), "tasks[0]"),
    ],
)
def test_a_results_file_of_the_wrong_shape_is_named_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    message: str,
    saved_run: Path,
) -> None:
    data = json.loads(saved_run.read_text())
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lab: error: {path}: ") and err.count("\n") == 1, err
    assert message in err
    with pytest.raises(ResultsError):
        load(path)


def test_a_truncated_results_file_is_called_truncated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_run: Path
) -> None:
    text = saved_run.read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    line = text[: len(text) // 2].count("\n") + 1
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"lab: error: {path}: truncated JSON at line {line}\n"


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small complete run as the lab writes it: two cells with a sample each (built by hand:
    what is checked is how the file is read)."""
    path = tmp_path_factory.mktemp("saved") / "run.json"
    cells = [cell("single", Layout(), [0.1]), cell("threads", Layout(threads=2), [0.05])]
    path.write_text(results(cells, repeat=1).to_json())
    return path


def _run_among_a_dead_labs_leftovers(lab: LabProcess) -> tuple[Completed, str]:
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    dead_cell = lab.tmp / f"lab-cell-{dead.pid}-x1y2"
    dead_cell.mkdir()
    (dead_cell / "spec.json").write_text("{}")
    (lab.tmp / f"lab-guard-{dead.pid}.json").write_text("{}")
    alive = lab.tmp / f"lab-cell-{os.getpid()}-a1b2"
    alive.mkdir()
    return lab.run("matrix", *ONE_CELL), alive.name


@side_by_side(_run_among_a_dead_labs_leftovers)
def test_a_dead_labs_leftovers_are_removed_by_the_next_run(ran: Ran) -> None:
    """What a lab killed with its watcher left in the temporary folder goes; what a running
    lab owns stays."""
    result, alive = ran.outcome
    assert result.returncode == 0, result.stderr
    assert ran.lab.left_files() == [alive]


def _run_a_runner_that_runs_jobs_twice(lab: LabProcess) -> Completed:
    return lab.run(
        "matrix", "-p", "lab_test_plugins", "--tasks", "cpu", "--runners",
        "quietly-twice,threads", "--count", "1000000", "--jobs", "2", "--workers", "2",
        "--fast", "-q", "--json", str(lab.folder / "r.json"),
    )  # fmt: skip


@side_by_side(_run_a_runner_that_runs_jobs_twice)
def test_a_runner_that_runs_jobs_it_does_not_report_is_caught(ran: Ran) -> None:
    """Its records check out one by one; the calls counted where the jobs ran do not."""
    result: Completed = ran.outcome
    path = ran.lab.folder / "r.json"
    assert result.returncode == 1, result.stderr
    statuses = {a.cell.runner: a.status for a in analyse(load(path)).cells}
    lying = statuses.pop("quietly-twice")
    assert lying.kind is Kind.ERROR
    assert lying.detail.startswith("job 0 was called 2 times where it ran, but 1 record")
    assert "the runner ran work no record shows" in lying.detail
    # The honest cells' calls match their records. (Whether their timings pass the physical
    # bound depends on the machine's noise in one run: not asserted.)
    assert not any("was called" in s.detail for s in statuses.values()), statuses


def _run_on_a_disk_full_from_the_start(lab: LabProcess) -> Completed:
    return lab.run("matrix", *SMALL_IO, "--json", str(lab.folder / "r.json"), file_size_limit=100)


@side_by_side(_run_on_a_disk_full_from_the_start)
def test_a_disk_full_from_the_start_leaves_no_empty_journal(ran: Ran) -> None:
    result: Completed = ran.outcome
    assert result.returncode == 1
    assert "the tables above are all that was kept" in result.stderr
    assert sorted(p.name for p in ran.lab.folder.iterdir()) == ["lab.lock", "t"]


def _interrupt_the_first_run(lab: LabProcess) -> Completed:
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "hang", "--runners", "single",
        "--timeout", "60", "--fast", "--json", str(lab.folder / "run.json"),
    )  # fmt: skip
    lab.wait_until_hanging()
    process.send_signal(signal.SIGINT)
    return lab.finish(process, timeout=30)


@side_by_side(_interrupt_the_first_run)
def test_ctrl_c_before_the_first_run_ends_leaves_no_file(ran: Ran) -> None:
    """Calibration is over, the first cell hangs: nothing was measured, nothing is written."""
    result: Completed = ran.outcome
    assert result.returncode == 130
    assert result.stderr.splitlines()[-1] == "lab: interrupted before anything was measured"
    assert list(ran.lab.folder.glob("run.json*")) == []
    assert ran.lab.leftovers() == []


def _run_saved(lab: LabProcess) -> Completed:
    return lab.run(
        "matrix", *ONE_CELL, "--json", str(lab.folder / "a.json"), "--save",
        str(lab.folder / "saved"),
    )  # fmt: skip


@side_by_side(_run_saved)
def test_save_adds_its_files_to_those_json_and_plot_name(ran: Ran) -> None:
    result: Completed = ran.outcome
    tmp_path = ran.lab.folder
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.json").exists()
    assert len(list((tmp_path / "saved").glob("lab-*.json"))) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", ""], "-p needs a plugin name, not ''"),
        (["-p", "no:"], "-p needs a plugin name, not 'no:'"),
        (["--tasks", "io", "--count", "abc"], "--count: cpu count must be a number, not 'abc'"),
        (["--tasks", "cpu", "--sleep", ""], "seconds must be a number, not ''"),
        (["--jobs", ""], "--jobs must be a whole number, not ''"),
        (["--warmups", "x"], "--warmups must be a whole number, not 'x'"),
    ],
)
def test_option_values_name_their_option(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["matrix", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and err.count("\n") == 1 and message in err, err
