"""Jobs and their records: the host's wrapper around one call of a task's function.

A runner only calls ``job()`` (or awaits ``job.arun()``); the job itself records where and when
it ran, so a runner cannot change what is measured.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from lab.timing import clock, thread_cpu

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.invocations import Counters


@dataclass(slots=True)
class JobRecord:
    """Where and when one job ran, and what it returned (the value itself until the record is
    written as JSON, so that a result travels back through the runner like any other).

    Not frozen: a frozen dataclass costs about 1.5 µs more to create, which shows on event
    loops running 10,000 jobs.

    ``start`` and ``end`` are on the host's monotonic clock, comparable only between records
    of one ``host``; ``clock_offset`` (wall-clock time minus that clock, read once in the
    process) makes them wall-clock times where records come from several hosts.
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
    host: str = ""
    clock_offset: float = 0.0
    #: How long each operation the job timed took (a request, a file read), in seconds, in
    #: order: set from a :class:`Timed` result where the record leaves the worker.
    operations: list[float] | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


#: A record's fields, in the order of :class:`JobRecord`'s constructor.
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))


class _Recorded(JobRecord):
    """The record a job returns where the lab keeps its record itself (see :data:`RECORDED`):
    one object for every such job, which nothing may change."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            "this record is kept by the lab (lab.jobs.RECORDED): a runner passes it back as"
            " the job's record and changes nothing in it"
        )

    def __reduce__(self) -> str:
        return "RECORDED"

    def __repr__(self) -> str:
        return "RECORDED"


def _recorded() -> JobRecord:
    marker = object.__new__(_Recorded)
    nothing = JobRecord(-1, 0, "", "", 0, 0.0, 0.0, None)
    for name in RECORD_FIELDS:
        object.__setattr__(marker, name, getattr(nothing, name))
    return marker


#: What ``job()`` and ``await job.arun()`` return where the lab keeps the job's record by
#: column as it ends (a large run, in the cell's own process): a runner passes it back, in the
#: job's place, like any record. Its fields say nothing of the job (``index`` is -1); nothing
#: in it can be changed.
RECORDED: JobRecord = _recorded()


class JobRecorder(Protocol):
    """Where a large run's jobs keep their records by column as they end (the cell worker's
    :class:`lab.worker.recorder.Recorder`)."""

    def add(
        self,
        index: int,
        identity: Identity,
        start: float,
        end: float,
        cpu: float | None,
        result: Any,
        error: str | None,
    ) -> bool:
        """Keep job ``index``'s record; ``False`` (nothing kept) where it is not kept here."""
        ...


class Timed(NamedTuple):
    """What a task's job function returns when the job is made of operations it times itself
    (the requests it sends, the files it reads): its result, and how long each operation took
    in seconds (``lab.timing.clock`` differences), in order.

    The record keeps ``result`` as its result and the durations as its ``operations``, from
    which the reports give latency percentiles per operation and operations per second.
    """

    result: Any
    operations: tuple[float, ...] | list[float]


