"""``lab matrix`` end to end in a subprocess, on tiny sizes, faults included; the labs of the
fault tests run side by side (they measure nothing: ``conftest.side_by_side``)."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
from conftest import (
    Completed,
    LabProcess,
    Ran,
    finish_side_by_side,
    processes_marked,
    side_by_side,
)

from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import Kind

TINY = ["--count", "20000", "--sleep", "0.05", "--fast", "--jobs", "2", "--workers", "2"]


def rows(out: str) -> dict[tuple[str, str], str]:
    """(task, runner) -> each table row as printed, with its status in full: a status that
    did not fit is its kind and a numbered note below the table, and the cells that do not
    apply are one ``n/a on RUNNERS: why`` line."""
    found: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], str] = {}
    task, last = "", None
    for line in out.splitlines():
        if line.startswith("  ") and last is not None:  # a wrapped note, continued
            notes[last] += " " + line.strip()
            continue
        last = None
        if match := re.match(r"^(\w[\w-]*): ", line):
            task = match[1]
        elif match := re.match(r"^n/a on ([\w, -]+): (.*)$", line):
            for runner in match[1].split(", "):
                found[(task, runner)] = f"{runner} n/a: {match[2]}"
        elif match := re.match(r"^(\[\d+\]) \S+ \S+: (.*)$", line):
            last = (task, match[1])
            notes[last] = match[2]
        else:
            parts = line.split()
            if task and len(parts) > 3 and re.fullmatch(r"\d+(x\d+)?", parts[1]):
                found[(task, parts[0])] = line
    for (task, runner), line in found.items():
        if (marker := re.search(r"\w+ (\[\d+\])$", line)) and (task, marker[1]) in notes:
            found[(task, runner)] = line[: marker.start()] + notes[(task, marker[1])]
    return found


def healthy(line: str) -> bool:
    """A row measured without fault (tiny jobs are flagged as too short to time well)."""
    return line.endswith(" ok") or "unstable: " in line


def test_a_tiny_matrix_prints_both_tables(lab_process: LabProcess) -> None:
    result = lab_process.run("matrix", *TINY, "--runners", "threads,processes,asyncio")
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {
        (task, runner)
        for task in ("cpu", "io", "echo")
        for runner in ("single", "threads", "processes", "asyncio")
    }
    assert table[("cpu", "asyncio")].endswith("n/a: CPU-bound work blocks the event loop")
    assert table[("echo", "asyncio")].endswith("nothing to send")
    not_applicable = {("cpu", "asyncio"), ("echo", "asyncio")}
    assert all(healthy(table[key]) for key in table if key not in not_applicable)
    assert "one echo job of 1.0 MiB" in result.stdout
    assert "GIL on" in result.stdout and "usable CPUs" in result.stdout
    assert (
        "cpu: count 20,000 · io: seconds 0.05 s · echo: bytes 1,048,576 · 2 jobs a cell"
        in result.stdout
    )
    assert lab_process.leftovers() == []


def test_the_countdown_is_calibrated_when_no_count_is_given(lab_process: LabProcess) -> None:
    result = lab_process.run(
        "matrix",
        "--tasks",
        "cpu",
        "--runners",
        "single",
        "--job-time",
        "0.02",
        "--fast",
        "--jobs",
        "1",
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"cpu: count ([\d,]+) \(calibrated to 0.02 s a job\)", result.stdout)
    assert match and int(match[1].replace(",", "")) >= 1  # a count was calibrated


def test_trace_prints_the_classic_lines(lab_process: LabProcess) -> None:
    result = lab_process.run("matrix", *TINY, "--runners", "processes", "--trace")
    assert result.returncode == 0, result.stderr
    line = r"^\d+ \* [\w-]+ \* [\w-]+ ---> {} ---> at \d\d:\d\d:\d\d\.\d\d\d$"
    lines = result.stdout.splitlines()
    for words, count in [
        ("Start counting...", 4),  # single and processes, 2 jobs each
        ("Finished counting...", 4),
        ("Start sleeping.....", 4),
        ("Finished sleeping...", 4),
    ]:
        pattern = re.compile(line.format(re.escape(words)))
        assert sum(bool(pattern.match(x)) for x in lines) == count, result.stdout
    assert any(" * SpawnProcess-" in x for x in lines)
    assert any(" * MainProcess * MainThread ---> " in x for x in lines)


#: The timeout of runs that hang on purpose, and of runs that must not time out on a busy machine.
HANG_TIMEOUT = "2"
PATIENT_TIMEOUT = "60"
HEALTHY = (Kind.OK, Kind.UNSTABLE)
SPAWN_FAILED = "runner 'processes' (start method spawn) failed: "

#: Groups of faults, each one ``lab matrix`` run: its arguments, its timeout, and each cell's
#: status as (kind, the start of its detail); ``HEALTHY`` for a cell measured without fault.
FAULT_RUNS: list[
    tuple[list[str], str, dict[tuple[str, str], tuple[Kind, str] | tuple[Kind, ...]]]
] = [
    (
        ["--tasks", "hang", "--runners", "threads,processes,threads-in-processes"],
        HANG_TIMEOUT,
        {
            ("hang", runner): (Kind.TIMEOUT, "2 s")
            for runner in ("single", "threads", "processes", "threads-in-processes")
        },
    ),
    (
        ["--tasks", "spin", "--runners", "threads"],
        HANG_TIMEOUT,
        {("spin", "single"): (Kind.TIMEOUT, "2 s"), ("spin", "threads"): (Kind.TIMEOUT, "2 s")},
    ),
    (
        [
            "--tasks",
            "boom,exit,hard-exit,sigkill,unpicklable,unpicklable-result",
            "--runners",
            "threads,processes",
        ],
        PATIENT_TIMEOUT,
        {
            ("boom", "processes"): (
                Kind.ERROR,
                "job 0 failed: ZeroDivisionError: the job divided by zero",
            ),
            ("exit", "single"): (Kind.ERROR, "job 0 failed: SystemExit: 3"),
            ("exit", "threads"): (Kind.ERROR, "job 0 failed: SystemExit: 3"),
            ("exit", "processes"): (Kind.ERROR, "job 0 failed: SystemExit: 3"),
            ("hard-exit", "single"): (Kind.CRASHED, "the worker exited with code 7"),
            ("hard-exit", "processes"): (Kind.ERROR, f"{SPAWN_FAILED}BrokenProcessPool"),
            ("sigkill", "single"): (Kind.CRASHED, "killed by SIGKILL"),
            ("sigkill", "processes"): (Kind.ERROR, f"{SPAWN_FAILED}BrokenProcessPool"),
            ("unpicklable", "processes"): (
                Kind.ERROR,
                f"{SPAWN_FAILED}PicklingError: Can't pickle <function <lambda>",
            ),
            ("unpicklable", "threads"): HEALTHY,
            ("unpicklable-result", "processes"): (
                Kind.ERROR,
                f"{SPAWN_FAILED}TypeError: cannot pickle '_thread.lock' object",
            ),
            ("unpicklable-result", "threads"): HEALTHY,  # nothing to pickle; the file keeps a repr
        },
    ),
    (
        [
            "--tasks",
            "io",
            "--runners",
            "skip-last,first-twice,raiser,exiter,garbage,leaker,threads,processes",
        ],
        PATIENT_TIMEOUT,
        {
            ("io", "skip-last"): (Kind.ERROR, "job 1 never ran"),
            ("io", "first-twice"): (Kind.ERROR, "job 0 ran 2 times"),
            ("io", "raiser"): (
                Kind.ERROR,
                "runner 'raiser' (start method spawn) failed: RuntimeError: the runner broke",
            ),
            ("io", "exiter"): (
                Kind.ERROR,
                "runner 'exiter' (start method spawn) failed: SystemExit: 5",
            ),
            ("io", "garbage"): (Kind.ERROR, "the runner returned str, not a list of job records"),
            ("io", "leaker"): HEALTHY,
            ("io", "threads"): HEALTHY,
            ("io", "processes"): HEALTHY,
        },
    ),
]


def _run_the_fault_groups(lab: LabProcess) -> list[tuple[LabProcess, Completed]]:
    """Each group of :data:`FAULT_RUNS` in a lab of its own, the groups side by side."""
    common = ["-p", "lab_test_plugins", "--fast", "--jobs", "2"]
    common += ["--workers", "2", "--sleep", "0.05", "--size", "sigkill=0.05"]
    labs = [LabProcess(lab.folder / str(i)) for i in range(len(FAULT_RUNS))]
    processes = [
        group.start(
            "matrix", *common, *args, "--timeout", timeout, "--json", str(group.folder / "r.json")
        )
        for group, (args, timeout, _) in zip(labs, FAULT_RUNS, strict=True)
    ]
    results = finish_side_by_side(list(zip(labs, processes, strict=True)), timeout=180)
    return list(zip(labs, results, strict=True))


@side_by_side(_run_the_fault_groups)
def test_faults_become_marked_cells_and_the_rest_runs(ran: Ran) -> None:
    """Each fault marks its own cell, the other cells still run, the exit code is 1, nothing
    is left running."""
    groups: list[tuple[LabProcess, Completed]] = ran.outcome
    for (lab, result), (args, _, expected) in zip(groups, FAULT_RUNS, strict=True):
        found_cells = analyse(load(lab.folder / "r.json")).cells
        statuses = {(a.cell.task, a.cell.runner): a.status for a in found_cells}
        for key, wanted in expected.items():
            found = statuses[key]
            if wanted is HEALTHY:
                assert found.kind in HEALTHY, (args, key, found)
            else:
                kind, detail = wanted
                assert found.kind is kind and found.detail.startswith(str(detail)), (
                    args,
                    key,
                    found,
                )
            assert str(found) in rows(result.stdout)[key], (args, key, result.stdout)
        failing = any(wanted is not HEALTHY for wanted in expected.values())
        assert result.returncode == (1 if failing else 0), (args, result.stderr)
        assert "Traceback" not in result.stderr
    for lab, _ in groups:
        assert lab.leftovers() == []


def _interrupt_a_hung_cell(lab: LabProcess) -> Completed:
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "io,hang", "--runners", "threads",
        "--timeout", "60", "--fast", "--jobs", "2", "--workers", "2", "--sleep", "0.05",
    )  # fmt: skip
    lab.wait_until_hanging()
    process.send_signal(signal.SIGINT)
    return lab.finish(process, timeout=30)


@side_by_side(_interrupt_a_hung_cell)
def test_ctrl_c_keeps_what_was_measured_and_exits_130(ran: Ran) -> None:
    result: Completed = ran.outcome
    assert result.returncode == 130
    table = rows(result.stdout)
    assert healthy(table[("io", "threads")])
    assert "interrupted" in result.stderr
    assert ran.lab.leftovers() == []


def _run_a_daemonizer(lab: LabProcess) -> Completed:
    return lab.run(
        "matrix", "-p", "lab_test_plugins", "--tasks", "io", "--runners", "daemonizer",
        "--sleep", "0.05", "--fast", "--jobs", "2", "--workers", "1",
    )  # fmt: skip


@side_by_side(_run_a_daemonizer)
def test_a_daemon_that_double_forked_out_of_a_cell_ends_with_it(ran: Ran) -> None:
    result: Completed = ran.outcome
    assert result.returncode == 0, result.stderr
    assert ran.lab.leftovers() == []


def _kill_a_lab_while_a_job_holds_the_gil(lab: LabProcess) -> tuple[set[int], list[int], list[str]]:
    """The cell's processes, and what was left of them and of its files 5 s after the lab was
    killed (sooner once nothing is)."""
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "spin-forever", "--runners", "single",
        "--timeout", "600", "--fast", "--jobs", "1",
    )  # fmt: skip
    lab.wait_until_hanging()
    cells = {p.pid for p in processes_marked(lab.marker)} - {process.pid}
    process.kill()
    lab.finish(process, timeout=30)
    deadline = time.monotonic() + 5
    while (processes_marked(lab.marker) or lab.left_files()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return cells, [p.pid for p in processes_marked(lab.marker)], lab.left_files()


@side_by_side(_kill_a_lab_while_a_job_holds_the_gil)
def test_a_lab_killed_while_a_job_holds_the_gil_leaves_nothing(ran: Ran) -> None:
    """The job's C loop keeps the worker's own watch thread from running: the lab's watcher
    process ends the cell, and removes its temporary folder."""
    cells, left, files = ran.outcome
    assert cells and left == []
    assert files == []


def _terminate_a_hung_cell(lab: LabProcess) -> Completed:
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "io,hang", "--runners", "threads",
        "--timeout", "60", "--fast", "--jobs", "2", "--workers", "2", "--sleep", "0.05",
        "--json", str(lab.folder / "run.json"),
    )  # fmt: skip
    lab.wait_until_hanging()
    process.send_signal(signal.SIGTERM)
    return lab.finish(process, timeout=30)


@side_by_side(_terminate_a_hung_cell)
def test_sigterm_is_handled_like_ctrl_c_and_exits_143(ran: Ran) -> None:
    result: Completed = ran.outcome
    path = ran.lab.folder / "run.json"
    assert result.returncode == 143, result.stderr
    assert healthy(rows(result.stdout)[("io", "threads")])
    assert "Traceback" not in result.stderr
    saved = load(path)
    assert saved.complete is False
    assert not path.with_name("run.json.partial").exists()
    assert ran.lab.leftovers() == []
    assert ran.lab.left_files() == []


def _interrupt_the_calibration(lab: LabProcess) -> Completed:
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "hang-calibrating", "--runners",
        "single", "--timeout", "60", "--fast", "--json", str(lab.folder / "run.json"),
    )  # fmt: skip
    lab.wait_until_hanging()
    process.send_signal(signal.SIGINT)
    return lab.finish(process, timeout=30)


@side_by_side(_interrupt_the_calibration)
def test_ctrl_c_during_calibration_is_one_line_and_leaves_no_file(ran: Ran) -> None:
    result: Completed = ran.outcome
    assert result.returncode == 130
    assert result.stderr.splitlines()[-1] == "lab: interrupted before anything was measured"
    assert "Traceback" not in result.stderr
    assert list(ran.lab.folder.glob("run.json*")) == []
    assert ran.lab.leftovers() == []


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "fork"])
def test_every_start_method_runs_processes(lab_process: LabProcess, start_method: str) -> None:
    result = lab_process.run(
        "matrix",
        *TINY,
        "--tasks",
        "cpu",
        "--runners",
        "processes,threads-in-processes",
        "--start-method",
        start_method,
    )
    assert result.returncode == 0, result.stderr
    assert f"start method {start_method}" in result.stdout


def _kill_a_lab_whose_workers_hang(lab: LabProcess) -> list[int]:
    """What was left of the cell's processes 10 s after the lab was killed (sooner once
    nothing is)."""
    process = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "hang", "--runners", "processes",
        "--timeout", "60", "--fast", "--jobs", "2", "--workers", "2",
    )  # fmt: skip
    try:
        lab.wait_until_hanging()
        process.kill()  # the lab alone, as the OOM killer would
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and processes_marked(lab.marker):
            time.sleep(0.1)
        return [p.pid for p in processes_marked(lab.marker)]
    finally:
        lab.finish(process, timeout=10)
        lab.leftovers()


@side_by_side(_kill_a_lab_whose_workers_hang)
def test_workers_exit_when_the_lab_is_killed(ran: Ran) -> None:
    assert ran.outcome == []


def test_blocked_plugins_stay_blocked_in_the_workers(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    """A plugin replaces the built-in ``threads``: were the block not passed to the cells'
    workers, the two ``threads`` runners would clash there and the cell would fail."""
    result = lab_process.run(
        "matrix", *TINY, "--tasks", "io", "--runners", "threads", "-p", "no:threads",
        "-p", "lab_shadow_threads", "--json", str(tmp_path / "run.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(rows(result.stdout)) == {("io", "single"), ("io", "threads")}
    threads = next(c for c in load(tmp_path / "run.json").cells if c.runner == "threads")
    assert {r.thread.split("_")[0] for s in threads.samples for r in s.records} == {"Shadow"}


def _run_a_second_matrix_beside_one(lab: LabProcess) -> tuple[int, Completed, int]:
    """The first lab's PID, what the second printed, and how a third run ended once the first
    was gone."""
    first = lab.start(
        "matrix", "-p", "lab_test_plugins", "--tasks", "hang", "--runners", "single",
        "--timeout", "60", "--fast", "--jobs", "1",
    )  # fmt: skip
    try:
        lab.wait_until_hanging()
        second = LabProcess(lab.folder / "second", lock=lab.lock)
        result = second.run("matrix", *TINY, timeout=60)
    finally:
        first.send_signal(signal.SIGINT)
        lab.finish(first, timeout=30)
    third = lab.run("matrix", *TINY, "--tasks", "io", "--runners", "single")
    return first.pid, result, third.returncode


@side_by_side(_run_a_second_matrix_beside_one)
def test_a_second_matrix_is_refused_while_one_runs(ran: Ran) -> None:
    first, result, third = ran.outcome
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("lab: error: another lab is measuring on this machine (pid ")
    assert f"pid {first} since " in line
    assert "lab matrix -p lab_test_plugins --tasks hang" in line
    assert third == 0
