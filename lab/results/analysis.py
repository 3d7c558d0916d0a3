"""The one analysis of a run: every derived figure and every status, computed once.

Tables, the verdict, CSV, Markdown, plots, the sweep's table and ``lab compare`` format what
:func:`analyse` returns and compute nothing of their own. A figure the machine cannot produce
is never passed on as evidence: a speed-up beyond the ideal marks the cell unstable, cores used
is left out when the CPU measure is too coarse for the run, and memory per worker below what
the samples can resolve is an upper bound, never a negative size.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from lab.records import Records, running_at_most
from lab.results import answers
from lab.results.grouping import group_by
from lab.results.model import SWEEP, UNSIZED
from lab.results.stats import Interval, Summary, ratio_of_medians, summarise
from lab.results.status import Kind, Status, error
from lab.runner import INLINE, INTERPRETERS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from lab.jobs import JobRecord
    from lab.results.model import Cell, Results, Sample

#: Above this standard deviation relative to the mean, a cell is flagged unstable.
UNSTABLE_VARIATION = 0.10
#: Job times below this are dominated by scheduling noise and flagged.
SHORTEST_TRUSTED = 0.010
#: How far a speed-up (or the top of its interval) may pass the ideal before it counts as
#: beyond what the machine can do: timer and scheduling noise on both sides of the ratio.
IDEAL_TOLERANCE = 0.05
#: Jobs that took less than the least time their work needs here, by more than this share plus
#: twice the relative spread of the cell's job times, did not run as their records say. The
#: same work's CPU time differs between runs by a quarter and more on a virtual machine whose
#: neighbours share its cores (26 % seen between two honest cells of one run), and one run
#: has no spread to widen it.
IMPOSSIBLE_MARGIN = 0.5
#: On CPU-bound work, a cell whose processes used less than this share of the CPU its
#: baseline's jobs needed for as many jobs did not do the work.
LEAST_CPU_OF_BASELINE = 0.5
#: Above this many cores' worth of CPU in one process's jobs at once (their threads' CPU time
#: over the jobs' time), its threads computed in parallel: the jobs released the GIL.
RELEASED_GIL_CORES = 1.1
#: Cores used is shown only when the CPU measure's resolution keeps it within this many cores.
CORES_TOLERANCE = 0.2
#: The percentiles of wake-up delay a sweep shows, and of the latency of operations.
WAKE_UP_PERCENTILES = (0.5, 0.9, 0.99, 1.0)
LATENCY_PERCENTILES = WAKE_UP_PERCENTILES


@dataclass(frozen=True)
class Estimate:
    """A figure known only to within ``resolution``; at or below it, it is not resolved and
    only ``resolution`` is an honest statement (an upper bound)."""

    value: float
    resolution: float

    @property
    def resolved(self) -> bool:
        return self.value > self.resolution


@dataclass(frozen=True)
class Figures:
    """A measured cell in numbers (seconds, bytes), from ``samples`` runs.

    ``jobs`` is the job time (first job start to last job end; the whole run for a transfer
    task); ``run`` the run phase as the host timed it; ``total`` start-up + run + close.
    ``speedup`` is against the task's baseline, its ``interval`` a 95% bootstrap interval
    (two samples a side at least); ``ideal`` the best speed-up this layout allows here.
    ``cores`` is CPU / run, ``None`` when the CPU measure is too coarse for the run.
    ``memory_per_worker`` is the peak memory one more unit of concurrency costs.
    ``ideal_job_time`` is the jobs' time with no overhead at all (IO-bound tasks), and
    ``overhead`` how far above it the median job time is. ``wake_ups`` are the percentiles
    (:data:`WAKE_UP_PERCENTILES`) of how much longer than its wait each job took, over every
    job of every run; ``job_latency`` is what one job cost with the jobs that ran beside it.
    For jobs that time their operations (requests, reads), ``latencies`` are the percentiles
    (:data:`LATENCY_PERCENTILES`) of every operation's duration over every run, and
    ``operations_per_second`` the operations a run's jobs made / their time, median of runs.
    These three go over every job's record: they are counted from the ``cell``'s records
    when first asked for, so a report that shows none of them (a matrix's terminal tables of
    tasks that time no operations) does not pay for them. With several interpreters,
    ``vs_reference`` is the reference interpreter's baseline job time / this one's: which cell
    is fastest overall, across interpreters.
    """

    samples: int
    jobs: Summary
    run: float
    startup: float
    total: float
    cpu: float
    cpu_resolution: float
    cores: float | None
    speedup: float | None
    interval: Interval | None
    ideal: float | None
    possible: float | None
    efficiency: float | None
    peak_memory: int
    memory_per_worker: Estimate | None
    ideal_job_time: float | None
    overhead: float | None
    jobs_per_second: float | None
    job_latency: float
    vs_reference: float | None = None
    #: The most jobs that ran at once in any run, from the records (at most the layout's
    #: concurrency): where a pool hands jobs out slower than they finish, below it. Counted
    #: for a sweep's cells, whose levels it checks; ``None`` for a matrix's.
    most_at_once: int | None = None
    #: The processes the task's session started (its server), apart from ``cpu`` and
    #: ``peak_memory``: their CPU in a run (median) and their peak memory.
    session_cpu: float | None = None
    session_peak_memory: int | None = None
    #: The jobs ran outside the lab's process tree (a remote cluster): ``cpu`` and
    #: ``peak_memory`` are the lab's side only, and are not shown as the jobs'.
    outside_tree: bool = False
    #: The highest peak of the tree's processes that ran no job (the cell's own unless it
    #: ran them, a pool's or an engine's others), within ``peak_memory``; ``None``: unknown.
    others_peak_memory: int | None = None
    #: The cell measured, whose records the figures over every job are counted from, and
    #: whether its size is its jobs' wait (not so for a user's function).
    cell: Cell | None = field(default=None, compare=False, repr=False)
    waits: bool = field(default=True, compare=False, repr=False)

    @cached_property
    def wake_ups(self) -> tuple[float, ...]:
        if self.cell is None:
            return ()
        return percentiles(wake_up_delays(self.cell, self.waits), WAKE_UP_PERCENTILES)

    @cached_property
    def latencies(self) -> tuple[float, ...]:
        if self.cell is None:
            return ()
        return percentiles(operation_latencies(self.cell), LATENCY_PERCENTILES)

    @cached_property
    def operations_per_second(self) -> float | None:
        return None if self.cell is None else operations_per_second(self.cell)


@dataclass(frozen=True)
class KeptPeak:
    """The peak memory (bytes) of the runs a cell kept, when its figures are not shown (it
    failed, or its records cannot be true). ``at_least``: a run that failed is not among
    them, and its own peak, measured or not, was not kept."""

    value: int
    at_least: bool


@dataclass(frozen=True)
class CellAnalysis:
    """A cell, its status, and its figures when it has trustworthy samples; a failed cell
    has the peak memory of the runs it kept (``kept_peak``), if any."""

    cell: Cell
    status: Status
    figures: Figures | None
    asked: int
    unstable: tuple[str, ...] = ()
    kept_peak: KeptPeak | None = None

    @property
    def short_of_samples(self) -> bool:
        """Whether its figures rest on fewer runs than the run asked for."""
        return self.figures is not None and self.figures.samples < self.asked


@dataclass(frozen=True)
class Analysis:
    """A run with every cell analysed, in the run's order, and indexed once by task and by
    task and interpreter: looking a task's cells up does not scan the others."""

    results: Results
    cells: tuple[CellAnalysis, ...]
    #: For each task whose jobs must give the same answers on every runner, what the check
    #: found: that they did, or why they were not compared.
    answers: Mapping[str, str] = field(default_factory=dict)

    def task(self, name: str) -> list[CellAnalysis]:
        """The task's cells, in the run's order."""
        return list(self._by_task.get(name, ()))

    def task_on(self, name: str, interpreter: str) -> list[CellAnalysis]:
        """The task's cells on one interpreter, in the run's order."""
        return list(self._by_task_interpreter.get((name, interpreter), ()))

    def baseline(self, task: str) -> CellAnalysis | None:
        """The task's baseline: its first measured cell on an ``inline`` runner."""
        return next((a for a in self._by_task.get(task, ()) if is_baseline(a.cell)), None)

    @cached_property
    def compared(self) -> Analysis:
        """What the verdicts, the classic comparison and the charts compare: a matrix of
        several job counts a cell (``--jobs 4,16,64``) is compared at its most jobs, where the
        runners' costs around the jobs weigh least; any other run as it is. The tables show
        every cell, and the engines' figures are fitted across the job counts. Made once."""
        counts = self.job_counts
        if self.results.kind == SWEEP or len(counts) < 2:
            return self
        kept = tuple(a for a in self.cells if a.cell.jobs == counts[-1])
        return Analysis(self.results, kept, self.answers)

    @cached_property
    def job_counts(self) -> tuple[int, ...]:
        """The cells' jobs a cell, from the least (several with ``--jobs 4,16,64``)."""
        return tuple(sorted({a.cell.jobs for a in self.cells}))

    @cached_property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of the run's runners, in the order they first appear."""
        return tuple(dict.fromkeys(a.cell.kind for a in self.cells))

    @cached_property
    def _by_task(self) -> dict[str, list[CellAnalysis]]:
        return group_by(self.cells, lambda a: a.cell.task)

    @cached_property
    def _by_task_interpreter(self) -> dict[tuple[str, str], list[CellAnalysis]]:
        return group_by(self.cells, lambda a: (a.cell.task, a.cell.interpreter))


