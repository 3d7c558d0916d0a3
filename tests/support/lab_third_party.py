"""Runners a third party might write, loaded with ``-p lab_third_party``: a processes x threads
runner and an event loop, neither named like a built-in, each declaring only its kind."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lab import (
    EVENT_LOOP,
    PROCESSES_THREADS,
    ExecutorSession,
    Job,
    JobRecord,
    Layout,
    RunContext,
    Runner,
    Workers,
    hookimpl,
)
from lab.pools import started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class GridRunner(Runner):
    """P x T workers; it keeps them all in one process, which its layout allows."""

    name = "grid"
    description = "a third party's processes x threads runner"
    kind = PROCESSES_THREADS

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.count, threads=workers.threads or 1)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(layout.processes * layout.threads))


class LoopSession:
    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        async def all_jobs() -> list[JobRecord]:
            limit = asyncio.Semaphore(self.concurrency)

            async def one(job: Job) -> JobRecord:
                async with limit:
                    return await job.arun()

            return list(await asyncio.gather(*(one(job) for job in jobs)))

        return asyncio.run(all_jobs())

    def close(self) -> None:
        pass


class MyLoopRunner(Runner):
    name = "my-loop"
    description = "a third party's event loop"
    kind = EVENT_LOOP
    job_form = "asyncio"

    def layout(self, workers: Workers) -> Layout:
        return Layout(tasks=workers.total)

    def start(self, layout: Layout, context: RunContext) -> LoopSession:
        return LoopSession(layout.tasks)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(GridRunner())
    register(MyLoopRunner())


class _GridOnly:
    """The grid runner alone, from a plugin object bound to a name in this module."""

    @hookimpl
    def lab_register_runners(self, register: Callable[[Runner], None]) -> None:
        register(GridRunner())


GRID_ONLY = _GridOnly()
