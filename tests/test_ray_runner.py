"""The ``ray`` runner: on a Ray cluster the cell starts and on a running one, every task, and
its faults (docs/faults.md): Ray missing, an address where nothing answers or that never lets
the driver join, a worker killed mid-cell, jobs whose data overfill the object store, a cell
that outlives its timeout on a running cluster. Each test's Ray processes carry its marker, so
that any left behind is found."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest
from conftest import MARKER_ENV, LabProcess, processes_marked
from lab_test_plugins import ON_A_CLUSTER_ENV
from test_dask_runner import free_port

from lab.plan.matrix import not_applicable
from lab.results.analysis import CellAnalysis, analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab_plugins import ray_runner

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.skipif(
    ray_runner.RayRunner().unavailable() is not None,
    reason=f"ray: {ray_runner.RayRunner().unavailable()}",
)

HEALTHY = (Kind.OK, Kind.UNSTABLE)
#: Seconds a lab run of these tests may take before the test kills it: a Ray cluster took
#: 12 to 25 s to start on a busy machine of 2 CPUs.
RUN_TIMEOUT = 300
#: Seconds ``ray start`` and the cluster's processes get to start and to go.
CLUSTER_TIMEOUT = 120


@pytest.fixture
def lab(lab_process: LabProcess) -> Iterator[LabProcess]:
    """A lab whose temporary folder is short, as Ray's socket paths must be (pytest's are
    too long for them)."""
    short = Path(tempfile.mkdtemp(prefix="r"))
    lab_process.tmp = short
    try:
        yield lab_process
    finally:
        shutil.rmtree(short, ignore_errors=True)


def matrix(lab: LabProcess, *args: str) -> list[CellAnalysis]:
    """Run ``lab matrix`` quietly, and every cell of its JSON with its status."""
    path = lab.folder / "run.json"
    result = lab.run("matrix", "-q", "--json", str(path), *args, timeout=RUN_TIMEOUT)
    assert result.returncode in (0, 1), result.stderr
    return list(analyse(load(path)).cells)


def ray_cells(cells: list[CellAnalysis]) -> list[CellAnalysis]:
    found = [a for a in cells if a.cell.runner == "ray"]
    assert found
    return found


def ray_processes_under(folder: Path) -> list[psutil.Process]:
    """Running processes of a Ray cluster whose temporary folder is in ``folder``."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE and str(folder) in " ".join(
                process.cmdline()
            ):
                found.append(process)
    return found


def test_a_cluster_the_cell_starts_runs_every_task_and_leaves_nothing(lab: LabProcess) -> None:
    cells = matrix(
        lab,
        "--runners", "ray", "--tasks", "cpu,io,echo", "--workers", "2", "--fast", "--jobs", "4",
        "--sleep", "0.05", "--count", "500000", "--timeout", "120",
    )  # fmt: skip
    ran = ray_cells(cells)
    assert {a.cell.task for a in ran} == {"cpu", "io", "echo"}
    for analysed in ran:  # the cluster's processes are the cell's: measured as its own
        assert analysed.status.kind in HEALTHY, (analysed.cell.task, analysed.status)
        assert analysed.figures is not None and not analysed.figures.outside_tree
    assert lab.leftovers() == []
    assert ray_processes_under(lab.tmp) == []  # raylet, GCS, workers: none outlived the cell


@pytest.mark.faults
def test_a_ray_cluster_that_cannot_start_is_an_error_cell_and_the_rest_runs(
    lab_process: LabProcess,
) -> None:
    """A temporary folder too long for Ray's socket paths: Ray cannot start there. The cell
    says why in one line, the process pool's cell still runs, and nothing is left."""
    long = Path(tempfile.mkdtemp(prefix="r" * 60))
    lab_process.tmp = long
    try:
        cells = matrix(
            lab_process, "--runners", "processes,ray", "--tasks", "cpu", "--workers", "2",
            "--fast", "--count", "200000",
        )  # fmt: skip
        (ray,) = ray_cells(cells)
        assert ray.status.kind is Kind.ERROR
        assert "too long for Ray's socket paths" in ray.status.detail
        assert "\n" not in ray.status.detail
        pool = [a for a in cells if a.cell.runner == "processes"]
        assert pool and all(a.status.kind in HEALTHY for a in pool)
        assert lab_process.leftovers() == []
        assert ray_processes_under(long) == []
    finally:
        shutil.rmtree(long, ignore_errors=True)


