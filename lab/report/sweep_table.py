"""The sweep as tables: one per task, a row per level and runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.table import (
    REMOTE,
    SESSION_LEGEND,
    gil_state,
    not_applicable_lines,
    session_columns,
    session_lines,
    session_names,
)
from lab.report.units import MIB, blank, memory_estimate, milliseconds, per_second
from lab.results.analysis import WAKE_UP_PERCENTILES
from lab.results.status import Kind
from lab.runner import EVENT_LOOP, THREADS

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
#: Said of a task whose jobs time their operations (requests, reads), with its operation.
OPERATIONS_LEGEND = """\
{op} p50 … max: how long each {op} took, percentiles over every {op} of every run, in place
of the wake-up · {op}s/s: the {op}s a run's jobs made / the jobs' time, median of the runs"""


#: Said when a runner held fewer jobs at once than a level asked for.
AT_ONCE_LEGEND = """\
at once: the most jobs running at one time in a run, from the records, shown where a runner
held fewer than its level (it handed jobs out slower than they finished); + per waiter is per
job it held"""
#: A runner held a level when it had this share of its jobs running at once.
HELD = 0.9


def legend(operations: list[str], sessions: list[str] | None = None, short: bool = False) -> str:
    """The sweep's legend, with a line for each kind of operation its tasks time, for each
    name of their own processes, and for runners ``short`` of their level."""
    lines = [LEGEND, *(OPERATIONS_LEGEND.format(op=op) for op in operations)]
    lines += [SESSION_LEGEND.format(name=name) for name in sessions or ()]
    lines += [AT_ONCE_LEGEND] if short else []
    return "\n".join(lines)


def short_of_level(analysed: CellAnalysis) -> bool:
    """Whether the cell's runner held fewer than :data:`HELD` of its level's jobs at once."""
    found = analysed.figures
    return found is not None and found.most_at_once < HELD * analysed.cell.jobs


def headers(operation: str) -> tuple[str, ...]:
    """The columns of a task's table: the latency of its operations in place of the wake-up
    delay, and their rate in place of the jobs', when its jobs time operations."""
    if not operation:
        return HEADERS
    shown = list(HEADERS)
    shown[shown.index("wake-up p50 ms")] = f"{operation} p50 ms"
    shown[shown.index("jobs/s")] = f"{operation}s/s"
    return tuple(shown)


#: The order in which the sweep's columns give way to a narrow terminal (1 goes first): what
#: one more waiter costs outlasts the peak; level, runner, jobs, the median wake-up (or
#: latency), the rate and the status always stay.
DROP_ORDER = {
    "start-up s": 1,
    "CPU s": 2,
    "p90": 3,
    "max": 4,
    "overhead s": 5,
    "peak MiB": 6,
    "+ per waiter": 7,
    "p99": 8,
}


