"""Timing one run of a runner: start-up, the jobs, and close, each apart.

This is host code that runs in the cell's worker process; the runner only supplies the pool.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from lab.boundary.measurement import Measurement
from lab.jobs import RECORDED, Job, JobRecord, describe_exception, host_clock
from lab.machine.process_tree import CpuReading, tree_cpu
from lab.timing import clock
from lab.worker.recorder import records_nbytes

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from contextlib import AbstractContextManager

    from lab.invocations import Counters
    from lab.records import Records
    from lab.runner import Layout, RunContext, Runner, Session
    from lab.worker.recorder import Recorder


def make_jobs(
    func: Callable[[Any], Any],
    size: Any,
    count: int,
    trace: tuple[str, str] | None,
    counters: Counters | None = None,
    job_argument: Callable[[Any, int], Any] | None = None,
    recorder: Recorder | None = None,
) -> list[Job]:
    """``count`` jobs calling ``func(size)`` (or ``func(job_argument(size, index))``: each its
    own), indexed from 0, each call counted in ``counters`` when given, each record kept by
    ``recorder`` when given (where the job ends in this process)."""
    if job_argument is not None:
        return [
            Job(i, func, job_argument(size, i), trace, counters, recorder) for i in range(count)
        ]
    return [Job(i, func, size, trace, counters, recorder) for i in range(count)]


def measure(
    runner: Runner,
    layout: Layout,
    context: RunContext,
    jobs: Sequence[Job],
    cpu_reading: Callable[[bool, Collection[int]], CpuReading] = tree_cpu,
    apart: Collection[int] = (),
    while_running: Callable[[Session], AbstractContextManager[object]] | None = None,
    recorder: Recorder | None = None,
) -> Measurement:
    """Start ``runner``, run ``jobs`` on it and close it, timing each phase.

    The CPU time is that of the whole process tree during the run phase only, with how far it
    may be off; the processes of ``apart`` (the task's server) are counted on their own; that
    of the processes that vanished unaccounted for is left to the lab, which samples the tree
    (:attr:`Measurement.vanished_cpu`). A
    runner that raises anything (``SystemExit`` included) yields a measurement with ``error``
    set. ``while_running(session)`` is entered just outside the timed run, and left before
    ``close``. With the ``recorder`` the jobs were made with, the records are the recorder's,
    by column, with those the runner returned from other processes.
    """
    bookkeeping = runner.bookkeeping_cpu  # as declared, before the runner runs anything
    t0 = clock()
    try:
        session: Session = runner.start(layout, context)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return Measurement(
            error=f"{_named(runner, context)} failed to start: {describe_exception(exc)}"
        )
    startup = clock() - t0
    host, offset = host_clock()
    outside_tree = bool(getattr(session, "outside_tree", False))
    error = None
    records: list[JobRecord] | Records = []
    with while_running(session) if while_running is not None else contextlib.nullcontext():
        cpu0 = cpu_reading(True, apart)
        run_start = clock()
        try:
            returned = session.run(jobs)
            run_end = clock()
            cpu = cpu_reading(False, apart) - cpu0
            records, error = _as_records(returned, recorder)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            run_end = clock()
            cpu = cpu_reading(False, apart) - cpu0
            error = f"{_named(runner, context)} failed: {describe_exception(exc)}"
    t1 = clock()
    if recorder is not None:
        kept: int | None = recorder.nbytes()
    else:
        kept = records_nbytes(records) if isinstance(records, list) else None
    try:
        session.close()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        error = error or f"{_named(runner, context)} failed to close: {describe_exception(exc)}"
    return Measurement(
        startup=startup,
        wall=run_end - run_start,
        teardown=clock() - t1,
        cpu=cpu.seconds,
        cpu_resolution=cpu.resolution,
        run_start=run_start,
        run_end=run_end,
        records=records,
        error=error,
        outside_tree=outside_tree,
        bookkeeping_cpu=bookkeeping,
        host=host,
        clock_offset=offset,
        session_pids=list(apart),
        session_cpu=cpu.apart if apart else None,
        thread_cpu=[[pid, thread, seconds] for (pid, thread), seconds in cpu.by_thread.items()],
        cpu_tick=cpu.tick,
        vanished_cpu=[
            [pid, created, gone.before, int(gone.apart)]
            for (pid, created), gone in cpu.vanished.items()
        ],
        records_memory=kept,
    )


def _as_records(
    returned: object, recorder: Recorder | None = None
) -> tuple[list[JobRecord] | Records, str | None]:
    """The records a runner returned, or why they are not records. With a ``recorder``, the
    recorder's: each job that ended in this process kept its own record there (and returned
    :data:`~lab.jobs.RECORDED`, or the runner left ``None`` in its place), and the records the
    runner returned from other processes are added to them."""
    if not isinstance(returned, list | tuple):
        return [], f"the runner returned {type(returned).__name__}, not a list of job records"
    wrong = [
        r for r in returned if not isinstance(r, JobRecord) and (recorder is None or r is not None)
    ]
    if wrong:
        return [], f"the runner returned {type(wrong[0]).__name__} among its job records"
    if recorder is None:
        return list(returned), None
    for record in returned:
        if record is not RECORDED and record is not None:
            recorder.add_record(record)
    return recorder.records(), None


def _named(runner: Runner, context: RunContext) -> str:
    return f"runner {runner.name!r} (start method {context.start_method})"
