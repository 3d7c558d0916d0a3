"""Runners that break the runner contract one way each, loaded with ``-p lab_broken_runners``
by the tests of the conformance kit's messages; ``lab_broken_runners:MISSPELT`` is a plugin
whose hook is misspelt."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING

from lab import THREADS, ExecutorSession, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import prepare_worker, started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lab import Job, JobRecord


class _Threads(Runner):
    """A pool of W threads, started as the contract says; subclasses break one thing."""

    kind = THREADS

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(layout.threads))


class _SkippingSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return super().run([job for job in jobs if job.index != 1])


class _RepeatingSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return super().run([jobs[0], *jobs])


class _ReversingSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return super().run(jobs)[::-1]


class SkipsAJob(_Threads):
    name = "skips-a-job"
    description = "never runs job 1"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return _SkippingSession(started_thread_pool(layout.threads))


class RepeatsAJob(_Threads):
    name = "repeats-a-job"
    description = "runs job 0 twice"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return _RepeatingSession(started_thread_pool(layout.threads))


class OutOfOrder(_Threads):
    name = "out-of-order"
    description = "returns the records last job first"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return _ReversingSession(started_thread_pool(layout.threads))


class TooManyThreads(_Threads):
    name = "too-many-threads"
    description = "runs one thread more than its layout"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(layout.threads + 1))


class LazyThreads(_Threads):
    name = "lazy-threads"
    description = "a thread pool whose threads start on the first submissions"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(ThreadPoolExecutor(max_workers=layout.threads))


class LazyProcesses(Runner):
    name = "lazy-processes"
    description = "a warmed-up process pool whose processes start on the first submissions"

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(
            ProcessPoolExecutor(
                max_workers=layout.processes,
                mp_context=multiprocessing.get_context(context.start_method),
                initializer=prepare_worker,
                initargs=context.worker_initargs,
            )
        )


class Unavailable(_Threads):
    name = "unavailable"
    description = "needs what no machine has"

    def unavailable(self) -> str | None:
        return "it needs a library no machine has"


RUNNERS = (
    SkipsAJob,
    RepeatsAJob,
    OutOfOrder,
    TooManyThreads,
    LazyThreads,
    LazyProcesses,
    Unavailable,
)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    for runner in RUNNERS:
        register(runner())


class Misspelt(_Threads):
    name = "misspelt"
    description = "registered by a hook whose name is misspelt, so never"


class _Misspelt:
    """A plugin whose hook name is misspelt: the lab skips it with a warning."""

    @hookimpl
    def lab_register_runnrs(self, register: Callable[[Runner], None]) -> None:
        register(Misspelt())


MISSPELT = _Misspelt()
