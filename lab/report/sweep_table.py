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
from lab.report.units import MIB, blank, memory, memory_estimate, milliseconds, per_second
from lab.results.analysis import WAKE_UP_PERCENTILES
from lab.results.selection import jobs_time
from lab.results.status import Kind
from lab.results.sweep import short_of_level, sweep_findings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.results.analysis import Analysis, CellAnalysis, Estimate
    from lab.results.sweep import KeepingUp, SweepFinding

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


#: Said of a sweep whose cells say what their records took (runs since the lab said so).
RECORDS_LEGEND = """\
records/waiter: the bytes the cell's worker held for each job's record and call count (from
20,000 jobs, by column in arrays): the lab's, not the waiter's, yet inside the peak memory and
so inside + per waiter; the lines above give a waiter without them"""

#: Said when a runner held fewer jobs at once than a level asked for.
AT_ONCE_LEGEND = """\
at once: the most jobs running at one time in a run, from the records, shown where a runner
held fewer than its level (it handed jobs out slower than they finished); + per waiter is per
job it held"""


def legend(
    operations: list[str],
    sessions: list[str] | None = None,
    short: bool = False,
    records: bool = False,
) -> str:
    """The sweep's legend, with a line for each kind of operation its tasks time, for each
    name of their own processes, for runners ``short`` of their level, and for the
    ``records`` memory column."""
    lines = [LEGEND, *(OPERATIONS_LEGEND.format(op=op) for op in operations)]
    lines += [SESSION_LEGEND.format(name=name) for name in sessions or ()]
    lines += [RECORDS_LEGEND] if records else []
    lines += [AT_ONCE_LEGEND] if short else []
    return "\n".join(lines)


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
    "records/waiter": 7,
    "+ per waiter": 8,
    "p99": 9,
}
#: Where the records' memory column sits: after what one more waiter costs, which it is in.
RECORDS_HEADER = "records/waiter"


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
    return "\n\n".join([*parts, wrap_lines(sweep_legend(analysis, wide), width)])


def sweep_legend(analysis: Analysis, wide: bool) -> str:
    """The legend of ``analysis``'s sweep tables (every column's when ``wide``)."""
    operations = sorted({t.operation for t in analysis.results.tasks if t.operation})
    sessions = session_names(analysis.results)
    short = any(short_of_level(a) for a in analysis.cells)
    records = any(records_per_waiter(a) is not None for a in analysis.cells)
    return legend(operations, sessions if wide else [], short, records)


