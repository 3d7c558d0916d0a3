"""The runner contract, the public API for runner plugins.

A runner gets jobs and a worker layout, runs the jobs its way and returns their records in
order. The host times ``start`` (pool or loop start-up), ``Session.run`` (the jobs) and
``Session.close`` apart, validates the records and measures CPU and memory itself.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from lab.errors import UsageError
from lab.task import SYNC

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from lab.jobs import Job, JobRecord

_WORKERS = re.compile(r"^\s*([0-9]+)\s*(?:[xX]\s*([0-9]+))?\s*$")

#: Runner kinds: what a runner's concurrency is made of. The host reads a runner's ``kind`` to
#: pick the baseline, order the tables, spread a sweep and word the verdict; any other string
#: is a kind of its own, listed after these.
INLINE = "inline"
THREADS = "threads"
PROCESSES = "processes"
PROCESSES_THREADS = "processes-threads"
INTERPRETERS = "interpreters"
EVENT_LOOP = "event-loop"
#: A runner that declares no kind: measured like any other, but no verdict row speaks for it.
OTHER = "other"
KINDS = (INLINE, THREADS, INTERPRETERS, PROCESSES, PROCESSES_THREADS, EVENT_LOOP)

#: Where a runner's jobs run relative to one another, which decides how jobs that share state
#: can reach it (a task's ``shared`` forms, one for each):
#: - one interpreter: the jobs share its objects (a lock, a dict);
#: - other processes: shared state must cross processes (a manager, shared memory);
#: - other interpreters of one process: no object is shared; queues and memory can be.
ONE_INTERPRETER = "one-interpreter"
OTHER_PROCESSES = "other-processes"
OTHER_INTERPRETERS = "other-interpreters"
ISOLATIONS = (ONE_INTERPRETER, OTHER_PROCESSES, OTHER_INTERPRETERS)
#: Each kind's isolation; a runner of another kind declares its own (or none).
ISOLATION_OF_KIND = {
    INLINE: ONE_INTERPRETER,
    THREADS: ONE_INTERPRETER,
    EVENT_LOOP: ONE_INTERPRETER,
    PROCESSES: OTHER_PROCESSES,
    PROCESSES_THREADS: OTHER_PROCESSES,
    INTERPRETERS: OTHER_INTERPRETERS,
}


@dataclass(frozen=True)
class Workers:
    """Workers as the user wrote them: ``4`` or ``PxT`` (``2x2``)."""

    count: int
    threads: int | None = None

    @classmethod
    def parse(cls, text: str) -> Workers:
        match = _WORKERS.match(text)
        if not match:
            raise UsageError(
                f"workers must be a whole number or PxT (processes x threads), not {text!r}"
            )
        count, threads = int(match[1]), match[2]
        if count < 1 or (threads is not None and int(threads) < 1):
            raise UsageError(f"workers must be at least 1, not {text!r}")
        return cls(count, None if threads is None else int(threads))

    @property
    def total(self) -> int:
        return self.count * (self.threads or 1)

    def __str__(self) -> str:
        return str(self.count) if self.threads is None else f"{self.count}x{self.threads}"


@dataclass(frozen=True)
class Layout:
    """Where jobs may run: at most ``processes`` processes, ``threads`` threads in each, and
    ``tasks`` concurrent tasks on each thread (event loops). The host checks the records
    against it."""

    processes: int = 1
    threads: int = 1
    tasks: int = 1

    @property
    def concurrency(self) -> int:
        return self.processes * self.threads * self.tasks


@dataclass(frozen=True)
class RunContext:
    """What the host tells every runner at start.

    :param start_method: the multiprocessing start method to use.
    :param preload: modules the jobs' functions live in; a runner's worker processes should
        import them while starting (``lab.pools`` does), or the first job in each worker pays
        for the import.
    :param warm_up: calls each worker process should make before it reports ready, so that its
        first jobs do not run cold: ``lab.pools.prepare_worker`` makes them.
    :param options: the values ``--runner-option NAME.KEY=VALUE`` gave this runner, checked
        against its ``option_help`` and ``check_options``.
    :param async_warm_up: for a runner whose jobs are coroutines (``job_form`` ``"asyncio"``
        or ``"anyio"``): the same warm-up calls in that form, to await on the loop the runner
        starts before ``start`` returns (``lab.pools.warm_up_on_loop`` does), so that the
        first job pays neither the loop library's imports nor cold code.
    :param folder: a folder of the cell's own, removed with the cell (by the lab's watcher
        even when the cell is killed), for the files and sockets of processes the runner starts
        (a cluster's); ``None`` where the runner runs outside a cell.
    """

    start_method: str
    preload: tuple[str, ...] = ()
    warm_up: tuple[Job, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    async_warm_up: tuple[Job, ...] = ()
    folder: str | None = None

    @classmethod
    def for_jobs(
        cls,
        start_method: str,
        jobs: Sequence[Job],
        warm_up: Sequence[Job] = (),
        options: Mapping[str, str] | None = None,
        async_warm_up: Sequence[Job] = (),
        folder: str | None = None,
    ) -> RunContext:
        """The context for running ``jobs``: their functions' modules are the preload."""
        preload = tuple(dict.fromkeys(job.func.__module__ for job in [*jobs, *warm_up]))
        return cls(
            start_method,
            preload,
            tuple(warm_up),
            dict(options or {}),
            tuple(async_warm_up),
            folder,
        )

    @property
    def worker_initargs(self) -> tuple[tuple[str, ...], tuple[Job, ...]]:
        """The arguments of ``lab.pools.prepare_worker``, a pool's worker initializer."""
        return self.preload, self.warm_up


#: Seconds the lab gives a cell's worker process, when it ends the cell while its session runs
#: the jobs (the cell's timeout, Ctrl-C or SIGTERM to the lab), to run the session's optional
#: ``abandon`` before it kills the process's whole group.
ABANDON_TIME = 5.0


class Session(Protocol):
    """A started pool or loop.

    Optional: ``abandon() -> str | None``, for a session whose jobs run outside the cell's
    process tree (on a cluster it connected to), where killing the tree does not end them.
    When the lab ends the cell while ``run`` has not returned, it sends the cell's process
    SIGTERM, and the host calls ``abandon`` in its main thread (``run`` does not return, nor is
    ``close`` called): stop the jobs there, within :data:`ABANDON_TIME` seconds, after which
    the lab kills the process anyway; return what the user should know (jobs it could not
    stop, a cluster that did not confirm), which the lab adds to the cell's timeout or prints
    at Ctrl-C, or ``None``.
    """

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        """Run every job once and return the records in the jobs' order."""
        ...

    def close(self) -> None:
        """Stop the pool or loop; called once, also after ``run`` raised."""
        ...


#: The most CPU a job a runner may declare for its own bookkeeping (``Runner.bookkeeping_cpu``):
#: past it, the checks could not tell a pool's bookkeeping from jobs it hid or reported short.
BOOKKEEPING_MAX = 0.01
#: Of that, the most allowed in the thread that ran the job (taking the next job, handing back
#: the record): a scheduler's messages cost in other threads and processes.
THREAD_BOOKKEEPING_MAX = 0.002


def bookkeeping_problem(runner: Runner) -> str | None:
    """Why ``runner``'s declared :attr:`Runner.bookkeeping_cpu` is not one the lab allows."""
    value = runner.bookkeeping_cpu
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and math.isfinite(value) and 0 <= value <= BOOKKEEPING_MAX:
        return None
    return f"bookkeeping_cpu must be seconds from 0 to {BOOKKEEPING_MAX:g}, not {value!r}"


class Runner(ABC):
    """A way to run jobs concurrently (or not). Subclass it and register an instance.

    Class attributes: ``name`` (used by ``--runners``), ``description`` (one line),
    ``job_form`` (which form of a task's function it calls: ``"sync"``, ``"asyncio"``,
    ``"anyio"``) and ``kind`` (what its concurrency is made of, one of :data:`KINDS`):

    - ``"inline"``: one job at a time in one thread; the first such runner is every task's
      baseline for speed-up, and is always measured;
    - ``"threads"``, ``"processes"``: W threads or W processes;
    - ``"processes-threads"``: P processes of T threads each, workers written ``PxT``; a sweep
      spreads a level over the usable CPUs as P and the rest as T;
    - ``"interpreters"``: W subinterpreters of one process, each with its own GIL;
    - ``"event-loop"``: W tasks at once on one event loop in one thread;
    - ``"other"`` (the default) or a word of its own: listed after the rest.

    ``isolation`` (one of :data:`ISOLATIONS`) says where its jobs run relative to one another;
    it follows from the kind, and a runner of another kind sets it to run tasks whose jobs
    share state.
    """

    name: str
    description: str
    job_form: str = SYNC
    kind: str = OTHER
    #: ``False`` for a runner whose layout ignores ``--workers`` (it runs once per task).
    uses_workers: bool = True
    #: The options ``--runner-option NAME.KEY=VALUE`` may give it, each with one line of help;
    #: the host refuses other keys, and hands the values to ``start`` as ``context.options``.
    option_help: Mapping[str, str] = MappingProxyType({})
    #: The most jobs at once ``lab sweep`` gives it without ``--allow-large`` (``None``: the
    #: sweep's own limits only); its cells at higher levels are ``n/a``, saying so.
    sweep_limit: int | None = None
    #: ``True`` for an engine whose jobs may run on other machines (a cluster's scheduler and
    #: workers): the verdict sets what it costs beside a local process pool of as many workers
    #: (a job, a run, its start-up and its memory) and the job size from which it pays.
    distributed: bool = False
    #: Seconds of CPU its own machinery may spend on each job where no record shows it:
    #: handing the job out and its record back, pickling, a scheduler's messages about it. On
    #: CPU-bound work the lab allows this much a job in the cell's process tree, and at most
    #: :data:`THREAD_BOOKKEEPING_MAX` of it in the thread that ran the job, before it calls CPU
    #: that no record shows work the runner hid. At most :data:`BOOKKEEPING_MAX`.
    bookkeeping_cpu: float = 0.001

    def check_options(self, options: Mapping[str, str]) -> str | None:
        """Why these option values are wrong (``None`` when they are right); every key is one
        of ``option_help``'s. Called in the lab before anything runs."""
        return None

    @property
    def isolation(self) -> str | None:
        """Where the jobs run relative to one another (:data:`ISOLATIONS`); ``None``: not
        declared, and tasks whose jobs share state do not apply."""
        return ISOLATION_OF_KIND.get(self.kind)

    def unavailable(self) -> str | None:
        """Why this runner cannot run on this machine (a missing library, the platform)."""
        return None

    @abstractmethod
    def layout(self, workers: Workers) -> Layout:
        """The layout for the workers the user asked for."""

    @abstractmethod
    def start(self, layout: Layout, context: RunContext) -> Session:
        """Start the pool or loop, ready to run jobs at once; timed as start-up."""
