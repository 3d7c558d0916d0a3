"""The lab's own files in shared folders (docs/faults.md): nothing written through a link, no
earlier run's journal lost on a rerun, and results files that are not what they claim refused
in one line. Every lab runs in its own session with an outer timeout; the labs of the tests here
run side by side (they measure nothing: ``conftest.side_by_side``)."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from conftest import Completed, LabProcess, Ran, side_by_side
from lab_builders import cell, results

from lab.cli import main
from lab.results.journal import MOST_BYTES, load
from lab.results.model import SCHEMA_VERSION
from lab.runner import Layout

#: A run of one cell: these tests are about the files of a run, not its figures.
SMALL_IO = ["--tasks", "io", "--runners", "single", "--fast", "--sleep", "0.02", "--jobs", "2"]
SMALL_IO += ["-q"]
KNOWN = "someone else's file\n"


def _someone_elses(folder: Path) -> Path:
    target = folder / "theirs"
    target.write_text(KNOWN)
    return target


def _run_with_a_link_where_the_journal_goes(lab: LabProcess) -> Completed:
    (lab.folder / "l.json.partial").symlink_to(_someone_elses(lab.folder))
    return lab.run("matrix", *SMALL_IO, "--json", str(lab.folder / "l.json"))


@side_by_side(_run_with_a_link_where_the_journal_goes)
def test_a_journal_is_never_written_through_a_link(ran: Ran) -> None:
    """A link where the journal would go, as another user of a shared folder could plant."""
    result: Completed = ran.outcome
    tmp_path = ran.lab.folder
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "theirs").read_text() == KNOWN
    assert (tmp_path / "l.json.partial").is_symlink()
    assert f"this run journals to {tmp_path / 'l.json.2.partial'}" in result.stderr
    assert load(tmp_path / "l.json").complete is True
    assert not (tmp_path / "l.json.2.partial").exists()  # the run ended: its journal went
    assert ran.lab.leftovers() == []


def _run_with_links_at_the_lock(lab: LabProcess) -> tuple[Completed, str, Completed, str]:
    """A run with links beside the lock file, and one with the lock file a link: what each
    printed, and the links' target after it."""
    target = _someone_elses(lab.folder)
    for name in ("lab.lock.holder", "lab.lock.holder.tmp"):
        (lab.folder / name).symlink_to(target)
    beside = lab.run("matrix", *SMALL_IO)
    after_beside = target.read_text()
    lab.lock.unlink()
    lab.lock.symlink_to(target)
    at = lab.run("matrix", *SMALL_IO)
    return beside, after_beside, at, target.read_text()


@side_by_side(_run_with_links_at_the_lock)
def test_the_lock_is_never_written_through_a_link(ran: Ran) -> None:
    """Neither the lock file nor any file beside it is opened through a planted link."""
    beside, after_beside, at, after_at = ran.outcome
    assert beside.returncode == 0, beside.stderr
    assert after_beside == KNOWN
    assert at.returncode == 2
    assert at.stderr == (
        f"lab: error: LAB_LOCK={ran.lab.lock}: is a symbolic link; the lab opens its lock"
        " file only itself\n"
    )
    assert after_at == KNOWN


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        ("{tmp}", "is a folder; name a file"),
        ("{tmp}/loop", "is a symbolic link"),
        ("{tmp}/loop/x", "Too many levels of symbolic links"),
        ("/proc/x", "cannot create files in /proc"),
        ("/dev/null", "is not a regular file"),
        ("{tmp}/file/x", "{tmp}/file is not a folder"),
        ("/nonexistent-{unique}/x", "no folder /nonexistent-{unique}"),
    ],
)
def test_a_lab_lock_that_cannot_be_a_lock_file_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lock: str,
    message: str,
) -> None:
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "file").write_text("a file")
    unique = uuid.uuid4().hex[:8]
    lock = lock.format(tmp=tmp_path, unique=unique)
    monkeypatch.setenv("LAB_LOCK", lock)
    assert main(["matrix", *SMALL_IO]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lab: error: LAB_LOCK={lock}: ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp_path, unique=unique) in err
    assert not Path(f"/nonexistent-{unique}").exists()  # no folder made for the lock


def _rerun_a_killed_run(lab: LabProcess) -> tuple[bytes, Completed]:
    """What the killed run's journal held, and what the rerun printed."""
    path = lab.folder / "run.json"
    command = ["matrix", *SMALL_IO, "--repeat", "50", "--json", str(path)]
    first = lab.start(*command)
    journal = lab.folder / "run.json.partial"
    _wait_for(lambda: journal.exists() and journal.read_text().count('"sample"') >= 2)
    os.kill(first.pid, signal.SIGKILL)
    lab.finish(first, timeout=30)
    kept = journal.read_bytes()
    second = lab.start(*command)
    _wait_for((lab.folder / "run.json.2.partial").exists)
    second.send_signal(signal.SIGINT)
    return kept, lab.finish(second, timeout=30)


@side_by_side(_rerun_a_killed_run)
def test_a_rerun_keeps_the_journal_of_a_killed_run(ran: Ran) -> None:
    """A run killed outright leaves its journal; the same command run again and interrupted
    before it measured anything neither truncates nor removes it."""
    kept, result = ran.outcome
    journal = ran.lab.folder / "run.json.partial"
    assert result.returncode == 130, result.stderr
    assert (
        f"lab: {journal} is there already (an earlier run's journal) and is kept;" in result.stderr
    )
    assert journal.read_bytes() == kept
    assert load(journal).complete is False
    assert not (ran.lab.folder / "run.json.2.partial").exists()  # the second measured nothing
    assert ran.lab.leftovers() == []


