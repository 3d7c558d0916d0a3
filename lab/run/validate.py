"""Checking a runner's records before any figure is trusted."""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lab.jobs import error_line, error_traceback
from lab.records import Records, in_order, running_at_most
from lab.runner import BOOKKEEPING_MAX, THREAD_BOOKKEEPING_MAX

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
#: at least (a few short jobs cost little, but their pool's bookkeeping does not shrink),
#: besides the runner's own bookkeeping for each job (``Runner.bookkeeping_cpu``).
CPU_EXCESS_SHARE = 0.5
CPU_EXCESS_FLOOR = 0.05
#: How far the CPU the kernel counted for a thread that ran jobs may be from what its jobs'
#: records say (between jobs, the thread takes the next one and hands back a record), as a
#: share and at least, besides the kernel's rounding to clock ticks and the runner's own
#: bookkeeping for each of its jobs (``Runner.bookkeeping_cpu``).
THREAD_CPU_SHARE = 0.03
THREAD_CPU_FLOOR = 0.005
#: How much more CPU than its wall time a job's thread may show: the thread's CPU clock is
#: read just outside the wall clock's two reads.
RECORD_CPU_SLACK = 0.001
#: Jobs shorter than this may finish before a pool hands out the next one, so running fewer
#: at once than the layout allows says nothing about the runner.
LAYOUT_USE_SHORTEST = 0.01
#: What the records of a measurement that cannot be true are called, before what is wrong.
UNTRUE = "the records cannot be true: "


def problems(
    measurement: Measurement,
    jobs: int,
    layout: Layout,
    task: Task,
    size: int | float,
    uses_layout: bool = True,
) -> list[str]:
    """Everything wrong with a measurement, worst first: job errors, jobs missing, run twice or
    out of order, calls no record shows, records outside the run, failed task checks, more
    jobs, processes or threads at once than the layout allows, timings the kernel's CPU
    accounting contradicts, and (``uses_layout``: unless the run is a sweep's, where how many
    ran at once is a finding) a layout that was not used."""
    found: list[str] = []
    records = measurement.records
    if isinstance(records, Records) and _fine_by_column(
        measurement, records, jobs, layout, task, size, uses_layout
    ):
        return found
    found += [f"job {r.index} failed: {error_line(r.error)}" for r in records if r.error]
    counts = Counter(r.index for r in records)
    found += [f"job {i} never ran" for i in range(jobs) if i not in counts]
    found += [f"job {i} ran {n} times" for i, n in sorted(counts.items()) if n > 1 and i < jobs]
    found += [f"record for job {i}, which does not exist" for i in counts if not 0 <= i < jobs]
    found += _unrecorded_calls(measurement.calls, counts)
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
    found += _untrue_timings(measurement, task)
    if uses_layout and not found:
        found += _unused_layout(records, layout)
    if not found and (unaccounted := _unaccounted_cpu(measurement, task)) is not None:
        found.append(unaccounted)
    return found


def _fine_by_column(
    measurement: Measurement,
    records: Records,
    jobs: int,
    layout: Layout,
    task: Task,
    size: int | float,
    uses_layout: bool,
) -> bool:
    """Whether a large run's records, by column, pass every check of :func:`problems`, checked
    a column at a time where they ran on one thread (an event loop's): every job once and in
    order, no error, no CPU time, no call unrecorded, inside the run, what the task checks,
    no more at once than the layout allows (and, ``uses_layout``, as many as it does). Any
    other records, and any that fail a check, go through the checks one record at a time,
    which name what is wrong."""
    one_thread = ("pid", "thread_id", "host", "clock_offset", "error", "cpu")
    if len(records) != jobs or not jobs or not all(map(records.shared, one_thread)):
        return False
    if records.column("error")[0] is not None or records.column("cpu")[0] is not None:
        return False
    if not in_order(records.column("index")):
        return False
    calls = measurement.calls
    if calls is not None and max(calls, default=0) > 1:
        return False
    starts, ends = records.column("start"), records.column("end")
    if not all(map(operator.le, starts, ends)):
        return False
    host = records.column("host")[0]
    start, end = measurement.run_start, measurement.run_end
    if start is not None and end is not None:
        if host and host != measurement.host:
            return False
        if min(starts) < start - CLOCK_SLACK or max(ends) > end + CLOCK_SLACK:
            return False
    if task.operation and (records.shared("operations") or not all(records.column("operations"))):
        return False
    if any(task.check(r, size) is not None for r in records):
        return False
    if layout.processes < 1 or layout.threads < 1:
        return False
    wanted = min(layout.concurrency, jobs)
    if layout.concurrency >= jobs:  # never more at once than it allows
        # every job at once: each started before any ended
        most = jobs if max(starts) < min(ends) else 1
    else:
        most = running_at_most(starts, ends)
        if most > layout.concurrency:
            return False
    if uses_layout and wanted >= 2 and most < wanted:
        if most < jobs and layout.concurrency >= jobs:
            most = running_at_most(starts, ends)
        if most < wanted:
            return bool(min(map(operator.sub, ends, starts)) < LAYOUT_USE_SHORTEST)
    return True


