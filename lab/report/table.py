"""The matrix as tabulate tables: one per task, a row per cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.units import MIB, blank, memory_estimate, milliseconds, per_second, times
from lab.results.status import Kind
from lab.runner import PROCESSES_THREADS

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.results.analysis import Analysis, CellAnalysis, Figures
    from lab.results.model import Cell, Results

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

#: A status longer than this becomes its kind and a numbered note below the table.
STATUS_WIDTH = 24
#: What the CPU and memory columns say of jobs that ran on a cluster outside the lab's tree.
REMOTE = "remote"

COMPACT_LEGEND = """\
jobs s: first job start to last job end, median ± sd/mean (the whole run for tasks that move
data) · speed-up: the baseline's jobs time / this one's, with its 95% interval · efficiency: for
cpu, speed-up / the ideal speed-up here; for io, the ideal time / jobs time · peak: the process
tree's peak memory · --wide adds start-up, wall, CPU, cores used, ideal and memory per worker"""
#: Said below a task's table when a failed cell shows the peak of the runs it kept before.
KEPT_PEAK_NOTE = (
    "≥ peak: the highest of the runs before the cell failed (the failed run's own was not measured)"
)
#: Said below the tables when some cell's jobs ran outside the lab's process tree.
REMOTE_LEGEND = f"{REMOTE}: not measured, the jobs ran on a cluster outside the lab's processes"

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
#: Said of a task whose session starts processes of its own (a server), with their name.
SESSION_LEGEND = """\
{name} CPU s, {name} MiB: the task's own processes, measured apart and left out of CPU and peak:
  their CPU in a run (median) and their peak memory"""
#: Said of a task whose jobs time their operations (requests, reads), with its operation.
OPERATIONS_LEGEND = """\
{op} p50 … max: how long each {op} took, percentiles over every {op} of every run ·
{op}s/s: the {op}s a run's jobs made / the jobs' time, median of the runs"""


def matrix_legend(analysis: Analysis, wide: bool) -> list[str]:
    """The matrix's legend in paragraphs: the tables' (:func:`legend`), then what ``remote``
    means where a cell's jobs ran outside the lab's processes, and the interpreters' columns
    where there are several."""
    results = analysis.results
    operations = sorted({t.operation for t in results.tasks if t.operation})
    lines = [legend(operations, wide, session_names(results))]
    if any(a.figures is not None and a.figures.outside_tree for a in analysis.cells):
        lines.append(REMOTE_LEGEND)
    if len(results.interpreter_labels) > 1:
        lines.append(INTERPRETER_LEGEND)
    return lines


def legend(operations: list[str], wide: bool = True, sessions: list[str] | None = None) -> str:
    """The matrix's legend (the compact table's unless ``wide``), with a line for each kind of
    operation its tasks time and, when ``wide``, each name of their own processes."""
    lines = [LEGEND if wide else COMPACT_LEGEND]
    lines += [OPERATIONS_LEGEND.format(op=op) for op in operations]
    lines += [SESSION_LEGEND.format(name=name) for name in sessions or () if wide]
    return "\n".join(lines)


#: With several interpreters: which one, the GIL state its workers measured, and the time
#: against the reference interpreter's baseline, after the speed-up's interval.
INTERPRETER_HEADERS = ("python", "GIL")
VS_REFERENCE_HEADER = "vs ref"

INTERPRETER_LEGEND = """\
python: the interpreter (the first is the reference) · GIL: as the cell's workers measured it
vs ref: the reference interpreter's baseline jobs time / this one's: the fastest overall is
  the highest"""