def render_sweep_task(
    analysis: Analysis, task: str, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """The table of one task's sweep: a row per level and runner, within ``width`` unless
    ``wide``; runners a task does not apply to are one line below it."""
    columns, below = sweep_columns(analysis, task, wide)
    table = fit_table(columns, None if wide else width, tablefmt) if columns else ""
    return "\n".join(part for part in (table, wrap_lines("\n".join(below), width)) if part)


def sweep_columns(analysis: Analysis, task: str, wide: bool) -> tuple[list[Column], list[str]]:
    """The columns of one task's sweep table (none when no cell was measured) and the lines
    below it: sessions' figures (unless ``wide``) and runners the task does not apply to."""
    cells = analysis.task(task)
    measured = [a for a in cells if a.status.kind is not Kind.NOT_APPLICABLE]
    operation = analysis.results.task(task).operation
    rows = [_row(cell, bool(operation)) for cell in measured]
    columns = [
        Column(header, [row[number] for row in rows], numeric=number != 1 and header != "status",
               drop=DROP_ORDER.get(header), wrap=header == "status")
        for number, header in enumerate(headers(operation))
    ]  # fmt: skip
    kept = [records_per_waiter(a) for a in measured]
    if any(k is not None for k in kept):
        where = next(n for n, c in enumerate(columns) if c.header == "+ per waiter") + 1
        shown = ["" if k is None else memory(k) for k in kept]
        columns.insert(
            where, Column(RECORDS_HEADER, shown, numeric=True, drop=DROP_ORDER[RECORDS_HEADER])
        )
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
    apart = [] if wide else session_lines(analysis, task)
    return (columns if measured else []), [*apart, *not_applicable_lines(cells)]


def sweep_evidence(analysis: Analysis, task: str) -> list[str]:
    """What a task's sweep showed (:func:`lab.results.sweep.sweep_findings`), in words, and
    what a waiter cost without the lab's records at each runner's highest level."""
    operation = analysis.results.task(task).operation
    lines = []
    for found in sweep_findings(analysis, task):
        on = f" on {found.interpreter}" if found.interpreter else ""
        lines.append(_served(found, operation, on))
        if found.threads is not None:
            lines.append(_keeping_up(found.threads) + on)
    return lines + waiter_lines(analysis.task(task))


def records_per_waiter(analysed: CellAnalysis) -> float | None:
    """The bytes the cell's worker held for each job's record and call count, the most of its
    runs' (``None`` where its runs did not say, as in files written before they did)."""
    kept = [s.records_memory for s in analysed.cell.samples if s.records_memory is not None]
    if not kept or analysed.figures is None or not analysed.cell.jobs:
        return None
    return max(kept) / analysed.cell.jobs


def waiter_lines(cells: Sequence[CellAnalysis]) -> list[str]:
    """For each runner at the highest level it was measured at with the records' memory
    known: what one more waiter cost, the records' share of it, and the waiter without them."""
    highest: dict[tuple[str, str], tuple[CellAnalysis, float, float]] = {}
    for analysed in cells:
        found, records = analysed.figures, records_per_waiter(analysed)
        if found is None or found.memory_per_worker is None or records is None:
            continue
        if not found.memory_per_worker.resolved:
            continue
        place = (analysed.cell.interpreter, analysed.cell.runner)
        if place not in highest or highest[place][0].cell.jobs < analysed.cell.jobs:
            highest[place] = analysed, found.memory_per_worker.value, records
    lines = []
    for (interpreter, runner), (analysed, per_waiter, records) in highest.items():
        on = f" on {interpreter}" if interpreter else ""
        lines.append(
            f"memory per waiter at {analysed.cell.jobs:,} on {runner}{on}: {_bytes(per_waiter)},"
            f" {_bytes(records)} of it the lab's records ({_bytes(per_waiter - records)} without)"
        )
    return lines


def _estimate(estimate: Estimate | None) -> str:
    """What one more waiter costs, to 3 significant places (1.46 KiB against 2.05 KiB), or
    for one within its resolution the bound it is known to lie under."""
    if estimate is None or not estimate.resolved:
        return memory_estimate(estimate)
    return _bytes(estimate.value)


def _bytes(size: float) -> str:
    """Bytes to 3 significant places: a waiter's few hundred bytes, or a KiB or two."""
    if abs(size) >= MIB:
        return f"{size / MIB:.2f} MiB"
    return f"{size / 1024:.2f} KiB" if abs(size) >= 1024 else f"{size:.0f} B"


def _served(found: SweepFinding, operation: str, on: str) -> str:
    """Which runner served the most waiting jobs best."""
    best, level = found.best, f"{found.level:,}"
    if not found.contested:
        return f"only {best.cell.runner} was measured at {level} waiting jobs{on}"
    held = _held(best)
    return (
        f"served best at {level} waiting jobs{on}: {best.cell.runner}"
        f" ({jobs_time(best):.3f} s{_rates(best, operation)}" + (f", {held})" if held else ")")
    )


def _keeping_up(found: KeepingUp) -> str:
    """Where threads stopped keeping up with the event loops, or how far they kept up."""
    held = _held(found.threads)
    if found.kept_up:
        return f"threads kept up with the event loops to {found.level:,} waiting jobs" + (
            f" ({held} on {found.level:,})" if held else ""
        )
    return (
        f"threads stopped keeping up at {found.level:,} waiting jobs:"
        f" {jobs_time(found.threads):.3f} s on {found.threads.cell.runner}"
        + (f" ({held})" if held else "")
        + f" against {jobs_time(found.loop):.3f} s on {found.loop.cell.runner}"
    )


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
        _estimate(found.memory_per_worker),
        str(analysed.status),
    ]
