"""``dask``: jobs through a Dask ``Client``: on a ``LocalCluster`` of P worker processes x T
threads that the runner starts, or on a running cluster (``--runner-option dask.scheduler=``).

A plain ``--workers N`` means N processes of 1 thread. Every job is a task of its own
(``client.map``), so a cell shows what dask's scheduling costs a job next to a plain process
pool.

A cell that ends before its jobs do (its timeout, Ctrl-C, an error) must leave a running cluster
as it found it, though the cell's process is killed with its client. Its tasks are cancelled
on the scheduler: by the cell as the lab ends it (``DaskSession.abandon``), or by the scheduler
itself when the client is gone. A worker cannot stop a task that runs in one of its threads,
so each worker that runs the lab's jobs watches them (``_JobThreads``): a job whose task was
cancelled is interrupted (an exception raised in its thread, which stops Python code at once);
one still running after ``SET_ASIDE_AFTER`` (a sleep, a C call: nothing interrupts those) has
its thread set aside as ``distributed.secede`` does, so the worker takes other tasks while it
runs on; the job ends when the call returns. A C loop that holds the GIL stops its whole
worker, event loop and all, until it returns: the cell then says that the cluster did not
confirm. The workers are neither closed nor restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lab import (
    PROCESSES_THREADS,
    Job,
    JobRecord,
    Layout,
    RunContext,
    Runner,
    Workers,
    describe_exception,
    hookimpl,
)
from lab.pools import check_picklable, import_modules, prepare_worker, seconds_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from distributed import Client, Future, LocalCluster, Worker

#: Threads per worker process when the workers are written as a plain number.
DEFAULT_THREADS = 1
#: Seconds to wait for a scheduler to answer and for its workers to be there, at start.
CONNECT_TIMEOUT = 10.0
#: Seconds past the connect timeout that a probe waits for a connected scheduler to answer.
HANDSHAKE_SLACK = 1.0
#: Seconds ``close`` gives the client and a started cluster to shut down.
CLOSE_TIMEOUT = 10.0
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$"
)


def scheduler_problem(address: str) -> str | None:
    """Why ``address`` is not a scheduler's address (``None`` when it is one)."""
    match = _ADDRESS.match(address)
    scheme = match and match["scheme"]
    if match and (scheme is None or scheme in SCHEDULER_SCHEMES) and 0 < int(match["port"]) < 2**16:
        return None
    return (
        f"scheduler must be a Dask scheduler's address, SCHEME://HOST:PORT with a scheme of"
        f" {', '.join(SCHEDULER_SCHEMES)} (tcp://127.0.0.1:8786, say), not {address!r}"
    )


#: Seconds a cancelled job has to stop once interrupted, before its thread is set aside.
SET_ASIDE_AFTER = 0.5
#: Seconds between two looks of a worker at the lab's jobs it runs, while it runs any.
WATCH_INTERVAL = 0.1
#: Seconds ``abandon`` (and a failed run) waits for the cluster to confirm that it cancelled
#: the cell's tasks: within the 5 s the lab gives ``Session.abandon``.
CANCEL_TIME = 4.0
#: Of those, seconds the scheduler gets to drop the tasks, and the workers to stop or set aside
#: the jobs, each.
SETTLE_TIME = 1.5
#: What a job's thread is doing, as its worker's watch sees it.
RUNNING, INTERRUPTED, SET_ASIDE = "running", "interrupted", "set aside"


class JobCancelled(Exception):
    """Raised in the thread of a lab job whose dask task was cancelled."""


def run_job(job: Job) -> JobRecord:
    """A dask task on a LocalCluster (which ends with the cell): the job, called in one of the
    worker's threads."""
    return job()


def run_cancellable_job(job: Job) -> JobRecord:
    """A dask task on a running cluster: the job, called in one of the worker's threads, which
    the worker's watch interrupts, then sets aside, if the task is cancelled."""
    ident = threading.get_ident()
    try:
        _JOBS.enter(ident)
        return job()
    finally:
        while True:  # a JobCancelled raised late may land here: until leave has run whole
            try:
                _JOBS.leave(ident)
                break
            except JobCancelled:
                continue


@dataclass
class _JobThread:
    state: str = RUNNING
    #: When it was interrupted (``time.monotonic``).
    since: float = 0.0


