"""Pools whose workers have all started before they are returned, for runner plugins (and a
check of a runner option that is a time).

``concurrent.futures`` pools start their workers lazily, on the first submissions; a runner
that returned such a pool from ``start`` would have its start-up counted as job time.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from lab.jobs import Job
    from lab.runner import RunContext

__all__ = [
    "START_TIMEOUT",
    "check_picklable",
    "import_modules",
    "prepare_worker",
    "seconds_problem",
    "started_process_pool",
    "started_thread_pool",
    "warm_up_on_loop",
]

#: How long a starting worker waits for the others before giving up.
START_TIMEOUT = 120.0


def seconds_problem(options: Mapping[str, str], key: str) -> str | None:
    """Why runner option ``key`` (a time such as ``connect-timeout``) is not a number of
    seconds above 0, for ``Runner.check_options``; ``None`` when it is, or is not given."""
    if key not in options:
        return None
    text = options[key]
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if 0 < seconds < float("inf"):
        return None
    return f"{key} must be a number of seconds above 0, not {text!r}"


def started_thread_pool(threads: int, prefix: str = "Thread") -> ThreadPoolExecutor:
    """A thread pool whose ``threads`` threads are all running."""
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=prefix)
    barrier = threading.Barrier(threads)
    for future in wait([executor.submit(barrier.wait, START_TIMEOUT) for _ in range(threads)])[0]:
        future.result()
    return executor


def started_process_pool(
    processes: int,
    context: RunContext,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A process pool whose ``processes`` workers have all started, imported the context's
    preload modules, made its warm-up calls and run ``initializer``.

    Every worker then waits at a barrier, so the warm-up calls return only when all of them
    are up.
    """
    mp_context = multiprocessing.get_context(context.start_method)
    barrier = mp_context.Barrier(processes)
    executor = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=mp_context,
        initializer=_initialize,
        initargs=(barrier, context.preload, context.warm_up, initializer, initargs),
    )
    try:
        list(executor.map(_ready, range(processes)))
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    return executor


def check_picklable(jobs: Sequence[Job]) -> None:
    """Raise ``pickle.PicklingError`` here, in the caller, when a job's function cannot reach
    another process. Left to ``concurrent.futures``, the error is raised in its queue feeder
    thread, where it can leave the pool's shutdown waiting forever."""
    for func in {id(job.func): job.func for job in jobs}.values():
        pickle.dumps(func)


def import_modules(names: tuple[str, ...]) -> None:
    """Import ``names``, the context's preload."""
    for name in names:
        importlib.import_module(name)


def prepare_worker(preload: tuple[str, ...], warm_up: tuple[Job, ...] = ()) -> None:
    """What a worker process does before it reports ready: import the jobs' modules and make
    the warm-up calls. Use it as a pool's initializer with ``context.worker_initargs``."""
    import_modules(preload)
    for job in warm_up:
        job()


async def warm_up_on_loop(context: RunContext) -> None:
    """Await the context's async warm-up calls on the running loop, one after another: call it
    in the loop an event-loop runner starts, before ``start`` returns."""
    for job in context.async_warm_up:
        await job.arun()


def _initialize(
    barrier: Any,
    preload: tuple[str, ...],
    warm_up: tuple[Job, ...],
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
) -> None:
    prepare_worker(preload, warm_up)
    if initializer is not None:
        initializer(*initargs)
    barrier.wait(START_TIMEOUT)


def _ready(_: int) -> None:
    return None