def is_baseline(cell: Cell) -> bool:
    """Whether ``cell`` can be a baseline: measured, on an ``inline`` runner."""
    return cell.kind == INLINE and measured(cell)


def analyse(results: Results) -> Analysis:
    """Every figure and status of ``results``, fresh or loaded from a file."""
    cpus = results.metadata.cpus
    resolution = results.metadata.memory_resolution
    gil = results.metadata.gil_enabled
    found: list[CellAnalysis] = []
    said: dict[str, str] = {}
    reference = results.interpreter_labels[0]
    by_task = group_by(results.cells, lambda c: c.task)

    def count(cell: Cell) -> int:
        return 0 if results.kind == SWEEP else cell.jobs

    for task in results.tasks:
        cells = by_task.get(task.name, [])

        # a matrix's cell is set beside the baseline of its interpreter and its jobs a cell (it
        # may have several job counts: --jobs 4,16,64); a sweep's levels share their baseline
        baselines = {
            place: next((c for c in group if is_baseline(c)), None)
            for place, group in group_by(cells, lambda c: (c.interpreter, count(c))).items()
        }
        expected = {
            place: answers.reference(base) if task.same_answers and base is not None else None
            for place, base in baselines.items()
        }
        baseline_cpu = {
            place: job_cpu(base) for place, base in baselines.items() if base is not None
        }
        compared = differed = 0
        several = len({label for label, _ in baselines}) > 1
        reference_medians = {
            jobs: statistics.median(job_times(base))
            for (label, jobs), base in baselines.items()
            if several and label == reference and base is not None
        }
        smallest = {
            key: least_measured(siblings)
            for key, siblings in group_by(
                cells, lambda c: (c.runner, c.interpreter, count(c))
            ).items()
        }
        for cell in cells:
            place = cell.interpreter, count(cell)
            baseline = baselines[place]
            figures = cell_figures(
                cell,
                baseline,
                cpus,
                smallest[cell.runner, *place],
                resolution,
                gil,
                results.kind == SWEEP,
                task.releases_gil,
                task.size_name != UNSIZED,
                reference_medians.get(place[1]),
            )
            per_job = baseline_cpu.get(place)
            untrue = None if figures is None else impossible(cell, figures, baseline, per_job)
            answer = expected[place]
            if answer is not None and figures is not None and cell is not answer.cell:
                compared += 1
                differs = answers.different(cell, answer)
                if differs is not None:
                    differed += 1
                    status = error(DIFFERENT + differs)
                    found.append(CellAnalysis(cell, status, None, results.repeat, (), None))
                    continue
            if untrue is not None:
                status = error(UNTRUE + untrue)
                found.append(CellAnalysis(cell, status, None, results.repeat, (), kept_peak(cell)))
                continue
            reasons = () if figures is None else tuple(unstable_reasons(figures, cpus))
            status = cell_status(cell, figures, results.repeat, results.complete, reasons)
            peak = kept_peak(cell) if status.failed else None
            found.append(CellAnalysis(cell, status, figures, results.repeat, reasons, peak))
        if task.same_answers:
            said[task.name] = answers.summary(
                [e for e in expected.values() if e], compared, differed
            )
    order = {id(c): i for i, c in enumerate(results.cells)}
    found.sort(key=lambda a: order[id(a.cell)])
    return Analysis(results, tuple(found), said)


