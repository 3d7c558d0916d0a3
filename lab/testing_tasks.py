"""Tasks for the conformance kit (:mod:`lab.testing`), loaded with ``-p lab.testing_tasks``.

Each has a plain form and event-loop forms, so that every kind of runner can be checked.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from lab.markers import hookimpl
from lab.task import Size, Task

if TYPE_CHECKING:
    from collections.abc import Callable

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


def _task(
    name: str,
    plain: Callable[[float], object],
    awaited: Callable[[float], object],
    warm_up: float | None = None,
) -> Task:
    return Task(
        name=f"conformance-{name}",
        description=f"conformance kit: {name}",
        bound="io",
        forms={"sync": plain, "asyncio": awaited, "anyio": awaited},
        size=SIZE,
        warm_up=warm_up,
    )


TASKS = (
    _task("nap", nap, anap),
    _task("fail", fail, afail),
    _task("exit", leave, aleave),
    _task("hang", hang, ahang),
    _task("warm", count_calls, acount_calls, warm_up=0.0),
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    for task in TASKS:
        register(task)
