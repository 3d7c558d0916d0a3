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
import math
import statistics
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lab.results.selection import of_kind
from lab.runner import PROCESSES

if TYPE_CHECKING:
    from collections.abc import Sequence

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
    #: Across the run's job counts, where it has several for both.
    fitted: Fitted | None = None


@dataclass(frozen=True)
class Fitted:
    """The engine's and the pool's run times against their jobs, each a least-squares line
    through every run of their cells of ``counts`` jobs (same concurrency ``workers``):
    ``per_job`` is the engine's slope less the pool's, times the workers (a job's cost on each
    worker, as ``EngineCost.per_job``), ``per_run`` its intercept less the pool's, ``spread``
    the two slopes' standard errors times the workers, added; ``pays_from`` as
    ``EngineCost.pays_from``, from the engine's fitted cost a job on each worker (its slope
    times the workers, less its jobs' mean time)."""

    counts: tuple[int, ...]
    per_job: float
    per_run: float
    spread: float
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
    (then of most jobs) that a local process pool (a ``processes`` runner that is not
    distributed) matched in concurrency and jobs on the reference interpreter, set beside that
    pool's cell; fitted across the job counts where the run has several."""
    reference = analysis.results.interpreter_labels[0]
    cpus = analysis.results.metadata.cpus
    found = []
    for task in analysis.results.tasks:
        cells = [a for a in analysis.task_on(task.name, reference) if a.figures is not None]
        # the first pool of each concurrency and job count
        pools = {_where(a): a for a in reversed(of_kind(cells, PROCESSES))}
        engines: dict[str, CellAnalysis] = {}
        for analysed in cells:
            if not analysed.cell.distributed or _where(analysed) not in pools:
                continue
            best = engines.get(analysed.cell.runner)
            if best is None or _where(best) < _where(analysed):
                engines[analysed.cell.runner] = analysed
        for engine in engines.values():
            pool = pools[_where(engine)]
            cost = engine_cost(task, engine, pool, cpus)
            same = [a for a in cells if a.cell.runner == engine.cell.runner]
            beside = [a for a in cells if a.cell.runner == pool.cell.runner]
            found.append(replace(cost, fitted=fit(engine, same, beside, cost.parallel)))
    return tuple(found)


def _where(analysed: CellAnalysis) -> tuple[int, int]:
    return analysed.cell.layout.concurrency, analysed.cell.jobs


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


def fit(
    engine: CellAnalysis,
    same: Sequence[CellAnalysis],
    beside: Sequence[CellAnalysis],
    parallel: int,
) -> Fitted | None:
    """The engine's cells ``same`` and the pool's ``beside`` of ``engine``'s concurrency,
    fitted across their job counts; ``None`` without two counts on both sides."""
    workers = engine.cell.layout.concurrency
    mine = [a.cell for a in same if a.cell.layout.concurrency == workers]
    theirs = [a.cell for a in beside if a.cell.layout.concurrency == workers]
    counts = sorted({c.jobs for c in mine} & {c.jobs for c in theirs})
    if len(counts) < 2:
        return None
    mine = [c for c in mine if c.jobs in counts]
    theirs = [c for c in theirs if c.jobs in counts]
    (slope, intercept, error), (pool_slope, pool_intercept, pool_error) = line(mine), line(theirs)
    durations = [d for c in mine for s in c.samples for d in s.records.durations()]
    own = slope * workers - statistics.fmean(durations)
    pays_from = None
    if parallel > 1 and engine.cell.bound != "transfer":
        pays_from = max(own, 0.0) / (parallel - 1)
    return Fitted(
        counts=tuple(counts),
        per_job=(slope - pool_slope) * workers,
        per_run=intercept - pool_intercept,
        spread=(error + pool_error) * workers,
        pays_from=pays_from,
    )


def line(cells: Sequence[Cell]) -> tuple[float, float, float]:
    """The least-squares line through every run's (jobs, run time) of ``cells``: its slope,
    its intercept and the slope's standard error (0 with two runs)."""
    points = [(float(c.jobs), s.wall) for c in cells for s in c.samples]
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(xs)
    spread = sum((x - mean) ** 2 for x in xs)
    if len(points) < 3 or spread <= 0:
        return slope, intercept, 0.0
    residuals = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return slope, intercept, math.sqrt(residuals / (len(points) - 2) / spread)
