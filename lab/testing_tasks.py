"""Tasks for the conformance kit (:mod:`lab.testing`), loaded with ``-p lab.testing_tasks``.

Each has a plain form and event-loop forms, so that every kind of runner can be checked.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from lab.markers import hookimpl
from lab.task import Bound, Size, Task

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.jobs import JobRecord

SIZE = Size(name="seconds", kind=float, default=0.05, soft_limit=3600.0, unit=" s")
ERROR_MESSAGE = "a conformance job failed on purpose"


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def anap(seconds: float) -> float:
    import anyio

    await anyio.sleep(seconds)
    return seconds


def fail(seconds: float) -> None:
    raise ValueError(ERROR_MESSAGE)


async def afail(seconds: float) -> None:
    raise ValueError(ERROR_MESSAGE)


def leave(seconds: float) -> None:
    sys.exit(3)


async def aleave(seconds: float) -> None:
    sys.exit(3)


def hang(seconds: float) -> None:
    time.sleep(1e9)


async def ahang(seconds: float) -> None:
    import anyio

    await anyio.sleep(1e9)


_calls_in_this_process = 0


def count_calls(seconds: float) -> int:
    """How many times this process has called this function, this call included."""
    global _calls_in_this_process
    _calls_in_this_process += 1
    return _calls_in_this_process


async def acount_calls(seconds: float) -> int:
    return count_calls(seconds)


def spin(seconds: float) -> float:
    """Compute for ``seconds`` of this thread's CPU time: CPU-bound work whose CPU the kernel
    counts, to check the records' timings against."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds


async def aspin(seconds: float) -> float:
    return spin(seconds)


#: How much earlier than its deadline a sleep may wake: event loops' timers fire on a clock of
#: about a millisecond.
EARLY_WAKE_UP = 0.002


def slept_long_enough(record: JobRecord, size: int | float) -> str | None:
    """A nap's record lasts its nap at least (give or take an early wake-up): a sleep cannot be
    shorter."""
    if record.duration < size - EARLY_WAKE_UP:
        return (
            f"its record says it lasted {record.duration:.4f} s; it slept {size:g} s: a record"
            " must say when the job really started and ended"
        )
    return None


def _no_problem(record: JobRecord, size: int | float) -> str | None:
    return None


def _task(
    name: str,
    plain: Callable[[float], object],
    awaited: Callable[[float], object],
    warm_up: float | None = None,
    check: Callable[[JobRecord, int | float], str | None] | None = None,
    bound: Bound = "io",
) -> Task:
    return Task(
        name=f"conformance-{name}",
        description=f"conformance kit: {name}",
        bound=bound,
        forms={"sync": plain, "asyncio": awaited, "anyio": awaited},
        size=SIZE,
        warm_up=warm_up,
        check=check or _no_problem,
    )


TASKS = (
    _task("nap", nap, anap, check=slept_long_enough),
    _task("spin", spin, aspin, bound="cpu"),
    _task("fail", fail, afail),
    _task("exit", leave, aleave),
    _task("hang", hang, ahang),
    _task("warm", count_calls, acount_calls, warm_up=0.0),
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    for task in TASKS:
        register(task)
