"""``lab sweep``: IO work at rising concurrency, on event loops and on threads.

Each level L runs L jobs with L of them at once (everything waits together), so the ideal job
time is one job's wait; what a runner adds on top of it, how late its waiters wake, and what
each waiter costs in memory is what the sweep shows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.errors import UsageError
from lab.plan import limits
from lab.report.table import memory
from lab.results.analysis import figures
from lab.run.rounds import new_cell
from lab.runner import Workers

if TYPE_CHECKING:
    import argparse

    from lab.host.registry import Catalog
    from lab.results.model import Cell, Results
    from lab.runner import Runner
    from lab.task import Task

DEFAULT_LEVELS = (1, 10, 100, 1000, 10_000)
DEFAULT_RUNNERS = (
    "asyncio",
    "uvloop",
    "anyio-asyncio",
    "anyio-trio",
    "thread-per-job",
    "threads",
    "threads-in-processes",
)
#: Tasks whose jobs open sockets, whose levels need as many descriptors.
SOCKET_TASKS = ("tcp",)

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
level: jobs waiting at once · jobs: first job start to last job end, median · overhead: jobs
minus the ideal (one wait) · wake-up: how much longer than its wait each job took, percentiles
over every job of every run · jobs/s: jobs / the run's wall time · + per waiter: peak memory
added per extra waiter, from the runner's lowest level"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    levels = ",".join(str(level) for level in DEFAULT_LEVELS)
    parser.add_argument("--task", default="io", help="the IO task to sweep (default: io)")
    parser.add_argument("--levels", default=levels, help=f"concurrency levels (default: {levels})")
    parser.add_argument(
        "--runners", default=",".join(DEFAULT_RUNNERS), help="comma-separated runner names"
    )
    parser.add_argument("--size", help="the task's size (for io: the sleep, default 0.2 s)")
    parser.add_argument("--allow-large", action="store_true", help="go past the soft limits")


def plan(
    task: Task, runners: list[Runner], levels: list[int], size: int | float, cpus: int
) -> list[Cell]:
    """A cell per level and runner: ``level`` jobs, all at once. Threads inside processes
    spread a level over the usable CPUs."""
    cells = []
    for level in levels:
        for runner in runners:
            workers = Workers(level)
            if runner.name == "threads-in-processes":
                processes = min(cpus, level)
                workers = Workers(processes, math.ceil(level / processes))
            cells.append(new_cell(task, runner, workers, level, size))
    return cells


def parse_levels(text: str) -> list[int]:
    levels = []
    for part in text.split(","):
        try:
            level = int(part)
        except ValueError:
            raise UsageError(f"levels must be whole numbers, not {part.strip()!r}") from None
        if level < 1:
            raise UsageError(f"levels must be at least 1, not {level}")
        levels.append(level)
    return sorted(set(levels))


def check(cells: list[Cell], allow_large: bool) -> None:
    """Every level checked against the machine's limits before anything starts."""
    for cell in cells:
        if cell.not_applicable is None:
            limits.check_sweep_cell(
                cell.runner, cell.jobs, cell.layout, cell.task in SOCKET_TASKS, allow_large
            )


def resolve_runners(text: str, catalog: Catalog) -> list[Runner]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("no runners given")
    return [catalog.runners.get(name) for name in dict.fromkeys(names)]


def render_sweep(results: Results, tablefmt: str) -> str:
    """One table per task: a row per level and runner."""
    parts = []
    for task in results.tasks:
        cells = [c for c in results.cells if c.task == task.name]
        rows = [_row(cell, cells) for cell in cells]
        table = tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True)
        parts.append(f"{task.name}: {task.description}\n{table}")
    return "\n\n".join([*parts, LEGEND])


def wake_up_delays(cell: Cell) -> list[float]:
    """How much longer than its wait every job took, over all runs (seconds)."""
    wait = float(cell.size) if cell.bound == "io" else 0.0
    return [r.end - r.start - wait for s in cell.samples for r in s.records]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _row(cell: Cell, cells: list[Cell]) -> list[str]:
    siblings = [c for c in cells if c.runner == cell.runner]
    found = figures(cell, None, 1, siblings)
    head = [f"{cell.jobs:,}", cell.runner]
    if found is None:
        return [*head, *[""] * (len(HEADERS) - 3), cell.status]
    ideal = float(cell.size) if cell.bound == "io" else 0.0
    delays = wake_up_delays(cell)
    return [
        *head,
        f"{found.startup:.3f}",
        f"{found.jobs.median:.3f}",
        f"{found.jobs.median - ideal:.3f}",
        *(f"{percentile(delays, p) * 1000:.1f}" for p in (0.5, 0.9, 0.99, 1.0)),
        f"{cell.jobs / found.run:,.0f}" if found.run else "",
        f"{found.cpu:.2f}",
        f"{found.peak_memory / 2**20:.1f}",
        "" if found.memory_per_worker is None else memory(found.memory_per_worker),
        f"unstable: {found.unstable}" if found.unstable else cell.status,
    ]