def render_sweep(
    analysis: Analysis, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """One table per task with what it showed, then the legend."""
    parts = []
    for task in analysis.results.tasks:
        table = render_sweep_task(analysis, task.name, tablefmt, width, wide)
        found = wrap_lines("\n".join(sweep_evidence(analysis, task.name)), width)
        title = wrap_lines(f"{task.name}: {task.description}", width)
        parts.append(f"{title}\n{table}" + (f"\n{found}" if found else ""))
    operations = sorted({t.operation for t in analysis.results.tasks if t.operation})
    sessions = session_names(analysis.results)
    short = any(short_of_level(a) for a in analysis.cells)
    shown = legend(operations, sessions if wide else [], short)
    return "\n\n".join([*parts, wrap_lines(shown, width)])


def render_sweep_task(
    analysis: Analysis, task: str, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """The table of one task's sweep: a row per level and runner, within ``width`` unless
    ``wide``; runners a task does not apply to are one line below it."""
    cells = analysis.task(task)
    measured = [a for a in cells if a.status.kind is not Kind.NOT_APPLICABLE]
    operation = analysis.results.task(task).operation
    rows = [_row(cell, bool(operation)) for cell in measured]
    columns = [
        Column(header, [row[number] for row in rows], numeric=number != 1 and header != "status",
               drop=DROP_ORDER.get(header), wrap=header == "status")
        for number, header in enumerate(headers(operation))
    ]  # fmt: skip
    if any(short_of_level(a) for a in measured):
        held = [f"{a.figures.most_at_once:,}" if a.figures else "" for a in measured]
        columns.insert(2, Column("at once", held, numeric=True))  # never dropped: it qualifies
    session = analysis.results.task(task).session_name
    if wide and session:
        columns[-1:-1] = session_columns(session, [a.figures for a in measured])
    if analysis.results.interpreters:
        columns = [
            Column("python", [a.cell.interpreter for a in measured]),
            Column("GIL", [gil_state(a.cell) for a in measured], drop=len(DROP_ORDER) + 1),
            *columns,
        ]
    table = fit_table(columns, None if wide else width, tablefmt) if measured else ""
    apart = [] if wide else session_lines(analysis, task)
    below = wrap_lines("\n".join([*apart, *not_applicable_lines(cells)]), width)
    return "\n".join(part for part in (table, below) if part)


#: How far behind the best event loop (in job time) threads may be and still keep up.
KEEPING_UP = 0.10


def sweep_evidence(analysis: Analysis, task: str) -> list[str]:
    """What a task's sweep showed: which runner served the most waiting jobs best, and the
    level at which threads stopped keeping up with the best event loop, if they did (per
    interpreter, by the runners' kinds)."""
    lines = []
    operation = analysis.results.task(task).operation
    cells = [a for a in analysis.task(task) if a.figures is not None]
    for label in analysis.results.interpreter_labels:
        here = [a for a in cells if a.cell.interpreter == label]
        if not here:
            continue
        on = f" on {label}" if label else ""
        top = max(a.cell.jobs for a in here)
        best = min((a for a in here if a.cell.jobs == top), key=_jobs_time)
        runners = {a.cell.runner for a in here if a.cell.jobs == top}
        if len(runners) < 2:
            lines.append(f"only {best.cell.runner} was measured at {top:,} waiting jobs{on}")
        else:
            lines.append(
                f"served best at {top:,} waiting jobs{on}: {best.cell.runner}"
                f" ({_jobs_time(best):.3f} s{_rates(best, operation)}"
                + (f", {_held(best)})" if _held(best) else ")")
            )
        behind = _threads_behind(here)
        if behind is not None:
            lines.append(behind + on)
    return lines


def _rates(analysed: CellAnalysis, operation: str) -> str:
    """The jobs' rate, or their operations' rate and 99th percentile latency."""
    found = analysed.figures
    if found is None:
        return ""
    if not operation:
        rate = found.jobs_per_second
        return f", {per_second(rate)} jobs/s" if rate else ""
    rate = found.operations_per_second
    shown = f", {per_second(rate)} {operation}s/s" if rate else ""
    if len(found.latencies) >= 3:
        shown += f", {operation} p99 {milliseconds(found.latencies[2])} ms"
    return shown


def _held(analysed: CellAnalysis) -> str:
    """``N at once at most`` where the runner held fewer jobs at once than its level."""
    found = analysed.figures
    if found is None or not short_of_level(analysed):
        return ""
    return f"{found.most_at_once:,} at once at most"


def _threads_behind(cells: list[CellAnalysis]) -> str | None:
    levels = sorted({a.cell.jobs for a in cells})
    threads_seen = loops_seen = False
    held = ""
    for level in levels:
        threads = [a for a in cells if a.cell.jobs == level and a.cell.kind == THREADS]
        loops = [a for a in cells if a.cell.jobs == level and a.cell.kind == EVENT_LOOP]
        if not threads or not loops:
            continue
        threads_seen = loops_seen = True
        fastest_threads = min(threads, key=_jobs_time)
        fastest_loop = min(loops, key=_jobs_time)
        held = _held(fastest_threads)
        if _jobs_time(fastest_threads) > _jobs_time(fastest_loop) * (1 + KEEPING_UP):
            return (
                f"threads stopped keeping up at {level:,} waiting jobs:"
                f" {_jobs_time(fastest_threads):.3f} s on {fastest_threads.cell.runner}"
                + (f" ({_held(fastest_threads)})" if _held(fastest_threads) else "")
                + f" against {_jobs_time(fastest_loop):.3f} s on {fastest_loop.cell.runner}"
            )
    if threads_seen and loops_seen:
        return f"threads kept up with the event loops to {levels[-1]:,} waiting jobs" + (
            f" ({held} on {level:,})" if held else ""
        )
    return None


def _jobs_time(analysed: CellAnalysis) -> float:
    return analysed.figures.jobs.median if analysed.figures is not None else float("inf")


def _row(analysed: CellAnalysis, operations: bool) -> list[str]:
    """A cell's row: with ``operations``, the latency and rate of its jobs' operations in
    place of the jobs' wake-up delay and rate."""
    cell, found = analysed.cell, analysed.figures
    head = [f"{cell.jobs:,}", cell.runner]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 3), str(analysed.status)]
    delays = found.latencies if operations else found.wake_ups
    rate = found.operations_per_second if operations else found.jobs_per_second
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        blank(found.overhead, ".3f"),
        *(milliseconds(delay) if operations else f"{delay * 1000:.1f}" for delay in delays),
        *[""] * (len(WAKE_UP_PERCENTILES) - len(delays)),
        per_second(rate),
        REMOTE if found.outside_tree else f"{found.cpu:.2f}",
        REMOTE if found.outside_tree else f"{found.peak_memory / MIB:.1f}",
        memory_estimate(found.memory_per_worker),
        str(analysed.status),
    ]