def different_answers(analysed: CellAnalysis) -> bool:
    """Whether the analysis made the cell an error because its answers were not its
    baseline's."""
    return analysed.status.failed and analysed.status.detail.startswith(DIFFERENT)


def kept_peak(cell: Cell) -> KeptPeak | None:
    """The highest peak memory of the cell's runs, the failed one's included when it was
    measured (else a lower bound); ``None`` without any, or when its jobs ran outside the
    lab's tree (the lab's side only)."""
    if any(s.outside_tree for s in cell.samples):
        return None
    found = [s.peak_memory for s in cell.samples]
    if cell.failed_peak_memory is not None:
        found.append(cell.failed_peak_memory)
    if not found:
        return None
    unknown = cell.failure is not None and cell.failed_peak_memory is None
    return KeptPeak(max(found), unknown)


def measured(cell: Cell) -> bool:
    """Whether the cell has samples that can be trusted (not n/a, not failed)."""
    return cell.failure is None and cell.not_applicable is None and bool(cell.samples)


def cell_status(
    cell: Cell, figures: Figures | None, asked: int, complete: bool, reasons: Sequence[str]
) -> Status:
    """What became of the cell: n/a, its failure, never run, interrupted, unstable (for
    ``reasons``) or ok."""
    if cell.not_applicable is not None:
        return Status(Kind.NOT_APPLICABLE, cell.not_applicable)
    if cell.failure is not None:
        return cell.failure
    if figures is None:
        return Status(Kind.NOT_RUN, "the run stopped before this cell" if not complete else "")
    if figures.samples < asked:
        counted = f"{figures.samples} of {asked} runs"
        return Status(Kind.INTERRUPTED, "; ".join([counted, *reasons]))
    if reasons:
        return Status(Kind.UNSTABLE, "; ".join(reasons))
    return Status(Kind.OK)


