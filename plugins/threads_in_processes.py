"""``threads-in-processes``: P processes, each running its share of the jobs on T threads."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from lab import PROCESSES_THREADS, Job, JobRecord, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import check_picklable, prepare_worker, started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import ThreadPoolExecutor

#: Threads per process when the workers are written as a plain number.
DEFAULT_THREADS = 2

_thread_pool: ThreadPoolExecutor | None = None


def _start_threads(threads: int, preload: tuple[str, ...], warm_up: tuple[Job, ...]) -> None:
    global _thread_pool
    prepare_worker(preload, warm_up)
    _thread_pool = started_thread_pool(threads)


def _ready() -> None:
    return None


def _run_share(jobs: Sequence[Job]) -> list[JobRecord]:
    assert _thread_pool is not None, "the worker's thread pool was not started"
    futures = [_thread_pool.submit(job) for job in jobs]
    return [future.result() for future in futures]


class ProcessThreadsSession:
    """One single-process pool per process, so job ``i`` always goes to process ``i % P``."""

    def __init__(self, pools: list[ProcessPoolExecutor]) -> None:
        self.pools = pools

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        check_picklable(jobs)
        count = len(self.pools)
        futures = [pool.submit(_run_share, jobs[i::count]) for i, pool in enumerate(self.pools)]
        records: list[JobRecord | None] = [None] * len(jobs)
        for i, future in enumerate(futures):
            records[i::count] = future.result()
        return [r for r in records if r is not None]

    def close(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


class ThreadsInProcessesRunner(Runner):
    name = "threads-in-processes"
    kind = PROCESSES_THREADS
    description = f"P processes x T threads each (PxT; a plain P means Px{DEFAULT_THREADS})"

    def layout(self, workers: Workers) -> Layout:
        threads = DEFAULT_THREADS if workers.threads is None else workers.threads
        return Layout(processes=workers.count, threads=threads)

    def start(self, layout: Layout, context: RunContext) -> ProcessThreadsSession:
        mp_context = multiprocessing.get_context(context.start_method)
        session = ProcessThreadsSession(
            [
                ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=mp_context,
                    initializer=_start_threads,
                    initargs=(layout.threads, *context.worker_initargs),
                )
                for _ in range(layout.processes)
            ]
        )
        try:  # every process starts at once; each warm-up returns after its initializer
            for future in [pool.submit(_ready) for pool in session.pools]:
                future.result()
        except BaseException:
            session.close()
            raise
        return session


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ThreadsInProcessesRunner())
