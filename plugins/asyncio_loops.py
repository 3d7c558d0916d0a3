"""``asyncio`` and ``uvloop``: one event loop in the cell's main thread, for IO tasks."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import TYPE_CHECKING

from lab import EVENT_LOOP, Job, JobRecord, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import warm_up_on_loop

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    LoopFactory = Callable[[], asyncio.AbstractEventLoop]


async def run_limited(jobs: Sequence[Job], concurrency: int) -> list[JobRecord]:
    """Await every job, at most ``concurrency`` at a time, and return the records in order."""
    if concurrency >= len(jobs):
        return list(await asyncio.gather(*(job.arun() for job in jobs)))
    semaphore = asyncio.Semaphore(concurrency)

    async def limited(job: Job) -> JobRecord:
        async with semaphore:
            return await job.arun()

    return list(await asyncio.gather(*(limited(job) for job in jobs)))


class LoopSession:
    """An ``asyncio.Runner`` whose loop is created at start and reused for the run."""

    def __init__(
        self, loop_factory: LoopFactory | None, concurrency: int, context: RunContext
    ) -> None:
        self.concurrency = concurrency
        self.runner = asyncio.Runner(loop_factory=loop_factory)
        self.runner.run(warm_up_on_loop(context))

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return self.runner.run(run_limited(jobs, self.concurrency))

    def close(self) -> None:
        self.runner.close()


class AsyncioRunner(Runner):
    """Jobs as tasks on one asyncio event loop; ``workers`` is how many run at once.

    :param loop_factory: makes the loop (``None``: asyncio's default loop).
    """

    job_form = "asyncio"
    kind = EVENT_LOOP

    def __init__(
        self,
        name: str,
        description: str,
        loop_factory: Callable[[], LoopFactory | None] | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self.loop_factory = loop_factory

    def layout(self, workers: Workers) -> Layout:
        return Layout(tasks=workers.total)

    def start(self, layout: Layout, context: RunContext) -> LoopSession:
        factory = None if self.loop_factory is None else self.loop_factory()
        return LoopSession(factory, layout.tasks, context)


def uvloop_unavailable() -> str | None:
    """Why uvloop cannot run here, if it cannot."""
    if sys.platform == "win32":
        return "uvloop does not run on Windows"
    if importlib.util.find_spec("uvloop") is None:
        return "uvloop is not installed"
    return None


def uvloop_factory() -> LoopFactory | None:
    """uvloop's loop factory where uvloop runs, else ``None`` (asyncio's default loop)."""
    if uvloop_unavailable() is not None:
        return None
    import uvloop

    factory: LoopFactory = uvloop.new_event_loop
    return factory


class UvloopRunner(AsyncioRunner):
    def unavailable(self) -> str | None:
        return uvloop_unavailable()


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(AsyncioRunner("asyncio", "tasks on one asyncio event loop, W at once"))
    register(UvloopRunner("uvloop", "tasks on one uvloop event loop, W at once", uvloop_factory))