@dataclass(frozen=True, slots=True)
class Job:
    """One call of a task function with its size: picklable, run by calling it.

    :param index: the job's position; records must come back in this order.
    :param func: a module-level function taking the size (a coroutine function for event loops).
    :param size: the function's argument: the task's size (a count, a number of seconds), or
        what the task made of it (a payload to send to the worker).
    :param trace: the start and finish words to print live, or ``None`` for no trace.
    :param counters: where each call of the job is counted, in the process that makes it (the
        lab compares the counts with the records that came back); ``None``: not counted.
    :param recorder: where the job keeps its record by column as it ends, in the process that
        made the job (a large run's: see :mod:`lab.worker.recorder`); the job then returns
        :data:`RECORDED`. A job pickled to another process leaves it behind and returns its
        record there, as it does without one.

    Slotted: a run of 1,000,000 jobs holds as many of them.
    """

    index: int
    func: Callable[[Any], Any]
    size: Any
    trace: tuple[str, str] | None = None
    counters: Counters | None = None
    recorder: JobRecorder | None = None

    def __reduce__(self) -> tuple[type[Job], tuple[Any, ...]]:
        # The recorder stays in the process that made the job.
        return Job, (self.index, self.func, self.size, self.trace, self.counters)

    def __call__(self) -> JobRecord:
        """Run the job in the calling thread and return its record; never raises for the job.

        The thread runs nothing else meanwhile, so its CPU clock's advance is the job's own
        CPU time (what the host checks a CPU-bound run's CPU against).
        """
        # Everything between two jobs' clock reads counts in a run's span: keep it to locals.
        identity = _this_thread.identity or _identity()
        counters = self.counters
        if counters is not None and (calls := counters.view) is not None:
            calls[self.index] += 1
        trace = self.trace
        if trace is not None:
            _write_trace(trace[0])
        func, size = self.func, self.size
        error = None
        cpu0 = thread_cpu()
        start = clock()
        try:
            result = func(size)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a job's SystemExit is its own failure, not the worker's
            result = None
            error = describe_failure(exc)
        end = clock()
        cpu = thread_cpu() - cpu0
        if trace is not None:
            _write_trace(trace[1])
        recorder = self.recorder
        if recorder is not None and recorder.add(
            self.index, identity, start, end, cpu, result, error
        ):
            return RECORDED
        pid, process, thread, thread_id, host, offset = identity
        return JobRecord(
            self.index, pid, process, thread, thread_id, start, end, cpu, result, error, host,
            offset,
        )  # fmt: skip

    async def arun(self) -> JobRecord:
        """Await the job on the running event loop and return its record.

        The loop's thread runs other jobs while this one waits, so the thread's CPU clock says
        nothing about this job: it is not read, and the record's ``cpu`` is ``None``.
        """
        # A waiting job's coroutine holds every local name of this function in its frame: few
        # of them (1,000,000 waiting jobs hold 1,000,000 frames), and no call but the job's
        # own between the two clock reads. The loop's thread is read where the job ends.
        if self.counters is not None and self.counters.view is not None:
            self.counters.view[self.index] += 1
        if self.trace is not None:
            _write_trace(self.trace[0])
        error = None
        start = clock()
        try:
            result = await self.func(self.size)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if _is_cancellation(exc):
                raise
            result = None
            error = describe_failure(exc)
        end = clock()
        if self.trace is not None:
            _write_trace(self.trace[1])
        if self.recorder is not None and self.recorder.add(
            self.index, _this_thread.identity or _identity(), start, end, None, result, error
        ):
            return RECORDED
        # JobRecord(...) without the call of its __init__, which costs 0.1 µs more a job: 1 ms
        # inside a run of 10,000 jobs on one loop. Every field is set, as __init__ would.
        record = _new_record(JobRecord)
        record.index = self.index
        (
            record.pid, record.process, record.thread, record.thread_id, record.host,
            record.clock_offset,
        ) = _this_thread.identity or _identity()  # fmt: skip
        record.start = start
        record.end = end
        record.cpu = None
        record.result = result
        record.error = error
        record.operations = None
        return record


def _write_trace(words: str) -> None:
    # One write a line: lines from several processes must not interleave.
    sys.stdout.write(_trace_line(words) + "\n")
    sys.stdout.flush()


Identity = tuple[int, str, str, int, str, float]
#: A record's instance with no field set yet (a slotted dataclass: ``object.__new__``).
_new_record = object.__new__


class _ThisThread(threading.local):
    """The calling thread's identity once it ran a job: its pid, process name, thread name,
    native id, host and clock offset do not change while it runs jobs (``None`` before, no
    exception to catch)."""

    identity: Identity | None = None


_this_thread = _ThisThread()


def _identity() -> Identity:
    """Look up the calling thread's identity and remember it for the thread's next jobs (a pool
    of 1,000 threads pays this 1,000 times inside its run: no system call for the thread)."""
    thread = threading.current_thread()
    native_id = thread.native_id
    known: Identity = (
        os.getpid(),
        multiprocessing.current_process().name,
        thread.name,
        threading.get_native_id() if native_id is None else native_id,
        *host_clock(),
    )
    _this_thread.identity = known
    return known


_HOST_CLOCK: list[tuple[str, float]] = []


def host_clock() -> tuple[str, float]:
    """This machine's name, and its wall-clock time minus the monotonic clock the records use
    (read once a process)."""
    if not _HOST_CLOCK:
        name = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
        _HOST_CLOCK.append((name, time.time() - clock()))
    return _HOST_CLOCK[0]


def _forget_identity() -> None:
    """In a forked child: its pid, process and thread differ from the parent's."""
    _this_thread.__dict__.pop("identity", None)
    _HOST_CLOCK.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_identity)


def _trace_line(words: str) -> str:
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


#: The frames of a job's traceback its record keeps, innermost last.
TRACEBACK_FRAMES = 3


def describe_failure(exc: BaseException) -> str:
    """A job's exception as its record's error: ``Type: message`` on the first line, then the
    last :data:`TRACEBACK_FRAMES` frames of its traceback below the job's own call (see
    :func:`error_line` and :func:`error_traceback`)."""
    frames = traceback.extract_tb(exc.__traceback__)[1:][-TRACEBACK_FRAMES:]
    lines = "".join(traceback.format_list(frames)).rstrip("\n")
    return describe_exception(exc) + (f"\n{lines}" if lines else "")


def error_line(error: str) -> str:
    """A record's error on one line: the exception's type and message."""
    return error.partition("\n")[0]


def error_traceback(error: str) -> str:
    """The traceback lines of a record's error (empty where it has none)."""
    return error.partition("\n")[2]


def _is_cancellation(exc: BaseException) -> bool:
    import asyncio

    if isinstance(exc, asyncio.CancelledError):
        return True
    try:
        import anyio

        return isinstance(exc, anyio.get_cancelled_exc_class())
    except Exception:
        return False
