"""The sweep as tables: one per task, a row per level and runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.table import REMOTE, gil_state, not_applicable_lines
from lab.report.units import MIB, blank, memory_estimate
from lab.results.analysis import WAKE_UP_PERCENTILES
from lab.results.status import Kind

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


#: The order in which the sweep's columns give way to a narrow terminal (1 goes first);
#: level, runner, jobs, the median wake-up, jobs/s and the status always stay.
DROP_ORDER = {
    "start-up s": 1,
    "CPU s": 2,
    "p90": 3,
    "max": 4,
    "+ per waiter": 5,
    "overhead s": 6,
    "peak MiB": 7,
    "p99": 8,
}


def render_sweep(
    analysis: Analysis, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """One table per task, then the legend."""
    parts = [
        f"{task.name}: {task.description}\n"
        + render_sweep_task(analysis, task.name, tablefmt, width, wide)
        for task in analysis.results.tasks
    ]
    return "\n\n".join([*parts, wrap_lines(LEGEND, width)])


def render_sweep_task(
    analysis: Analysis, task: str, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """The table of one task's sweep: a row per level and runner, within ``width`` unless
    ``wide``; runners a task does not apply to are one line below it."""
    cells = analysis.task(task)
    measured = [a for a in cells if a.status.kind is not Kind.NOT_APPLICABLE]
    rows = [_row(cell) for cell in measured]
    columns = [
        Column(header, [row[number] for row in rows], numeric=number != 1 and header != "status",
               drop=DROP_ORDER.get(header), wrap=header == "status")
        for number, header in enumerate(HEADERS)
    ]  # fmt: skip
    if analysis.results.interpreters:
        columns = [
            Column("python", [a.cell.interpreter for a in measured]),
            Column("GIL", [gil_state(a.cell) for a in measured], drop=len(DROP_ORDER) + 1),
            *columns,
        ]
    table = fit_table(columns, None if wide else width, tablefmt) if measured else ""
    below = wrap_lines("\n".join(not_applicable_lines(cells)), width)
    return "\n".join(part for part in (table, below) if part)


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
        REMOTE if found.outside_tree else f"{found.cpu:.2f}",
        REMOTE if found.outside_tree else f"{found.peak_memory / MIB:.1f}",
        memory_estimate(found.memory_per_worker),
        str(analysed.status),
    ]
