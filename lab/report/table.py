"""The matrix as tabulate tables: one per task, a row per cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.report.units import MIB, blank, memory_estimate, times

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell

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
    "peak {metric} MiB",
    "+ per worker",
    "status",
)

LEGEND = """\
start-up: starting the pool or loop · jobs: first job start to last job end, median (the whole
run for tasks that move data: echo, tcp)
±: sd / mean of the jobs' time · wall: start-up + the jobs' run + close · cores used: CPU / run
(blank when the run is too short for the CPU clock's resolution)
speed-up: the baseline's jobs time / this one's · ideal: the best speed-up possible here
efficiency: for cpu, speed-up / ideal; for io, the ideal time / jobs time
+ per worker: peak memory added by one more worker (one more concurrent job on event loops):
  the slope from the runner's smallest worker setting, or the rise above the baseline's;
  ≤ when the rise is within the samples' spread"""


#: With several interpreters: which one, the GIL state its workers measured, and the time
#: against the reference interpreter's baseline, after the speed-up's interval.
INTERPRETER_HEADERS = ("python", "GIL")
VS_REFERENCE_HEADER = "vs ref"
VS_REFERENCE_AT = HEADERS.index("95% CI") + 1

INTERPRETER_LEGEND = """\
python: the interpreter (the first is the reference) · GIL: as the cell's workers measured it
vs ref: the reference interpreter's baseline jobs time / this one's: the fastest overall is
  the highest"""


def render_task(analysis: Analysis, task: str, tablefmt: str) -> str:
    """The table of one task's cells."""
    metric = analysis.results.metadata.memory_metric
    headers = [h.format(metric=metric) for h in HEADERS]
    rows = [_row(cell) for cell in analysis.task(task)]
    cells = analysis.task(task)
    if len(analysis.results.interpreter_labels) > 1:
        headers.insert(VS_REFERENCE_AT, VS_REFERENCE_HEADER)
        at = VS_REFERENCE_AT
        rows = [[*row[:at], _vs(a), *row[at:]] for a, row in zip(cells, rows, strict=True)]
    if analysis.results.interpreters:
        headers = [*INTERPRETER_HEADERS, *headers]
        rows = [
            [a.cell.interpreter, gil_state(a.cell), *row]
            for a, row in zip(cells, rows, strict=True)
        ]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def gil_state(cell: Cell) -> str:
    """``on``, ``off`` or ``mixed``, as the cell's workers measured it; blank if unmeasured."""
    states = {s.gil_enabled for s in cell.samples if s.gil_enabled is not None}
    if not states:
        return ""
    return "mixed" if len(states) > 1 else ("on" if states.pop() else "off")


def _vs(analysed: CellAnalysis) -> str:
    figures = analysed.figures
    return "" if figures is None else times(figures.vs_reference)


def _row(analysed: CellAnalysis) -> list[str]:
    cell, found = analysed.cell, analysed.figures
    head = [cell.runner, cell.workers, str(cell.jobs)]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 4), str(analysed.status)]
    interval = found.interval
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        f"±{found.jobs.variation:.1%}" if found.jobs.count > 1 else "",
        f"{found.total:.3f}",
        f"{found.cpu:.2f}",
        blank(found.cores, ".2f"),
        times(found.speedup),
        "" if interval is None else f"{interval.low:.2f}-{interval.high:.2f}",
        times(found.ideal),
        blank(found.efficiency, ".0%"),
        f"{found.peak_memory / MIB:.1f}",
        memory_estimate(found.memory_per_worker),
        str(analysed.status),
    ]
