"""The classic comparison of threads, processes and event loops, restated as this run's
evidence: the figures :mod:`lab.results.verdict` chose, in words. Runners are grouped by the
kind they declare, so a plugin's runner speaks here like a built-in one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table
from lab.report.table import workers_text
from lab.report.units import duration, memory, memory_estimate
from lab.results.verdict import verdict_figures
from lab.runner import EVENT_LOOP, INTERPRETERS, PROCESSES, PROCESSES_THREADS, THREADS

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell
    from lab.results.selection import TaskCosts
    from lab.results.verdict import Fastest, KindCost, Speedup

BOUNDS = {"cpu": "CPU-bound", "io": "IO-bound"}
NOUNS = {
    THREADS: "threads",
    INTERPRETERS: "subinterpreters",
    PROCESSES: "processes",
    PROCESSES_THREADS: "threads inside processes",
    EVENT_LOOP: "an event loop",
}
#: Job times shorter than this are written in ms or µs.
SECONDS_SHOWN = 0.01
#: What one more worker of a kind is, for the memory row.
UNITS = {
    PROCESSES: "a process",
    INTERPRETERS: "a subinterpreter",
    THREADS: "a thread",
    EVENT_LOOP: "an event-loop task",
}
#: What starts for a kind, for the start-up row.
POOLS = {
    PROCESSES: "processes",
    INTERPRETERS: "subinterpreters",
    THREADS: "threads",
    EVENT_LOOP: "an event loop",
}


def verdict_rows(analysis: Analysis) -> list[tuple[str, str]]:
    """(question, evidence) pairs for what this run measured; questions it did not measure are
    left out."""
    found = verdict_figures(analysis)
    on = _on_reference(analysis)
    rows = [_speedup_row(analysis, s) for s in found.speedups]
    rows += [_fastest(f) for f in found.fastest]
    rows += [_transfer(t, on) for t in found.transfers if len(t.costs) > 1]
    return rows + _costs(analysis, found.costs, on)


def _speedup_row(analysis: Analysis, found: Speedup) -> tuple[str, str]:
    """A kind's speed-up on a task: the question names the task when others share its bound,
    and the interpreter when the run has several."""
    task, labels = found.task, analysis.results.interpreter_labels
    shared = sum(t.bound == task.bound for t in analysis.results.tasks) > 1
    work = f"{BOUNDS[task.bound]} work" + (f" ({task.name})" if shared else "")
    on = f" on {found.interpreter}" if len(labels) > 1 else ""
    noun = NOUNS.get(found.analysed.cell.kind, found.analysed.cell.kind)
    return f"{noun} on {work}{on}", _speedup(analysis, found)


def _fastest(found: Fastest) -> tuple[str, str]:
    """The fastest way to run a task here, across runners, workers and interpreters (marked
    when its figures are unstable)."""
    cell, figures = found.analysed.cell, found.analysed.figures
    assert figures is not None
    where = f"{cell.runner} with workers {workers_text(cell)}"
    where += f" on {cell.interpreter}" if found.against_reference else ""
    against = "the reference's baseline" if found.against_reference else "the baseline"
    faster = f", {found.ratio:.2f}x {against}" if found.ratio is not None else ""
    median = figures.jobs.median
    took = f"{median:.3f} s" if median >= SECONDS_SHOWN else duration(median)
    evidence = f"{where}: jobs in {took}{faster}{caveat(found.analysed)}"
    return f"fastest way to run {found.task.name} here", evidence


def _speedup(analysis: Analysis, found: Speedup) -> str:
    cell, figures = found.analysed.cell, found.analysed.figures
    assert figures is not None
    text = f"{figures.speedup:.2f}x with {_workers(cell, named=not found.alone)}"
    why = _why(analysis, cell, found.gil)
    return text + (f" ({why})" if why else "") + caveat(found.analysed)


def _workers(cell: Cell, named: bool) -> str:
    """The cell's workers in words, naming its runner when the run has others of its kind."""
    layout = cell.layout
    runner = f" on the {cell.runner} runner" if named else ""
    if cell.kind == THREADS:
        return f"{layout.concurrency} threads{runner}"
    if cell.kind == PROCESSES:
        return f"{layout.concurrency} processes{runner}"
    if cell.kind == PROCESSES_THREADS:
        return f"{layout.processes} processes x {layout.threads} threads{runner}"
    if cell.kind == INTERPRETERS:
        return f"{layout.threads} subinterpreters{runner}"
    if cell.kind == EVENT_LOOP:
        return f"{layout.tasks} tasks on {cell.runner} in one thread"
    return f"workers {cell.workers} on {cell.runner}"


def _why(analysis: Analysis, cell: Cell, gil: bool) -> str:
    if cell.bound == "cpu" and cell.kind == THREADS:
        return "one GIL: one thread runs Python at a time" if gil else "no GIL"
    if cell.bound == "cpu" and cell.kind in (PROCESSES, PROCESSES_THREADS):
        return f"{analysis.results.metadata.cpus} usable CPUs"
    if cell.bound == "cpu" and cell.kind == INTERPRETERS:
        return f"a GIL each, {analysis.results.metadata.cpus} usable CPUs"
    if cell.bound == "io" and cell.kind == THREADS:
        return "waiting releases the GIL"
    return ""


def caveat(analysed: CellAnalysis) -> str:
    """What the reader must know before trusting a piece of evidence."""
    notes = []
    if analysed.short_of_samples and analysed.figures is not None:
        notes.append(f"from {analysed.figures.samples} of {analysed.asked} runs")
    if analysed.unstable:
        notes.append("unstable")
    return f" [{'; '.join(notes)}]" if notes else ""


def _on_reference(analysis: Analysis) -> str:
    """How to say that figures are the reference interpreter's, when there are others."""
    labels = analysis.results.interpreter_labels
    return f" (on {labels[0]})" if len(labels) > 1 else ""


def _transfer(found: TaskCosts, on: str) -> tuple[str, str]:
    """What one job of a transfer task cost on each kind of runner."""
    task = found.task
    parts = [
        f"{duration(c.seconds)} with {POOLS.get(c.kind, NOUNS.get(c.kind, c.kind))}"
        + caveat(c.analysed)
        for c in found.costs
    ]
    size = (
        memory(task.size)
        if task.size_name == "bytes"
        else f"{task.size_text} {task.size_name}".strip()
    )
    return f"one {task.name} job of {size}{on}", ", ".join(parts)


def _costs(analysis: Analysis, costs: tuple[KindCost, ...], on: str) -> list[tuple[str, str]]:
    """What one more worker costs in memory and what the pool costs to start, per kind,
    where the run measured two kinds at least."""
    rows = []
    memories = [
        f"{memory_estimate(c.memory)} {UNITS[c.kind]}" for c in costs if c.memory is not None
    ]
    if len(memories) > 1:
        metric = analysis.results.metadata.memory_metric
        rows.append((f"memory of one more worker{on}", f"{', '.join(memories)} (peak {metric})"))
    startups = [f"{c.startup:.3f} s for {POOLS[c.kind]}" for c in costs if c.startup is not None]
    if len(startups) > 1:
        rows.append((f"start-up of the pool{on}", ", ".join(startups)))
    return rows


def render_verdict(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The verdict's table, its questions and evidence wrapped to fit ``width``."""
    rows = verdict_rows(analysis)
    if not rows:
        return ""
    columns = [  # a question names a task, which a plugin may name at length: both wrap
        Column("threads or processes?", [question for question, _ in rows], wrap=True),
        Column("this run's evidence", [evidence for _, evidence in rows], wrap=True),
    ]
    return fit_table(columns, width, tablefmt)
