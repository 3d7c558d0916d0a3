"""``ray``: jobs as Ray remote tasks, one task a job: on a Ray cluster of W worker processes
that the cell starts on this machine, or on a running cluster (``--runner-option
ray.address=HOST:PORT``).

A cluster the cell starts (``ray.init(num_cpus=W)``) keeps its files and sockets in the cell's
own folder, reports no usage statistics, and has every one of its W workers started, the jobs'
modules imported and the warm-up calls made before ``start`` returns; ``close`` shuts it down,
raylet, GCS and workers, and the lab kills whatever of its tree is left with the cell.
Its object store (``ray.object-store`` sizes it) spills to that folder when the jobs' data do
not fit; only a disk Ray counts as full makes a job's argument or result an error.

A running cluster is asked first whether anything answers at its address, within the connect
timeout, and then joined, within ``JOIN_TIMEOUT`` or the connect timeout when it is given; its
CPU and memory are not the cell's (``outside_tree``), and the cell leaves it as it found it:
the driver disconnects, and a cell ended before its jobs (its timeout, Ctrl-C) cancels them
(``RaySession.abandon``).

Each worker runs one task at a time, so W is processes (``--workers 2``), never ``PxT``: Ray
runs threads inside a worker only for an actor's methods, not for tasks.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import socket
import sysconfig
import tempfile
import threading
import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import psutil

from lab import PROCESSES, Job, JobRecord, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import START_TIMEOUT, check_picklable, prepare_worker, seconds_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

#: Seconds to wait, at start, for a running cluster to answer and connect the driver.
CONNECT_TIMEOUT = 10.0
#: Seconds the driver gets to join a cluster that answered, unless ``ray.connect-timeout`` is
#: given: ``ray.init(address=...)`` starts the driver's own core worker, which took over 10 s on
#: a busy machine of 2 CPUs.
JOIN_TIMEOUT = 60.0
#: The smallest object store Ray starts a cluster with (``OBJECT_STORE_MINIMUM_MEMORY_BYTES``).
OBJECT_STORE_MINIMUM = 75 * 1024 * 1024
#: Seconds to wait for the warm-up's barrier (an actor) to answer and, once ended, to go.
END_TIME = 10.0
#: Seconds ``abandon`` waits for the cluster to take the cancellation of the cell's tasks.
CANCEL_TIME = 4.0
#: The longest Unix socket path Ray accepts on Linux (``validate_socket_filepath``).
SOCKET_PATH_LIMIT = 107
#: What Ray adds to its temporary folder before a socket's name:
#: ``/session_2025-01-01_12-00-00_123456_1234567/sockets/plasma_store``.
SOCKET_SUFFIX = len("/session_2025-01-01_12-00-00_123456_1234567/sockets/plasma_store")
_ADDRESS = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


def address_problem(address: str) -> str | None:
    """Why ``address`` is not a Ray cluster's GCS address (``None`` when it is one)."""
    match = _ADDRESS.match(address)
    if match and 0 < int(match["port"]) < 2**16:
        return None
    return (
        "address must be a running Ray cluster's address, HOST:PORT (127.0.0.1:6379, say),"
        f" not {address!r}"
    )


def run_job(job: Job) -> JobRecord:
    """A Ray task: the job, called in the worker process Ray leased it to."""
    return job()


def _prepare(
    preload: tuple[str, ...], warm_up: tuple[Job, ...], barrier: Any, timeout: float
) -> int:
    """A Ray task, one per worker at start: import the jobs' modules, make the warm-up calls,
    then wait until every worker has, so that each of the W tasks holds a worker of its own.
    Returns the worker's pid."""
    import ray

    prepare_worker(preload, warm_up)
    ray.get(barrier.arrive.remote(os.getpid()))
    deadline = time.monotonic() + timeout
    while not ray.get(barrier.full.remote()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not every worker started within {timeout:g} s")
        time.sleep(0.01)
    return os.getpid()


class _Barrier:
    """A Ray actor that counts the workers which have prepared."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.pids: set[int] = set()

    def arrive(self, pid: int) -> int:
        self.pids.add(pid)
        return len(self.pids)

    def full(self) -> bool:
        return len(self.pids) >= self.parties

    def pid(self) -> int:
        return os.getpid()


def probe(address: str, timeout: float) -> None:
    """Raise ``ConnectionError`` naming ``address`` when nothing takes a connection there
    within ``timeout`` seconds."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except TimeoutError:
        raise ConnectionError(f"nothing answered at {address} within {timeout:g} s") from None
    except OSError as exc:
        raise ConnectionError(
            f"nothing answers at {address}: {exc.strerror or exc}"
            " (is a Ray head running there? ray start --head --port=PORT)"
        ) from None


def connect(address: str, timeout: float) -> None:
    """``ray.init(address=...)`` in a thread of its own, within ``timeout`` seconds: Ray retries
    a cluster that takes connections but does not answer for a minute."""
    import ray

    failures: list[BaseException] = []

    def init() -> None:
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                logging_level=logging.WARNING,
                include_dashboard=False,
            )
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=init, name="lab-ray-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the Ray cluster at {address} did not connect in {timeout:g} s")
    if failures:
        raise failures[0]


