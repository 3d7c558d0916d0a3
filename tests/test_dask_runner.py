"""The ``dask`` runner through ``lab matrix``: on the LocalCluster it starts, on a running
cluster, with a scheduler address that is wrong or that nobody answers, and with a worker that
dies; every process reaped, nothing left running. (The conformance kit and
``tests/test_runners.py`` check it like every built-in runner.) The labs of the fault tests
that need no running cluster run side by side (they measure nothing:
``conftest.side_by_side``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from conftest import (
    MARKER_ENV,
    LabProcess,
    Ran,
    finish_side_by_side,
    processes_marked,
    side_by_side,
)
from lab_test_plugins import ON_A_CLUSTER_ENV

from lab.results.analysis import CellAnalysis, analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab_plugins import dask_runner

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import Completed

HEALTHY = (Kind.OK, Kind.UNSTABLE)
#: Seconds a matrix run of these tests may take before the test kills it.
RUN_TIMEOUT = 120
#: Seconds the cluster's processes get to start and to go.
CLUSTER_TIMEOUT = 60
#: Reports how many workers the scheduler at argv[1] has, once it has argv[2] of them.
COUNT_WORKERS = """
import sys
from distributed import Client

client = Client(sys.argv[1], timeout=30, set_as_default=False)
client.wait_for_workers(int(sys.argv[2]), timeout=60)
print(len(client.scheduler_info(n_workers=-1)["workers"]))
client.close()
"""


def matrix(lab: LabProcess, *args: str, timeout: float = RUN_TIMEOUT) -> list[CellAnalysis]:
    """Run ``lab matrix`` quietly, and every cell of its JSON with its status."""
    path = lab.folder / "run.json"
    result = lab.run("matrix", "-q", "--json", str(path), *args, timeout=timeout)
    assert result.returncode in (0, 1), result.stderr
    return list(analyse(load(path)).cells)


def dask_cells(cells: list[CellAnalysis]) -> list[CellAnalysis]:
    found = [a for a in cells if a.cell.runner == "dask"]
    assert found
    return found


def assert_healthy(cells: list[CellAnalysis]) -> None:
    for analysed in cells:
        assert analysed.status.kind in HEALTHY, (analysed.cell.task, analysed.status)


def test_a_local_cluster_runs_every_task_and_leaves_nothing(lab_process: LabProcess) -> None:
    cells = matrix(
        lab_process,
        "--runners", "dask,processes", "--tasks", "cpu,io,echo", "--workers", "2x1", "--fast",
        "--jobs", "4", "--sleep", "0.05", "--count", "2000000",
    )  # fmt: skip
    ran = dask_cells(cells)
    assert {a.cell.task for a in ran} == {"cpu", "io", "echo"}
    assert_healthy(ran)
    for analysed in ran:  # the cluster's processes are the cell's: measured as its own
        assert analysed.figures is not None and not analysed.figures.outside_tree
    assert lab_process.leftovers() == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Cluster:
    """A scheduler and its workers, each in a session of its own, outside the lab's tree;
    their environment carries a marker of their own, to find whatever they leave, and
    ``ON_A_CLUSTER_ENV``, which makes the test plugins' ``*-on-a-cluster`` jobs run for ever
    there."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.marker = uuid.uuid4().hex
        self.env = {**env, MARKER_ENV: self.marker, ON_A_CLUSTER_ENV: "1"}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def start(self, *args: str) -> None:
        log = (self.folder / f"cluster-{len(self.processes)}.log").open("wb")
        with log:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=self.env,
                    start_new_session=True,
                )
            )

    def start_scheduler(self) -> None:
        scheduler_file = self.folder / "scheduler.json"
        self.start(
            "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
            "--no-dashboard", "--scheduler-file", str(scheduler_file),
        )  # fmt: skip
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not self.address:
            assert time.monotonic() < deadline, "the scheduler wrote no address"
            assert self.processes[0].poll() is None, "the scheduler exited"
            with contextlib.suppress(OSError, ValueError):
                self.address = json.loads(scheduler_file.read_text())["address"]
            time.sleep(0.05)

    def start_worker(self, threads: int) -> None:
        self.start(
            "-m", "distributed.cli.dask_worker", self.address, "--nthreads", str(threads),
            "--nworkers", "1", "--no-dashboard",
        )  # fmt: skip

    def workers(self, at_least: int) -> int:
        """How many workers the scheduler has, once it has ``at_least``."""
        found = subprocess.run(
            [sys.executable, "-c", COUNT_WORKERS, self.address, str(at_least)],
            capture_output=True,
            text=True,
            timeout=CLUSTER_TIMEOUT + 30,
            env=self.env,
        )
        assert found.returncode == 0, found.stderr
        return int(found.stdout)

    def kill(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def left(self) -> list[int]:
        """The cluster's processes still running a while after :meth:`kill`."""
        deadline = time.monotonic() + 10
        while (left := processes_marked(self.marker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for process in left:
            with contextlib.suppress(OSError):
                process.kill()
        return [p.pid for p in left]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A running cluster of a scheduler and two workers of one thread each, started once for
    the module's tests: none of them closes, adds or restarts a worker."""
    folder = tmp_path_factory.mktemp("cluster")
    running = Cluster(folder, LabProcess(folder / "lab").env())
    try:
        running.start_scheduler()
        for _ in range(2):
            running.start_worker(threads=1)
        assert running.workers(at_least=2) == 2
        yield running
    finally:
        running.kill()
    assert running.left() == []


def test_a_running_cluster_runs_the_jobs_and_outlives_the_lab(
    lab_process: LabProcess, cluster: Cluster
) -> None:
    cells = matrix(
        lab_process,
        "--runners", "dask", "--tasks", "cpu,io", "--workers", "2x1", "--fast", "--jobs", "4",
        "--sleep", "0.05", "--count", "500000", "--timeout", "60",
        "--runner-option", f"dask.scheduler={cluster.address}",
    )  # fmt: skip
    ran = dask_cells(cells)
    assert_healthy(ran)
    for analysed in ran:  # outside the lab's tree: its CPU and memory are not the jobs'
        assert analysed.figures is not None and analysed.figures.outside_tree
    assert lab_process.leftovers() == []
    assert cluster.workers(at_least=2) == 2  # the lab closed its client, not the cluster


def test_a_cluster_without_the_workers_asked_for_fails_to_start(
    lab_process: LabProcess, cluster: Cluster
) -> None:
    cells = matrix(
        lab_process,
        "--runners", "dask", "--tasks", "io", "--workers", "3x1", "--fast", "--jobs", "2",
        "--sleep", "0.01", "--runner-option", f"dask.scheduler={cluster.address}",
        "--runner-option", "dask.connect-timeout=1",
    )  # fmt: skip
    [analysed] = dask_cells(cells)
    assert analysed.status.kind is Kind.ERROR
    assert "has 2 workers of 1 thread; --workers 3x1 asks for 3 of 1 thread" in (
        analysed.status.detail
    )


def test_a_scheduler_address_that_is_no_address_is_a_usage_error(
    lab_process: LabProcess,
) -> None:
    result: Completed = lab_process.run(
        "matrix", "--runners", "dask", "--tasks", "io", "--fast",
        "--runner-option", "dask.scheduler=nonsense",
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "scheduler must be a Dask scheduler's address" in lines[0]
    assert "'nonsense'" in lines[0]
    assert lab_process.leftovers() == []


#: Why each of the cells whose scheduler nobody answers failed: nothing listens at one address;
#: at the other, a socket takes connections and never says a word (dask's Client would wait
#: for it for ever).
NOBODY_ANSWERS = {
    "refused": "OSError: Timed out trying to connect to tcp://127.0.0.1:",
    "silent": "took the connection but did not answer in 2 s",
}


def _ask_schedulers_nobody_answers(lab: LabProcess) -> dict[str, LabProcess]:
    """A lab for each of :data:`NOBODY_ANSWERS`, side by side."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        ports = {"refused": free_port(), "silent": silent.getsockname()[1]}
        labs = {name: LabProcess(lab.folder / name) for name in NOBODY_ANSWERS}
        runs = []
        for name, port in ports.items():
            process = labs[name].start(
                "matrix", "-q", "--json", str(labs[name].folder / "run.json"), "--runners",
                "dask", "--tasks", "io", "--workers", "1", "--fast", "--jobs", "1", "--sleep",
                "0.01", "--timeout", "20", "--runner-option",
                f"dask.scheduler=tcp://127.0.0.1:{port}", "--runner-option",
                "dask.connect-timeout=2",
            )  # fmt: skip
            runs.append((labs[name], process))
        for result in finish_side_by_side(runs, RUN_TIMEOUT):
            assert result.returncode == 1, result.stderr
        return labs


@side_by_side(_ask_schedulers_nobody_answers)
def test_a_scheduler_nobody_answers_is_an_error_cell_in_time(ran: Ran) -> None:
    """Both cells end as errors within the connect timeout (2 s here; 10 s unless
    ``dask.connect-timeout`` says), well within the cell's."""
    assert dask_runner.CONNECT_TIMEOUT == 10  # the default docs/faults.md gives
    labs = ran.outcome
    for name, lab in labs.items():
        [analysed] = dask_cells(list(analyse(load(lab.folder / "run.json")).cells))
        assert analysed.status.kind is Kind.ERROR, (name, analysed.status)
        assert "runner 'dask' (start method spawn) failed to start: " in analysed.status.detail
        assert NOBODY_ANSWERS[name] in analysed.status.detail, analysed.status.detail
        assert lab.leftovers() == []  # an error, not the cell's timeout: ended in time


def _kill_a_worker(lab: LabProcess) -> list[CellAnalysis]:
    return matrix(
        lab,
        "-p", "lab_test_plugins", "--runners", "dask", "--tasks", "sigkill", "--workers", "2x1",
        "--fast", "--jobs", "2", "--size", "sigkill=0.05", "--timeout", "60",
    )  # fmt: skip


@side_by_side(_kill_a_worker)
def test_a_worker_that_dies_is_an_error_cell_and_the_cluster_is_gone(ran: Ran) -> None:
    [analysed] = dask_cells(ran.outcome)
    assert analysed.status.kind is Kind.ERROR, analysed.status
    assert "KilledWorker" in analysed.status.detail
    assert ran.lab.leftovers() == []


#: Waits (up to argv[2] seconds) until the scheduler at argv[1] has no task and no worker runs
#: a task in one of its threads, then prints what was left as JSON: the tasks on the scheduler,
#: each worker's tasks that hold a thread (``executing``) and those it set aside (seceded), and
#: how many times the scheduler ever added and removed a worker.
IDLE = """
import json, sys, time
from distributed import Client

def threads(dask_worker):
    state = dask_worker.state
    return {"executing": len(state.executing), "set_aside": len(state.long_running)}

client = Client(sys.argv[1], timeout=30, set_as_default=False)
deadline = time.monotonic() + float(sys.argv[2])
while True:
    tasks = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
    processing = sum(len(keys) for keys in client.processing().values())
    workers = client.run(threads)
    idle = not tasks and not processing and not any(w["executing"] for w in workers.values())
    if idle or time.monotonic() > deadline:
        break
    time.sleep(0.1)
actions = [event.get("action") for _, event in client.get_events("all")]
added, removed = actions.count("add-worker"), actions.count("remove-worker")
print(json.dumps({"tasks": tasks, "processing": processing, "workers": workers,
                  "added": added, "removed": removed}))
client.close()
"""


def cluster_state(cluster: Cluster, wait: float) -> dict[str, Any]:
    """What the cluster runs, once it is idle or ``wait`` seconds have passed."""
    found = subprocess.run(
        [sys.executable, "-c", IDLE, cluster.address, str(wait)],
        capture_output=True,
        text=True,
        timeout=wait + CLUSTER_TIMEOUT,
        env=cluster.env,
    )
    assert found.returncode == 0, found.stderr
    state: dict[str, Any] = json.loads(found.stdout)
    return state


#: What the cell of each task says of its jobs on the cluster at its timeout.
FATES = {
    # a sleep Python cannot interrupt: cancelled, and its thread set aside
    "hang-on-a-cluster": "; 2 were still running on the cluster and could not be stopped",
    # a countdown far past the timeout: interrupted in its thread
    "countdown-on-a-cluster": (
        "the cluster cancelled the cell's 2 unfinished jobs and stopped those running"
    ),
}


def test_a_timed_out_cell_leaves_the_external_cluster_idle(
    lab_process: LabProcess, cluster: Cluster
) -> None:
    """Dask cells on a running cluster whose jobs run far past the timeout, a sleep's and a
    countdown's (for ever on the cluster, briefly on the baseline): at the timeout each cell's
    tasks are cancelled on the scheduler and its jobs stopped, or their threads set aside, and
    the cell says which; the next cell runs on idle workers (the countdown's after the
    sleep's, the io cell after both); the cluster keeps its two workers, neither closed nor
    restarted."""
    cells = matrix(
        lab_process,
        "-p", "lab_test_plugins", "--runners", "dask", "--tasks", ",".join([*FATES, "io"]),
        "--size", "hang-on-a-cluster=0.05", "--size", "countdown-on-a-cluster=100000",
        "--workers", "2x1", "--fast", "--jobs", "2", "--sleep", "0.1", "--timeout", "8",
        "--runner-option", f"dask.scheduler={cluster.address}",
    )  # fmt: skip
    on_dask = dask_cells(cells)
    assert [a.cell.task for a in on_dask] == [*FATES, "io"]  # one after another, in this order
    by_task = {a.cell.task: a.status for a in on_dask}
    for task, fate in FATES.items():
        assert by_task[task].kind is Kind.TIMEOUT, by_task
        assert fate in by_task[task].detail, by_task
    assert by_task["io"].kind in HEALTHY, by_task  # not timed out: the workers were idle
    state = cluster_state(cluster, wait=10)
    assert state["tasks"] == 0 and state["processing"] == 0, state
    assert [w["executing"] for w in state["workers"].values()] == [0, 0], state
    set_aside = sum(w["set_aside"] for w in state["workers"].values())
    assert set_aside == 2, state  # the sleeps' threads; the countdowns were stopped
    assert (state["added"], state["removed"]) == (2, 0), state  # no worker closed or restarted
    assert lab_process.leftovers() == []