#: What a cell whose figures cannot be true says, before which figure and which bound.
UNTRUE = "the records cannot be true: "
#: What a cell whose jobs' answers differ from its baseline's says, before which job.
DIFFERENT = "a different answer: "


def impossible(
    cell: Cell, figures: Figures, baseline: Cell | None, per_job: float | None = None
) -> str | None:
    """Why the cell's figures cannot be true, if they cannot: its jobs took less time than the
    work they needed allows on this machine with its layout, by more than noise explains (the
    margin grows with the spread of its runs, and is said), or, on CPU-bound work, its
    processes used far less CPU than the baseline's jobs needed for as many jobs (the work was
    not done).

    The least time is physical, not a ratio to the baseline's time, so a baseline slowed by a
    busy machine does not make an honest cell impossible: the CPU the baseline's jobs used for
    as many jobs, shared by as many threads as can compute at once here. Jobs too short to
    time well (:data:`SHORTEST_TRUSTED`) are not held to it. ``per_job`` is the baseline's
    :func:`job_cpu`, when it is known already."""
    if cell.bound != "cpu" or baseline is None or baseline is cell or not cell.jobs:
        return None
    if per_job is None:
        per_job = job_cpu(baseline)
    needed = per_job * cell.jobs  # the CPU as many jobs needed on the baseline
    median = figures.jobs.median
    # Jobs too short to time well are too short to condemn: noise, not the work, sets them.
    if figures.possible and median >= SHORTEST_TRUSTED:
        least = needed / figures.possible  # shared by as many threads as can compute at once
        margin = IMPOSSIBLE_MARGIN + 2 * figures.jobs.variation
        if median * (1 + margin) < least:
            return (
                f"its {cell.jobs} jobs took {median:.3f} s; their {needed:.3f} s of CPU (as on"
                f" {baseline.runner}) takes at least {least:.3f} s with this"
                f" layout here (a speed-up of at most {figures.possible:.2f}x), more than"
                f" the {margin:.0%} margin its runs' spread leaves for noise"
            )
    if not figures.outside_tree and figures.cpu + figures.cpu_resolution < (
        LEAST_CPU_OF_BASELINE * needed
    ):
        return (
            f"its processes used {figures.cpu:.3f} s of CPU, under"
            f" {LEAST_CPU_OF_BASELINE:.0%} of the {needed:.3f} s the same jobs needed on"
            f" {baseline.runner}: the work was not done"
        )
    return None


