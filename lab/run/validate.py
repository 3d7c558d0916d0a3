"""Checking a runner's records before any figure is trusted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.boundary.measurement import Measurement
    from lab.jobs import JobRecord
    from lab.runner import Layout
    from lab.task import Task

K = TypeVar("K")

#: Slack for comparing timestamps taken in different processes on the shared clock.
CLOCK_SLACK = 0.001
#: Slack for comparing a record from another host with the run, on the two hosts' wall clocks:
#: clocks kept by NTP on one network agree within milliseconds; this allows for worse.
REMOTE_CLOCK_SLACK = 0.5
#: CPU a run's process tree may use beyond what its CPU-bound jobs' records account for,
#: as a share of that (pools, pickling and queues cost some; a job run twice costs 100 %) and
#: at least (a few short jobs cost little, but their pool's bookkeeping does not shrink).
CPU_EXCESS_SHARE = 0.5
CPU_EXCESS_FLOOR = 0.05


def problems(
    measurement: Measurement, jobs: int, layout: Layout, task: Task, size: int | float
) -> list[str]:
    """Everything wrong with a measurement, worst first: job errors, jobs missing, run twice or
    out of order, records outside the run, failed task checks, and more jobs, processes or
    threads at once than the layout allows."""
    found: list[str] = []
    records = measurement.records
    found += [f"job {r.index} failed: {r.error}" for r in records if r.error]
    counts = Counter(r.index for r in records)
    found += [f"job {i} never ran" for i in range(jobs) if i not in counts]
    found += [f"job {i} ran {n} times" for i, n in sorted(counts.items()) if n > 1 and i < jobs]
    found += [f"record for job {i}, which does not exist" for i in counts if not 0 <= i < jobs]
    if not found and [r.index for r in records] != list(range(jobs)):
        found.append("the records are not in the jobs' order")
    found += [f"job {r.index} ran outside the run it belongs to" for r in _outside(measurement)]
    found += [
        f"job {r.index}: {why}"
        for r in records
        if not r.error and (why := task.check(r, size)) is not None
    ]
    if task.operation:
        found += [
            f"job {r.index} timed no {task.operation}s: its function must return lab.Timed"
            for r in records
            if not r.error and not r.operations
        ]
    found += _over_layout(records, layout)
    if not found and (unaccounted := _unaccounted_cpu(measurement, task)) is not None:
        found.append(unaccounted)
    return found


def _unaccounted_cpu(measurement: Measurement, task: Task) -> str | None:
    """Work the records do not show, where CPU makes it measurable: a CPU-bound task's jobs
    account for nearly all the CPU its run's process tree uses, so a runner that ran jobs it
    did not report (each job twice, say) used far more."""
    records, tree = measurement.records, measurement.cpu
    if task.bound != "cpu" or not records or tree is None or measurement.outside_tree:
        return None
    jobs_cpu = sum(r.cpu for r in records if r.cpu is not None)
    if any(r.cpu is None for r in records) or jobs_cpu <= 0:
        return None
    excess = tree - (measurement.cpu_resolution or 0.0) - jobs_cpu
    if excess <= max(CPU_EXCESS_SHARE * jobs_cpu, CPU_EXCESS_FLOOR):
        return None
    return (
        f"the run's processes used {tree:.3f} s of CPU, {tree / jobs_cpu:.1f}x the {jobs_cpu:.3f} s"
        " its jobs' records account for: it ran work that no record shows"
    )


@dataclass(frozen=True)
class Peaks:
    """The most jobs, processes and threads busy with jobs at one instant."""

    jobs: int
    processes: int
    threads: int


def _outside(measurement: Measurement) -> list[JobRecord]:
    """The records that did not run within the run: on the shared clock for this host's, on
    the wall clock (give or take :data:`REMOTE_CLOCK_SLACK`) for another host's."""
    start, end = measurement.run_start, measurement.run_end
    if start is None or end is None:
        return []
    here, offset = measurement.host, measurement.clock_offset
    found = []
    for r in measurement.records:
        if r.host == here or not r.host:
            if r.start < start - CLOCK_SLACK or r.end > end + CLOCK_SLACK or r.end < r.start:
                found.append(r)
        else:
            begun, ended = r.start + r.clock_offset, r.end + r.clock_offset
            low, high = start + offset - REMOTE_CLOCK_SLACK, end + offset + REMOTE_CLOCK_SLACK
            if begun < low or ended > high or r.end < r.start:
                found.append(r)
    return found


def peaks(records: Sequence[JobRecord]) -> Peaks:
    """Counted at each instant rather than over the run, so a runner may start a fresh thread
    or process for every job as long as no more than its layout run at once. A process is
    its (host, pid); records from several hosts are ordered on the wall clock."""
    several = len({r.host for r in records}) > 1
    events = sorted(
        [(r.start + r.clock_offset * several, 1, i) for i, r in enumerate(records)]
        + [(r.end + r.clock_offset * several, 0, i) for i, r in enumerate(records)]
    )  # at equal times, an end comes before a start
    jobs = 0
    processes: Counter[tuple[str, int]] = Counter()
    threads: Counter[tuple[str, int, int]] = Counter()
    peak_jobs = peak_processes = peak_threads = 0
    for _, starting, i in events:
        record = records[i]
        step = 1 if starting else -1
        jobs += step
        _count(processes, (record.host, record.pid), step)
        _count(threads, (record.host, record.pid, record.thread_id), step)
        peak_jobs = max(peak_jobs, jobs)
        peak_processes = max(peak_processes, len(processes))
        peak_threads = max(peak_threads, len(threads))
    return Peaks(peak_jobs, peak_processes, peak_threads)


def _over_layout(records: list[JobRecord], layout: Layout) -> list[str]:
    """More jobs, processes or threads busy at one instant than the layout allows."""
    found = peaks(records)
    problems = []
    if found.processes > layout.processes:
        problems.append(
            f"jobs ran in {found.processes} processes at once; its layout allows {layout.processes}"
        )
    if found.threads > layout.processes * layout.threads:
        problems.append(
            f"jobs ran on {found.threads} threads at once; its layout allows "
            f"{layout.processes * layout.threads}"
        )
    if found.jobs > layout.concurrency:
        problems.append(f"{found.jobs} jobs ran at once; its layout allows {layout.concurrency}")
    return problems


def _count(counter: Counter[K], key: K, step: int) -> None:
    counter[key] += step
    if not counter[key]:
        del counter[key]
