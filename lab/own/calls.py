"""The jobs of a user's function: module-level functions (so they pickle by reference) that
call the function the job's :class:`Call` names, imported once in each process."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.own.reference import Reference


@dataclass(frozen=True)
class Call:
    """One call of a user's function: which (and its async twin, for event loops), and its
    arguments; or, with ``items``, what every job's call shares (see :meth:`for_job`)."""

    function: Reference
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    twin: Reference | None = None
    items: tuple[Any, ...] = ()

    def for_job(self, index: int) -> Call:
        """Job ``index``'s call: with items, its item (``index`` past their number starts
        again from the first) before the other arguments; else this call."""
        if not self.items:
            return self
        item = self.items[index % len(self.items)]
        return Call(self.function, (item, *self.args), self.kwargs, self.twin)


def for_job(shared: Call, index: int) -> Call:
    """Job ``index``'s own call (a task's ``job_argument``)."""
    return shared.for_job(index)


#: A thread's time on a CPU and waiting for one, in nanoseconds (Linux).
SCHEDSTAT = "/proc/thread-self/schedstat"


def call_probed(job: Call) -> str | None:
    """Call the function a job names and return, instead of its result, the nanoseconds the
    calling thread waited for a CPU meanwhile, as text (``None`` where the system does not
    say): with the job's CPU time, what keeps a thread busy, on a busy machine too. (The
    kernel adds a running thread's last slice of CPU to these counts only when it switches,
    so the CPU time comes from the job's own clock.)"""
    before = _schedstat()
    function = job.function.load()
    if inspect.iscoroutinefunction(function):  # one call at a time, each on a loop of its own
        asyncio.run(function(*job.args, **dict(job.kwargs)))
    else:
        function(*job.args, **dict(job.kwargs))
    after = _schedstat()
    if before is None or after is None:
        return None
    return str(after[1] - before[1])


def _schedstat() -> tuple[int, int] | None:
    try:
        with open(SCHEDSTAT, encoding="ascii") as file:
            running, waiting, _ = file.read().split()
        return int(running), int(waiting)
    except (OSError, ValueError):
        return None


def call(job: Call) -> Any:
    """Call the function a job names and return what it returned."""
    return job.function.load()(*job.args, **dict(job.kwargs))


async def call_async(job: Call) -> Any:
    """Await the async twin a job names (or the function, an ``async def`` itself) and return
    what it returned."""
    twin = job.twin or job.function
    return await twin.load()(*job.args, **dict(job.kwargs))