def summary(found: Sequence[str]) -> str:
    """The problems of a run in one line: the worst, and how many more there were with the
    next of them."""
    if len(found) == 1:
        return found[0]
    rest = len(found) - 1
    more = f"{rest} more problem{'s' if rest > 1 else ''}"
    return f"{found[0]} (and {more} with its records: {found[1]})"


def _unrecorded_calls(calls: Sequence[int] | None, records: Counter[int]) -> list[str]:
    """Jobs called more often, where they ran, than records came back for them."""
    if calls is None:
        return []
    return [
        f"job {i} was called {n} times where it ran, but {records[i]} record"
        f"{'' if records[i] == 1 else 's'} of it came back: the runner ran work no record shows"
        for i, n in enumerate(calls)
        if n > max(records[i], 1)
    ]


def _untrue_timings(measurement: Measurement, task: Task) -> list[str]:
    """Timings the CPU the kernel counted contradicts: a job whose thread used more CPU than
    the job lasted; a thread whose jobs' records claim more CPU than the kernel counted for
    it; on CPU-bound work, where a thread does little but its jobs, a thread that used more
    CPU than its jobs' records say they lasted, or say they used (reported short)."""
    found = [
        f"{UNTRUE}job {r.index} used {r.cpu:.3f} s of CPU in a run its record says lasted"
        f" {r.duration:.3f} s"
        for r in measurement.records
        if r.cpu is not None and r.cpu > r.duration * 1.01 + RECORD_CPU_SLACK
    ]
    if found or measurement.outside_tree:
        return found[:1]
    here = measurement.host
    by_thread: dict[tuple[int, int], list[JobRecord]] = {}
    for r in measurement.records:
        if (r.host == here or not r.host) and r.cpu is not None:
            by_thread.setdefault((r.pid, r.thread_id), []).append(r)
    slack = 2 * measurement.cpu_tick + THREAD_CPU_FLOOR
    per_job = _bookkeeping(measurement)
    for pid, thread, used in measurement.thread_cpu:
        mine = by_thread.get((int(pid), int(thread)))
        if not mine:
            continue
        claimed = sum(r.cpu or 0.0 for r in mine)
        jobs = f"{len(mine)} job{'' if len(mine) == 1 else 's'}"
        where = f"thread {int(thread)} of process {int(pid)}"
        if claimed > used * (1 + THREAD_CPU_SHARE) + slack:
            found.append(
                f"{UNTRUE}the records of the {jobs} on {where} claim {claimed:.3f} s of CPU;"
                f" the kernel counted {used:.3f} s for that thread"
            )
        if task.bound != "cpu":
            continue
        lasted = sum(r.duration for r in mine)
        allowed = slack + len(mine) * min(per_job, THREAD_BOOKKEEPING_MAX)
        if used > min(lasted, claimed) * (1 + THREAD_CPU_SHARE) + allowed:
            said = "lasted" if lasted < claimed else "used"
            found.append(
                f"{UNTRUE}{where} used {used:.3f} s of CPU in the run, more than the"
                f" {min(lasted, claimed):.3f} s its {jobs}' records say they {said}"
            )
    return found


def _unused_layout(records: Sequence[JobRecord], layout: Layout) -> list[str]:
    """A layout that was claimed but not used: fewer jobs ran at once than it allows, though
    there were enough of them and each was long enough to overlap the next, and they ran on
    fewer threads than that. Jobs that ran one after another on as many threads as the layout
    has are a busy machine's doing (a worker that got no CPU until the others' jobs had ended),
    not the runner's: an honest pool hands each of its workers a job."""
    wanted = min(layout.concurrency, len(records))
    if wanted < 2 or min(r.duration for r in records) < LAYOUT_USE_SHORTEST:
        return []
    most = peaks(records).jobs
    if most >= wanted or len({(r.host, r.pid, r.thread_id) for r in records}) >= wanted:
        return []
    return [
        f"used at most {most} of {layout.concurrency} workers: its {len(records)} jobs never ran"
        f" more than {most} at once"
    ]


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
    bookkeeping = len(records) * _bookkeeping(measurement)
    if excess <= max(CPU_EXCESS_SHARE * jobs_cpu, CPU_EXCESS_FLOOR) + bookkeeping:
        return None
    return (
        f"the run's processes used {tree:.3f} s of CPU, {tree / jobs_cpu:.1f}x the {jobs_cpu:.3f} s"
        " its jobs' records account for: it ran work that no record shows"
    )


def _bookkeeping(measurement: Measurement) -> float:
    """The CPU a job the runner declared for its own bookkeeping, within what the lab allows
    (a worker's answer is checked again here: the runner ran in it)."""
    declared = measurement.bookkeeping_cpu
    return min(max(declared, 0.0), BOOKKEEPING_MAX) if math.isfinite(declared) else 0.0


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


def _over_layout(records: Sequence[JobRecord], layout: Layout) -> list[str]:
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


def first_traceback(measurement: Measurement) -> str:
    """The traceback lines of the first job that raised, if any did."""
    return next((error_traceback(r.error) for r in measurement.records if r.error), "")
