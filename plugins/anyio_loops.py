"""``anyio-asyncio`` and ``anyio-trio``: anyio task groups on either backend, for IO tasks."""

from __future__ import annotations

import contextlib
import importlib.util
from typing import TYPE_CHECKING

from lab import EVENT_LOOP, Job, JobRecord, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import warm_up_on_loop

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


async def run_limited(jobs: Sequence[Job], concurrency: int) -> list[JobRecord]:
    """Await every job in one task group, at most ``concurrency`` at a time, in order (with no
    limiter where every job may run at once: a sweep's 1,000,000 waiters pay nothing for it)."""
    import anyio

    records: list[JobRecord | None] = [None] * len(jobs)
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(position: int, job: Job) -> None:
        records[position] = await job.arun()

    async def limited(position: int, job: Job) -> None:
        async with limiter:
            records[position] = await job.arun()

    each = one if concurrency >= len(jobs) else limited
    async with anyio.create_task_group() as group:
        for position, job in enumerate(jobs):
            group.start_soon(each, position, job)
    return [r for r in records if r is not None]


class PortalSession:
    """An anyio event loop started in its own thread at start; jobs run on it through a portal."""

    def __init__(self, backend: str, concurrency: int, context: RunContext) -> None:
        from anyio.from_thread import start_blocking_portal

        self.concurrency = concurrency
        self.stack = contextlib.ExitStack()
        self.portal = self.stack.enter_context(start_blocking_portal(backend))
        self.portal.call(warm_up_on_loop, context)

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return self.portal.call(run_limited, jobs, self.concurrency)

    def close(self) -> None:
        self.stack.close()


class AnyioRunner(Runner):
    """Jobs as tasks in an anyio task group on ``backend``; ``workers`` is how many run at once."""

    job_form = "anyio"
    kind = EVENT_LOOP

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = f"anyio-{backend}"
        self.description = f"tasks in an anyio task group on {backend}, W at once"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec(self.backend) is None:
            return (
                f"{self.backend} is not installed (pip install 'concurrency-lab[{self.backend}]')"
            )
        return None

    def layout(self, workers: Workers) -> Layout:
        return Layout(tasks=workers.total)

    def start(self, layout: Layout, context: RunContext) -> PortalSession:
        return PortalSession(self.backend, layout.tasks, context)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(AnyioRunner("asyncio"))
    register(AnyioRunner("trio"))