class _JobThreads:
    """On a dask worker: the threads that run the lab's jobs, and a watch on the worker's event
    loop, while any of them runs, that stops the jobs whose task was cancelled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.threads: dict[int, _JobThread] = {}
        self.watching = False

    def enter(self, ident: int) -> None:
        with self.lock:
            if not self.watching:
                with contextlib.suppress(ValueError):  # not in a dask worker: nothing to watch
                    from distributed import get_worker

                    worker = get_worker()
                    worker.loop.add_callback(self.watch, worker)
                    self.watching = True
            self.threads[ident] = _JobThread()

    def leave(self, ident: int) -> None:
        """In the job's thread, after the job: no JobCancelled may reach dask's code after
        this, and a thread that was set aside leaves the worker's pool."""
        with self.lock:
            thread = self.threads.get(ident)
            if thread is None:
                return
            if thread.state != RUNNING:
                _raise_in(ident, None)  # one not raised yet
            if thread.state == SET_ASIDE:
                from distributed.threadpoolexecutor import thread_state

                thread_state.proceed = False  # as distributed.secede(): end after this task
            del self.threads[ident]

    async def watch(self, worker: Worker) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            self.step(worker)
            with self.lock:
                if all(t.state == SET_ASIDE for t in self.threads.values()):
                    self.watching = False
                    return

    def step(self, worker: Worker) -> None:
        """Interrupt the jobs whose task was cancelled; set aside the threads of those
        interrupted ``SET_ASIDE_AFTER`` ago. On the worker's event loop."""
        now = time.monotonic()
        tasks = _task_of_thread(worker)
        set_aside = []
        with self.lock:  # the thread cannot leave meanwhile
            for ident, thread in self.threads.items():
                key = tasks.get(ident)
                task = worker.state.tasks.get(key) if key is not None else None
                if task is None or task.state != "cancelled":
                    continue
                if thread.state == RUNNING:
                    thread.state, thread.since = INTERRUPTED, now
                    _raise_in(ident, JobCancelled)
                elif (
                    thread.state == INTERRUPTED
                    and now - thread.since >= SET_ASIDE_AFTER
                    and _leave_pool(worker, ident)
                ):
                    thread.state = SET_ASIDE
                    set_aside.append(key)
        for key in set_aside:  # before the loop can hear that the task ended
            _seceded(worker, key)

    def of(self, prefix: str, worker: Worker) -> list[str]:
        """The state of each thread that runs a job of a task whose key starts with
        ``prefix``."""
        tasks = _task_of_thread(worker)
        with self.lock:
            return [
                thread.state
                for ident, thread in self.threads.items()
                if str(tasks.get(ident, "")).startswith(prefix)
            ]


_JOBS = _JobThreads()


def _task_of_thread(worker: Worker) -> dict[int, Any]:
    """The key of the task each of the worker's threads runs."""
    with worker.active_threads_lock:
        return dict(worker.active_threads)