def render_task(
    analysis: Analysis, task: str, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """The table of one task's cells: by default the columns that answer the question, within
    ``width``, long statuses as numbered notes below; ``wide``: every column. Cells that do
    not apply are one line below the table either way."""
    columns, below = task_columns(analysis, task, wide)
    table = fit_table(columns, None if wide else width, tablefmt) if columns else ""
    return "\n".join(part for part in (table, wrap_lines("\n".join(below), width)) if part)


def task_columns(analysis: Analysis, task: str, wide: bool) -> tuple[list[Column], list[str]]:
    """The columns of one task's table (none when no cell was measured) and the lines below it:
    numbered notes, sessions' figures (unless ``wide``), cells that do not apply."""
    cells = analysis.task(task)
    measured = [a for a in cells if a.status.kind is not Kind.NOT_APPLICABLE]
    interpreters = len(analysis.results.interpreter_labels) > 1
    operation = analysis.results.task(task).operation
    if wide:
        columns, notes = _wide_columns(analysis, measured, interpreters), list[str]()
    else:
        columns, notes = _compact_columns(analysis, measured, interpreters)
    if operation:
        columns[-1:-1] = _operation_columns(operation, [a.figures for a in measured], wide)
    session = analysis.results.task(task).session_name
    if wide and session:
        columns[-1:-1] = session_columns(session, [a.figures for a in measured])
    apart = [] if wide else session_lines(analysis, task)
    partial = (
        [KEPT_PEAK_NOTE] if any(a.kept_peak and a.kept_peak.at_least for a in measured) else []
    )
    below = [*notes, *partial, *apart, *not_applicable_lines(cells)]
    return (columns if measured else []), below


def not_applicable_lines(cells: list[CellAnalysis]) -> list[str]:
    """One line per reason a task's cells do not apply, naming their runners."""
    reasons: dict[str, list[str]] = {}
    for analysed in cells:
        if analysed.status.kind is Kind.NOT_APPLICABLE:
            runners = reasons.setdefault(analysed.status.detail, [])
            if analysed.cell.runner not in runners:
                runners.append(analysed.cell.runner)
    return [f"n/a on {', '.join(runners)}: {reason}" for reason, runners in reasons.items()]


def workers_text(cell: Cell) -> str:
    """The worker setting as the cell ran it: ``PxT`` for processes of threads."""
    if cell.kind == PROCESSES_THREADS:
        return f"{cell.layout.processes}x{cell.layout.threads}"
    return cell.workers


def _compact_columns(
    analysis: Analysis, cells: list[CellAnalysis], interpreters: bool
) -> tuple[list[Column], list[str]]:
    metric = analysis.results.metadata.memory_metric
    statuses, notes = _short_statuses(cells)
    figures = [a.figures for a in cells]
    columns = _interpreter_columns(analysis, cells)
    columns += [
        Column("runner", [a.cell.runner for a in cells]),
        Column("workers", [workers_text(a.cell) for a in cells]),
        *_job_count_column(analysis, cells),
        Column("jobs s", [_jobs_with_spread(f) for f in figures], numeric=True),
        Column("speed-up", [_figure(f, lambda f: times(f.speedup)) for f in figures], True),
        Column("95% CI", [_figure(f, _interval) for f in figures], numeric=True, drop=3),
    ]
    if interpreters:
        columns.append(Column(VS_REFERENCE_HEADER, [_vs(a) for a in cells], numeric=True))
    columns += [
        Column(
            "efficiency",
            [_figure(f, lambda f: blank(f.efficiency, ".0%")) for f in figures],
            numeric=True,
            drop=1,
        ),
        Column(f"peak {metric} MiB", [_peak(a) for a in cells], numeric=True, drop=2),
        Column("status", statuses),
    ]
    return columns, notes


def _wide_columns(
    analysis: Analysis, cells: list[CellAnalysis], interpreters: bool
) -> list[Column]:
    metric = analysis.results.metadata.memory_metric
    rows = [_row(a) for a in cells]
    columns = _interpreter_columns(analysis, cells)
    for number, header in enumerate(HEADERS):
        values = [row[number] for row in rows]
        columns.append(Column(header.format(metric=metric), values, numeric=number >= 2))
        if interpreters and header == "95% CI":
            columns.append(Column(VS_REFERENCE_HEADER, [_vs(a) for a in cells], numeric=True))
    columns[-1] = Column(columns[-1].header, columns[-1].values)  # the status reads as text
    return columns


def _operation_columns(operation: str, figures: list[Figures | None], wide: bool) -> list[Column]:
    """The latency of the operations the jobs timed, p50 and p99 (every percentile when
    ``wide``), and their rate; the compact table drops the rate, then p99, last of all."""
    shown = (0, 1, 2, 3) if wide else (0, 2)
    names = ("p50", "p90", "p99", "max")
    columns = [
        Column(
            f"{operation} p50 ms" if number == 0 else names[number],
            [_latency(f, number) for f in figures],
            numeric=True,
            drop=None if wide or number == 0 else 6,
        )
        for number in shown
    ]
    rates = [_figure(f, lambda f: per_second(f.operations_per_second)) for f in figures]
    columns.append(Column(f"{operation}s/s", rates, numeric=True, drop=None if wide else 5))
    return columns


def session_columns(name: str, figures: list[Figures | None]) -> list[Column]:
    """The CPU and peak memory of the task's own processes (its server), measured apart; none
    when no cell's session started a process."""
    if all(f is None or f.session_peak_memory is None for f in figures):
        return []
    cpu = [_figure(f, lambda f: blank(f.session_cpu, ".2f")) for f in figures]
    memory = [
        _figure(
            f,
            lambda f: "" if f.session_peak_memory is None else f"{f.session_peak_memory / MIB:.1f}",
        )
        for f in figures
    ]
    return [
        Column(f"{name} CPU s", cpu, numeric=True, drop=0),
        Column(f"{name} MiB", memory, numeric=True, drop=0),
    ]


def session_names(results: Results) -> list[str]:
    """The names of the tasks' own processes, for the tasks whose sessions started any."""
    started = {c.task for c in results.cells if any(s.session_peak_memory for s in c.samples)}
    return sorted({t.session_name for t in results.tasks if t.name in started and t.session_name})


def session_lines(analysis: Analysis, task: str) -> list[str]:
    """What the task's own processes (its server) cost, kept out of the cells' figures: the
    most CPU they used in a run and their highest peak, with the cells they came from."""
    name = analysis.results.task(task).session_name
    found = [
        (a, a.figures.session_cpu, a.figures.session_peak_memory)
        for a in analysis.task(task)
        if a.figures is not None
        and a.figures.session_cpu is not None
        and a.figures.session_peak_memory
    ]
    if not found or not name:
        return []
    busiest = max(found, key=lambda item: item[1] or 0.0)
    largest = max(found, key=lambda item: item[2] or 0)
    return [
        f"{name}: its own process, kept out of the figures above; up to {busiest[1]:.2f} s of"
        f" CPU a run ({_where(busiest[0])}, the median of its runs) and"
        f" {(largest[2] or 0) / MIB:.1f} MiB peak ({_where(largest[0])})"
    ]


def _where(analysed: CellAnalysis) -> str:
    cell = analysed.cell
    on = f" on {cell.interpreter}" if cell.interpreter else ""
    return f"{cell.runner} {workers_text(cell)}{on}"


def _latency(found: Figures | None, number: int) -> str:
    if found is None or len(found.latencies) <= number:
        return ""
    return milliseconds(found.latencies[number])


def _job_count_column(analysis: Analysis, cells: list[CellAnalysis]) -> list[Column]:
    """The cells' jobs, where the run has several job counts a cell (``--jobs 4,16,64``)."""
    if len(analysis.job_counts) < 2:
        return []
    return [Column("jobs", [f"{a.cell.jobs:,}" for a in cells], numeric=True)]


def _interpreter_columns(analysis: Analysis, cells: list[CellAnalysis]) -> list[Column]:
    if not analysis.results.interpreters:
        return []
    return [
        Column(INTERPRETER_HEADERS[0], [a.cell.interpreter for a in cells]),
        Column(INTERPRETER_HEADERS[1], [gil_state(a.cell) for a in cells], drop=4),
    ]


def _short_statuses(cells: list[CellAnalysis]) -> tuple[list[str], list[str]]:
    """Each status as it fits a narrow column, and a numbered note for each that does not."""
    shown: list[str] = []
    notes: list[str] = []
    for analysed in cells:
        text = str(analysed.status)
        if len(text) <= STATUS_WIDTH:
            shown.append(text)
            continue
        notes.append(
            f"[{len(notes) + 1}] {analysed.cell.runner} {workers_text(analysed.cell)}"
            + (f" on {analysed.cell.interpreter}" if analysed.cell.interpreter else "")
            + f": {text}"
        )
        shown.append(f"{analysed.status.kind.value} [{len(notes)}]")
    return shown, notes


def _jobs_with_spread(found: Figures | None) -> str:
    if found is None:
        return ""
    if found.jobs.count < 2:
        return f"{found.jobs.median:.3f}"
    spread = found.jobs.variation
    return (
        f"{found.jobs.median:.3f} ±{spread:.0%}"
        if spread >= 0.01
        else (f"{found.jobs.median:.3f} ±{spread:.1%}")
    )


def _interval(found: Figures) -> str:
    interval = found.interval
    return "" if interval is None else f"{interval.low:.2f}-{interval.high:.2f}"


def _peak(analysed: CellAnalysis) -> str:
    """Peak memory in MiB, or :data:`REMOTE` for jobs that ran outside the lab's tree; for a
    failed cell, that of the runs it kept (``≥`` when the failed run is not among them)."""
    found, kept = analysed.figures, analysed.kept_peak
    if found is not None:
        return REMOTE if found.outside_tree else f"{found.peak_memory / MIB:.1f}"
    if kept is None:
        return ""
    return f"{'≥ ' if kept.at_least else ''}{kept.value / MIB:.1f}"


def _figure(found: Figures | None, show: Callable[[Figures], str]) -> str:
    return "" if found is None else show(found)


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
    head = [cell.runner, workers_text(cell), str(cell.jobs)]
    if found is None:
        blanks = [""] * (len(HEADERS) - 6)
        return [*head, *blanks, _peak(analysed), "", str(analysed.status)]
    interval = found.interval
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        f"±{found.jobs.variation:.1%}" if found.jobs.count > 1 else "",
        f"{found.total:.3f}",
        REMOTE if found.outside_tree else f"{found.cpu:.2f}",
        blank(found.cores, ".2f"),
        times(found.speedup),
        "" if interval is None else f"{interval.low:.2f}-{interval.high:.2f}",
        times(found.ideal),
        blank(found.efficiency, ".0%"),
        _peak(analysed),
        memory_estimate(found.memory_per_worker),
        str(analysed.status),
    ]