class RaySession:
    """A driver connected to a Ray cluster, which it started or found running."""

    def __init__(self, started: bool, window: int | None) -> None:
        #: A running cluster runs the jobs outside the lab's process tree: the host does not
        #: present the tree's CPU and memory as theirs.
        self.outside_tree = not started
        #: On a running cluster with more CPUs than W: at most this many jobs in flight.
        self.window = window
        self.refs: list[Any] = []

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        import ray

        if not jobs:
            return []
        check_picklable(jobs)
        try:
            records = self._submit_and_get(jobs)
        except (ray.exceptions.ObjectStoreFullError, ray.exceptions.OutOfDiskError) as exc:
            raise RuntimeError(store_full(exc)) from None
        self.refs = []
        return records

    def _submit_and_get(self, jobs: Sequence[Job]) -> list[JobRecord]:
        import ray

        remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
        if self.window is None:
            self.refs = [remote.remote(job) for job in jobs]
        else:  # W at once on a cluster that would run more
            self.refs = []
            running: list[Any] = []
            for job in jobs:
                while len(running) >= self.window:
                    running = ray.wait(running, num_returns=1)[1]
                self.refs.append(remote.remote(job))
                running.append(self.refs[-1])
        records: list[JobRecord] = ray.get(self.refs)
        return records

    def abandon(self) -> str | None:
        """The lab is ending the cell before its jobs (its timeout, Ctrl-C): on a running
        cluster, cancel the unfinished ones (ending the workers that run them, which Ray
        replaces). A cluster the cell started ends with the cell."""
        if not self.outside_tree or not self.refs:
            return None
        import ray

        unfinished = ray.wait(self.refs, num_returns=len(self.refs), timeout=0)[1]
        if not unfinished:
            return None
        done: list[bool] = []

        def cancel() -> None:
            for ref in unfinished:
                ray.cancel(ref, force=True)
            done.append(True)

        asking = threading.Thread(target=cancel, name="lab-ray-cancel", daemon=True)
        asking.start()
        asking.join(CANCEL_TIME)
        count = f"{len(unfinished)} unfinished job{'s' * (len(unfinished) != 1)}"
        if not done:
            return f"the Ray cluster did not take the cancellation of the cell's {count} in time"
        return f"cancelled the cell's {count} on the Ray cluster (their workers were ended)"

    def close(self) -> None:
        import ray

        ray.shutdown()


def store_full(exc: BaseException) -> str:
    """One line for a job's argument or result that Ray could not store: its object store was
    full and it could not spill to disk (``OutOfDiskError``), or spilling is off
    (``ObjectStoreFullError``). Ray's own message is a worker's traceback, in colour."""
    import ray

    if isinstance(exc, ray.exceptions.OutOfDiskError):
        why = (
            "OutOfDiskError: its object store was full and the disk it spills to (its temporary"
            " folder's) is fuller than Ray allows (95% by default)"
        )
    else:
        why = (
            "ObjectStoreFullError: its object store was full of objects still in use and it"
            " could not spill them to disk"
        )
    return f"the Ray cluster could not store a job's argument or result: {why}"


def _free_threaded() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