def test_a_users_own_function_runs_on_ray(lab: LabProcess) -> None:
    path = lab.folder / "run.json"
    work = Path(__file__).parent.parent / "examples" / "own-work" / "work.py"
    result = lab.run(
        "run", f"{work}:parse", "2000", "--runners", "ray", "--workers", "2", "--jobs", "4",
        "--repeat", "1", "-q", "--json", str(path), timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [analysed] = ray_cells(list(analyse(load(path)).cells))
    assert analysed.status.kind in HEALTHY, analysed.status
    assert lab.leftovers() == []


def test_ray_not_installed_is_not_applicable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without Ray (or on a free-threaded Python, which Ray has no wheel for) every ray cell
    is n/a, saying why; the lab itself never imports ray."""
    from lab.host.registry import load_catalog

    catalog = load_catalog()[0]
    runner, task = catalog.runners.get("ray"), catalog.tasks.get("io")
    real_find_spec = ray_runner.importlib.util.find_spec
    monkeypatch.setattr(
        ray_runner.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ray" else real_find_spec(name, *a),
    )
    assert not_applicable(task, runner, "") == (
        "ray is not installed (pip install 'concurrency-lab[ray]')"
    )
    monkeypatch.setattr(ray_runner, "_free_threaded", lambda: True)
    assert not_applicable(task, runner, "") == "Ray has no wheel for a free-threaded Python"


def test_an_address_that_is_no_address_is_a_usage_error(lab: LabProcess) -> None:
    result = lab.run(
        "matrix", "--runners", "ray", "--tasks", "io", "--fast",
        "--runner-option", "ray.address=nonsense",
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "address must be a running Ray cluster's address, HOST:PORT" in lines[0]
    assert lab.leftovers() == []


def test_a_ray_address_where_nothing_answers_is_an_error_cell_in_time(lab: LabProcess) -> None:
    """Nothing listens at the port: the cell is an error naming the address as soon as the
    connection is refused (within ``ray.connect-timeout``), well within the cell's timeout."""
    assert ray_runner.CONNECT_TIMEOUT == 10  # the default docs/faults.md gives
    port = free_port()
    started = time.monotonic()
    cells = matrix(
        lab,
        "--runners", "ray", "--tasks", "io", "--workers", "1", "--fast", "--jobs", "1",
        "--sleep", "0.01", "--timeout", "60", "--runner-option", f"ray.address=127.0.0.1:{port}",
        "--runner-option", "ray.connect-timeout=2",
    )  # fmt: skip
    [analysed] = ray_cells(cells)
    assert analysed.status.kind is Kind.ERROR, analysed.status
    assert f"nothing answers at 127.0.0.1:{port}" in analysed.status.detail
    assert "\n" not in analysed.status.detail
    assert time.monotonic() - started < 60  # an error, not the cell's timeout
    assert lab.leftovers() == []


def test_a_ray_worker_killed_mid_cell_is_an_error_cell_and_the_rest_runs(lab: LabProcess) -> None:
    """A job SIGKILLs its worker: Ray does not run it again (``max_retries=0``), the cell is
    an error saying the worker died, the next cell runs, and no Ray process is left."""
    cells = matrix(
        lab,
        "-p", "lab_test_plugins", "--runners", "ray", "--tasks", "sigkill,io", "--workers", "2",
        "--fast", "--jobs", "2", "--size", "sigkill=0.05", "--sleep", "0.05", "--timeout", "120",
    )  # fmt: skip
    by_task = {a.cell.task: a.status for a in ray_cells(cells)}
    assert by_task["sigkill"].kind is Kind.ERROR, by_task
    assert "WorkerCrashedError" in by_task["sigkill"].detail, by_task
    assert by_task["io"].kind in HEALTHY, by_task
    assert lab.leftovers() == []
    assert ray_processes_under(lab.tmp) == []


def test_wrong_ray_options_are_refused_before_anything_runs() -> None:
    runner = ray_runner.RayRunner()
    least = ray_runner.OBJECT_STORE_MINIMUM
    assert runner.check_options({"object-store": str(least)}) is None
    for text in ["", "80MB", "\uff11" + "0" * 8, "1_000_000_000", "-1", str(least - 1), "9" * 40]:
        problem = runner.check_options({"object-store": text})
        assert problem is not None and problem.startswith("object-store must be"), text
    problem = runner.check_options({"object-store": str(least), "address": "127.0.0.1:6379"})
    assert problem is not None and "not a running one" in problem
    assert runner.check_options({"connect-timeout": "2.5"}) is None
    for text in ["", "0", "-1", "inf", "nan", "soon"]:
        problem = runner.check_options({"connect-timeout": text})
        assert problem == f"connect-timeout must be a number of seconds above 0, not {text!r}"


#: Each echo job's argument and result: four of each overfill the smallest object store.
PAYLOAD = 50_000_000


def echo_on_a_small_store(lab: LabProcess) -> dict[str, CellAnalysis]:
    """Four echo jobs of ``PAYLOAD`` bytes on a cluster whose object store is the smallest Ray
    starts (75 MiB), then an io cell; by task."""
    cells = matrix(
        lab,
        "--runners", "ray", "--tasks", "echo,io", "--workers", "2", "--fast", "--jobs", "4",
        "--size", f"echo={PAYLOAD}", "--sleep", "0.05", "--timeout", "120",
        "--runner-option", f"ray.object-store={ray_runner.OBJECT_STORE_MINIMUM}",
    )  # fmt: skip
    return {a.cell.task: a for a in ray_cells(cells)}


def test_jobs_whose_data_overfill_the_object_store_are_spilled_and_the_cell_ends(
    lab: LabProcess,
) -> None:
    """400 MB of arguments and results through a 75 MiB object store: Ray spills what does
    not fit to its temporary folder (in the cell's) and the cell is right; the next cell
    runs, and neither a Ray process nor a spilled object outlives the cell."""
    by_task = echo_on_a_small_store(lab)
    for task in ("echo", "io"):
        assert by_task[task].status.kind in HEALTHY, (task, by_task[task].status)
    assert lab.leftovers() == []
    assert ray_processes_under(lab.tmp) == []
    assert list(lab.tmp.rglob("ray_spilled_objects*")) == []


def test_jobs_whose_data_fit_neither_the_object_store_nor_the_disk_are_an_error_cell(
    lab: LabProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above on a disk Ray counts as full (its threshold, 95% of the disk by default, set to
    0): it cannot spill, and the cell is an error saying why in one line; the next cell runs,
    and no Ray process is left."""
    monkeypatch.setenv("RAY_local_fs_capacity_threshold", "0")
    by_task = echo_on_a_small_store(lab)
    echo = by_task["echo"].status
    assert echo.kind is Kind.ERROR, echo
    assert "the Ray cluster could not store a job's argument or result: OutOfDiskError" in (
        echo.detail
    ), echo
    assert "\n" not in echo.detail and "\x1b" not in echo.detail, echo
    assert by_task["io"].status.kind in HEALTHY, by_task["io"].status
    assert lab.leftovers() == []
    assert ray_processes_under(lab.tmp) == []


@pytest.fixture
def silent() -> Iterator[str]:
    """An address on loopback that takes every connection and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                taken.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, name="silent-server", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in taken:
            connection.close()
        server.close()


def test_a_ray_address_that_never_lets_the_driver_join_is_an_error_cell(
    lab: LabProcess, silent: str
) -> None:
    """Something takes the connection but never answers: with ``ray.connect-timeout`` given,
    the driver's join is given as long, and the cell is an error naming the address, before
    the cell's timeout (below the 60 s join of the default); no traceback, nothing left."""
    assert ray_runner.JOIN_TIMEOUT == 60  # the default docs/faults.md gives
    path = lab.folder / "run.json"
    result = lab.run(
        "matrix", "-q", "--json", str(path), "--runners", "ray", "--tasks", "io",
        "--workers", "1", "--fast", "--jobs", "1", "--sleep", "0.01", "--timeout", "45",
        "--runner-option", f"ray.address={silent}", "--runner-option", "ray.connect-timeout=3",
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    [analysed] = ray_cells(list(analyse(load(path)).cells))
    assert analysed.status.kind is Kind.ERROR, analysed.status
    assert f"the Ray cluster at {silent} did not connect in 3 s" in analysed.status.detail
    assert "\n" not in analysed.status.detail
    assert lab.leftovers() == []


class Head:
    """``ray start --head`` on this machine, reached at 127.0.0.1, in a session of its own,
    outside the lab's tree; its processes carry a marker of their own, and
    ``ON_A_CLUSTER_ENV``, which makes the test plugins' ``*-on-a-cluster`` jobs run for ever
    there. Stopped by killing those processes, not by ``ray stop``, which would end every Ray
    cluster of the user on the machine (another test's)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.marker = uuid.uuid4().hex
        self.env = {
            **env, MARKER_ENV: self.marker, ON_A_CLUSTER_ENV: "1", "RAY_USAGE_STATS_ENABLED": "0"
        }  # fmt: skip
        self.temp = Path(tempfile.mkdtemp(prefix="rh-"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> None:
        ray = Path(sys.executable).parent / "ray"
        started = subprocess.run(
            [str(ray), "start", "--head", f"--port={self.port}",
             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
             f"--temp-dir={self.temp}"],
            capture_output=True, text=True, env=self.env, timeout=CLUSTER_TIMEOUT,
            start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr

    def running(self) -> list[str]:
        """The names of the head's processes that run."""
        return sorted(p.name() for p in processes_marked(self.marker))

    def running_jobs(self, wait: float) -> list[str]:
        """The command lines of the head's workers that run a job (``ray::run_job``), once none
        does or ``wait`` seconds have passed."""
        deadline = time.monotonic() + wait
        while True:
            found = []
            for process in processes_marked(self.marker):
                with contextlib.suppress(psutil.Error):
                    if "run_job" in (line := " ".join(process.cmdline())):
                        found.append(line)
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def stop(self) -> list[int]:
        """Kill the head's processes; those still running a while later."""
        deadline = time.monotonic() + 10
        while (left := processes_marked(self.marker)) and time.monotonic() < deadline:
            for process in left:
                with contextlib.suppress(psutil.Error):
                    process.send_signal(signal.SIGKILL)
            time.sleep(0.2)
        shutil.rmtree(self.temp, ignore_errors=True)
        return [p.pid for p in left]


@pytest.fixture
def head(lab: LabProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Head]:
    # Ray 2.60 guards a cluster with a token (~/.ray/auth_token): a driver that joins one
    # sends it only when told to, as the head is here and a user's shell would be.
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    running = Head(lab.env())
    try:
        running.start()
        yield running
    finally:
        left = running.stop()
    assert left == []


def test_a_running_ray_cluster_runs_the_jobs_and_outlives_the_lab(
    lab: LabProcess, head: Head
) -> None:
    before = head.running()
    assert "gcs_server" in before and "raylet" in before, before
    cells = matrix(
        lab,
        "--runners", "ray", "--tasks", "cpu,io", "--workers", "2", "--fast", "--jobs", "4",
        "--sleep", "0.05", "--count", "500000", "--timeout", "120",
        "--runner-option", f"ray.address={head.address}",
    )  # fmt: skip
    for analysed in ray_cells(cells):  # outside the lab's tree: its CPU and memory are not theirs
        assert analysed.status.kind in HEALTHY, (analysed.cell.task, analysed.status)
        assert analysed.figures is not None and analysed.figures.outside_tree
    assert lab.leftovers() == []
    after = head.running()
    assert "gcs_server" in after and "raylet" in after, after  # the cluster was left running


def test_a_cell_that_outlives_its_timeout_on_a_running_ray_cluster_cancels_its_jobs(
    lab: LabProcess, head: Head
) -> None:
    """Jobs that run for ever on the running cluster (briefly on the baseline): at the cell's
    timeout the lab lets the session abandon them, which cancels the unfinished tasks (ending
    the workers that run them), and the cell says so; the head runs on, and none of its
    workers still runs a job of the cell."""
    path = lab.folder / "run.json"
    result = lab.run(
        "matrix", "--json", str(path), "-p", "lab_test_plugins", "--runners", "ray",
        "--tasks", "hang-on-a-cluster", "--size", "hang-on-a-cluster=0.05", "--workers", "2",
        "--fast", "--jobs", "2", "--timeout", "60",
        "--runner-option", f"ray.address={head.address}",
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [analysed] = ray_cells(list(analyse(load(path)).cells))
    assert analysed.status.kind is Kind.TIMEOUT, analysed.status
    assert analysed.status.detail == (
        "60 s; cancelled the cell's 2 unfinished jobs on the Ray cluster (their workers were ended)"
    ), analysed.status
    assert "timeout after 60 s; cancelled the cell's 2 unfinished jobs" in result.stdout, (
        result.stdout
    )
    assert lab.leftovers() == []
    assert head.running_jobs(wait=30) == []
    after = head.running()
    assert "gcs_server" in after and "raylet" in after, after  # the cluster was left running
