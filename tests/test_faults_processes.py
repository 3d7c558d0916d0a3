"""Faults of the processes a cell leaves and of the lab's own watcher (docs/faults.md): a daemon
that keeps changing its PID, the watcher's state in a shared temporary folder. Every lab runs in
its own session with an outer timeout, and nothing it started may outlive it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import LabProcess

from lab.run.reaping import Guard, remove_leftovers


def _hopping(lab_process: LabProcess) -> bool:
    """Whether a process of the test plugins' PID hopper still runs: one holds its lock."""
    with (lab_process.folder / "hopper.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def _wait_until_not_hopping(lab_process: LabProcess, timeout: float) -> bool:
    """Whether the hopper ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while _hopping(lab_process):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_daemon_that_keeps_changing_its_pid_ends_with_the_cell(
    lab_process: LabProcess,
) -> None:
    """It double-forks out of the cell about 1,000 times a second: the lab ends whichever PID
    it has when the cell ends."""
    try:
        result = lab_process.run(
            "matrix", "-p", "lab_test_plugins", "--tasks", "io", "--runners", "pid-hopper",
            "--sleep", "0.05", "--fast", "--jobs", "2", "--workers", "1",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert (lab_process.folder / "hopper-started").exists()
        assert _wait_until_not_hopping(lab_process, timeout=2), "the PID hopper survived the lab"
        assert lab_process.leftovers() == []
    finally:  # a hopper that escaped stops at this file; what is left is killed
        (lab_process.folder / "hopper-stop").touch()
        deadline = time.monotonic() + 10
        while (lab_process.leftovers() or _hopping(lab_process)) and time.monotonic() < deadline:
            time.sleep(0.05)


def test_the_watchers_state_is_never_written_through_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links planted in the temporary folder under every name the watcher's state had leave
    their target untouched; the state goes to a private folder, removed at the end."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    target = tmp_path / "someone-elses"
    target.write_text("KNOWN")
    links = [f"lab-guard-{os.getpid()}.{suffix}" for suffix in ("json", "tmp")]
    for name in links:
        (tmp_path / name).symlink_to(target)
    cell = subprocess.Popen(["sleep", "60"], start_new_session=True)
    guard = Guard()
    try:
        guard.start()
        guard.running(cell.pid, str(tmp_path / "cell"))
        guard.idle()
    finally:
        guard.stop()
        cell.kill()
        cell.wait(timeout=10)
    assert target.read_text() == "KNOWN"
    assert guard.watcher is not None and guard.watcher.poll() is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, *links])


def test_a_dead_labs_private_guard_folder_is_removed(tmp_path: Path) -> None:
    """A dead lab's guard folder goes; a link under a guard's name goes, its target stays."""
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    folder = tmp_path / f"lab-guard-{dead.pid}-k3j9x0"
    folder.mkdir()
    (folder / "state.json").write_text("{}")
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "file").write_text("KNOWN")
    old_style = tmp_path / f"lab-guard-{dead.pid}.tmp"
    old_style.symlink_to(kept / "file")
    linked = tmp_path / f"lab-guard-{dead.pid}-link"
    linked.symlink_to(kept)
    assert sorted(remove_leftovers(tmp_path)) == sorted([folder, old_style, linked])
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]
    assert (kept / "file").read_text() == "KNOWN"
