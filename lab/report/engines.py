"""The distributed engines beside a local process pool: the figures
:mod:`lab.results.engines` chose, as one table a task and engine a row, with what each column
means beneath it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.table import workers_text
from lab.report.units import duration, memory
from lab.report.verdict import caveat
from lab.results.engines import engine_costs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.results.analysis import Analysis
    from lab.results.engines import EngineCost

#: The table's heading.
ENGINES_TITLE = "distributed engines beside a process pool of as many workers:"
HEADERS = (
    "engine",
    "task",
    "beside",
    "+ a job",
    "+ a run",
    "start-up s",
    "+ own memory",
    "+ memory",
    "pays from",
)


def engine_rows(costs: Sequence[EngineCost]) -> list[list[str]]:
    """One row a task and engine (:func:`~lab.results.engines.engine_costs`), in
    :data:`HEADERS` order."""
    return [_row(found) for found in costs]


def _row(found: EngineCost) -> list[str]:
    engine, pool = found.engine, found.pool
    assert engine.figures is not None
    assert pool.figures is not None
    per_job = "" if found.per_job is None else signed(found.per_job)
    return [
        f"{engine.cell.runner} {workers_text(engine.cell)}{caveat(engine)}",
        found.task.name,
        f"{pool.cell.runner} {workers_text(pool.cell)}{caveat(pool)}",
        per_job,
        signed(found.per_run),
        f"{engine.figures.startup:.2f} ({pool.figures.startup:.2f})",
        "" if found.own_memory is None else signed_memory(found.own_memory),
        "" if found.memory is None else signed_memory(found.memory),
        "" if found.pays_from is None else duration(found.pays_from),
    ]


def fitted_lines(costs: Sequence[EngineCost]) -> list[str]:
    """For each engine fitted across the run's job counts, its line beside the pool's."""
    found = []
    for cost in costs:
        fitted = cost.fitted
        if fitted is None:
            continue
        engine = cost.engine.cell
        counts = ", ".join(f"{n:,}" for n in fitted.counts)
        pays = "" if fitted.pays_from is None else f"; pays from {duration(fitted.pays_from)}"
        found.append(
            f"fitted over {counts} jobs, {engine.runner} {workers_text(engine)} on"
            f" {cost.task.name}: {signed(fitted.per_job)} a job"
            f" (±{duration(fitted.spread)}), {signed(fitted.per_run)} a run{pays}"
        )
    return found


def engines_legend(analysis: Analysis) -> str:
    """What the columns mean, for the table of ``analysis``'s engines."""
    metric = analysis.results.metadata.memory_metric
    return (
        "+ a job: how much longer a worker waited between one job's end and its next job's"
        " start than on the process pool (the slope of a run's time against its jobs); + a"
        " run: how much longer a run spent before its first job and after its last (the"
        " intercept); start-up s: the engine's (the pool's); + own memory: how much more peak"
        f" {metric} the engine's processes that ran no job took than the pool's (the cell's"
        " own with a scheduler in it, a raylet, a GCS, nannies); + memory: the engine's peak"
        " beyond the pool's, its workers' runtime too (both blank where the jobs ran on a"
        " running cluster); pays"
        " from: the job time above which its workers beat one job at a time, waits included"
        " (not judged for a transfer). Where the run has several job counts (--jobs 4,16,64),"
        " the row is the cell of most jobs, and a line beneath fits each engine's run time"
        " and the pool's against their jobs: the slope less the pool's, times the workers,"
        " is a job's cost with what is paid outside the jobs' span, the intercept's a run's"
    )


def render_engines(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The heading, the table, the fitted lines and the legend; nothing when the run set no
    engine beside a pool."""
    costs = engine_costs(analysis)
    table = engine_table(costs, tablefmt, width)
    if not table:
        return ""
    lines = [wrap_lines(ENGINES_TITLE, width), table]
    lines += [wrap_lines(line, width) for line in fitted_lines(costs)]
    return "\n".join([*lines, wrap_lines(engines_legend(analysis), width)])


def engine_table(costs: Sequence[EngineCost], tablefmt: str, width: int | None = None) -> str:
    """The table alone (empty without an engine beside a pool)."""
    rows = engine_rows(costs)
    if not rows:
        return ""
    numeric = {"+ a job", "+ a run", "start-up s", "+ own memory", "+ memory", "pays from"}
    drops = {"beside": 1, "+ a run": 2, "+ memory": 3}  # the title names the pool
    columns = [
        Column(
            header,
            [row[i] for row in rows],
            numeric=header in numeric,
            drop=drops.get(header),
            wrap=header in ("engine", "task", "beside"),
        )
        for i, header in enumerate(HEADERS)
    ]
    return fit_table(columns, width, tablefmt)


def signed(seconds: float) -> str:
    """A difference of times, its sign always shown."""
    return ("+" if seconds >= 0 else "-") + duration(abs(seconds))


def signed_memory(size: int) -> str:
    """A difference of sizes, its sign always shown."""
    return ("+" if size >= 0 else "-") + memory(abs(size))
