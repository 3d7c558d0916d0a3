"""Job functions of the hand-written side; each records its own start and end."""

from __future__ import annotations

import asyncio
import time
from time import perf_counter
from typing import TYPE_CHECKING, Any

from lab.task import WARM_UP_CALLS

if TYPE_CHECKING:
    from collections.abc import Callable

#: ``(start, end, result)`` of one job, on ``perf_counter``.
Span = tuple[float, float, int | None]

#: How long a starting worker waits for the others.
START_TIMEOUT = 120.0


def countdown(n: int) -> int:
    """The lab's CPU task, the same code: ``while n > 0: n -= 1``."""
    while n > 0:
        n -= 1
    return n


def same_code(first: Callable[..., object], second: Callable[..., object]) -> bool:
    """Whether two functions compile to the same bytecode, names and constants (docstrings
    aside)."""
    codes = [getattr(func, "__code__", None) for func in (first, second)]
    keys = [
        (code.co_code, code.co_names, [c for c in code.co_consts if not isinstance(c, str)])
        for code in codes
        if code is not None
    ]
    return len(keys) == 2 and keys[0] == keys[1]


#: As the lab does (``lab.task.WARM_UP_CALLS`` calls of the cpu task on its warm-up size):
#: every process that runs countdowns runs warm from its first job.
WARM_UP_COUNT = 1000


def warm_up() -> None:
    """Bring this process's countdown to its steady state (CPython 3.11 specializes a
    function's code after its first calls)."""
    for _ in range(WARM_UP_CALLS):
        countdown(WARM_UP_COUNT)


def timed_countdown(n: int) -> Span:
    """The countdown, timed."""
    start = perf_counter()
    left = countdown(n)
    return start, perf_counter(), left


def sleep(seconds: float) -> None:
    """The lab's IO task's blocking form, the same code: ``time.sleep(seconds)``."""
    time.sleep(seconds)


async def asyncio_sleep(seconds: float) -> None:
    """The lab's IO task's form for asyncio's loops, the same code:
    ``await asyncio.sleep(seconds)``."""
    await asyncio.sleep(seconds)


def timed_blocking_sleep(seconds: float) -> Span:
    """The blocking sleep, timed."""
    start = perf_counter()
    sleep(seconds)
    return start, perf_counter(), None


async def timed_sleep(seconds: float) -> Span:
    """The asyncio sleep, timed."""
    start = perf_counter()
    await asyncio_sleep(seconds)
    return start, perf_counter(), None


def wait_for_all(barrier: Any) -> None:
    """Pool initializer: warm up, then return once every worker has started."""
    warm_up()
    barrier.wait(START_TIMEOUT)


def ready(_: int) -> None:
    """A warm-up call."""


def noop(_: int | float) -> int:
    """A job that does nothing and passes the countdown's check."""
    return 0


async def anoop(_: int | float) -> int:
    """The no-op job for event loops."""
    return 0