def _wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the lab never got there"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("{tmp}/file/", "ends with a slash, so names a folder; name a file"),
        ("{tmp}/missing/", "ends with a slash, so names a folder; name a file"),
        ("{tmp}/" + "x" * 300, "File name too long"),
        ("{tmp}/" + "x" * 250, "the file's name is too long: at most"),
        ("{tmp}/loop", "a loop of symbolic links"),
        ("{tmp}/loop/x.json", "a loop of symbolic links"),
    ],
)
@pytest.mark.parametrize("command", ["matrix", "report", "compare"])
def test_an_output_path_that_cannot_be_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, path: str, message: str
) -> None:
    (tmp_path / "file").write_text("a file")
    (tmp_path / "loop").symlink_to("loop")
    saved = _saved_run(tmp_path)
    before = _listing(tmp_path)
    path = path.format(tmp=tmp_path)
    given = {
        "matrix": ["matrix", *SMALL_IO],
        "report": ["report", str(saved)],
        "compare": ["compare", str(saved), str(saved)],
    }[command]
    assert main([*given, "--json", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lab: error: --json {path}: ") and err.count("\n") == 1, err
    assert message in err
    assert _listing(tmp_path) == before  # nothing written or made


def _listing(folder: Path) -> dict[Path, tuple[int, int, int, int]]:
    return {
        p: (s.st_ino, s.st_mode, s.st_size, s.st_mtime_ns)
        for p in folder.iterdir()
        for s in [p.lstat()]
    }


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_a_folder_option_at_a_loop_of_links_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    (tmp_path / "loop").symlink_to("loop")
    assert main(["matrix", *SMALL_IO, option, str(tmp_path / "loop")]) == 2
    assert capsys.readouterr().err == (
        f"lab: error: {option} {tmp_path / 'loop'}: a loop of symbolic links\n"
    )


def _saved_text() -> str:
    """A small, valid results file: a baseline and threads on a CPU-bound task."""
    cells = [cell("single", Layout(), [0.1, 0.1]), cell("threads", Layout(threads=2), [0.1, 0.1])]
    return results(cells).to_json()


def _saved_run(folder: Path) -> Path:
    path = folder / "saved.json"
    path.write_text(_saved_text())
    return path


def _bad(tmp_path: Path, kind: str) -> Path:
    text = _saved_text()
    good = json.loads(text)
    path = tmp_path / f"{kind}.json"
    if kind == "nested":
        path.write_text("[" * 200_000)
    elif kind == "long number":
        version = f'"version": {SCHEMA_VERSION}'
        path.write_text(json.dumps(good).replace(version, '"version": ' + "9" * 5000, 1))
    elif kind in ("Infinity", "-Infinity", "NaN"):
        text = json.dumps(good["cells"][0]["samples"][0]["wall"])
        path.write_text(text.replace(text, kind, 1))
    elif kind == "overflow":  # read as an infinity
        wall = json.dumps(good["cells"][0]["samples"][0]["wall"])
        path.write_text(json.dumps(good).replace(f'"wall": {wall}', '"wall": 1e999', 1))
    elif kind == "too large":
        with path.open("w") as file:
            file.truncate(MOST_BYTES + 1)  # sparse: nothing is written
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("nested", "nested too deeply to be a results file"),
        ("long number", "a whole number of 5000 digits"),
        ("Infinity", "Infinity is not a figure a results file holds"),
        ("-Infinity", "-Infinity is not a figure a results file holds"),
        ("NaN", "NaN is not a figure a results file holds"),
        ("overflow", "cells[0].samples[0].wall is past the largest figure a results file holds"),
        ("too large", "past the 512 MiB a results file is read to; --allow-large reads it whole"),
    ],
)
def test_a_results_file_past_the_limits_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    path = _bad(tmp_path, kind)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lab: error: {path}") and err.count("\n") == 1, err
    assert message in err


def test_allow_large_reads_past_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "padded.json"
    path.write_text(_saved_text() + " " * 4096)
    with pytest.raises(Exception, match="past the 0 MiB"):
        load(path, most_bytes=4096)
    assert load(path, most_bytes=None).complete is True


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_only_a_regular_file_is_read_as_results(lab_process: LabProcess, kind: str) -> None:
    """A FIFO would block a reader forever, ``/dev/zero`` fill its memory: the lab runs under
    a memory limit and an outer timeout, so that today's code cannot harm the machine."""
    if kind == "fifo":
        path = lab_process.folder / "fifo"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    result = lab_process.run("report", str(path), timeout=20, prefix=["prlimit", "--as=4000000000"])
    assert result.returncode == 2
    assert result.stderr == f"lab: error: {path} is not a regular file\n"


def test_a_results_file_claiming_more_jobs_than_it_holds_is_one_line(
    lab_process: LabProcess,
) -> None:
    """A run whose records claim a trillion jobs in a few bytes, each column one value that
    every job shares: read as it says, the analysis would walk every job. The lab runs under a
    memory limit and an outer timeout, so that a regression fails here, not the machine."""
    data = json.loads(results([cell("single", Layout(), [0.1], jobs=1, kind="inline")]).to_json())
    jobs = 10**12
    data["cells"][0]["jobs"] = jobs
    data["cells"][0]["samples"][0]["records"]["jobs"] = jobs
    path = lab_process.folder / "trillion.json"
    path.write_text(json.dumps(data))
    result = lab_process.run("report", str(path), timeout=60, prefix=["prlimit", "--as=4000000000"])
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"lab: error: {path} is damaged: cell 0: records.start is one value for all"
        " 1,000,000,000,000 jobs: a run of 20,000 jobs or more has a start for each\n"
    )