def job_cpu(cell: Cell) -> float:
    """The CPU one job of the cell used, median of its runs: from its records' own CPU where
    they all have it, else its run's CPU over its jobs."""
    per_run = []
    for s in cell.samples:
        total = s.records.total("cpu") if s.records else None
        if total is not None:
            per_run.append(total / len(s.records))
        elif cell.jobs:
            per_run.append(s.cpu / cell.jobs)
    return statistics.median(per_run) if per_run else 0.0


def unstable_reasons(figures: Figures, cpus: int) -> list[str]:
    """Why a cell's figures cannot be taken as they are: too short, too spread, or beyond
    what the machine can do."""
    reasons = []
    jobs = figures.jobs
    if jobs.median < SHORTEST_TRUSTED:
        reasons.append(f"too short to time well (under {SHORTEST_TRUSTED * 1000:g} ms)")
    if jobs.variation > UNSTABLE_VARIATION:
        reasons.append(f"sd {jobs.variation:.0%} of the mean")
    if figures.possible is not None and figures.speedup is not None:
        top = figures.interval.high if figures.interval is not None else figures.speedup
        if top > figures.possible * (1 + IDEAL_TOLERANCE):
            why = "with the GIL on" if figures.possible < (figures.ideal or 0) else "here"
            reasons.append(
                f"speed-up up to {top:.2f}x, beyond the {figures.possible:.2f}x possible {why}"
            )
    limit = figures.run * cpus * (1 + IDEAL_TOLERANCE) + figures.cpu_resolution
    if not figures.outside_tree and figures.cpu > limit:
        reasons.append(f"more CPU time than {cpus} usable CPUs can give in the run")
    return reasons


def job_time(cell: Cell, sample: Sample) -> float:
    """The time the jobs took: first job start to last job end, or for a transfer task, whose
    data moves before and after each call, the whole run."""
    return sample.wall if cell.bound == "transfer" else sample.job_span


def job_times(cell: Cell) -> list[float]:
    return [job_time(cell, s) for s in cell.samples]