class RayRunner(Runner):
    name = "ray"
    kind = PROCESSES
    #: Where a job runs relative to the others: not declared. A Ray worker may be on another
    #: machine, and Ray pickles the jobs' arguments itself: no shared state of the lab's (a
    #: manager's proxy, shared memory by name) is sure to reach it, so tasks whose jobs share
    #: state are n/a here.
    isolation = None
    description = (
        "Ray remote tasks, one a job: on a Ray cluster of W worker processes the cell starts,"
        " or on a running one (ray.address)"
    )
    # Every job goes through the raylet and back, as dask's through its scheduler.
    sweep_limit = 1000
    #: Its workers may be other machines': the verdict sets its costs beside a process pool's.
    distributed = True
    #: Each job is a task the driver submits and the raylet schedules: 1,000 countdowns of
    #: 10,000 on 2 workers cost the process tree 1.5 ms of CPU a job beyond the jobs' own, 0.8 ms
    #: of it in the worker's own thread (2 CPUs, 2026), against 0.3 ms for a process pool's.
    bookkeeping_cpu = 0.005
    option_help = MappingProxyType(
        {
            "address": "a running Ray cluster's address (HOST:PORT, as `ray start --head"
            " --port=PORT` prints) to use instead of starting one; it needs at least W CPUs",
            "connect-timeout": f"seconds to wait for a running cluster to answer at start, and"
            f" then for the driver to join it (default {CONNECT_TIMEOUT:g} to answer and"
            f" {JOIN_TIMEOUT:g} to join: a join took over 10 s on a busy machine)",
            "object-store": "bytes of memory for the object store of the cluster the cell starts"
            f" (at least {OBJECT_STORE_MINIMUM}, Ray's minimum of 75 MiB; default: Ray's, 30% of"
            " the memory available), beyond which Ray spills the jobs' arguments and results to"
            " disk in the cell's folder",
        }
    )

    def check_options(self, options: Mapping[str, str]) -> str | None:
        if "address" in options and (problem := address_problem(options["address"])):
            return problem
        if problem := seconds_problem(options, "connect-timeout"):
            return problem
        if "object-store" in options:
            text = options["object-store"]
            if "address" in options:
                return (
                    "object-store sizes the cluster the cell starts, not a running one"
                    " (ray start --object-store-memory=BYTES sets that)"
                )
            if not (text.isascii() and text.isdigit() and len(text) <= 18) or (
                int(text) < OBJECT_STORE_MINIMUM
            ):
                return (
                    f"object-store must be a number of bytes, at least {OBJECT_STORE_MINIMUM}"
                    f" (Ray's minimum), not {text!r}"
                )
        return None

    def unavailable(self) -> str | None:
        if _free_threaded():
            return "Ray has no wheel for a free-threaded Python"
        if importlib.util.find_spec("ray") is None:
            return "ray is not installed (pip install 'concurrency-lab[ray]')"
        return None

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.total)

    def start(self, layout: Layout, context: RunContext) -> RaySession:
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # the cell's own process: nothing reported
        timeout = float(context.options.get("connect-timeout", CONNECT_TIMEOUT))
        address = context.options.get("address")
        if address is not None:
            probe(address, timeout)
        else:
            temp_dir = _temp_dir(context)
        import ray

        if address is None:
            ray.init(
                num_cpus=layout.processes,
                num_gpus=0,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                _temp_dir=temp_dir,
                object_store_memory=_object_store(context),
            )
        else:
            join = timeout if "connect-timeout" in context.options else JOIN_TIMEOUT
            connect(address, join)
        try:
            window = None
            if address is not None:
                cpus = int(ray.cluster_resources().get("CPU", 0))  # type: ignore[no-untyped-call]
                if cpus < layout.processes:
                    raise RuntimeError(
                        f"the Ray cluster at {address} has {cpus} CPU{'s' * (cpus != 1)};"
                        f" --workers {layout.processes} asks for {layout.processes}"
                    )
                window = layout.processes if cpus > layout.processes else None
            _warm_up(layout.processes, context, local=address is None)
        except BaseException:
            ray.shutdown()
            raise
        return RaySession(started=address is None, window=window)


def _object_store(context: RunContext) -> int | None:
    """The object store's size ``ray.object-store`` gives, or ``None`` (Ray's default)."""
    text = context.options.get("object-store")
    return None if text is None else int(text)


def _temp_dir(context: RunContext) -> str:
    """Ray's temporary folder, in the cell's own: short enough for Ray's socket paths."""
    base = context.folder or tempfile.gettempdir()
    path = os.path.join(base, "r")
    if len(path.encode()) + SOCKET_SUFFIX > SOCKET_PATH_LIMIT:
        raise RuntimeError(
            f"the cell's folder {base} is too long for Ray's socket paths"
            f" ({SOCKET_PATH_LIMIT} bytes with {SOCKET_SUFFIX} of Ray's own):"
            " set TMPDIR to a shorter folder"
        )
    os.makedirs(path, exist_ok=True)
    return path


def _warm_up(processes: int, context: RunContext, local: bool) -> None:
    """Start W workers, each holding one CPU until all have prepared: every worker the jobs
    will run on has imported their modules and made the warm-up calls. The barrier, an actor,
    is ended before the run (on a cluster of the cell's own, its process gone): a process of
    the lab's would otherwise count as Ray's own in the run's memory."""
    import ray

    barrier: Any = ray.remote(num_cpus=0)(_Barrier).remote(processes)
    try:
        prepare = ray.remote(num_cpus=1, max_retries=0)(_prepare)
        initargs = context.worker_initargs
        pids = ray.get(
            [prepare.remote(*initargs, barrier, START_TIMEOUT) for _ in range(processes)]
        )
        if len(set(pids)) != processes:
            raise RuntimeError(f"{processes} workers were asked for, {len(set(pids))} started")
        pid = ray.get(barrier.pid.remote(), timeout=END_TIME) if local else None
    finally:
        ray.kill(barrier)
    if pid is not None:
        with contextlib.suppress(psutil.Error):  # gone already
            psutil.wait_procs([psutil.Process(pid)], timeout=END_TIME)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(RayRunner())
