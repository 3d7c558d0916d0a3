"""A task's own processes (the server its session starts) are measured apart from the runner's:
their CPU and memory are left out of the cell's and reported under the task's name for them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import LabProcess
from hypothesis import given
from hypothesis import strategies as st

from lab.machine.process_tree import clock_tick, tree_cpu
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.run.supervisor import peaks

#: A child that burns this much CPU, then waits to be ended.
BURN = 0.3
BURNER = f"""
import sys, time
while time.process_time() < {BURN}:
    pass
print("done", flush=True)
time.sleep(60)
"""

#: What adding the same counts in another order may change in the last digits of a float.
ROUNDING = 1e-9

PIDS = st.integers(min_value=1, max_value=8)
SAMPLES = st.lists(st.dictionaries(PIDS, st.integers(min_value=0, max_value=2**40)), max_size=20)


@given(SAMPLES, st.sets(PIDS))
def test_the_peaks_split_each_sample_between_the_cell_and_its_own_processes(
    samples: list[dict[int, int]], apart: set[int]
) -> None:
    ours, theirs = peaks(samples, apart)
    whole, none = peaks(samples)
    assert none is None and ours <= whole
    if not apart:
        assert theirs is None and ours == whole
        return
    assert theirs is not None and whole <= ours + theirs
    assert ours == max((sum(b for p, b in s.items() if p not in apart) for s in samples), default=0)


def test_cpu_of_processes_kept_apart_is_counted_on_its_own() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        # The child now sleeps: its CPU stays as it is while both are read. Read apart first:
        # every other count only grows, so the whole tree read next holds at least what the
        # first reading counted on both sides, with no allowance for how long anything took
        # (counting the child on both sides would need this process to burn 0.3 s between
        # the two readings).
        kept = tree_cpu(before=False, apart=[child.pid])
        mixed = tree_cpu(before=False)
        assert kept.apart >= BURN - 2 * clock_tick() and mixed.apart == 0
        assert kept.seconds + kept.apart <= mixed.seconds + ROUNDING
    finally:
        child.kill()
        child.wait(timeout=10)


@pytest.mark.parametrize("task", ["http", "files"])
def test_only_a_session_that_starts_processes_is_reported_apart(
    task: str, lab_process: LabProcess
) -> None:
    path = lab_process.folder / "run.json"
    result = lab_process.run(
        "matrix", "-q", "--fast", "--tasks", task, "--runners", "threads", "--workers", "2",
        "--jobs", "2", "--size", "http=0.01", "--size", "files=4096", "--json", str(path),
        timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    run = load(path)
    samples = [s for c in run.cells for s in c.samples]
    assert samples
    if task == "http":
        assert run.task("http").session_name == "server"
        # A Python process with uvicorn: well over a few MiB, whatever the machine.
        assert all(s.session_peak_memory and s.session_peak_memory > 4 * 2**20 for s in samples)
        assert all(s.session_cpu is not None and s.session_cpu >= 0 for s in samples)
        assert "server: its own process, kept out of the figures above" in result.stdout
        found = analyse(run).cells[0].figures
        assert found is not None and found.session_peak_memory is not None
    else:
        assert all(s.session_peak_memory is None and s.session_cpu is None for s in samples)
        assert "kept out of the figures above" not in result.stdout
    assert lab_process.leftovers() == []


def test_a_sessions_processes_are_those_it_started_but_the_resource_tracker() -> None:
    from multiprocessing import resource_tracker

    from lab.worker.main import session_processes

    resource_tracker.ensure_running()
    tracker = resource_tracker._resource_tracker._pid
    before = session_processes(set())
    assert tracker is not None and tracker not in before
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert session_processes(set(before)) == [child.pid]
    finally:
        child.kill()
        child.wait(timeout=10)
