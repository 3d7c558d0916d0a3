"""Jobs and their records: the host's wrapper around one call of a task's function.

A runner only calls ``job()`` (or awaits ``job.arun()``); the job itself records where and when
it ran, so a runner cannot change what is measured.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.timing import clock, thread_cpu

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

JsonScalar = int | float | str | bool | None


@dataclass(slots=True)
class JobRecord:
    """Where and when one job ran, and what it returned (the value itself until the record is
    written as JSON, so that a result travels back through the runner like any other).

    Not frozen: a frozen dataclass costs about 1.5 µs more to create, which shows on event
    loops running 10,000 jobs.
    """

    index: int
    pid: int
    process: str
    thread: str
    thread_id: int
    start: float
    end: float
    cpu: float | None
    result: Any = None
    error: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Job:
    """One call of a task function with its size: picklable, run by calling it.

    :param index: the job's position; records must come back in this order.
    :param func: a module-level function taking the size (a coroutine function for event loops).
    :param size: the function's argument: the task's size (a count, a number of seconds), or
        what the task made of it (a payload to send to the worker).
    :param trace: the start and finish words to print live, or ``None`` for no trace.
    """

    index: int
    func: Callable[[Any], Any]
    size: Any
    trace: tuple[str, str] | None = None

    def __call__(self) -> JobRecord:
        """Run the job in the calling thread and return its record; never raises for the job."""
        identity = _identity()  # before the clock: waking jobs should do as little as possible
        self._trace(0)
        cpu0 = thread_cpu()
        start = clock()
        result: Any = None
        error = None
        try:
            result = self.func(self.size)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a job's SystemExit is its own failure, not the worker's
            error = describe_exception(exc)
        end = clock()
        cpu = thread_cpu() - cpu0
        self._trace(1)
        return JobRecord(self.index, *identity, start, end, cpu, result, error)

    async def arun(self) -> JobRecord:
        """Await the job on the running event loop and return its record.

        Its CPU time is not its own alone (the loop's thread runs other jobs meanwhile), so the
        record's ``cpu`` is ``None``.
        """
        identity = _identity()
        self._trace(0)
        start = clock()
        result: Any = None
        error = None
        try:
            result = await self._awaitable()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if _is_cancellation(exc):
                raise
            error = describe_exception(exc)
        end = clock()
        self._trace(1)
        return JobRecord(self.index, *identity, start, end, None, result, error)

    def _awaitable(self) -> Awaitable[Any]:
        awaitable: Awaitable[Any] = self.func(self.size)
        return awaitable

    def _trace(self, which: int) -> None:
        if self.trace is not None:
            # One write a line: lines from several processes must not interleave.
            sys.stdout.write(trace_line(self.trace[which]) + "\n")
            sys.stdout.flush()


_this_thread = threading.local()


def _identity() -> tuple[int, str, str, int]:
    """The calling thread's pid, process name, thread name and native id, looked up once per
    thread (and again in a forked child, whose pid differs)."""
    pid = os.getpid()
    known: tuple[int, str, str, int] | None = getattr(_this_thread, "identity", None)
    if known is None or known[0] != pid:
        known = (
            pid,
            multiprocessing.current_process().name,
            threading.current_thread().name,
            threading.get_native_id(),
        )
        _this_thread.identity = known
    return known


def trace_line(words: str) -> str:
    """One line of the classic demo's live trace, for the calling process and thread."""
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    process = multiprocessing.current_process().name
    thread = threading.current_thread().name
    return f"{os.getpid()} * {process} * {thread} ---> {words} ---> at {stamp}"


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def portable(value: Any) -> JsonScalar:
    """A JSON scalar for a result: the value itself, the size of bytes, or the ``repr``."""
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return repr(value)


def _is_cancellation(exc: BaseException) -> bool:
    import asyncio

    if isinstance(exc, asyncio.CancelledError):
        return True
    try:
        import anyio

        return isinstance(exc, anyio.get_cancelled_exc_class())
    except Exception:
        return False


def span(records: Sequence[JobRecord]) -> float:
    """From the first job's start to the last job's end (0 without records)."""
    return max(r.end for r in records) - min(r.start for r in records) if records else 0.0


def make_jobs(
    func: Callable[[Any], Any], size: Any, count: int, trace: tuple[str, str] | None
) -> list[Job]:
    """``count`` jobs calling ``func(size)``, indexed from 0."""
    return [Job(index=i, func=func, size=size, trace=trace) for i in range(count)]
