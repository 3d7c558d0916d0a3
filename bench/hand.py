"""Hand-written equivalents of the lab's cells, one per run.

``python -m bench.hand RUNNER TASK WORKERS JOBS SIZE`` prints ``{"job_time": ..., "wall": ...}``.
Pools are started, and every process that counts down is warmed up, before the clock starts.
Like a cell's worker, the process freezes what it holds before the run (``gc.freeze``), so that
both sides' runs start with the same garbage collector counts: a full collection then falls at
the same point of both runs (inside a run of 10,000 event-loop jobs), not inside one and before
the other.
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from time import perf_counter
from typing import TYPE_CHECKING

from bench.core import job_time
from bench.jobs import (
    START_TIMEOUT,
    ready,
    timed_blocking_sleep,
    timed_countdown,
    timed_sleep,
    wait_for_all,
    warm_up,
)

#: As the lab's sleep check: a sleep may end this much early on coarse clocks.
SLEEP_TOLERANCE = 0.002

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.jobs import Span

Run = tuple[list["Span"], float]


def run_single(workers: int, jobs: int, size: float) -> Run:
    """A plain for loop."""
    warm_up()
    start = perf_counter()
    spans = [timed_countdown(int(size)) for _ in range(jobs)]
    return spans, perf_counter() - start


def run_threads(workers: int, jobs: int, size: float) -> Run:
    """A ``ThreadPoolExecutor`` whose threads are all up."""
    barrier = threading.Barrier(workers)
    warm_up()  # the threads share this process's code
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(barrier.wait, [START_TIMEOUT] * workers))
        return submit_all(pool, jobs, int(size))


def run_processes(workers: int, jobs: int, size: float) -> Run:
    """A spawn ``ProcessPoolExecutor`` whose workers are all up, ``bench.jobs`` imported."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=wait_for_all, initargs=(barrier,)
    ) as pool:
        list(pool.map(ready, range(workers)))
        return submit_all(pool, jobs, int(size))


def submit_all(pool: Executor, jobs: int, count: int) -> Run:
    """Submit ``jobs`` countdowns and collect them in order."""
    start = perf_counter()
    futures = [pool.submit(timed_countdown, count) for _ in range(jobs)]
    spans = [future.result() for future in futures]
    return spans, perf_counter() - start


def run_asyncio(workers: int, jobs: int, size: float) -> Run:
    """``asyncio.run`` of one ``gather`` of every sleep."""
    if workers < jobs:
        raise SystemExit("asyncio: workers must cover every job")
    return asyncio.run(gather_sleeps(jobs, size))


async def gather_sleeps(jobs: int, seconds: float) -> Run:
    start = perf_counter()
    spans = await asyncio.gather(*(timed_sleep(seconds) for _ in range(jobs)))
    return list(spans), perf_counter() - start


def run_uvloop(workers: int, jobs: int, size: float) -> Run:
    """The same ``gather`` on a uvloop event loop."""
    import uvloop

    if workers < jobs:
        raise SystemExit("uvloop: workers must cover every job")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(gather_sleeps(jobs, size))


def run_threads_waiting(workers: int, jobs: int, size: float) -> Run:
    """A ``ThreadPoolExecutor`` whose threads are all up, every job a blocking sleep."""
    barrier = threading.Barrier(workers)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(barrier.wait, [START_TIMEOUT] * workers))
        start = perf_counter()
        futures = [pool.submit(timed_blocking_sleep, size) for _ in range(jobs)]
        spans = [future.result() for future in futures]
        return spans, perf_counter() - start


RUNS: dict[tuple[str, str], Callable[[int, int, float], Run]] = {
    ("single", "cpu"): run_single,
    ("threads", "cpu"): run_threads,
    ("processes", "cpu"): run_processes,
    ("asyncio", "io"): run_asyncio,
    ("uvloop", "io"): run_uvloop,
    ("threads", "io"): run_threads_waiting,
}


def check(task: str, spans: list[Span], jobs: int, size: float) -> str | None:
    """Why the run is wrong, or ``None``."""
    if len(spans) != jobs:
        return f"{len(spans)} results for {jobs} jobs"
    if task == "io":
        short = [end - start for start, end, _ in spans if end - start < size - SLEEP_TOLERANCE]
        return f"{len(short)} sleeps were short" if short else None
    left = [result for _, _, result in spans if result != 0]
    return f"{len(left)} countdowns did not reach 0" if left else None


def main(argv: list[str]) -> None:
    runner, task = argv[0], argv[1]
    workers, jobs, size = int(argv[2]), int(argv[3]), float(argv[4])
    gc.freeze()  # as lab.worker does before it starts the runner
    spans, wall = RUNS[runner, task](workers, jobs, size)
    problem = check(task, spans, jobs, size)
    if problem is not None:
        raise SystemExit(f"{runner}: {problem}")
    span = job_time((start, end) for start, end, _ in spans)
    print(json.dumps({"job_time": span, "wall": wall}))


if __name__ == "__main__":
    main(sys.argv[1:])
