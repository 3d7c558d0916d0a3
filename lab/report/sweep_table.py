"""The sweep as tables: one per task, a row per level and runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.report.table import gil_state
from lab.report.units import MIB, blank, memory_estimate
from lab.results.analysis import WAKE_UP_PERCENTILES

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis

HEADERS = (
    "level",
    "runner",
    "start-up s",
    "jobs s",
    "overhead s",
    "wake-up p50 ms",
    "p90",
    "p99",
    "max",
    "jobs/s",
    "CPU s",
    "peak MiB",
    "+ per waiter",
    "status",
)

LEGEND = """\
level: jobs waiting at once · jobs: first job start to last job end, median (the whole run
for tasks that move data) · overhead: jobs minus the ideal (one wait) · wake-up: how much
longer than its wait each job took, percentiles over every job of every run · jobs/s: jobs /
the run's wall time · + per waiter: peak memory added per extra waiter, from the runner's
lowest level (≤: within the samples' spread)"""


def render_sweep(analysis: Analysis, tablefmt: str) -> str:
    """One table per task, then the legend."""
    parts = [
        f"{task.name}: {task.description}\n{render_sweep_task(analysis, task.name, tablefmt)}"
        for task in analysis.results.tasks
    ]
    return "\n\n".join([*parts, LEGEND])


def render_sweep_task(analysis: Analysis, task: str, tablefmt: str) -> str:
    """The table of one task's sweep: a row per level and runner."""
    cells = analysis.task(task)
    rows = [_row(cell) for cell in cells]
    headers: tuple[str, ...] = HEADERS
    if analysis.results.interpreters:
        headers = ("python", "GIL", *HEADERS)
        rows = [
            [a.cell.interpreter, gil_state(a.cell), *row]
            for a, row in zip(cells, rows, strict=True)
        ]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _row(analysed: CellAnalysis) -> list[str]:
    cell, found = analysed.cell, analysed.figures
    head = [f"{cell.jobs:,}", cell.runner]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 3), str(analysed.status)]
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        blank(found.overhead, ".3f"),
        *(f"{delay * 1000:.1f}" for delay in found.wake_ups),
        *[""] * (len(WAKE_UP_PERCENTILES) - len(found.wake_ups)),
        blank(found.jobs_per_second, ",.0f"),
        f"{found.cpu:.2f}",
        f"{found.peak_memory / MIB:.1f}",
        memory_estimate(found.memory_per_worker),
        str(analysed.status),
    ]
