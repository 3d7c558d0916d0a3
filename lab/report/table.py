"""The matrix as tabulate tables: one per task."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.results.analysis import Figures, figures, ideal_speedup
from lab.run.process_tree import MEMORY_METRIC

if TYPE_CHECKING:
    from lab.results.model import Cell

BASELINE = "single"
KIB = 1024
MIB = 1024 * KIB

HEADERS = (
    "runner",
    "workers",
    "jobs",
    "start-up s",
    "jobs s",
    "±",
    "wall s",
    "CPU s",
    "cores used",
    "speed-up",
    "95% CI",
    "ideal",
    "efficiency",
    f"peak {MEMORY_METRIC} MiB",
    "+ per worker",
    "status",
)

LEGEND = """\
start-up: starting the pool or loop · jobs: first job start to last job end, median (the whole
run for tasks that move data: echo, tcp)
±: sd / mean of the jobs' time · wall: start-up + the jobs' run + close · cores used: CPU / run
speed-up: single's jobs time / this one's · ideal: the best speed-up possible here
efficiency: for cpu, speed-up / ideal; for io, the ideal time / jobs time
+ per worker: peak memory added by one more worker (one more concurrent job on event loops):
  the slope from the runner's smallest worker setting, or the rise above single's"""


def render_task(cells: list[Cell], cpus: int, tablefmt: str) -> str:
    """The table of one task's cells; speed-up is against the ``single`` runner's cell."""
    baseline = next((c for c in cells if c.runner == BASELINE), None)
    rows = [
        _row(
            cell, figures(cell, baseline, cpus, [c for c in cells if c.runner == cell.runner]), cpus
        )
        for cell in cells
    ]
    return tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True)


def _row(cell: Cell, found: Figures | None, cpus: int) -> list[str]:
    head = [cell.runner, cell.workers, str(cell.jobs)]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 4), cell.status]
    interval = found.interval
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        f"±{found.jobs.variation:.1%}" if found.jobs.count > 1 else "",
        f"{found.total:.3f}",
        f"{found.cpu:.2f}",
        f"{found.cores:.2f}",
        "" if found.speedup is None else f"{found.speedup:.2f}x",
        "" if interval is None else f"{interval.low:.2f}-{interval.high:.2f}",
        _times(ideal_speedup(cell, cpus)),
        "" if found.efficiency is None else f"{found.efficiency:.0%}",
        f"{found.peak_memory / MIB:.1f}",
        "" if found.memory_per_worker is None else memory(found.memory_per_worker),
        f"unstable: {found.unstable}" if found.unstable else cell.status,
    ]


def memory(size: float) -> str:
    """A signed size in KiB or MiB."""
    if abs(size) >= MIB:
        return f"{size / MIB:.1f} MiB"
    return f"{size / KIB:.0f} KiB"


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"
