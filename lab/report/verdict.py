"""The classic comparison of threads and processes, restated as this run's evidence."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.report.table import BASELINE, memory
from lab.results.analysis import Figures, figures

if TYPE_CHECKING:
    from lab.results.model import Cell, Results

EVENT_LOOPS = ("asyncio", "uvloop", "anyio-asyncio", "anyio-trio")


def verdict_rows(results: Results) -> list[tuple[str, str]]:
    """(question, evidence) pairs for what this run measured; questions it did not measure are
    left out."""
    cpus = results.metadata.cpus
    gil = "one GIL: one thread runs Python at a time" if results.metadata.gil_enabled else "no GIL"
    rows = []
    for question, task, runner, unit, why in (
        ("threads on CPU-bound work", "cpu", "threads", "threads", gil),
        ("processes on CPU-bound work", "cpu", "processes", "processes", f"{cpus} usable CPUs"),
        ("threads on IO-bound work", "io", "threads", "threads", "waiting releases the GIL"),
        ("processes on IO-bound work", "io", "processes", "processes", ""),
    ):
        found = _best(results, task, [runner])
        if found is not None and found[1].speedup is not None:
            cell, fig = found
            text = f"{fig.speedup:.2f}x with {cell.layout.concurrency} {unit}"
            rows.append((question, f"{text} ({why})" if why else text))
    loop = _best(results, "io", list(EVENT_LOOPS))
    if loop is not None and loop[1].speedup is not None:
        cell, fig = loop
        rows.append(
            (
                "an event loop on IO-bound work",
                f"{fig.speedup:.2f}x with {cell.layout.concurrency} tasks on {cell.runner}"
                " in one thread",
            )
        )
    rows += _costs(results)
    transfer = _transfer(results)
    if transfer:
        rows.append(transfer)
    return rows


def _transfer(results: Results) -> tuple[str, str] | None:
    """What a job's round trip to a worker costs, from the echo task's cells: the run's time per
    job, times the jobs running at once."""
    costs = {}
    size = ""
    for cell in _cells(results, "echo"):
        if cell.runner in ("threads", "processes") and cell.failure is None and cell.samples:
            run = statistics.median(s.wall for s in cell.samples)
            costs[cell.runner] = run * cell.layout.concurrency / max(cell.jobs, 1)
            size = memory(float(cell.size))
    if len(costs) < 2:
        return None
    return (
        f"sending {size} to a worker and back",
        f"{_duration(costs['processes'])} a job with processes,"
        f" {_duration(costs['threads'])} with threads",
    )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"


def render_verdict(results: Results, tablefmt: str) -> str:
    rows = verdict_rows(results)
    if not rows:
        return ""
    return tabulate(
        rows, headers=("threads or processes?", "this run's evidence"), tablefmt=tablefmt
    )


def _costs(results: Results) -> list[tuple[str, str]]:
    rows = []
    threads = _any_figures(results, "threads")
    processes = _any_figures(results, "processes")
    if threads and processes:
        thread_memory = [f.memory_per_worker for f in threads if f.memory_per_worker is not None]
        process_memory = [f.memory_per_worker for f in processes if f.memory_per_worker is not None]
        if thread_memory and process_memory:
            rows.append(
                (
                    "memory of one more worker",
                    f"{memory(statistics.median(process_memory))} a process,"
                    f" {memory(statistics.median(thread_memory))} a thread (peak PSS)",
                )
            )
        rows.append(
            (
                "start-up of the pool",
                f"{statistics.median(f.startup for f in processes):.3f} s for processes,"
                f" {statistics.median(f.startup for f in threads):.3f} s for threads",
            )
        )
    return rows


def _cells(results: Results, task: str) -> list[Cell]:
    return [c for c in results.cells if c.task == task]


def _best(results: Results, task: str, runners: list[str]) -> tuple[Cell, Figures] | None:
    """The cell of ``runners`` on ``task`` with the most workers, and its figures."""
    cells = _cells(results, task)
    baseline = next((c for c in cells if c.runner == BASELINE), None)
    found = []
    for cell in cells:
        if cell.runner in runners:
            fig = figures(cell, baseline, results.metadata.cpus)
            if fig is not None:
                found.append((cell, fig))
    return max(found, key=lambda pair: pair[0].layout.concurrency, default=None)


def _any_figures(results: Results, runner: str) -> list[Figures]:
    found = []
    for task in results.tasks:
        cells = _cells(results, task.name)
        baseline = next((c for c in cells if c.runner == BASELINE), None)
        siblings = [c for c in cells if c.runner == runner]
        for cell in siblings:
            fig = figures(cell, baseline, results.metadata.cpus, siblings)
            if fig is not None:
                found.append(fig)
    return found
