"""What a sweep showed, per task and interpreter: which runner served the most waiting jobs
best, and the level at which threads stopped keeping up with the best event loop, if they did
(by the runners' kinds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.grouping import group_by
from lab.results.selection import fastest, jobs_time
from lab.runner import EVENT_LOOP, THREADS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.results.analysis import Analysis, CellAnalysis

#: A runner held a level when it had this share of its jobs running at once.
HELD = 0.9
#: How far behind the best event loop (in job time) threads may be and still keep up.
KEEPING_UP = 0.10


@dataclass(frozen=True)
class KeepingUp:
    """Threads against the event loops, level by level where both ran: ``kept_up`` to
    ``level``, the highest level both were measured at, or stopped at ``level``. ``threads``
    and ``loop`` are the fastest of each at that level."""

    kept_up: bool
    level: int
    threads: CellAnalysis
    loop: CellAnalysis


@dataclass(frozen=True)
class SweepFinding:
    """What a task's sweep showed on one interpreter: ``best`` served ``level`` waiting jobs,
    the most measured, fastest (``contested`` when other runners were measured there too)."""

    interpreter: str
    level: int
    best: CellAnalysis
    contested: bool
    threads: KeepingUp | None


def short_of_level(analysed: CellAnalysis) -> bool:
    """Whether the cell's runner held fewer than :data:`HELD` of its level's jobs at once."""
    found = analysed.figures
    held = None if found is None else found.most_at_once
    return held is not None and held < HELD * analysed.cell.jobs


def sweep_findings(analysis: Analysis, task: str) -> tuple[SweepFinding, ...]:
    """What ``task``'s sweep showed on each interpreter with measured cells."""
    found = []
    for label in analysis.results.interpreter_labels:
        here = [a for a in analysis.task_on(task, label) if a.figures is not None]
        if not here:
            continue
        top = max(a.cell.jobs for a in here)
        at_top = [a for a in here if a.cell.jobs == top]
        contested = len({a.cell.runner for a in at_top}) > 1
        found.append(SweepFinding(label, top, fastest(at_top), contested, keeping_up(here)))
    return tuple(found)


def keeping_up(cells: Sequence[CellAnalysis]) -> KeepingUp | None:
    """Threads against the event loops among ``cells``; ``None`` unless both ran at a level."""
    by_level = group_by(cells, lambda a: a.cell.jobs)
    levels = sorted(by_level)
    last: tuple[CellAnalysis, CellAnalysis] | None = None
    for level in levels:
        threads = [a for a in by_level[level] if a.cell.kind == THREADS]
        loops = [a for a in by_level[level] if a.cell.kind == EVENT_LOOP]
        if not threads or not loops:
            continue
        last = fastest(threads), fastest(loops)
        if jobs_time(last[0]) > jobs_time(last[1]) * (1 + KEEPING_UP):
            return KeepingUp(False, level, *last)
    # kept up to the last level both ran at: not beyond, where threads timed out or stop
    return None if last is None else KeepingUp(True, last[0].cell.jobs, *last)
