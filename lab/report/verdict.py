"""The classic comparison of threads, processes and event loops, restated as this run's
evidence. Runners are grouped by the kind they declare, so a plugin's runner speaks here like a
built-in one."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table
from lab.report.table import workers_text
from lab.report.units import duration, memory, memory_estimate
from lab.results.analysis import Estimate, gil_on
from lab.runner import (
    EVENT_LOOP,
    INLINE,
    INTERPRETERS,
    KINDS,
    OTHER,
    PROCESSES,
    PROCESSES_THREADS,
    THREADS,
)

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis, Figures
    from lab.results.model import Cell

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
    rows = []
    labels = analysis.results.interpreter_labels
    for task in analysis.results.tasks:
        if task.bound not in BOUNDS:
            continue
        shared = sum(t.bound == task.bound for t in analysis.results.tasks) > 1
        work = f"{BOUNDS[task.bound]} work" + (f" ({task.name})" if shared else "")
        for label in labels:
            on = f" on {label}" if len(labels) > 1 else ""
            cells = [a for a in analysis.task(task.name) if a.cell.interpreter == label]
            for kind in run_kinds(analysis):
                best = most_workers(cells, kind)
                if best is None or best.figures is None or best.figures.speedup is None:
                    continue
                noun = NOUNS.get(kind, kind)
                rows.append((f"{noun} on {work}{on}", _speedup(analysis, best, best.figures)))
    rows += _fastest(analysis)
    rows += _transfers(analysis)
    rows += _costs(analysis)
    return rows


def _fastest(analysis: Analysis) -> list[tuple[str, str]]:
    """For each task, the cell whose jobs took the least time: the fastest way to run this work
    here, across runners, workers and interpreters (marked when its figures are unstable)."""
    several = len(analysis.results.interpreter_labels) > 1
    rows = []
    for task in analysis.results.tasks:
        measured = [
            a
            for a in analysis.task(task.name)
            if a.figures is not None and not (task.bound == "transfer" and a.cell.kind == INLINE)
        ]  # a transfer's baseline sends nothing: not the same work
        if len(measured) < 2:
            continue
        best = min(measured, key=lambda a: a.figures.jobs.median if a.figures else 0.0)
        figures, cell = best.figures, best.cell
        assert figures is not None
        where = f"{cell.runner} with workers {workers_text(cell)}"
        where += f" on {cell.interpreter}" if several else ""
        ratio = figures.vs_reference if several else figures.speedup
        against = "the reference's baseline" if several else "the baseline"
        faster = f", {ratio:.2f}x {against}" if ratio is not None else ""
        median = figures.jobs.median
        took = f"{median:.3f} s" if median >= SECONDS_SHOWN else duration(median)
        evidence = f"{where}: jobs in {took}{faster}{_caveat(best)}"
        rows.append((f"fastest way to run {task.name} here", evidence))
    return rows


def run_kinds(analysis: Analysis) -> list[str]:
    """The kinds of the run's runners that a verdict speaks for, in :data:`KINDS` order."""
    present = list(dict.fromkeys(a.cell.kind for a in analysis.cells))
    ordered = [k for k in KINDS if k in present] + [k for k in present if k not in KINDS]
    return [k for k in ordered if k not in (INLINE, OTHER)]


def most_workers(cells: list[CellAnalysis], kind: str) -> CellAnalysis | None:
    """The measured cell of ``kind`` with the most concurrency (the fastest of equals)."""
    found = [a for a in cells if a.cell.kind == kind and a.figures is not None]
    return max(
        found,
        key=lambda a: (a.cell.layout.concurrency, -a.figures.jobs.median if a.figures else 0),
        default=None,
    )


def _speedup(analysis: Analysis, analysed: CellAnalysis, figures: Figures) -> str:
    cell = analysed.cell
    kin = {a.cell.runner for a in analysis.cells if a.cell.kind == cell.kind}
    text = f"{figures.speedup:.2f}x with {_workers(cell, named=len(kin) > 1)}"
    why = _why(analysis, cell)
    return text + (f" ({why})" if why else "") + _caveat(analysed)


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


