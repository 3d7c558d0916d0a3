"""``interpreters``: a pool of W subinterpreters in the cell's process, each with its own GIL.

Each worker is a thread of the cell's process running its own interpreter (PEP 684, PEP 734):
CPU-bound jobs run in parallel even where the process's main interpreter has the GIL on.
The pool is ``concurrent.futures.InterpreterPoolExecutor`` on Python 3.14+; on 3.13 it is the
PyPI backport ``interpreters-pep-734`` (``pip install 'concurrency-lab[interpreters]'``).

What the jobs need:

- A job crosses into its interpreter pickled, and the interpreter imports the job's function
  by name: it must be a module-level function of an importable module, not one defined in
  ``__main__`` (each interpreter has a ``__main__`` of its own, where it is not). The job's
  record comes back pickled too.
- Each interpreter imports that module, and what it imports, afresh: an extension module with
  single-phase init (psutil's, for one) refuses to load in a subinterpreter, and so does every
  module that imports one. The lab's own job path (``lab.jobs``) loads there.
- Subinterpreters share no objects: a job cannot use the cell's locks or dicts, and it may not
  fork or start daemon threads.

A job that cannot be loaded in its interpreter fails the run with the reason. The backport's
pool, handed a call that its interpreter cannot unpickle, never returns and keeps a CPU busy
(its worker polls for a result that never comes), so this runner hands it only the builtin
``exec`` and then :func:`_run`, which that first call imported: the interpreters unpickle the
jobs themselves, where a failure is an exception. Whatever else hangs, the lab's ``--timeout``
ends: the pool is threads of the cell's process, whose tree the lab kills.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import sys
import threading
from concurrent.futures import wait
from typing import TYPE_CHECKING, Any

from lab import (
    INTERPRETERS,
    ExecutorSession,
    Job,
    JobRecord,
    Layout,
    RunContext,
    Runner,
    Workers,
    describe_exception,
    hookimpl,
)
from lab.pools import START_TIMEOUT, prepare_worker

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor, Future

#: Where Python 3.13 gets ``InterpreterPoolExecutor`` from (``concurrency-lab[interpreters]``).
BACKPORT = "interpreters_backport"
BACKPORT_POOL = f"{BACKPORT}.concurrent.futures"
BACKPORT_DISTRIBUTION = "interpreters-pep-734"
EXTRA = "concurrency-lab[interpreters]"

#: What each interpreter runs first, through the builtin ``exec`` (which every interpreter has):
#: the cell's import path, then :func:`_ready`. Anything that fails in it comes back as the
#: call's exception, where a function the interpreter could not unpickle would hang the pool.
_BOOTSTRAP = """\
import sys
sys.path[:] = path
from lab_plugins.interpreters import _ready
_ready(*arguments)
"""


def _pool_class() -> Callable[..., Executor] | None:
    """``InterpreterPoolExecutor``, from the standard library or the backport, if there is one."""
    if sys.version_info < (3, 13):
        return None
    where = "concurrent.futures" if sys.version_info >= (3, 14) else BACKPORT_POOL
    try:
        pool: Callable[..., Executor] = importlib.import_module(where).InterpreterPoolExecutor
    except (ImportError, AttributeError):
        return None
    return pool


#: In an interpreter of the pool: the name of the worker it is (see :func:`_ready`).
_worker = ""


def _ready(number: int, preload: tuple[str, ...], warm_up: bytes, arrived: int, go: int) -> None:
    """In a new interpreter: import the jobs' modules, make the warm-up calls, say so, and
    wait until every interpreter of the pool has (so that each runs one of these)."""
    global _worker
    _worker = f"Interpreter-{number}"
    _name_thread()
    prepare_worker(preload, _loaded(warm_up))
    os.write(arrived, b".")
    os.read(go, 1)


def _run(job: bytes) -> bytes:
    """In an interpreter: run one pickled job and return its record pickled."""
    _name_thread()
    record = _loaded(job)()
    try:
        return pickle.dumps(record)
    except Exception as exc:
        raise TypeError(
            f"job {record.index}'s result cannot leave its subinterpreter:"
            f" {describe_exception(exc)}"
        ) from None


def _name_thread() -> None:
    """Give the calling thread its worker's name, which its records carry (and timelines draw
    a lane for). The interpreter sees the pool's thread as a dummy thread, a new one for each
    call, named ``Dummy-N`` by a count of its own: two interpreters' names would clash."""
    threading.current_thread().name = _worker


