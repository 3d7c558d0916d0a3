"""Functions a user might measure with ``lab run``: the tests' own work."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import threading
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


def in_main_thread() -> bool:
    """A different answer on threads: whether the call ran in its process's main thread."""
    return threading.current_thread() is threading.main_thread()


def draw() -> float:
    """A different answer at every call."""
    return random.random()


def square(item: int, plus: int = 0) -> int:
    """One item's work."""
    return item * item + plus


SQUARES = [1, 2, 3]
NO_ITEMS: list[int] = []
#: Items that differ in every process that imports them.
SHUFFLED = random.sample(range(1000), 5)


def hang() -> None:
    """A call that never returns, in a child process of its own too."""
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(3600,))
    child.start()
    time.sleep(3600)


def make_lock() -> object:
    """A result that cannot be pickled: fine in a thread, not across processes."""
    return threading.Lock()
