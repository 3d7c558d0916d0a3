"""The lab's bookkeeping per job, on a no-op job, in microseconds."""

from __future__ import annotations

import timeit
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.core import BenchError
from bench.jobs import noop
from lab.jobs import Job, make_jobs
from lab.run.validate import problems
from lab.runner import Layout
from lab.timing import clock
from lab.worker.protocol import Measurement

if TYPE_CHECKING:
    from lab.task import Task

#: Calls timed per repeat for the per-call figures, and records for the per-record ones.
CALLS = 100_000
RECORDS = 10_000
REPEAT = 5


@dataclass(frozen=True)
class Cost:
    """One bookkeeping step: its name, µs per job, and how it was found."""

    name: str
    micros: float
    how: str


def per_call(stmt: str, namespace: dict[str, object]) -> float:
    """µs per call of ``stmt``, from ``CALLS`` calls a repeat."""
    best = min(timeit.Timer(stmt, globals=namespace).repeat(REPEAT, CALLS))
    return best * 1e6 / CALLS


def per_record(stmt: str, namespace: dict[str, object]) -> float:
    """µs per record of one ``stmt`` over ``RECORDS`` records."""
    best = min(timeit.Timer(stmt, globals=namespace).repeat(REPEAT, 1))
    return best * 1e6 / RECORDS


def job_call() -> Cost:
    job = Job(index=0, func=noop, size=0)
    wrapped = per_call("job()", {"job": job})
    direct = per_call("noop(0)", {"noop": noop})
    how = f"{wrapped:.2f} µs a call through the job, {direct:.2f} µs direct"
    return Cost("Job.__call__ - direct call", wrapped - direct, how)


def measurement() -> Measurement:
    """A valid run of ``RECORDS`` no-op jobs, one after another in this thread."""
    start = clock()
    records = [job() for job in make_jobs(noop, 0, RECORDS, None)]
    return Measurement(
        startup=0.0,
        wall=clock() - start,
        teardown=0.0,
        cpu=0.0,
        run_start=start,
        run_end=clock(),
        records=records,
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
    costs = [job_call(), validation(run, task), *json_round_trip(run)]
    total = sum(cost.micros for cost in costs)
    return [*costs, Cost("total", total, "the job's call, then its record checked and sent")]