def _loaded(pickled: bytes) -> Any:
    try:
        return pickle.loads(pickled)
    except Exception as exc:
        raise ImportError(
            "a subinterpreter could not load a job: it imports the job's function by name, so"
            " the function must be defined at module level in a module it can import (not in"
            f" __main__): {describe_exception(exc)}"
        ) from None


class _Gate:
    """Where starting interpreters say they are ready (``.``) or a start call ended (``!``),
    and wait to be let go: two pipes, whose descriptors every interpreter of the process can
    use, so no object has to be shared."""

    def __init__(self) -> None:
        self.arrived_read, self.arrived = os.pipe()
        self.go, self.go_write = os.pipe()
        self.lock = threading.Lock()
        self.open = True

    def ended(self, _: Future[Any]) -> None:
        """A start call returned or failed: before the release, only a failure does."""
        with self.lock:
            if self.open:
                os.write(self.arrived, b"!")

    def wait_for(self, workers: int) -> None:
        """Wait until ``workers`` interpreters are ready or a start call failed."""
        heard = b""
        while len(heard) < workers and b"!" not in heard:
            heard += os.read(self.arrived_read, workers)

    def release(self, workers: int) -> None:
        os.write(self.go_write, b"." * workers)

    def close(self) -> None:
        with self.lock:
            self.open = False
        for fd in (self.arrived_read, self.arrived, self.go, self.go_write):
            os.close(fd)


def start_every_interpreter(pool: Executor, workers: int, context: RunContext) -> None:
    """Make ``pool`` start all its ``workers`` interpreters now, each with the jobs' modules
    imported and the warm-up calls made: one start call per interpreter, each waiting until
    all are ready. Raises the first start call's failure."""
    gate = _Gate()
    warm_up = pickle.dumps(context.warm_up)
    path = list(sys.path)
    futures = [
        pool.submit(
            exec,
            _BOOTSTRAP,
            {"path": path, "arguments": (n, context.preload, warm_up, gate.arrived, gate.go)},
        )
        for n in range(1, workers + 1)
    ]
    for future in futures:
        future.add_done_callback(gate.ended)
    try:
        gate.wait_for(workers)
    finally:
        gate.release(workers)  # every waiting interpreter goes on, ready or not
        _, pending = wait(futures, START_TIMEOUT)
        if not pending:  # else an interpreter may still use them: left open
            gate.close()
    if pending:
        raise TimeoutError(f"{len(pending)} subinterpreters did not start in {START_TIMEOUT:g} s")
    for future in futures:
        future.result()


class InterpretersSession(ExecutorSession):
    """Hands each interpreter its jobs pickled, for it to load itself (see :func:`_run`)."""

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        futures = [self.executor.submit(_run, pickle.dumps(job)) for job in jobs]
        return [pickle.loads(future.result()) for future in futures]


class InterpretersRunner(Runner):
    """W subinterpreters of the cell's process, each in a thread of its own with its own GIL.

    Jobs must be importable by name in a subinterpreter (a module-level function of a module
    that loads there, not ``__main__``); see the module's docstring.
    """

    name = "interpreters"
    kind = INTERPRETERS
    description = (
        "a pool of W subinterpreters in one process (a GIL each; Python 3.13+; job functions"
        " must import by name there)"
    )

    def unavailable(self) -> str | None:
        if sys.version_info < (3, 13):
            return (
                "subinterpreters with a GIL each need Python 3.13+ (with pip install"
                f" '{EXTRA}' on 3.13; 3.14 has them built in)"
            )
        if sys.version_info < (3, 14) and importlib.util.find_spec(BACKPORT) is None:
            return (
                f"Python 3.13 needs the backport {BACKPORT_DISTRIBUTION} for a pool of"
                f" subinterpreters: pip install '{EXTRA}'"
            )
        return None

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> InterpretersSession:
        pool_class = _pool_class()
        if pool_class is None:
            raise RuntimeError(self.unavailable() or "no InterpreterPoolExecutor here")
        pool = pool_class(max_workers=layout.threads, thread_name_prefix="Interpreter")
        try:
            start_every_interpreter(pool, layout.threads, context)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return InterpretersSession(pool)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(InterpretersRunner())
