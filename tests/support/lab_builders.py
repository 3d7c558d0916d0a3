"""Results built by hand for tests of the analysis and the reports: no worker runs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lab.jobs import JobRecord
from lab.machine.metadata import Metadata
from lab.results.model import Cell, Results, Sample, TaskInfo
from lab.runner import EVENT_LOOP, INLINE, PROCESSES, THREADS, Layout

MIB = 1024 * 1024
#: The kind of each runner name the tests use.
KINDS = {"single": INLINE, "threads": THREADS, "processes": PROCESSES, "asyncio": EVENT_LOOP}


def fake_metadata(**changes: Any) -> Metadata:
    facts = Metadata(
        date="2026-11-25T18:00:00+00:00",
        python="CPython 3.11.7 (GCC 12.2.0)",
        gil_enabled=True,
        cpus=2,
        logical_cpus=4,
        affinity=[0, 1],
        system="Linux",
        load_average=[0.5, 0.4, 0.3],
        busy_percent=3.0,
        sleep_overshoot=0.0001,
        start_method="spawn",
        memory_metric="PSS",
        memory_resolution=1024,
        versions={"pluggy": "1.7.0"},
    )
    return replace(facts, **changes)


def sample(
    job_span: float,
    peak: int = 20 * MIB,
    records: list[JobRecord] | None = None,
    cpu: float | None = None,
    cpu_resolution: float = 0.0,
) -> Sample:
    """A run whose jobs took ``job_span`` (one job, unless ``records`` are given)."""
    if records is None:
        records = [JobRecord(0, 100, "MainProcess", "MainThread", 1000, 0.0, job_span, None)]
    return Sample(
        startup=0.01,
        wall=job_span,
        teardown=0.0,
        cpu=job_span if cpu is None else cpu,
        job_span=job_span,
        peak_memory=peak,
        gil_enabled=True,
        records=records,
        cpu_resolution=cpu_resolution,
    )


def cell(
    runner: str,
    layout: Layout,
    spans: list[float],
    task: str = "cpu",
    bound: str = "cpu",
    jobs: int = 4,
    size: float = 1000,
    peak: int = 20 * MIB,
    kind: str | None = None,
    cpu: float | None = None,
    **fields: Any,
) -> Cell:
    """A cell of ``runner`` whose samples' job times are ``spans``, and whose runs used ``cpu``
    each (else the CPU of its job time on as many of 2 CPUs as it has workers: the work of a
    CPU-bound task done in that time)."""
    workers = str(layout.concurrency)
    return Cell(
        task=task,
        bound=bound,
        runner=runner,
        kind=kind or KINDS.get(runner, THREADS),
        workers=workers,
        layout=layout,
        jobs=jobs,
        size=size,
        samples=[
            sample(s, peak, cpu=s * min(layout.concurrency, 2) if cpu is None else cpu)
            for s in spans
        ],
        **fields,
    )


def results(cells: list[Cell], repeat: int = 3, complete: bool = True, **facts: Any) -> Results:
    """A matrix run of ``cells``, with a task for each task the cells name."""
    seen: dict[str, Cell] = {}
    for c in cells:
        seen.setdefault(c.task, c)
    tasks = [
        TaskInfo(name, name, c.bound, "count", c.size, f"{c.size:,}") for name, c in seen.items()
    ]
    settings = {"kind": "matrix", "jobs": 4, "warmups": 0, "repeat": repeat}
    return Results(fake_metadata(**facts), settings, tasks, cells, complete)


def run_of(records: list[JobRecord], wall: float, peak: int = 40 * MIB) -> Sample:
    """A run of ``records`` (their span its job time and CPU) that took ``wall`` in all."""
    span = max(r.end for r in records) - min(r.start for r in records)
    return Sample(
        startup=0.2,
        wall=wall,
        teardown=0.0,
        cpu=span,
        job_span=span,
        peak_memory=peak,
        gil_enabled=True,
        records=records,
    )
