"""Runners that lie about what they measured, one way each, loaded with
``-p lab_dishonest_runners``: every one must be an error cell in ``lab matrix`` on CPU- and
IO-bound work, and fail the conformance kit. Each starts its pool as the contract says; only
its lie differs from an honest runner."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from lab import PROCESSES, THREADS, ExecutorSession, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import started_process_pool, started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lab import Job, JobRecord


class _Threads(Runner):
    kind = THREADS

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return self.session(started_thread_pool(layout.threads))

    def session(self, pool: object) -> ExecutorSession:
        return ExecutorSession(pool)  # type: ignore[arg-type]


class _Processes(Runner):
    kind = PROCESSES

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return self.session(started_process_pool(layout.processes, context))

    def session(self, pool: object) -> ExecutorSession:
        return ExecutorSession(pool)  # type: ignore[arg-type]


def _twice(job: Job) -> JobRecord:
    job()
    return job()


class _TwiceSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return [future.result() for future in [self.executor.submit(_twice, j) for j in jobs]]


class TwiceThreads(_Threads):
    name = "liar-twice-threads"
    description = "runs every job twice on its threads, returns one record each"

    def session(self, pool: object) -> ExecutorSession:
        return _TwiceSession(pool)  # type: ignore[arg-type]


class TwiceProcesses(_Processes):
    name = "liar-twice-processes"
    description = "runs every job twice in its processes, returns one record each"

    def session(self, pool: object) -> ExecutorSession:
        return _TwiceSession(pool)  # type: ignore[arg-type]


class _InstantSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        records = super().run(jobs)
        for r in records:
            r.end = r.start + 0.001
        return records


class InstantEnd(_Threads):
    name = "liar-instant"
    description = "sets each record's end to its start + 1 ms"

    def session(self, pool: object) -> ExecutorSession:
        return _InstantSession(pool)  # type: ignore[arg-type]


def _smaller(job: Job) -> Job:
    size = job.size / 100
    return dataclasses.replace(job, size=int(size) if isinstance(job.size, int) else size)


class _SmallSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return super().run([_smaller(j) for j in jobs])


class SmallJobs(_Threads):
    name = "liar-small-jobs"
    description = "runs each job at 1/100 of its size"

    def session(self, pool: object) -> ExecutorSession:
        return _SmallSession(pool)  # type: ignore[arg-type]


class _ShorterSession(ExecutorSession):
    scale_cpu = False

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        records = super().run(jobs)
        for r in records:
            r.end = r.start + 0.9 * (r.end - r.start)
            if self.scale_cpu and r.cpu is not None:
                r.cpu *= 0.9
        return records


class _ShorterWithCpuSession(_ShorterSession):
    scale_cpu = True


class ShorterProcesses(_Processes):
    name = "liar-shorter"
    description = "a process pool that reports its jobs 10 % shorter than they ran"

    def session(self, pool: object) -> ExecutorSession:
        return _ShorterSession(pool)  # type: ignore[arg-type]


class ShorterWithCpu(_Processes):
    name = "liar-shorter-cpu"
    description = "a process pool that reports its jobs and their CPU 10 % shorter"

    def session(self, pool: object) -> ExecutorSession:
        return _ShorterWithCpuSession(pool)  # type: ignore[arg-type]


class OneAtATime(_Threads):
    name = "liar-one-at-a-time"
    description = "runs its jobs one at a time while its layout claims W threads"

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(1))


LIARS = (
    TwiceThreads,
    TwiceProcesses,
    InstantEnd,
    SmallJobs,
    ShorterProcesses,
    ShorterWithCpu,
    OneAtATime,
)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    for runner in LIARS:
        register(runner())
