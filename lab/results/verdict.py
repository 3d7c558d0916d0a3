"""The figures behind the verdict (threads or processes?), chosen once from an analysis: each
kind's speed-up on CPU- and IO-bound work, each task's fastest cell, what a transfer job costs
per kind, and what one more worker and a pool's start-up cost per kind. Runners are grouped by
the kind they declare, so a plugin's runner counts here like a built-in one."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.analysis import gil_on
from lab.results.selection import (
    TaskCosts,
    by_kind,
    fastest,
    job_costs,
    kind_speedups,
    reference_cells,
    run_kinds,
    worker_memory,
)
from lab.runner import EVENT_LOOP, INLINE, INTERPRETERS, PROCESSES, THREADS

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis, Estimate
    from lab.results.model import TaskInfo

#: The bounds of the tasks whose speed-ups the verdict cites.
SPEEDUP_BOUNDS = ("cpu", "io")
#: The kinds whose worker memory and start-up the verdict cites, in its order.
COST_KINDS = (PROCESSES, INTERPRETERS, THREADS, EVENT_LOOP)


@dataclass(frozen=True)
class Speedup:
    """A kind's speed-up on a task on one interpreter: its cell with the most workers.
    ``gil`` is whether the GIL was on in its workers; ``alone`` whether its runner is the
    run's only one of its kind."""

    task: TaskInfo
    interpreter: str
    analysed: CellAnalysis
    gil: bool
    alone: bool


@dataclass(frozen=True)
class Fastest:
    """A task's cell whose jobs took the least time, across runners, workers and interpreters.
    ``ratio`` is its speed-up over the baseline, or with several interpreters
    (``against_reference``) over the reference interpreter's baseline."""

    task: TaskInfo
    analysed: CellAnalysis
    ratio: float | None
    against_reference: bool


@dataclass(frozen=True)
class KindCost:
    """What a kind costs, the median over its cells: ``memory`` for one more worker (peak),
    ``startup`` seconds for the pool; ``None`` where the run did not measure it."""

    kind: str
    memory: Estimate | None
    startup: float | None


@dataclass(frozen=True)
class VerdictFigures:
    """Everything the verdict cites; transfers and costs are on the reference interpreter."""

    speedups: tuple[Speedup, ...]
    fastest: tuple[Fastest, ...]
    transfers: tuple[TaskCosts, ...]
    costs: tuple[KindCost, ...]


def verdict_figures(analysis: Analysis) -> VerdictFigures:
    """The verdict's figures for ``analysis``."""
    return VerdictFigures(
        speedups(analysis), fastest_cells(analysis), transfers(analysis), kind_costs(analysis)
    )


def speedups(analysis: Analysis) -> tuple[Speedup, ...]:
    """Each kind's speed-up on each CPU- or IO-bound task, per interpreter."""
    gil = analysis.results.metadata.gil_enabled
    runners: dict[str, set[str]] = {}
    for analysed in analysis.cells:
        if not analysed.cell.distributed:
            runners.setdefault(analysed.cell.kind, set()).add(analysed.cell.runner)
    found = []
    for task in analysis.results.tasks:
        if task.bound not in SPEEDUP_BOUNDS:
            continue
        for label in analysis.results.interpreter_labels:
            for best in kind_speedups(analysis, analysis.task_on(task.name, label)):
                alone = len(runners[best.cell.kind]) <= 1
                found.append(Speedup(task, label, best, gil_on(best.cell, gil), alone))
    return tuple(found)


def fastest_cells(analysis: Analysis) -> tuple[Fastest, ...]:
    """For each task with two measured cells at least, the fastest way to run it here."""
    several = len(analysis.results.interpreter_labels) > 1
    found = []
    for task in analysis.results.tasks:
        measured = [
            a
            for a in analysis.task(task.name)
            if a.figures is not None and not (task.bound == "transfer" and a.cell.kind == INLINE)
        ]  # a transfer's baseline sends nothing: not the same work
        if len(measured) < 2:
            continue
        best = fastest(measured)
        assert best.figures is not None
        ratio = best.figures.vs_reference if several else best.figures.speedup
        found.append(Fastest(task, best, ratio, several))
    return tuple(found)


def transfers(analysis: Analysis) -> tuple[TaskCosts, ...]:
    """What one job of each transfer task cost on each of the run's kinds: the run's time per
    job, times the jobs running at once (on the reference interpreter)."""
    reference = analysis.results.interpreter_labels[0]
    kinds = run_kinds(analysis)
    return tuple(
        TaskCosts(task, job_costs(analysis.task_on(task.name, reference), kinds))
        for task in analysis.results.tasks
        if task.bound == "transfer"
    )


def kind_costs(analysis: Analysis) -> tuple[KindCost, ...]:
    """What one more worker costs in memory and the pool to start, per kind of
    :data:`COST_KINDS` (on the reference interpreter)."""
    measured = [a for a in reference_cells(analysis) if a.figures is not None]
    kinds = by_kind(measured)
    found = []
    for kind in COST_KINDS:
        cells = kinds.get(kind, [])
        startups = [a.figures.startup for a in cells if a.figures is not None]
        startup = statistics.median(startups) if startups else None
        found.append(KindCost(kind, worker_memory(cells, kind), startup))
    return tuple(found)