def job_wait(cell: Cell, waits: bool = True) -> float:
    """How long one job of the cell waits by design: an IO-bound task's size (when ``waits``:
    its size is the wait, not so for a user's function), else nothing."""
    return float(cell.size) if cell.bound == "io" and waits else 0.0


def ideal_speedup(cell: Cell, cpus: int, parallel: int | None = None) -> float | None:
    """The best speed-up over one job at a time, for equal jobs: for IO-bound work, the rounds
    of waits that concurrency removes; for CPU-bound work, the jobs over the longer of the
    rounds each worker runs and the work the CPUs share (``parallel`` of the workers computing
    at once: all of them unless given); ``None`` for other tasks."""
    concurrency = cell.layout.concurrency
    jobs = max(cell.jobs, 1)
    if cell.bound == "io":
        return jobs / math.ceil(jobs / concurrency)
    if cell.bound == "cpu":
        computing = min(concurrency if parallel is None else parallel, cpus)
        return jobs / max(math.ceil(jobs / concurrency), jobs / max(computing, 1))
    return None


def gil_on(cell: Cell, default: bool) -> bool:
    """Whether the GIL was on in the cell's workers, as they measured it (``default`` when
    they could not tell)."""
    states = [s.gil_enabled for s in cell.samples if s.gil_enabled is not None]
    return all(states) if states else default


def possible_speedup(cell: Cell, cpus: int, gil: bool, releases_gil: bool = False) -> float | None:
    """The most speed-up the machine can give this cell: the ideal, with a process's threads
    computing one at a time while the GIL is on (an event loop's tasks always do), except
    subinterpreters' threads, each with a GIL of its own, and threads whose jobs release the
    GIL (``releases_gil``, or seen in their CPU)."""
    layout = cell.layout
    threads = layout.threads
    # one thread a process computes at once with the GIL on, unless each has a GIL of its own
    # or the jobs release it (a process of one thread need not be asked)
    if gil and threads > 1:
        own_gils = cell.kind == INTERPRETERS or releases_gil or released_gil(cell)
        threads = threads if own_gils else 1
    return ideal_speedup(cell, cpus, layout.processes * threads)


def released_gil(cell: Cell) -> bool:
    """Whether the jobs' own CPU shows one process's threads computing in parallel: in some
    run, the CPU its jobs' threads used adds up to more than :data:`RELEASED_GIL_CORES` times
    the time the jobs took (the lab checked each process's records against the CPU the kernel
    counted for it)."""
    for sample in cell.samples:
        if sample.job_span <= 0:
            continue
        records = sample.records
        limit = RELEASED_GIL_CORES * sample.job_span
        total = records.total("cpu")
        if total is not None and total <= limit:
            continue  # no process's share of the jobs' CPU can pass it
        if records.shared("host") and records.shared("pid"):  # the jobs of one process
            if sum(c for c in records.column("cpu") if c is not None) > limit:
                return True
            continue
        by_process: dict[tuple[str, int], float] = {}
        columns = (records.column(name) for name in ("host", "pid", "cpu"))
        for host, pid, cpu in zip(*columns, strict=True):
            if cpu is not None:
                by_process[host, pid] = by_process.get((host, pid), 0.0) + cpu
        if any(cpu > limit for cpu in by_process.values()):
            return True
    return False


def ideal_job_time(cell: Cell, waits: bool = True) -> float | None:
    """The IO-bound jobs' time with no overhead: as many rounds of waits as the layout needs;
    ``None`` unless ``waits`` (the task's size is its jobs' wait)."""
    if cell.bound != "io" or not waits:
        return None
    return math.ceil(cell.jobs / cell.layout.concurrency) * job_wait(cell)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    return percentiles(values, (fraction,))[0]


def percentiles(values: Sequence[float], fractions: Sequence[float]) -> tuple[float, ...]:
    """The nearest-rank percentiles of ``values``, sorted once; none without values."""
    ordered = sorted(values)
    if not ordered:
        return ()
    return tuple(ordered[max(0, math.ceil(f * len(ordered)) - 1)] for f in fractions)


