"""Checking a runner's records before any figure is trusted."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.cell import Measurement
    from lab.runner import Layout
    from lab.task import Task

#: Slack for comparing timestamps taken in different processes on the shared clock.
CLOCK_SLACK = 0.001


def problems(
    measurement: Measurement, jobs: int, layout: Layout, task: Task, size: int | float
) -> list[str]:
    """Everything wrong with a measurement, worst first: job errors, jobs missing, run twice or
    out of order, records outside the run, failed task checks, more processes or threads than
    the layout allows."""
    found: list[str] = []
    records = measurement.records
    found += [f"job {r.index} failed: {r.error}" for r in records if r.error]
    counts = Counter(r.index for r in records)
    found += [f"job {i} never ran" for i in range(jobs) if i not in counts]
    found += [f"job {i} ran {n} times" for i, n in sorted(counts.items()) if n > 1 and i < jobs]
    found += [f"record for job {i}, which does not exist" for i in counts if not 0 <= i < jobs]
    if not found and [r.index for r in records] != list(range(jobs)):
        found.append("the records are not in the jobs' order")
    start, end = measurement.run_start, measurement.run_end
    if start is not None and end is not None:
        found += [
            f"job {r.index} ran outside the run it belongs to"
            for r in records
            if r.start < start - CLOCK_SLACK or r.end > end + CLOCK_SLACK or r.end < r.start
        ]
    found += [
        f"job {r.index}: {why}"
        for r in records
        if not r.error and (why := task.check(r, size)) is not None
    ]
    processes = {r.pid for r in records}
    if len(processes) > layout.processes:
        found.append(
            f"jobs ran in {len(processes)} processes; its layout allows {layout.processes}"
        )
    threads = {(r.pid, r.thread_id) for r in records}
    if len(threads) > layout.processes * layout.threads:
        found.append(
            f"jobs ran on {len(threads)} threads; its layout allows "
            f"{layout.processes * layout.threads}"
        )
    return found
