"""The verdict on a user's own function (a task whose jobs are calls, not sized work): what kind
of work it is, measured (its jobs' share of time on a CPU in the baseline, and whether its
threads computed in parallel), the fastest way to run it here, what the runner-up costs, and
how many jobs it takes for the fastest pool's start-up to pay for itself."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.analysis import gil_on, released_gil
from lab.results.model import UNSIZED
from lab.results.selection import fastest, jobs_time, most_workers, trusted
from lab.runner import INLINE, THREADS

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import TaskInfo

#: What the jobs' threads did with the GIL, as the threads' cells showed it: their CPU showed
#: no parallel computing; it did and they were faster than one at a time; it did but they
#: were not (a busy machine, or a cost that grows with threads); there is no GIL.
HOLDS, RELEASES, UNCLEAR, NO_GIL = "holds", "releases", "unclear", "no GIL"


@dataclass(frozen=True)
class BreakEven:
    """Where the fastest cell's pool start-up pays for itself against the baseline: each job
    costs ``baseline_per_job`` there and ``per_job`` on the pool (job time / jobs), so from
    ``jobs`` jobs on (``None``: never, a job costs no less on the pool) the pool's
    ``startup`` is paid back. ``run_jobs``: the jobs a cell of this run had."""

    startup: float
    per_job: float
    baseline_per_job: float
    jobs: int | None
    run_jobs: int

    @property
    def pays_here(self) -> bool:
        """Whether the start-up was paid back with this run's jobs."""
        return self.jobs is not None and self.run_jobs >= self.jobs


@dataclass(frozen=True)
class OwnVerdict:
    """The verdict's figures for one user function, on the reference interpreter where the
    run has several (``fastest`` is across all of them)."""

    task: TaskInfo
    #: The baseline's jobs' CPU time over their wall time (``None`` without a baseline).
    cpu_share: float | None
    #: :data:`HOLDS`, :data:`RELEASES` or :data:`NO_GIL`, with the threads' cell it rests on;
    #: ``""`` where no threads' cell with two threads or more was measured.
    gil: str
    threads: CellAnalysis | None
    fastest: CellAnalysis | None
    baseline: CellAnalysis | None
    runner_up: CellAnalysis | None
    break_even: BreakEven | None
    #: A cell whose jobs took less time than the fastest's but whose runs were not stable
    #: (the fastest is chosen among the stable cells where there are any).
    faster_unstable: CellAnalysis | None = None


def is_own(task: TaskInfo) -> bool:
    """Whether ``task`` is a user's function (its jobs are calls, with no size)."""
    return task.size_name == UNSIZED


def own_verdicts(analysis: Analysis) -> tuple[OwnVerdict, ...]:
    """The verdict on each user function of ``analysis``."""
    return tuple(own_verdict(analysis, t) for t in analysis.results.tasks if is_own(t))


def own_verdict(analysis: Analysis, task: TaskInfo) -> OwnVerdict:
    """The verdict on the user function ``task``."""
    cells = analysis.task(task.name)
    measured = [a for a in cells if a.figures is not None]
    reference = analysis.results.interpreter_labels[0]
    on_reference = [a for a in measured if a.cell.interpreter == reference]
    baseline = next((a for a in on_reference if a.cell.kind == INLINE), None)
    # The runner-up is judged as the fastest is: among the cells as trusted as it.
    pool = trusted(measured)
    best = fastest(pool) if pool else None
    others = [a for a in pool if best is not None and a.cell.runner != best.cell.runner]
    runner_up = fastest(others) if others else None
    quickest = min(measured, key=jobs_time) if measured else None
    if best is not None and quickest is not None and jobs_time(quickest) >= jobs_time(best):
        quickest = None
    gil, threads = _gil(analysis, on_reference)
    return OwnVerdict(
        task=task,
        cpu_share=_cpu_share(baseline),
        gil=gil,
        threads=threads,
        fastest=best,
        baseline=baseline,
        runner_up=runner_up,
        break_even=_break_even(best, baseline),
        faster_unstable=quickest,
    )


def _cpu_share(baseline: CellAnalysis | None) -> float | None:
    """The baseline's jobs' own CPU over their time, every run's jobs together."""
    if baseline is None:
        return None
    records = [r for s in baseline.cell.samples for r in s.records if r.cpu is not None]
    wall = sum(r.duration for r in records)
    return min(sum(r.cpu or 0.0 for r in records) / wall, 1.0) if wall > 0 else None


def _gil(analysis: Analysis, cells: list[CellAnalysis]) -> tuple[str, CellAnalysis | None]:
    """Whether the jobs' threads computed in parallel: on the threads' cell with the most
    threads (two at least), from its jobs' own CPU."""
    threads = most_workers(cells, THREADS)
    if threads is None or threads.cell.layout.concurrency < 2:
        return "", None
    if not gil_on(threads.cell, analysis.results.metadata.gil_enabled):
        return NO_GIL, threads
    if not released_gil(threads.cell):
        return HOLDS, threads
    interval = threads.figures.interval if threads.figures is not None else None
    return (RELEASES if interval is not None and interval.low > 1 else UNCLEAR), threads


def _break_even(best: CellAnalysis | None, baseline: CellAnalysis | None) -> BreakEven | None:
    """How many jobs the fastest cell needs for its start-up to pay for itself, when it is
    not the baseline and both have figures."""
    if best is None or baseline is None or best is baseline:
        return None
    if best.figures is None or baseline.figures is None or not best.cell.jobs:
        return None
    per_job = jobs_time(best) / best.cell.jobs
    baseline_per_job = jobs_time(baseline) / baseline.cell.jobs
    startup = best.figures.startup - baseline.figures.startup
    saved = baseline_per_job - per_job
    jobs = max(1, math.ceil(startup / saved)) if saved > 0 else None
    return BreakEven(max(startup, 0.0), per_job, baseline_per_job, jobs, best.cell.jobs)
