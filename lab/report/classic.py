"""The classic comparison of threads and processes, restated with this run's figures.

The table that started this lab makes six claims: threads give concurrency and processes
parallelism, threads are limited by the GIL, processes use more memory, threads communicate
through shared memory while processes need IPC, threads can introduce synchronization issues,
and threads suit IO-bound work while processes suit CPU-bound work. Each row cites the figures
of this run that bear on its claim, and says whether they agree with it, contradict it (on a
free-threaded build, say), or were not measured. Rows are chosen by what cells and tasks
declare (their kind, bound, GIL state, whether their jobs share state), never by name.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table
from lab.report.units import duration, memory_estimate
from lab.report.verdict import most_workers, run_kinds
from lab.results.analysis import Estimate, gil_on
from lab.runner import EVENT_LOOP, INLINE, INTERPRETERS, PROCESSES, PROCESSES_THREADS, THREADS

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis

#: A speed-up at least this far above 1 counts as parallel; below ``SERIAL``, as one at a time.
PARALLEL = 1.5
SERIAL = 1.2
#: What each kind is called in the table.
NOUNS = {
    THREADS: "threads",
    INTERPRETERS: "subinterpreters",
    PROCESSES: "processes",
    PROCESSES_THREADS: "threads in processes",
    EVENT_LOOP: "an event loop",
}
#: One worker of each kind, for the memory row.
ONE = {THREADS: "thread", INTERPRETERS: "subinterpreter", PROCESSES: "process"}
HOLDS = "holds here"
CONTRADICTED = "contradicted here"
MEASURED = "measured"
NOT_MEASURED = "not measured in this run"


@dataclass(frozen=True)
class Row:
    aspect: str
    claim: str
    evidence: str
    verdict: str


def classic_rows(analysis: Analysis) -> list[Row]:
    """The six rows, each with its evidence and verdict."""
    return [
        _parallelism(analysis),
        _gil(analysis),
        _memory(analysis),
        _communication(analysis),
        _synchronization(analysis),
        _use_cases(analysis),
    ]


def render_classic(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The classic table as measured, or nothing when the run measured none of its claims."""
    rows = classic_rows(analysis)
    if all(r.verdict == NOT_MEASURED for r in rows):
        return ""
    columns = [
        Column("the classic claim", [f"{r.aspect}: {r.claim}" for r in rows], wrap=True),
        Column("this run's figures", [r.evidence for r in rows], wrap=True),
        Column("verdict", [r.verdict for r in rows]),
    ]
    return fit_table(columns, width, tablefmt)


def _cpu_cells(analysis: Analysis) -> list[CellAnalysis]:
    return [a for a in analysis.cells if a.cell.bound == "cpu" and a.figures is not None]


def _by_interpreter(cells: list[CellAnalysis]) -> dict[str, list[CellAnalysis]]:
    found: dict[str, list[CellAnalysis]] = {}
    for analysed in cells:
        found.setdefault(analysed.cell.interpreter, []).append(analysed)
    return found


def _where(label: str) -> str:
    return f" on {label}" if label else ""


def _speedups(analysis: Analysis, cells: list[CellAnalysis]) -> dict[str, float]:
    """The speed-up of each kind's cell with the most workers."""
    found = {}
    for kind in run_kinds(analysis):
        best = most_workers(cells, kind)
        if best is not None and best.figures is not None and best.figures.speedup is not None:
            found[kind] = best.figures.speedup
    return found


def _parallelism(analysis: Analysis) -> Row:
    aspect, claim = "concurrency or parallelism", "threads interleave, processes run in parallel"
    parts, verdicts = [], []
    for label, cells in _by_interpreter(_cpu_cells(analysis)).items():
        speedups = _speedups(analysis, cells)
        shown = [f"{NOUNS[k]} {s:.2f}x" for k, s in speedups.items() if k in NOUNS]
        if THREADS not in speedups or len(shown) < 2:
            continue
        parts.append(", ".join(shown) + f" on CPU-bound work{_where(label)}")
        parallel_threads = speedups[THREADS] >= PARALLEL
        parallel_others = any(speedups.get(k, 0) >= PARALLEL for k in (PROCESSES, INTERPRETERS))
        verdicts.append(CONTRADICTED if parallel_threads else HOLDS if parallel_others else "")
    return _row(aspect, claim, parts, verdicts)


def _gil(analysis: Analysis) -> Row:
    aspect, claim = "the GIL", "threads are limited by the GIL"
    parts, verdicts = [], []
    gil_default = analysis.results.metadata.gil_enabled
    for label, cells in _by_interpreter(_cpu_cells(analysis)).items():
        threads = most_workers(cells, THREADS)
        if threads is None or threads.figures is None or threads.figures.speedup is None:
            continue
        on = gil_on(threads.cell, gil_default)
        speedup = threads.figures.speedup
        parts.append(
            f"{threads.cell.layout.concurrency} threads {speedup:.2f}x with the GIL"
            f" {'on' if on else 'off'}" + (f", on {label}" if label else "")
        )
        if on:
            verdicts.append(HOLDS if speedup < SERIAL else CONTRADICTED)
        else:
            verdicts.append(CONTRADICTED if speedup >= PARALLEL else HOLDS)
    return _row(aspect, claim, parts, verdicts)


