"""What a distributed engine (a runner that declares ``distributed``: dask, Ray, a plugin's)
costs beside a local process pool of as many workers, on the same work: the intercept and
slope of a run's time against its jobs (what a run costs outside its jobs, what each job
costs to hand to a worker), its start-up and its memory, and the job size from which
running jobs on it beats running them one at a time.

Both come from the cells' own job records, run by run: a run of N jobs on W workers takes
about ``outside + N x (job + handover) / W``, where ``outside`` is the run's time before its
first job starts and after its last job ends, and ``handover`` the time a worker waits
between the end of one job and the start of its next. Those are measured directly, so the
figures do not rest on the difference of two noisy run times."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.selection import of_kind
from lab.runner import PROCESSES

if TYPE_CHECKING:
    from lab.records import Records
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell, TaskInfo


@dataclass(frozen=True)
class EngineCost:
    """A distributed engine's cell beside the process pool's of as much concurrency, on one
    task on the reference interpreter (seconds, bytes).

    ``handover`` is the engine's mean time between one job's end and the next job's start on
    a worker (``None``: no worker ran two jobs) and ``per_job`` how much longer that is than
    the pool's; ``per_run`` how much longer the engine's runs were outside their jobs' span;
    ``memory`` its peak beyond the pool's, and ``own_memory`` how much of that is in the
    processes that ran no job (the driver with a scheduler in it, a raylet, nannies) against
    the pool's (both ``None`` when its jobs ran outside the lab's tree or it is not known);
    ``pays_from`` the job time above which its ``parallel`` workers beat one job at a time,
    handovers included (``None``: never with one worker's worth of parallel work, and not
    judged for a transfer, whose baseline moves no data)."""

    task: TaskInfo
    engine: CellAnalysis
    pool: CellAnalysis
    handover: float | None
    per_job: float | None
    per_run: float
    memory: int | None
    own_memory: int | None
    parallel: int
    pays_from: float | None


def handovers(records: Records) -> list[float]:
    """For each worker thread (host, process, thread) that ran several jobs, the time from
    each job's end to the start of its next one there: what handing it a job cost."""
    starts, ends = records.times()
    places = zip(
        records.column("host"), records.column("pid"), records.column("thread_id"), strict=True
    )
    by_worker: dict[tuple[str, int, int], list[tuple[float, float]]] = {}
    for place, start, end in zip(places, starts, ends, strict=True):
        by_worker.setdefault(place, []).append((start, end))
    found: list[float] = []
    for jobs in by_worker.values():
        jobs.sort()
        found.extend(max(0.0, later[0] - earlier[1]) for earlier, later in itertools.pairwise(jobs))
    return found


def mean_handover(cell: Cell) -> float | None:
    """The mean handover over every run of the cell (``None`` without one)."""
    found = [gap for sample in cell.samples for gap in handovers(sample.records)]
    return statistics.fmean(found) if found else None


def outside_jobs(cell: Cell) -> float:
    """The median over the cell's runs of the run's time outside its jobs' span: handing out
    the first jobs and gathering the last results."""
    return statistics.median(s.wall - s.job_span for s in cell.samples)


def engine_costs(analysis: Analysis) -> tuple[EngineCost, ...]:
    """For each task and distributed runner of the run, its measured cell of most concurrency
    that a local process pool (a ``processes`` runner that is not distributed) matched in
    concurrency on the reference interpreter, set beside that pool's cell."""
    reference = analysis.results.interpreter_labels[0]
    cpus = analysis.results.metadata.cpus
    found = []
    for task in analysis.results.tasks:
        cells = [a for a in analysis.task_on(task.name, reference) if a.figures is not None]
        # the first pool of each concurrency
        pools = {a.cell.layout.concurrency: a for a in reversed(of_kind(cells, PROCESSES))}
        engines: dict[str, CellAnalysis] = {}
        for analysed in cells:
            concurrency = analysed.cell.layout.concurrency
            if not analysed.cell.distributed or concurrency not in pools:
                continue
            best = engines.get(analysed.cell.runner)
            if best is None or best.cell.layout.concurrency < concurrency:
                engines[analysed.cell.runner] = analysed
        for engine in engines.values():
            found.append(engine_cost(task, engine, pools[engine.cell.layout.concurrency], cpus))
    return tuple(found)


def engine_cost(task: TaskInfo, engine: CellAnalysis, pool: CellAnalysis, cpus: int) -> EngineCost:
    """``engine`` beside ``pool`` (both measured, of equal concurrency) on a machine of
    ``cpus`` usable CPUs."""
    assert engine.figures is not None
    assert pool.figures is not None
    handover = mean_handover(engine.cell)
    pool_handover = mean_handover(pool.cell)
    per_job = None if handover is None or pool_handover is None else handover - pool_handover
    outside = engine.figures.outside_tree
    memory = None if outside else engine.figures.peak_memory - pool.figures.peak_memory
    parallel = engine.cell.layout.concurrency
    if engine.cell.bound == "cpu" and not outside:
        parallel = min(parallel, cpus)
    pays_from = None  # a transfer's baseline moves no data: not the same work
    if handover is not None and parallel > 1 and engine.cell.bound != "transfer":
        pays_from = handover / (parallel - 1)
    return EngineCost(
        task=task,
        engine=engine,
        pool=pool,
        handover=handover,
        per_job=per_job,
        per_run=outside_jobs(engine.cell) - outside_jobs(pool.cell),
        memory=memory,
        own_memory=None if outside else _own_memory(engine, pool),
        parallel=parallel,
        pays_from=pays_from,
    )


def _own_memory(engine: CellAnalysis, pool: CellAnalysis) -> int | None:
    """The peak of the engine's processes that ran no job beyond the pool's."""
    assert engine.figures is not None
    assert pool.figures is not None
    if engine.figures.others_peak_memory is None or pool.figures.others_peak_memory is None:
        return None
    return engine.figures.others_peak_memory - pool.figures.others_peak_memory