def _raise_in(ident: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in thread ``ident`` at its next bytecode (``None``: clear one that
    is pending); nothing where Python cannot (not CPython)."""
    with contextlib.suppress(AttributeError):
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(exception) if exception else None)


def _leave_pool(worker: Worker, ident: int) -> bool:
    """Take thread ``ident`` out of the worker's task pool, which starts another in its place,
    as ``distributed.secede`` does from inside a task; whether it could."""
    from distributed.threadpoolexecutor import ThreadPoolExecutor, threads_lock

    pool = worker.executors.get("default")
    thread = next((t for t in threading.enumerate() if t.ident == ident), None)
    threads = getattr(pool, "_threads", None)
    if not isinstance(pool, ThreadPoolExecutor) or not isinstance(threads, set):
        return False
    with threads_lock:
        if thread not in threads:
            return False
        threads.discard(thread)
        pool._adjust_thread_count()  # type: ignore[no-untyped-call]
    return True


def _seceded(worker: Worker, key: Any) -> None:
    """Tell the worker that the task ``key`` no longer holds a thread of its pool (it seceded),
    so that it runs another task in its place."""
    from distributed.metrics import time as dask_time
    from distributed.worker_state_machine import SecedeEvent

    started = getattr(worker.state.tasks.get(key), "start_time", None) or dask_time()
    event = SecedeEvent(
        key=key, compute_duration=dask_time() - started, stimulus_id=f"lab-set-aside-{dask_time()}"
    )
    worker.handle_stimulus(event)


async def _settle_jobs(prefix: str, wait: float, dask_worker: Worker) -> tuple[int, int]:
    """On a worker (``Client.run``): stop the jobs of the cancelled tasks whose key starts
    with ``prefix``, for up to ``wait`` seconds; how many it set aside, and how many still
    hold a thread of the worker's pool."""
    deadline = time.monotonic() + wait
    while True:
        _JOBS.step(dask_worker)
        states = _JOBS.of(prefix, dask_worker)
        busy = sum(1 for state in states if state != SET_ASIDE)
        if not busy or time.monotonic() >= deadline:
            return len(states) - busy, busy
        await asyncio.sleep(WATCH_INTERVAL / 2)


async def _tasks_left(prefix: str, wait: float, dask_scheduler: Any) -> int:
    """On the scheduler (``Client.run_on_scheduler``): how many tasks whose key starts with
    ``prefix`` it still has, once it has none or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while True:
        left = sum(1 for key in dask_scheduler.tasks if str(key).startswith(prefix))
        if not left or time.monotonic() >= deadline:
            return left
        await asyncio.sleep(WATCH_INTERVAL / 2)


async def _prepare(
    preload: tuple[str, ...], warm_up: tuple[Job, ...], timeout: float, dask_worker: Any
) -> int:
    """On each worker (``Client.run``, on its event loop): import the jobs' modules, make the
    warm-up calls, then start every thread of its task pool, which dask otherwise starts one
    per task as they come. Awaited, so the worker's loop keeps answering its scheduler; a
    thread still busy after ``timeout`` seconds (another client's task) fails the start.
    Returns the worker's pid."""
    prepare_worker(preload, warm_up)
    threads = int(dask_worker.state.nthreads)
    barrier = threading.Barrier(threads)
    pool = dask_worker.executors["default"]
    waits = [asyncio.wrap_future(pool.submit(barrier.wait, timeout)) for _ in range(threads)]
    await asyncio.gather(*waits)
    return os.getpid()


def _describe(workers: Mapping[str, Mapping[str, Any]]) -> str:
    """``2 workers of 1 thread, 1 worker of 4 threads``, or ``no workers``."""
    counts: dict[int, int] = {}
    for info in workers.values():
        counts[int(info["nthreads"])] = counts.get(int(info["nthreads"]), 0) + 1
    return (
        ", ".join(
            f"{n} worker{'s' * (n != 1)} of {t} thread{'s' * (t != 1)}"
            for t, n in sorted(counts.items())
        )
        or "no workers"
    )


class DaskSession:
    """A client, and the cluster when the runner started one."""

    def __init__(self, client: Client, cluster: LocalCluster | None) -> None:
        self.client = client
        self.cluster = cluster
        #: The workers the jobs run on, each with how many times the scheduler had removed a
        #: worker of its address before the run.
        self.workers: dict[str, int] = {}
        #: Where the jobs may go: ``None`` for any worker, when those are all the cluster has.
        self.restriction: list[str] | None = None
        #: An external cluster runs the jobs outside the lab's process tree: the host does not
        #: present the tree's CPU and memory as theirs.
        self.outside_tree = cluster is None
        #: The tasks of the jobs that ``run`` runs, and the prefix of their keys (the run's own).
        self.futures: list[Future[JobRecord]] = []
        self.prefix = ""

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        if not jobs:
            return []
        check_picklable(jobs)
        self.prefix = f"lab-{uuid.uuid4().hex}-"
        self.futures = self.client.map(
            run_job if self.cluster is not None else run_cancellable_job,
            jobs,
            key=[f"{self.prefix}{job.index}" for job in jobs],
            pure=False,
            workers=self.restriction,
            allow_other_workers=False,
        )
        try:
            records: list[JobRecord] = self.client.gather(self.futures)  # type: ignore[no-untyped-call]
        except BaseException as exc:
            note, stopped = self.cancel()
            if note and not stopped:
                raise RuntimeError(f"{describe_exception(exc)}; {note}") from exc
            raise
        self.futures = []  # their results are not needed on the cluster any more
        return records

    def abandon(self) -> str | None:
        """The lab is ending the cell (its timeout, Ctrl-C): cancel its unfinished jobs on
        the cluster, and say what became of them. A LocalCluster ends with the cell."""
        return self.cancel()[0] if self.cluster is None else None

    def cancel(self) -> tuple[str | None, bool]:
        """Cancel the run's unfinished tasks on a cluster the runner did not start, and have
        the workers stop or set aside the jobs of those still running; what to say about it
        (``None``: nothing was unfinished), and whether every one stopped."""
        unfinished = [f for f in self.futures if not f.done()]  # type: ignore[no-untyped-call]
        if self.cluster is not None or not unfinished:
            return None, True
        answers: list[tuple[int, dict[str, tuple[int, int]]]] = []
        failures: list[Exception] = []

        def confirm() -> None:
            try:
                self.client.cancel(unfinished, force=True)  # type: ignore[no-untyped-call]
                left = self.client.run_on_scheduler(_tasks_left, self.prefix, SETTLE_TIME)  # type: ignore[no-untyped-call]
                jobs = self.client.run(
                    _settle_jobs, self.prefix, SETTLE_TIME, workers=list(self.workers)
                )
                answers.append((left, jobs))
            except Exception as exc:
                failures.append(exc)

        asking = threading.Thread(target=confirm, name="lab-dask-cancel", daemon=True)
        asking.start()
        asking.join(CANCEL_TIME)
        count = f"{len(unfinished)} unfinished job{'s' * (len(unfinished) != 1)}"
        if not answers:
            why = (
                f" ({describe_exception(failures[0])})"
                if failures
                else f" within {CANCEL_TIME:g} s"
            )
            return (
                f"the cluster did not confirm{why} that it cancelled the cell's {count}: they"
                " may still be running on it",
                False,
            )
        left, jobs = answers[0]
        set_aside = sum(aside for aside, _ in jobs.values())
        busy = sum(held for _, held in jobs.values())
        said = [f"the cluster cancelled the cell's {count}"]
        if left:
            said.append(
                f"its scheduler still had {left} of them {SETTLE_TIME:g} s later: they may"
                " still run"
            )
        if set_aside:
            said.append(
                f"{set_aside} {_were(set_aside)} still running on the cluster and could not be"
                " stopped (a call Python cannot interrupt, such as a sleep):"
                f" {'they run' if set_aside != 1 else 'it runs'} on in threads their workers set"
                " aside, and the workers take other tasks meanwhile"
            )
        if busy:
            said.append(
                f"{busy} {_were(busy)} still running on the cluster and could not be stopped"
                f" nor set aside: {'they still hold' if busy != 1 else 'it still holds'} a"
                " worker's thread"
            )
        if len(said) > 1:
            return "; ".join(said), False
        return f"{said[0]} and stopped those running", True

    def close(self) -> None:
        try:
            self._check_workers_stayed()
        finally:
            self.shut_down()

    def shut_down(self) -> None:
        """Close the client, and the cluster if the runner started it (never a user's)."""
        try:
            self.client.close(timeout=CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]
        finally:
            if self.cluster is not None:
                self.cluster.close(timeout=CLOSE_TIMEOUT)

    def _check_workers_stayed(self) -> None:
        """A worker that died during the run may have had its jobs run again on another one,
        which their records cannot show (dask retries a lost task): name it."""
        now = removals(self.client, list(self.workers))
        lost = [address for address, before in self.workers.items() if now[address] > before]
        if lost:
            raise RuntimeError(
                f"worker {lost[0]} left the cluster during the run (it died or was restarted),"
                " and dask may have run its jobs again on another worker"
            )


def _were(count: int) -> str:
    return "were" if count != 1 else "was"


def removals(client: Client, workers: list[str]) -> dict[str, int]:
    """How many times the scheduler has removed a worker of each address (its event log)."""
    return {
        address: sum(
            1 for _, event in client.get_events(address) if event.get("action") == "remove-worker"
        )
        for address in workers
    }


class DaskRunner(Runner):
    name = "dask"
    kind = PROCESSES_THREADS
    description = (
        f"dask.distributed: a LocalCluster of P processes x T threads (PxT; a plain P means"
        f" Px{DEFAULT_THREADS}), or a running cluster's scheduler"
    )
    # Every job goes through the scheduler and back: 1,000 sleeps of 0.2 s took 0.34 s here,
    # 10,000 ran past the sweep's 300 s timeout.
    sweep_limit = 1000
    #: Its workers may be other machines': the verdict sets its costs beside a process pool's.
    distributed = True
    #: Each job is a task the client sends, the scheduler assigns and a worker runs and reports:
    #: 1,000 countdowns of 10,000 on a LocalCluster of 2x1 cost the process tree 3.4 ms of CPU
    #: a job beyond the jobs' own (2 CPUs, 2026), against 0.3 ms for a process pool's.
    bookkeeping_cpu = 0.01
    option_help = MappingProxyType(
        {
            "scheduler": "a running cluster's scheduler address (tcp://HOST:PORT) to use instead"
            " of starting a LocalCluster; --workers PxT says which workers it has",
            "connect-timeout": f"seconds to wait for the scheduler and its workers at start"
            f" (default {CONNECT_TIMEOUT:g})",
        }
    )

    def check_options(self, options: Mapping[str, str]) -> str | None:
        if "scheduler" in options and (problem := scheduler_problem(options["scheduler"])):
            return problem
        if problem := seconds_problem(options, "connect-timeout"):
            return problem
        return None

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("distributed") is None:
            return "dask.distributed is not installed (pip install 'concurrency-lab[dask]')"
        return None

    def layout(self, workers: Workers) -> Layout:
        threads = DEFAULT_THREADS if workers.threads is None else workers.threads
        return Layout(processes=workers.count, threads=threads)

    def start(self, layout: Layout, context: RunContext) -> DaskSession:
        import dask
        from distributed import Client, LocalCluster

        timeout = float(context.options.get("connect-timeout", CONNECT_TIMEOUT))
        address = context.options.get("scheduler")
        cluster = None
        if address is None:
            settings = {
                "distributed.worker.multiprocessing-method": context.start_method,
                # A job that kills its worker is a failed job, not one to run again elsewhere.
                "distributed.scheduler.allowed-failures": 0,
            }
            with dask.config.set(settings):
                cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=layout.processes,
                    threads_per_worker=layout.threads,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
        else:  # dask's Client waits for ever on a scheduler that takes connections and is mute
            _probe(address, timeout)
        try:
            client = Client(  # type: ignore[no-untyped-call]
                cluster if cluster is not None else address,
                timeout=timeout,
                set_as_default=False,
            )
        except BaseException:
            if cluster is not None:
                cluster.close(timeout=CLOSE_TIMEOUT)
            raise
        session = DaskSession(client, cluster)
        try:
            workers, others = _workers_for(client, layout, address or "the LocalCluster", timeout)
            session.workers = removals(client, workers)
            session.restriction = workers if others else None
            try:  # the scheduler unpickles the jobs too
                client.run_on_scheduler(import_modules, context.preload)  # type: ignore[no-untyped-call]
                client.run(_prepare, *context.worker_initargs, timeout, workers=workers)
            except Exception as exc:
                raise RuntimeError(
                    "the cluster could not import the jobs' modules, warm them up and start"
                    f" its threads ({describe_exception(exc)}): its scheduler and workers need"
                    " the lab and the tasks' plugins installed, and idle threads"
                ) from exc
        except BaseException:
            session.shut_down()
            raise
        return session


def _probe(address: str, timeout: float) -> None:
    """Connect to the scheduler and make dask's handshake, within ``timeout`` seconds."""
    from distributed.comm.core import connect
    from distributed.security import Security

    async def handshake() -> None:
        arguments = Security().get_connection_args("client")  # type: ignore[no-untyped-call]
        comm = await asyncio.wait_for(
            connect(address, timeout, **arguments),  # type: ignore[no-untyped-call]
            timeout + HANDSHAKE_SLACK,  # connect() itself says when nothing listens
        )
        await comm.close()

    try:
        asyncio.run(handshake())
    except TimeoutError:
        raise TimeoutError(
            f"the scheduler at {address} took the connection but did not answer in {timeout:g} s"
        ) from None


def _workers_for(
    client: Client, layout: Layout, where: str, timeout: float
) -> tuple[list[str], bool]:
    """The addresses of P workers of T threads each, or why the cluster has not them; and
    whether the cluster has other workers besides."""
    with contextlib.suppress(TimeoutError):  # what it has is said below
        client.wait_for_workers(layout.processes, timeout=timeout)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    fitting = sorted(a for a, info in workers.items() if info["nthreads"] == layout.threads)
    if len(fitting) < layout.processes:
        raise RuntimeError(
            f"{where} has {_describe(workers)}; --workers {layout.processes}x{layout.threads}"
            f" asks for {layout.processes} of {layout.threads}"
            f" thread{'s' * (layout.threads != 1)}"
        )
    return fitting[: layout.processes], len(workers) > layout.processes


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(DaskRunner())
