"""The two classic tasks: a CPU-bound countdown and an IO-bound sleep."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from lab import JobRecord, Size, Task, hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

#: ``time.sleep`` and event loops may wake this much before the exact deadline on coarse clocks.
SLEEP_TOLERANCE = 0.002


def countdown(n: int) -> int:
    """The classic CPU-bound job; returns what is left of ``n``, 0 when it counted down fully."""
    while n > 0:
        n -= 1
    return n


def sleep(seconds: float) -> None:
    """The classic IO-bound job: a blocking sleep."""
    time.sleep(seconds)


async def asyncio_sleep(seconds: float) -> None:
    """The sleep for asyncio's event loops (asyncio, uvloop)."""
    await asyncio.sleep(seconds)


async def anyio_sleep(seconds: float) -> None:
    """The sleep for anyio's backends (asyncio, trio)."""
    import anyio

    await anyio.sleep(seconds)


#: The CPU part of a mixed job: about 3 ms of countdown.
MIXED_COUNT = 100_000


def mixed(seconds: float) -> int:
    """A wait, then a little CPU: the blocking form."""
    time.sleep(seconds)
    return countdown(MIXED_COUNT)


async def asyncio_mixed(seconds: float) -> int:
    """A wait, then a little CPU, on asyncio's loops: the CPU part blocks the loop."""
    await asyncio.sleep(seconds)
    return countdown(MIXED_COUNT)


async def anyio_mixed(seconds: float) -> int:
    """A wait, then a little CPU, on anyio's backends."""
    import anyio

    await anyio.sleep(seconds)
    return countdown(MIXED_COUNT)


def check_mixed(record: JobRecord, size: int | float) -> str | None:
    return check_countdown(record, size) or check_sleep(record, size)


def payload(size: int | float) -> bytes:
    """The echo task's argument: ``size`` bytes to send."""
    return bytes(int(size))


def echo(data: bytes) -> bytes:
    """The communication job: whatever was sent comes back, so it crosses twice."""
    return data


def check_countdown(record: JobRecord, size: int | float) -> str | None:
    if record.result != 0:
        return f"the countdown ended at {record.result!r}, not 0"
    return None


def check_sleep(record: JobRecord, size: int | float) -> str | None:
    if record.duration < size - SLEEP_TOLERANCE:
        return f"slept {record.duration:.4f} s, less than {size:g} s"
    return None


CPU = Task(
    name="cpu",
    description="CPU-bound countdown: while n > 0: n -= 1",
    bound="cpu",
    forms={"sync": countdown},
    size=Size(name="count", kind=int, default=200_000_000, soft_limit=10_000_000_000),
    trace_words=("Start counting...", "Finished counting..."),
    missing_form_reason="CPU-bound work blocks the event loop",
    calibrated=True,
    check=check_countdown,
    warm_up=1000,
)

IO = Task(
    name="io",
    description="IO-bound sleep: time.sleep, or asyncio.sleep / anyio.sleep on an event loop",
    bound="io",
    forms={"sync": sleep, "asyncio": asyncio_sleep, "anyio": anyio_sleep},
    size=Size(name="seconds", kind=float, default=0.2, soft_limit=3600.0, unit=" s"),
    trace_words=("Start sleeping.....", "Finished sleeping..."),
    check=check_sleep,
)


def check_echo(record: JobRecord, size: int | float) -> str | None:
    if record.result != f"<{int(size)} bytes>":
        return f"sent {int(size)} bytes and got back {record.result!r}"
    return None


MIXED = Task(
    name="mixed",
    description=f"IO wait plus a little CPU: a sleep, then a countdown from {MIXED_COUNT:,}",
    bound="io",
    forms={"sync": mixed, "asyncio": asyncio_mixed, "anyio": anyio_mixed},
    size=Size(name="seconds", kind=float, default=0.2, soft_limit=3600.0, unit=" s"),
    trace_words=("Start waiting.....", "Finished counting..."),
    check=check_mixed,
)

ECHO = Task(
    name="echo",
    description="communication: send a payload to a worker and get it back",
    bound="transfer",
    forms={"sync": echo},
    size=Size(name="bytes", kind=int, default=1024 * 1024, soft_limit=2**30),
    trace_words=("Start echoing...", "Finished echoing..."),
    missing_form_reason="an event loop's tasks share one thread: nothing to send",
    check=check_echo,
    argument=payload,
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(CPU)
    register(IO)
    register(ECHO)
    register(MIXED)
