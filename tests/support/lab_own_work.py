"""Functions a user might measure with ``lab run``: the tests' own work."""

from __future__ import annotations

import asyncio
import time

NOT_CALLABLE = 3


def count(n: int) -> int:
    """CPU-bound: a countdown."""
    while n > 0:
        n -= 1
    return n


def wait(seconds: float) -> float:
    """IO-bound: a blocking sleep."""
    time.sleep(seconds)
    return seconds


async def wait_async(seconds: float) -> float:
    """The sleep's async twin."""
    await asyncio.sleep(seconds)
    return seconds


def boom(what: object) -> None:
    """A function that raises."""
    raise ValueError(f"no {what}")


def join(first: str, second: str = "", *, sep: str = "-") -> str:
    """Strings and keyword arguments."""
    return f"{first}{sep}{second}"
