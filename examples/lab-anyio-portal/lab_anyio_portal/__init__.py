"""``anyio-portal``: jobs as tasks on an anyio event loop that runs in a thread of its own."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import lab
from lab.pools import warm_up_on_loop

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal


async def run_at_most(jobs: Sequence[lab.Job], tasks: int) -> list[lab.JobRecord]:
    """Await every job on the running loop, at most ``tasks`` at once; records in job order."""
    import anyio

    limiter = anyio.CapacityLimiter(tasks)  # made on the loop, as anyio wants
    records: dict[int, lab.JobRecord] = {}

    async def one(position: int, job: lab.Job) -> None:
        async with limiter:
            records[position] = await job.arun()  # never raises for the job's own failure

    async with anyio.create_task_group() as group:
        for position, job in enumerate(jobs):
            group.start_soon(one, position, job)
    return [records[position] for position in range(len(jobs))]


class PortalSession:
    """A session is any class with ``run`` and ``close``: this one holds a portal to the loop."""

    def __init__(self, stack: contextlib.ExitStack, portal: BlockingPortal, tasks: int) -> None:
        self.stack = stack
        self.portal = portal
        self.tasks = tasks

    def run(self, jobs: Sequence[lab.Job]) -> list[lab.JobRecord]:
        # Called from the cell's main thread, which waits here until the loop has run them all.
        return self.portal.call(run_at_most, jobs, self.tasks)

    def close(self) -> None:
        self.stack.close()  # stops the loop and joins its thread


class AnyioPortalRunner(lab.Runner):
    name = "anyio-portal"
    description = "tasks on an anyio event loop in a thread of its own, W at once"
    job_form = "anyio"
    kind = lab.EVENT_LOOP

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("anyio") is None:
            return "anyio is not installed (pip install anyio)"
        return None

    def layout(self, workers: lab.Workers) -> lab.Layout:
        return lab.Layout(tasks=workers.total)  # W tasks at once on one loop in one thread

    def start(self, layout: lab.Layout, context: lab.RunContext) -> PortalSession:
        from anyio.from_thread import start_blocking_portal

        # The asyncio backend, on uvloop where installed (the lab installs it, except on Windows).
        options = {"use_uvloop": importlib.util.find_spec("uvloop") is not None}
        stack = contextlib.ExitStack()
        # Returns once the loop runs in its new thread: the loop's start-up is timed as start-up.
        portal = stack.enter_context(start_blocking_portal("asyncio", options))
        # The task's warm-up calls, in the anyio form, on this loop: no job runs cold.
        portal.call(warm_up_on_loop, context)
        return PortalSession(stack, portal, layout.tasks)


@lab.hookimpl
def lab_register_runners(register: Callable[[lab.Runner], None]) -> None:
    register(AnyioPortalRunner())