def _memory(analysis: Analysis) -> Row:
    aspect, claim = "memory", "processes cost more memory than threads"
    per_kind = {}
    waiting = [a for a in analysis.cells if a.cell.bound == "io"]  # workers holding nothing
    for kind in (THREADS, INTERPRETERS, PROCESSES):
        estimates = [
            a.figures.memory_per_worker
            for a in (waiting if any(w.cell.kind == kind for w in waiting) else analysis.cells)
            if a.cell.kind == kind and a.figures is not None and a.figures.memory_per_worker
        ]
        if estimates:  # the typical cell, known no better than the least precise one
            per_kind[kind] = Estimate(
                statistics.median(e.value for e in estimates),
                max(e.resolution for e in estimates),
            )
    if THREADS not in per_kind or PROCESSES not in per_kind:
        return Row(aspect, claim, "", NOT_MEASURED)
    evidence = ", ".join(f"{memory_estimate(e)} a {ONE[k]}" for k, e in per_kind.items())
    holds = per_kind[PROCESSES].value > per_kind[THREADS].value + per_kind[THREADS].resolution
    return Row(aspect, claim, evidence + " (peak memory)", HOLDS if holds else CONTRADICTED)


def _communication(analysis: Analysis) -> Row:
    aspect, claim = "communication", "threads share memory, processes need IPC"
    parts = []
    costs: dict[str, float] = {}
    for task in analysis.results.tasks:
        if task.bound != "transfer" or task.size_name != "bytes" or not task.size:
            continue
        cells = [a for a in analysis.cells if a.cell.task == task.name and a.figures is not None]
        for kind in (THREADS, INTERPRETERS, PROCESSES):
            best = most_workers(cells, kind)
            if best is not None and best.figures is not None:
                per_mib = best.figures.job_latency / (task.size / 2**20)
                costs.setdefault(kind, per_mib)
                parts.append(f"{NOUNS[kind]} {duration(per_mib)} a MiB ({task.name})")
    if THREADS not in costs or PROCESSES not in costs:
        return Row(aspect, claim, ", ".join(parts), NOT_MEASURED)
    holds = costs[PROCESSES] > costs[THREADS]
    return Row(aspect, claim, ", ".join(parts), HOLDS if holds else CONTRADICTED)


def _synchronization(analysis: Analysis) -> Row:
    aspect, claim = "synchronization", "shared state needs locks, and a missing one loses updates"
    sharing = [t.name for t in analysis.results.tasks if t.shares_state]
    cells = [a for a in analysis.cells if a.cell.task in sharing and a.cell.not_applicable is None]
    if not cells:
        return Row(aspect, claim, "", NOT_MEASURED)
    kept = [a for a in cells if a.figures is not None]
    failed = [a for a in cells if a.cell.failure is not None]
    parts = [f"{len(kept)} cells of {', '.join(sharing)} kept every shared update (checked)"]
    for name in sharing:
        costs = []
        for kind in (THREADS, INTERPRETERS, PROCESSES):
            best = most_workers([a for a in kept if a.cell.task == name], kind)
            if best is not None and best.figures is not None:
                costs.append(f"{NOUNS[kind]} {duration(best.figures.job_latency)}")
        if costs:
            parts.append(f"a {name} job: {', '.join(costs)}")
    if failed:
        parts.append(f"{len(failed)} failed: " + "; ".join(str(a.status) for a in failed[:2]))
    return Row(aspect, claim, ", ".join(parts), MEASURED)


def _use_cases(analysis: Analysis) -> Row:
    aspect, claim = "use cases", "threads for IO-bound work, processes for CPU-bound work"
    parts, verdicts = [], []
    for task in analysis.results.tasks:
        if task.bound not in ("cpu", "io"):
            continue
        cells = [
            a
            for a in analysis.cells
            if a.cell.task == task.name and a.figures is not None and a.cell.kind != INLINE
        ]
        if not cells:
            continue
        best = min(cells, key=lambda a: a.figures.jobs.median if a.figures else 0.0)
        where = _where(best.cell.interpreter)
        parts.append(f"{task.bound}: fastest {best.cell.runner}{where}")
        gil = gil_on(best.cell, analysis.results.metadata.gil_enabled)
        if task.bound == "cpu":
            verdicts.append(CONTRADICTED if best.cell.kind == THREADS and gil else HOLDS)
        else:
            verdicts.append(HOLDS)
    return _row(aspect, claim, parts, verdicts)


def _row(aspect: str, claim: str, parts: list[str], verdicts: list[str]) -> Row:
    if not parts:
        return Row(aspect, claim, "", NOT_MEASURED)
    known = [v for v in verdicts if v]
    verdict = CONTRADICTED if CONTRADICTED in known else HOLDS if known else MEASURED
    if CONTRADICTED in known and HOLDS in known:
        verdict = "holds on some interpreters, not all"
    return Row(aspect, claim, "; ".join(parts), verdict)
