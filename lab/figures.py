"""The figures derived from a cell's samples: speed-up, efficiency, cores used."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.stats import Summary, summarise

if TYPE_CHECKING:
    from lab.matrix import Cell


@dataclass(frozen=True)
class Figures:
    """A measured cell in numbers (seconds, bytes); ``speedup`` and ``efficiency`` are
    ``None`` without a baseline to compare with."""

    wall: Summary
    startup: float
    cpu: float
    cores: float
    speedup: float | None
    efficiency: float | None
    peak_memory: int


def ideal_speedup(cell: Cell, cpus: int) -> float:
    """The best speed-up over one job at a time: for CPU-bound work, no more than the workers,
    the CPUs or the jobs; for IO-bound work, the rounds of waits that concurrency removes."""
    concurrency = cell.layout.concurrency
    if cell.task.bound == "cpu":
        return min(concurrency, cpus, cell.jobs)
    return cell.jobs / math.ceil(cell.jobs / concurrency)


def figures(cell: Cell, baseline: Cell | None, cpus: int) -> Figures | None:
    """The cell's figures, or ``None`` when it has no trustworthy samples."""
    if cell.failure is not None or not cell.samples:
        return None
    wall = summarise([s.wall for s in cell.samples])
    cpu = statistics.median(s.cpu for s in cell.samples)
    speedup = None
    if baseline is not None and baseline.failure is None and baseline.samples:
        speedup = statistics.median(s.wall for s in baseline.samples) / wall.median
    if cell.task.bound == "io":
        ideal_wall = math.ceil(cell.jobs / cell.layout.concurrency) * float(cell.size)
        efficiency: float | None = ideal_wall / wall.median
    else:
        efficiency = None if speedup is None else speedup / ideal_speedup(cell, cpus)
    return Figures(
        wall=wall,
        startup=statistics.median(s.startup for s in cell.samples),
        cpu=cpu,
        cores=cpu / wall.median,
        speedup=speedup,
        efficiency=efficiency,
        peak_memory=max(s.peak_memory for s in cell.samples),
    )
