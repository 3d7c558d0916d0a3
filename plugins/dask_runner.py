"""``dask``: jobs through a Dask ``Client``: on a ``LocalCluster`` of P worker processes x T
threads that the runner starts, or on a running cluster (``--runner-option dask.scheduler=``).

A plain ``--workers N`` means N processes of 1 thread. Every job is a task of its own
(``client.map``), so a cell shows what dask's scheduling costs a job next to a plain process
pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import re
import threading
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
from lab.pools import check_picklable, import_modules, prepare_worker

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from distributed import Client, LocalCluster

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


def run_job(job: Job) -> JobRecord:
    """A dask task: the job, called in one of the worker's threads."""
    return job()


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

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        if not jobs:
            return []
        check_picklable(jobs)
        futures = self.client.map(
            run_job, jobs, pure=False, workers=self.restriction, allow_other_workers=False
        )
        records: list[JobRecord] = self.client.gather(futures)  # type: ignore[no-untyped-call]
        return records

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
        if "connect-timeout" in options:
            text = options["connect-timeout"]
            try:
                seconds = float(text)
            except ValueError:
                seconds = -1.0
            if not 0 < seconds < float("inf"):
                return f"connect-timeout must be a number of seconds above 0, not {text!r}"
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
