"""Large, realistic results files: ``N`` cells over tasks of every bound, runners of every kind,
worker settings and interpreters, each cell with its measured runs and their job records, saved
through the lab's own writer so that ``lab report FILE`` and ``lab compare`` read them.

The worker settings grow with ``N``: each runner's cells of a task on an interpreter are ``N``
divided by a constant, so a scan of a task's or a runner's cells for each cell shows as the
square of ``N``. ``python -m bench.cells N SEED FILE`` writes one.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from lab.jobs import JobRecord
from lab.machine.metadata import Metadata
from lab.own.answers import answer
from lab.records import Records
from lab.report.output_files import write_file
from lab.results.model import SWEEP, UNSIZED, Cell, Results, Sample, TaskInfo, span
from lab.results.status import timeout
from lab.runner import (
    EVENT_LOOP,
    INLINE,
    INTERPRETERS,
    PROCESSES,
    PROCESSES_THREADS,
    THREADS,
    Layout,
)

MIB = 2**20
#: The machine the runs were measured on.
METADATA = Metadata(
    date="2026-11-25T18:00:00+00:00",
    python="CPython 3.11.7 (GCC 12.2.0)",
    gil_enabled=True,
    cpus=4,
    logical_cpus=8,
    affinity=[0, 1, 2, 3],
    system="Linux",
    load_average=[0.5, 0.4, 0.3],
    busy_percent=3.0,
    sleep_overshoot=0.0001,
    start_method="spawn",
    memory_metric="PSS",
    memory_resolution=4096,
)
#: The runs each cell has, and the jobs (records) each run has.
REPEAT = 3
JOBS = 4
#: A kind of no declared concurrency: a plugin's runner whose jobs run on a cluster.
CLUSTER = "cluster"
#: ``(name, kind)`` of the runners, the baseline first.
RUNNERS = (
    ("single", INLINE),
    ("threads", THREADS),
    ("thread-per-job", THREADS),
    ("processes", PROCESSES),
    ("threads-in-processes", PROCESSES_THREADS),
    ("interpreters", INTERPRETERS),
    ("asyncio", EVENT_LOOP),
    ("uvloop", EVENT_LOOP),
    ("trio", EVENT_LOOP),
    ("ray", CLUSTER),
)
#: ``(label, GIL on)`` of the interpreters; the first is the reference.
INTERPRETER_LABELS = (("3.11", True), ("3.13t", False))
#: What each kind's worker adds to the peak memory, in bytes.
WORKER_MEMORY = {PROCESSES: 12 * MIB, PROCESSES_THREADS: 10 * MIB, INTERPRETERS: 3 * MIB}


@dataclass(frozen=True)
class Template:
    """A kind of task: its bound, its size, what its jobs time and whether they share state."""

    name: str
    bound: str
    size_name: str
    size: float
    operation: str = ""
    session_name: str = ""
    shares_state: bool = False
    same_answers: bool = False


TEMPLATES = (
    Template("cpu", "cpu", "count", 2_000_000),
    Template("io", "io", "seconds", 0.02),
    Template("echo", "transfer", "bytes", 1_048_576),
    Template("counter", "cpu", "count", 100_000, shares_state=True),
    Template("http", "io", "seconds", 0.01, operation="request", session_name="server"),
    Template("own", "cpu", UNSIZED, 1, same_answers=True),
)


def build(cells: int, seed: int = 1, kind: str = "matrix", tasks: int = len(TEMPLATES)) -> Results:
    """A run of ``cells`` cells over ``tasks`` tasks (of the templates in turn), the same for
    the same arguments; a ``kind`` of ``"sweep"`` has as many jobs as workers in each cell."""
    rng = random.Random(seed)
    groups = tasks * len(INTERPRETER_LABELS)
    settings = max(1, math.ceil((cells / groups - 1) / (len(RUNNERS) - 1)))
    infos = [_task(TEMPLATES[n % len(TEMPLATES)], n) for n in range(tasks)]
    found = [
        cell
        for info in infos
        for label, gil in INTERPRETER_LABELS
        for cell in _task_cells(info, label, gil, settings, rng, kind == SWEEP)
    ]
    levels = sorted({c.jobs for c in found})
    return Results(
        METADATA,
        {"kind": kind, "jobs": JOBS, "warmups": 1, "repeat": REPEAT, "levels": levels},
        infos,
        found[:cells],
        interpreters=[
            {"label": label, "description": f"CPython {label}", "gil": None if gil else "0"}
            for label, gil in INTERPRETER_LABELS
        ],
    )


def main(argv: list[str]) -> int:
    """Write ``build(N, SEED)`` to ``FILE``; print its size in bytes as JSON."""
    cells, seed, path = int(argv[0]), int(argv[1]), Path(argv[2])
    write_file(path, build(cells, seed).to_json())
    print(json.dumps({"bytes": path.stat().st_size}))
    return 0


def _task(template: Template, number: int) -> TaskInfo:
    name = template.name if number < len(TEMPLATES) else f"{template.name}-{number}"
    size_text = "call" if template.size_name == UNSIZED else f"{template.size:,}"
    return TaskInfo(
        name,
        f"{template.bound}-bound work number {number}",
        template.bound,
        template.size_name,
        template.size,
        size_text,
        operation=template.operation,
        session_name=template.session_name,
        shares_state=template.shares_state,
        same_answers=template.same_answers,
        options={"args": "[]"} if template.size_name == UNSIZED else {},
    )


def _task_cells(
    task: TaskInfo, label: str, gil: bool, settings: int, rng: random.Random, sweep: bool
) -> list[Cell]:
    """The cells of one task on one interpreter: the baseline once, every other runner at each
    of ``settings`` worker settings (levels of waiting jobs in a sweep)."""
    found = []
    for name, kind in RUNNERS:
        counts = [1] if kind == INLINE else [1 + 2 * n for n in range(settings)]
        for workers in counts:
            cell = _cell(task, name, kind, workers, label, sweep)
            if kind == INTERPRETERS and gil:
                cell.not_applicable = "subinterpreters need Python 3.13 or later"
            elif kind != INLINE and rng.random() < 0.01:
                cell.failure = timeout(60)
                cell.failed_peak_memory = rng.choice([None, 30 * MIB])
            else:
                cell.samples = [_sample(cell, task, gil, rng) for _ in range(REPEAT)]
            found.append(cell)
    return found


def _cell(task: TaskInfo, runner: str, kind: str, workers: int, label: str, sweep: bool) -> Cell:
    layout = layout_of(kind, workers)
    text = f"2x{workers}" if kind == PROCESSES_THREADS else str(workers)
    jobs = layout.concurrency if sweep else JOBS
    return Cell(
        task.name, task.bound, runner, kind, text, layout, jobs, task.size, interpreter=label
    )


def layout_of(kind: str, workers: int) -> Layout:
    """The layout a runner of ``kind`` makes of ``workers``."""
    if kind in (THREADS, INTERPRETERS):
        return Layout(threads=workers)
    if kind == PROCESSES:
        return Layout(processes=workers)
    if kind == PROCESSES_THREADS:
        return Layout(processes=2, threads=workers)
    if kind == EVENT_LOOP:
        return Layout(tasks=workers)
    if kind == CLUSTER:
        return Layout(processes=workers, threads=2)
    return Layout()


def _sample(cell: Cell, task: TaskInfo, gil: bool, rng: random.Random) -> Sample:
    """One run: each job on its slot of the layout, one round after another, taking about as
    long as the work needs where that many slots compute at once."""
    layout = cell.layout
    slots = layout.concurrency
    computing = layout.processes if gil and cell.kind != INTERPRETERS else slots
    one = 0.05 if task.bound == "cpu" else float(task.size) + 0.001
    if task.bound == "cpu":
        one *= max(1.0, min(slots, cell.jobs) / max(1, min(computing, 4)))
    records = []
    for index in range(cell.jobs):
        start = (index // slots) * one * rng.uniform(0.98, 1.05)
        end = start + one * rng.uniform(0.95, 1.1)
        process = index % layout.processes
        records.append(
            JobRecord(
                index,
                4000 + process,
                f"Worker-{process}",
                f"Thread-{index % (layout.threads * layout.tasks)}",
                7000 + index,
                start,
                end,
                (end - start) if task.bound == "cpu" else 0.0004,
                answer(index * index) if task.same_answers else None,
                operations=[rng.uniform(0.001, 0.003) for _ in range(3)]
                if task.operation
                else None,
            )
        )
    job_span = span(records)
    peak = 25 * MIB + WORKER_MEMORY.get(cell.kind, 64 * 1024) * layout.concurrency
    return Sample(
        startup=0.002 + 0.03 * (cell.kind in WORKER_MEMORY),
        wall=job_span + 0.001,
        teardown=0.001,
        cpu=sum(r.cpu or 0.0 for r in records) + 0.01,
        job_span=job_span,
        peak_memory=peak + rng.randrange(0, 2 * MIB),
        gil_enabled=gil,
        records=Records.of(records),
        cpu_resolution=0.01,
        session_cpu=0.02 if task.session_name else None,
        session_peak_memory=40 * MIB if task.session_name else None,
        outside_tree=cell.kind == CLUSTER,
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
