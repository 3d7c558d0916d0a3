"""The figures derived from a cell's samples: job time and its spread, speed-up with its
interval, efficiency, cores used, memory per worker, and whether the cell is stable."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.stats import Interval, Summary, ratio_of_medians, summarise

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.results.model import Cell, Sample

#: Above this standard deviation relative to the mean, a cell is flagged unstable.
UNSTABLE_VARIATION = 0.10
#: Job times below this are dominated by scheduling noise and flagged.
SHORTEST_TRUSTED = 0.010


@dataclass(frozen=True)
class Figures:
    """A measured cell in numbers (seconds, bytes).

    ``jobs`` is the job time, first job start to last job end; ``run`` the run phase as the
    host timed it; ``total`` start-up + run + close. ``speedup`` is against the baseline's job
    time (its ``interval`` needs two samples on each side); ``memory_per_worker`` is what one
    more unit of the layout's concurrency costs in peak memory.
    """

    jobs: Summary
    run: float
    startup: float
    total: float
    cpu: float
    cores: float
    speedup: float | None
    interval: Interval | None
    efficiency: float | None
    peak_memory: int
    memory_per_worker: float | None
    unstable: str | None


def _memory_per_worker(
    cell: Cell, peak: int, baseline: Cell | None, siblings: Sequence[Cell]
) -> float | None:
    """What one more worker costs: the slope of peak memory from the runner's smallest measured
    worker setting to this one; for that smallest setting, or with one setting only, the rise
    above the baseline's peak spread over the workers."""
    measured = [
        c
        for c in siblings
        if c is not cell
        and c.failure is None
        and c.samples
        and c.layout.concurrency < cell.layout.concurrency
    ]
    if measured:
        smallest = min(measured, key=lambda c: c.layout.concurrency)
        rise = peak - max(s.peak_memory for s in smallest.samples)
        return rise / (cell.layout.concurrency - smallest.layout.concurrency)
    if baseline is None or baseline is cell or not baseline.samples:
        return None
    return (peak - max(s.peak_memory for s in baseline.samples)) / cell.layout.concurrency


def job_time(cell: Cell, sample: Sample) -> float:
    """The time the jobs took: first job start to last job end, or for a transfer task, whose
    data moves before and after each call, the whole run."""
    return sample.wall if cell.bound == "transfer" else sample.job_span


def ideal_speedup(cell: Cell, cpus: int) -> float | None:
    """The best speed-up over one job at a time: for CPU-bound work, no more than the workers,
    the CPUs or the jobs; for IO-bound work, the rounds of waits that concurrency removes;
    ``None`` for other tasks."""
    concurrency = cell.layout.concurrency
    jobs = max(cell.jobs, 1)
    if cell.bound == "cpu":
        return min(concurrency, cpus, jobs)
    if cell.bound == "io":
        return jobs / math.ceil(jobs / concurrency)
    return None


def unstable(jobs: Summary) -> str | None:
    """Why a cell's job times cannot be trusted as they are, if they cannot."""
    if jobs.median < SHORTEST_TRUSTED:
        return f"too short to time well (under {SHORTEST_TRUSTED * 1000:g} ms)"
    if jobs.variation > UNSTABLE_VARIATION:
        return f"sd {jobs.variation:.0%} of the mean"
    return None


def figures(
    cell: Cell, baseline: Cell | None, cpus: int, siblings: Sequence[Cell] = ()
) -> Figures | None:
    """The cell's figures, or ``None`` when it has no trustworthy samples. ``siblings`` are
    the cells of the same task and runner at other worker settings."""
    if cell.failure is not None or not cell.samples:
        return None
    samples = cell.samples
    jobs = summarise([job_time(cell, s) for s in samples])
    run = statistics.median(s.wall for s in samples)
    cpu = statistics.median(s.cpu for s in samples)
    base = baseline if baseline is not None and baseline.failure is None else None
    base_samples = base.samples if base is not None else []
    speedup = interval = None
    if base_samples and jobs.median > 0 and cell.bound != "transfer":  # single sends nothing
        base_jobs = [job_time(cell, s) for s in base_samples]
        speedup = statistics.median(base_jobs) / jobs.median
        interval = ratio_of_medians(base_jobs, [job_time(cell, s) for s in samples])
    ideal = ideal_speedup(cell, cpus)
    efficiency: float | None = None
    if cell.bound == "io" and jobs.median:
        efficiency = math.ceil(cell.jobs / cell.layout.concurrency) * float(cell.size) / jobs.median
    elif ideal is not None and speedup is not None:
        efficiency = speedup / ideal
    peak = max(s.peak_memory for s in samples)
    per_worker = _memory_per_worker(cell, peak, base, siblings)
    return Figures(
        jobs=jobs,
        run=run,
        startup=statistics.median(s.startup for s in samples),
        total=statistics.median(s.startup + s.wall + s.teardown for s in samples),
        cpu=cpu,
        cores=cpu / run if run else 0.0,
        speedup=speedup,
        interval=interval,
        efficiency=efficiency,
        peak_memory=peak,
        memory_per_worker=per_worker,
        unstable=unstable(jobs),
    )
