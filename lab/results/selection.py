"""Which cells speak for a kind of runner, a task or an interpreter: the choices that the
verdict, the classic comparison and a sweep's findings share, made by what cells declare."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.analysis import Estimate
from lab.results.grouping import group_by
from lab.results.status import Kind
from lab.runner import INLINE, KINDS, OTHER

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import TaskInfo


@dataclass(frozen=True)
class JobCost:
    """What one job cost on a kind of runner: ``seconds`` of its cell's ``job_latency``."""

    kind: str
    analysed: CellAnalysis
    seconds: float


@dataclass(frozen=True)
class TaskCosts:
    """What one job of a task cost on each kind of runner, in the order of ``costs``."""

    task: TaskInfo
    costs: tuple[JobCost, ...]


def run_kinds(analysis: Analysis) -> list[str]:
    """The kinds of the run's runners that a verdict speaks for, in :data:`KINDS` order."""
    present = analysis.kinds
    ordered = [k for k in KINDS if k in present] + [k for k in present if k not in KINDS]
    return [k for k in ordered if k not in (INLINE, OTHER)]


def jobs_time(analysed: CellAnalysis) -> float:
    """The cell's median job time; infinite when it has no figures."""
    return analysed.figures.jobs.median if analysed.figures is not None else float("inf")


def trusted(cells: Iterable[CellAnalysis]) -> list[CellAnalysis]:
    """The cells whose figures a judgement may rest on: the stable ones (``ok``) where there
    are any, else those measured with a caveat (unstable, interrupted), whose status then
    goes with every line that cites them. Error cells have no figures: never."""
    measured = [a for a in cells if a.figures is not None]
    return [a for a in measured if a.status.kind is Kind.OK] or measured


def fastest(cells: Iterable[CellAnalysis]) -> CellAnalysis:
    """The trusted cell whose jobs took the least time (the first of equals)."""
    return min(trusted(cells), key=jobs_time)


def of_kind(cells: Iterable[CellAnalysis], kind: str) -> list[CellAnalysis]:
    """The cells of ``kind`` on this machine's pools: a distributed engine's (a cluster's
    scheduler and workers) speak in rows of their own (:mod:`lab.results.engines`), not for
    their kind."""
    return [a for a in cells if a.cell.kind == kind and not a.cell.distributed]


def by_kind(cells: Iterable[CellAnalysis]) -> dict[str, list[CellAnalysis]]:
    """``cells`` of each kind, as :func:`of_kind` keeps them, grouped in one pass."""
    return group_by((a for a in cells if not a.cell.distributed), lambda a: a.cell.kind)


def most_workers(cells: Iterable[CellAnalysis], kind: str) -> CellAnalysis | None:
    """The trusted cell of ``kind`` (:func:`of_kind`) with the most concurrency (the fastest
    of equals)."""
    found = trusted(of_kind(cells, kind))
    return max(found, key=lambda a: (a.cell.layout.concurrency, -jobs_time(a)), default=None)


def reference_cells(analysis: Analysis) -> list[CellAnalysis]:
    """The cells on the reference interpreter (the first)."""
    reference = analysis.results.interpreter_labels[0]
    return [a for a in analysis.cells if a.cell.interpreter == reference]


def kind_speedups(analysis: Analysis, cells: Sequence[CellAnalysis]) -> list[CellAnalysis]:
    """For each of the run's kinds, its cell among ``cells`` with the most workers, where
    that cell has a speed-up."""
    kinds = by_kind(cells)
    found = (most_workers(kinds.get(kind, ()), kind) for kind in run_kinds(analysis))
    return [
        a
        for a in found
        if a is not None and a.figures is not None and a.figures.speedup is not None
    ]


def job_costs(cells: Sequence[CellAnalysis], kinds: Iterable[str]) -> tuple[JobCost, ...]:
    """What one job cost on each of ``kinds``: on its cell with the most workers."""
    grouped = by_kind(cells)
    found = (most_workers(grouped.get(kind, ()), kind) for kind in kinds)
    return tuple(
        JobCost(a.cell.kind, a, a.figures.job_latency)
        for a in found
        if a is not None and a.figures is not None
    )


def typical(estimates: Sequence[Estimate]) -> Estimate | None:
    """The median of ``estimates``, known no better than the least precise of them."""
    if not estimates:
        return None
    return Estimate(
        statistics.median(e.value for e in estimates), max(e.resolution for e in estimates)
    )


def worker_memory(cells: Sequence[CellAnalysis], kind: str) -> Estimate | None:
    """What one more worker of ``kind`` costs in memory, typically: over its IO-bound cells
    when ``cells`` has some (workers that hold nothing but themselves), else over all."""
    kept = of_kind(cells, kind)
    waiting = [a for a in kept if a.cell.bound == "io"]
    return typical(
        [
            a.figures.memory_per_worker
            for a in waiting or kept
            if a.figures is not None and a.figures.memory_per_worker is not None
        ]
    )