def _why(analysis: Analysis, cell: Cell) -> str:
    if cell.bound == "cpu" and cell.kind == THREADS:
        return "one GIL: one thread runs Python at a time" if _gil(analysis, cell) else "no GIL"
    if cell.bound == "cpu" and cell.kind in (PROCESSES, PROCESSES_THREADS):
        return f"{analysis.results.metadata.cpus} usable CPUs"
    if cell.bound == "cpu" and cell.kind == INTERPRETERS:
        return f"a GIL each, {analysis.results.metadata.cpus} usable CPUs"
    if cell.bound == "io" and cell.kind == THREADS:
        return "waiting releases the GIL"
    return ""


def _gil(analysis: Analysis, cell: Cell) -> bool:
    return gil_on(cell, analysis.results.metadata.gil_enabled)


def _caveat(analysed: CellAnalysis) -> str:
    """What the reader must know before trusting a piece of evidence."""
    notes = []
    if analysed.short_of_samples and analysed.figures is not None:
        notes.append(f"from {analysed.figures.samples} of {analysed.asked} runs")
    if analysed.unstable:
        notes.append("unstable")
    return f" [{'; '.join(notes)}]" if notes else ""


def on_reference(analysis: Analysis) -> tuple[list[CellAnalysis], str]:
    """The cells on the reference interpreter, and how to say so when there are others."""
    labels = analysis.results.interpreter_labels
    cells = [a for a in analysis.cells if a.cell.interpreter == labels[0]]
    return cells, (f" (on {labels[0]})" if len(labels) > 1 else "")


def _transfers(analysis: Analysis) -> list[tuple[str, str]]:
    """What one job of a transfer task costs on each kind of runner: the run's time per job,
    times the jobs running at once (on the reference interpreter)."""
    rows = []
    cells, on = on_reference(analysis)
    for task in analysis.results.tasks:
        if task.bound != "transfer":
            continue
        parts = []
        for kind in run_kinds(analysis):
            best = most_workers([a for a in cells if a.cell.task == task.name], kind)
            if best is not None and best.figures is not None:
                noun = POOLS.get(kind, NOUNS.get(kind, kind))
                parts.append(f"{duration(best.figures.job_latency)} with {noun}{_caveat(best)}")
        if len(parts) > 1:
            size = (
                memory(task.size)
                if task.size_name == "bytes"
                else f"{task.size_text} {task.size_name}".strip()
            )
            question = f"one {task.name} job of {size}{on}"
            rows.append((question, ", ".join(parts)))
    return rows


def _costs(analysis: Analysis) -> list[tuple[str, str]]:
    """What one more worker costs in memory (on IO-bound work when the run has some, where
    workers hold nothing but themselves) and what the pool costs to start, per kind: the
    medians over the kind's cells."""
    by_kind: dict[str, list[Figures]] = {}
    waiting: dict[str, list[Figures]] = {}  # workers that hold nothing but themselves
    cells, on = on_reference(analysis)
    for analysed in cells:
        if analysed.figures is not None:
            by_kind.setdefault(analysed.cell.kind, []).append(analysed.figures)
            if analysed.cell.bound == "io":
                waiting.setdefault(analysed.cell.kind, []).append(analysed.figures)
    rows = []
    memories = []
    for kind, unit in UNITS.items():
        figures = waiting.get(kind) or by_kind.get(kind, [])
        estimates = [f.memory_per_worker for f in figures if f.memory_per_worker]
        if estimates:  # the typical cell, known no better than the least precise one
            typical = Estimate(
                statistics.median(e.value for e in estimates),
                max(e.resolution for e in estimates),
            )
            memories.append(f"{memory_estimate(typical)} {unit}")
    if len(memories) > 1:
        metric = analysis.results.metadata.memory_metric
        rows.append((f"memory of one more worker{on}", f"{', '.join(memories)} (peak {metric})"))
    startups = [
        f"{statistics.median(f.startup for f in by_kind[kind]):.3f} s for {noun}"
        for kind, noun in POOLS.items()
        if by_kind.get(kind)
    ]
    if len(startups) > 1:
        rows.append((f"start-up of the pool{on}", ", ".join(startups)))
    return rows


def render_verdict(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The verdict's table, its evidence wrapped to fit ``width``."""
    rows = verdict_rows(analysis)
    if not rows:
        return ""
    columns = [
        Column("threads or processes?", [question for question, _ in rows]),
        Column("this run's evidence", [evidence for _, evidence in rows], wrap=True),
    ]
    return fit_table(columns, width, tablefmt)
