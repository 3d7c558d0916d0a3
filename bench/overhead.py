"""The lab's bookkeeping per job, on a no-op job, in microseconds."""

from __future__ import annotations

import tempfile
import timeit
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.core import BenchError
from bench.jobs import anoop, noop
from lab.boundary.measurement import Measurement
from lab.invocations import counters
from lab.jobs import Job, host_clock
from lab.run.validate import problems
from lab.runner import Layout
from lab.timing import clock, thread_cpu
from lab.worker.measure import make_jobs

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from lab.task import Task

#: Calls timed per repeat for the per-call figures, and records for the per-record ones.
CALLS = 100_000
RECORDS = 10_000
REPEAT = 5
#: µs an event loop's job may spend in the lab, at most: on one thread, 10,000 jobs pay it
#: 10,000 times in their run's span (5 ms, 2.5 % of a 0.2 s sleep, at 0.5 µs).
AWAIT_GOAL = 0.5
#: µs counting one call of a job may cost where it runs, at most: a plain increment in shared
#: memory, no lock, no system call.
COUNT_GOAL = 0.05


@dataclass(frozen=True)
class Cost:
    """One bookkeeping step: its name, µs per job, how it was found, and the most it may cost
    (``None``: no goal)."""

    name: str
    micros: float
    how: str
    goal: float | None = None

    def meets_goal(self) -> bool:
        return self.goal is None or self.micros <= self.goal


def per_call(stmt: str, namespace: dict[str, object]) -> float:
    """µs per call of ``stmt``, from ``CALLS`` calls a repeat."""
    best = min(timeit.Timer(stmt, globals=namespace).repeat(REPEAT, CALLS))
    return best * 1e6 / CALLS


def per_record(stmt: str, namespace: dict[str, object]) -> float:
    """µs per record of one ``stmt`` over ``RECORDS`` records."""
    best = min(timeit.Timer(stmt, globals=namespace).repeat(REPEAT, 1))
    return best * 1e6 / RECORDS


def job_call() -> Cost:
    """A sync form's call (threads, processes, a plain loop): it reads the thread's CPU clock
    before and after the job, which the CPU check of CPU-bound runs needs."""
    job = Job(index=0, func=noop, size=0)
    wrapped = per_call("job()", {"job": job})
    direct = per_call("noop(0)", {"noop": noop})
    cpu_clock = 2 * per_call("thread_cpu()", {"thread_cpu": thread_cpu})
    how = (
        f"{wrapped:.2f} µs a call through the job, {direct:.2f} µs direct;"
        f" {cpu_clock:.2f} µs of it the 2 reads of the thread's CPU clock"
    )
    return Cost("Job.__call__ - direct call", wrapped - direct, how)


def call_counted() -> Cost:
    """Counting a job's call where it runs (what catches a runner that runs work no record
    shows): the statements ``Job.__call__`` adds, timed alone (a call's own cost varies by
    more than they take), against the same lookups on a job without counters."""
    counting = (
        "counters = job.counters\n"
        "if counters is not None and (calls := counters.view) is not None:\n"
        "    calls[job.index] += 1"
    )
    with tempfile.TemporaryDirectory() as folder, counters(Path(folder), 1) as counted:
        with_counter = Job(index=0, func=noop, size=0, counters=counted)
        without = Job(index=0, func=noop, size=0)
        counted_micros = per_call(counting, {"job": with_counter})
        plain_micros = per_call(counting, {"job": without})
        if counted.counts() == [0]:
            raise BenchError("the counter did not count")
    how = f"{counted_micros * 1000:.0f} ns counted, {plain_micros * 1000:.0f} ns with no counters"
    return Cost("counting a call", counted_micros, how, COUNT_GOAL)


def job_await() -> Cost:
    """An event loop's job: no CPU clock (the loop's thread runs other jobs meanwhile)."""
    job = Job(index=0, func=anoop, size=0)
    wrapped = per_call("drive(job.arun())", {"drive": drive, "job": job})
    direct = per_call("drive(anoop(0))", {"drive": drive, "anoop": anoop})
    how = f"{wrapped:.2f} µs awaiting through the job, {direct:.2f} µs direct"
    return Cost("Job.arun - direct await", wrapped - direct, how, AWAIT_GOAL)


def drive(coroutine: Coroutine[object, object, object]) -> object:
    """Run a coroutine that never suspends to its end, as a loop's task would, loop aside."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise BenchError("a no-op coroutine suspended")


def measurement() -> Measurement:
    """A valid run of ``RECORDS`` no-op jobs, one after another in this thread.

    Like a cell worker's (``lab.worker.measure``), it names this host and its clock offset: the
    records do (``Job`` stamps them), and a record from a host other than the measurement's is
    checked on the wall clock, ``start + clock_offset``, against the run on the measurement's,
    ``run_start + clock_offset``; with the measurement's host left empty and its offset 0, every
    record would fall some 10⁹ s (the wall clock's epoch) after the run."""
    host, offset = host_clock()
    start = clock()
    records = [job() for job in make_jobs(noop, 0, RECORDS, None)]
    end = clock()
    return Measurement(
        startup=0.0,
        wall=end - start,
        teardown=0.0,
        cpu=0.0,
        run_start=start,
        run_end=end,
        records=records,
        host=host,
        clock_offset=offset,
    )


def validation(run: Measurement, task: Task) -> Cost:
    found = problems(run, RECORDS, Layout(), task, 0)
    if found:
        raise BenchError(f"the no-op records do not validate: {found[0]}")
    namespace = {"problems": problems, "run": run, "layout": Layout(), "task": task}
    micros = per_record(f"problems(run, {RECORDS}, layout, task, 0)", namespace)
    return Cost("validate.problems", micros, f"over {RECORDS:,} records")


def json_round_trip(run: Measurement) -> list[Cost]:
    text = run.to_json()
    if Measurement.from_json(text) != run:
        raise BenchError("the JSON round trip changed the measurement")
    dump = per_record("run.to_json()", {"run": run})
    load = per_record("load(text)", {"load": Measurement.from_json, "text": text})
    how = f"over {RECORDS:,} records, {len(text) / RECORDS:.0f} bytes each"
    return [Cost("Measurement.to_json", dump, how), Cost("Measurement.from_json", load, how)]


def bookkeeping(task: Task) -> list[Cost]:
    """Every step's cost per job, and their total, checking records against ``task``."""
    run = measurement()
    call = job_call()
    after = [validation(run, task), *json_round_trip(run)]
    total = call.micros + sum(cost.micros for cost in after)
    how = "a sync job's call, then its record checked and sent"
    return [call, call_counted(), job_await(), *after, Cost("total", total, how)]
