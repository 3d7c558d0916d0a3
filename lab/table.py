"""The matrix as tabulate tables: one per task, under a header of facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.figures import Figures, figures, ideal_speedup
from lab.process_tree import MEMORY_METRIC

if TYPE_CHECKING:
    from lab.matrix import Cell

BASELINE = "single"
MIB = 1024 * 1024

HEADERS = (
    "runner",
    "workers",
    "jobs",
    "wall s",
    "±",
    "start-up s",
    "CPU s",
    "cores used",
    "speed-up",
    "ideal",
    "efficiency",
    f"peak {MEMORY_METRIC} MiB",
    "status",
)


def render_task(cells: list[Cell], cpus: int, tablefmt: str) -> str:
    """The table of one task's cells; speed-up is against the ``single`` runner's cell."""
    baseline = next((c for c in cells if c.runner.name == BASELINE), None)
    rows = [_row(cell, figures(cell, baseline, cpus), cpus) for cell in cells]
    return tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True)


def _row(cell: Cell, found: Figures | None, cpus: int) -> list[str]:
    head = [cell.runner.name, str(cell.workers), str(cell.jobs)]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 4), cell.status]
    return [
        *head,
        f"{found.wall.median:.3f}",
        f"±{found.wall.spread:.1%}" if found.wall.count > 1 else "",
        f"{found.startup:.3f}",
        f"{found.cpu:.2f}",
        f"{found.cores:.2f}",
        "" if found.speedup is None else f"{found.speedup:.2f}x",
        f"{ideal_speedup(cell, cpus):.2f}x",
        "" if found.efficiency is None else f"{found.efficiency:.0%}",
        f"{found.peak_memory / MIB:.1f}",
        cell.status,
    ]
