"""Soft limits checked before anything starts; ``--allow-large`` goes past them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.errors import UsageError

if TYPE_CHECKING:
    from lab.runner import Layout

MAX_THREADS = 1024
PROCESSES_PER_CPU = 8
MAX_EVENT_LOOP_TASKS = 100_000
MAX_JOBS = 100_000
MAX_REPEAT = 1000


def check_layout(runner: str, workers: str, layout: Layout, cpus: int, allow_large: bool) -> None:
    """Refuse a layout above the soft limits, naming the limit."""
    if allow_large:
        return
    max_processes = max(PROCESSES_PER_CPU * cpus, 16)
    threads = layout.processes * layout.threads
    hint = "; pass --allow-large to run it anyway"
    if layout.processes > max_processes:
        raise UsageError(
            f"{runner} with workers {workers} starts {layout.processes} processes, above the soft"
            f" limit of {max_processes} ({PROCESSES_PER_CPU} per usable CPU){hint}"
        )
    if threads > MAX_THREADS:
        raise UsageError(
            f"{runner} with workers {workers} starts {threads:,} threads, above the soft limit"
            f" of {MAX_THREADS:,}{hint}"
        )
    if layout.tasks > MAX_EVENT_LOOP_TASKS:
        raise UsageError(
            f"{runner} with workers {workers} runs {layout.tasks:,} tasks at once, above the"
            f" soft limit of {MAX_EVENT_LOOP_TASKS:,}{hint}"
        )


def check_jobs(jobs: int, allow_large: bool) -> None:
    if jobs > MAX_JOBS and not allow_large:
        raise UsageError(
            f"{jobs:,} jobs is above the soft limit of {MAX_JOBS:,}; pass --allow-large to run"
            " them anyway"
        )