def wake_up_delays(cell: Cell, waits: bool = True) -> list[float]:
    """How much longer than its wait every job took, over all runs (seconds); none unless
    ``waits`` (the task's size is its jobs' wait)."""
    if not waits:
        return []
    wait = job_wait(cell)
    return [d - wait for s in cell.samples for d in s.records.durations()]


def operation_latencies(cell: Cell) -> list[float]:
    """How long every operation the jobs timed took, over all runs (seconds)."""
    return [
        t
        for s in cell.samples
        if not s.records.shared("operations")
        for found in s.records.column("operations")
        for t in found or ()
    ]


def operations_per_second(cell: Cell) -> float | None:
    """The operations a run's jobs timed / the jobs' time, median over the runs; ``None``
    when its jobs timed none."""
    rates = [
        sum(len(found or ()) for found in s.records.column("operations")) / job_time(cell, s)
        for s in cell.samples
        if job_time(cell, s) > 0 and not s.records.shared("operations")
    ]
    return statistics.median(rates) if rates and any(rates) else None


def _median_of(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def peak_spread(cell: Cell) -> int:
    peaks = [s.peak_memory for s in cell.samples]
    return max(peaks) - min(peaks)


def most_at_once(records: Sequence[JobRecord]) -> int:
    """The most jobs that ran at one instant, from their records (on the wall clock when they
    come from several hosts); a job that ends as another starts is not beside it."""
    if not records:
        return 0
    return max(running_at_most(*Records.of(records).times()), 1)  # a job of no length ran too


def reached(cell: Cell) -> int:
    """The most jobs the cell had running at once in any of its runs, at most its layout's
    concurrency: what a sweep's level really held."""
    if cell.layout.concurrency == 1:
        return 1  # a job of no length ran too
    found = max((most_at_once(s.records) for s in cell.samples if s.records), default=0)
    return min(found, cell.layout.concurrency) if found else cell.layout.concurrency


def least_measured(siblings: Sequence[Cell]) -> Cell | None:
    """The measured cell of least concurrency among ``siblings`` (the first of equals): the
    runner's smallest measured setting, which :func:`memory_per_worker` starts from."""
    return min(
        (c for c in siblings if measured(c)), key=lambda c: c.layout.concurrency, default=None
    )


def memory_per_worker(
    cell: Cell,
    baseline: Cell | None,
    smallest: Cell | None,
    resolution: int,
    concurrency: Callable[[Cell], int] | None = None,
) -> Estimate | None:
    """What one more unit of concurrency costs: the slope of peak memory from the runner's
    smallest measured setting (``smallest``, :func:`least_measured` of the cells of the same
    task, runner and interpreter) to this one; for that smallest setting, or with one setting
    only, the rise above the baseline's peak spread over the concurrency. Its resolution is
    the spread of the peaks on both sides plus the metric's own step, per unit. A cell's
    concurrency is its layout's, or what ``concurrency`` says it reached."""
    units_of = concurrency or (lambda c: c.layout.concurrency)
    peak = max(s.peak_memory for s in cell.samples)
    if smallest is not None and smallest.layout.concurrency < cell.layout.concurrency:
        reference = smallest
        units = units_of(cell) - units_of(reference)
    elif baseline is not None and baseline is not cell and cell.layout.concurrency > 0:
        reference = baseline
        units = units_of(cell)
    else:
        return None
    if units <= 0:
        return None
    rise = peak - max(s.peak_memory for s in reference.samples)
    noise = peak_spread(cell) + peak_spread(reference) + resolution
    return Estimate(rise / units, noise / units)


def cell_figures(
    cell: Cell,
    baseline: Cell | None,
    cpus: int,
    smallest: Cell | None,
    memory_resolution: int,
    gil_default: bool = True,
    sweep: bool = False,
    releases_gil: bool = False,
    waits: bool = True,
    reference_median: float | None = None,
) -> Figures | None:
    """The cell's figures, or ``None`` when it has no trustworthy samples. ``smallest`` is
    the measured cell of least concurrency of the same task, runner and interpreter
    (:func:`least_measured`); in a ``sweep``, memory per worker is per job the runner really
    had running at once; ``releases_gil``: the task says its jobs do; ``waits``: its size is
    the wait of an IO-bound job (not a user's function's); ``reference_median``: the reference
    interpreter's baseline job time, which ``vs_reference`` is set against (not for transfers,
    whose baseline sends nothing)."""
    if not measured(cell):
        return None
    samples = cell.samples
    outside = any(s.outside_tree for s in samples)
    if outside:  # the cluster's CPUs, not this machine's, bound what its workers can do
        cpus = max(cpus, cell.layout.processes * cell.layout.threads)
    times = job_times(cell)
    jobs = summarise(times)
    run = statistics.median(s.wall for s in samples)
    cpu = statistics.median(s.cpu for s in samples)
    cpu_resolution = statistics.median(s.cpu_resolution for s in samples)
    cores = None
    fine = run > 0 and cpu_resolution / run <= CORES_TOLERANCE
    if fine and not outside and cpu / run <= cpus + CORES_TOLERANCE:
        cores = cpu / run
    speedup = interval = None
    if cell.bound == "transfer" or baseline is None:
        pass  # a transfer's baseline sends nothing: no speed-up
    elif baseline is cell:
        speedup = 1.0  # by definition: the baseline against itself has no spread to show
    elif jobs.median > 0:
        base_times = job_times(baseline)
        interval = ratio_of_medians(base_times, times)
        speedup = (
            statistics.median(base_times) / jobs.median if interval is None else interval.point
        )
    ideal = ideal_speedup(cell, cpus)
    possible = possible_speedup(cell, cpus, gil_on(cell, gil_default), releases_gil)
    ideal_time = ideal_job_time(cell, waits)
    efficiency: float | None = None
    if ideal_time is not None and jobs.median > 0:
        efficiency = ideal_time / jobs.median
    elif ideal is not None and speedup is not None:
        efficiency = speedup / ideal
    held = reached(cell) if sweep else None
    return Figures(
        samples=len(samples),
        jobs=jobs,
        run=run,
        startup=statistics.median(s.startup for s in samples),
        total=statistics.median(s.startup + s.wall + s.teardown for s in samples),
        cpu=cpu,
        cpu_resolution=cpu_resolution,
        cores=cores,
        speedup=speedup,
        interval=interval,
        ideal=ideal,
        possible=possible,
        efficiency=efficiency,
        peak_memory=max(s.peak_memory for s in samples),
        memory_per_worker=None
        if outside
        else memory_per_worker(
            cell,
            baseline,
            smallest,
            memory_resolution,
            (lambda c: held if c is cell and held is not None else reached(c)) if sweep else None,
        ),
        most_at_once=held,
        ideal_job_time=ideal_time,
        overhead=None if ideal_time is None else jobs.median - ideal_time,
        jobs_per_second=cell.jobs / run if run > 0 else None,
        job_latency=run * cell.layout.concurrency / max(cell.jobs, 1),
        session_cpu=_median_of([s.session_cpu for s in samples]),
        session_peak_memory=max(
            (s.session_peak_memory for s in samples if s.session_peak_memory is not None),
            default=None,
        ),
        outside_tree=outside,
        others_peak_memory=max(
            (s.others_peak_memory for s in samples if s.others_peak_memory is not None),
            default=None,
        ),
        vs_reference=reference_median / jobs.median
        if reference_median is not None and cell.bound != "transfer" and jobs.median > 0
        else None,
        cell=cell,
        waits=waits,
    )
