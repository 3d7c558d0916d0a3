"""The six claims of the classic comparison of threads and processes, judged by this run.

The table that started this lab says: threads give concurrency and processes parallelism,
threads are limited by the GIL, processes use more memory, threads communicate through shared
memory while processes need IPC, threads can introduce synchronization issues, and threads suit
IO-bound work while processes suit CPU-bound work. Each claim here keeps the figures of the run
that bear on it and a :class:`Judgement`: they agree with it, contradict it (on a free-threaded
build, say), or were not measured. Cells are chosen by what cells and tasks declare (their
kind, bound, GIL state, whether their jobs share state), never by name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from lab.results.analysis import gil_on
from lab.results.grouping import group_by
from lab.results.selection import (
    TaskCosts,
    by_kind,
    fastest,
    job_costs,
    kind_speedups,
    most_workers,
    worker_memory,
)
from lab.runner import (
    EVENT_LOOP,
    INLINE,
    INTERPRETERS,
    KINDS,
    PROCESSES,
    PROCESSES_THREADS,
    THREADS,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.results.analysis import Analysis, CellAnalysis, Estimate
    from lab.results.model import TaskInfo

#: A speed-up at least this far above 1 counts as parallel; below ``SERIAL``, as one at a time.
PARALLEL = 1.5
SERIAL = 1.2
#: The kinds whose workers' memory and communication the claims compare, in their order.
WORKER_KINDS = (THREADS, INTERPRETERS, PROCESSES)
#: The kinds the use-cases claim names for each bound, by what their workers are: threads or
#: an event loop for IO-bound work (threads inside processes wait on threads too), processes
#: for CPU-bound work. A fastest cell of any other kind (subinterpreters, a runner of no
#: declared kind) is not the claim holding.
CLAIMED_KINDS = {
    "io": (THREADS, PROCESSES_THREADS, EVENT_LOOP),
    "cpu": (PROCESSES, PROCESSES_THREADS),
}


class Judgement(enum.Enum):
    """What the run says of a claim."""

    HOLDS = "holds"
    CONTRADICTED = "contradicted"
    #: It holds on some interpreters (or tasks) and is contradicted on others.
    MIXED = "mixed"
    #: Measured, with nothing to hold it against.
    MEASURED = "measured"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class ClassicClaim:
    """A claim of the classic table (its ``aspect`` and its words) and the run's judgement."""

    aspect: ClassVar[str]
    claim: ClassVar[str]
    judgement: Judgement


@dataclass(frozen=True)
class KindSpeedup:
    """A kind's speed-up over the baseline."""

    kind: str
    speedup: float


@dataclass(frozen=True)
class InterpreterSpeedups:
    """On one interpreter's CPU-bound work, each kind's speed-up with its most workers; the
    judgement is ``None`` when neither threads nor the others ran in parallel."""

    interpreter: str
    speedups: tuple[KindSpeedup, ...]
    judgement: Judgement | None


@dataclass(frozen=True)
class ParallelismClaim(ClassicClaim):
    """Judged per interpreter by the speed-ups of threads and the others on CPU-bound work."""

    aspect: ClassVar[str] = "concurrency or parallelism"
    claim: ClassVar[str] = "threads interleave, processes run in parallel"
    interpreters: tuple[InterpreterSpeedups, ...]


@dataclass(frozen=True)
class ThreadsUnderGil:
    """On one interpreter's CPU-bound work, the threads' cell with the most workers, its
    speed-up and whether the GIL was on in its workers."""

    interpreter: str
    analysed: CellAnalysis
    speedup: float
    gil: bool
    judgement: Judgement


@dataclass(frozen=True)
class GilClaim(ClassicClaim):
    """Judged per interpreter by the threads' speed-up and the GIL's state."""

    aspect: ClassVar[str] = "the GIL"
    claim: ClassVar[str] = "threads are limited by the GIL"
    threads: tuple[ThreadsUnderGil, ...]


@dataclass(frozen=True)
class KindMemory:
    """What one more worker of ``kind`` typically cost (peak memory)."""

    kind: str
    memory: Estimate


@dataclass(frozen=True)
class MemoryClaim(ClassicClaim):
    """Judged by what one more thread and one more process cost."""

    aspect: ClassVar[str] = "memory"
    claim: ClassVar[str] = "processes cost more memory than threads"
    kinds: tuple[KindMemory, ...]


@dataclass(frozen=True)
class MibCost:
    """What moving one MiB cost on ``kind`` in a job of ``task`` (seconds)."""

    task: str
    kind: str
    seconds: float


@dataclass(frozen=True)
class CommunicationClaim(ClassicClaim):
    """Judged by the first cost per MiB of threads and of processes."""

    aspect: ClassVar[str] = "communication"
    claim: ClassVar[str] = "threads share memory, processes need IPC"
    costs: tuple[MibCost, ...]


@dataclass(frozen=True)
class SynchronizationClaim(ClassicClaim):
    """The cells of the tasks that share state: those ``kept`` (every update checked), what
    a job of each such task cost per kind, and those that failed."""

    aspect: ClassVar[str] = "synchronization"
    claim: ClassVar[str] = "shared state needs locks, and a missing one loses updates"
    tasks: tuple[str, ...]
    kept: tuple[CellAnalysis, ...]
    costs: tuple[TaskCosts, ...]
    failed: tuple[CellAnalysis, ...]


@dataclass(frozen=True)
class UseCase:
    """A CPU- or IO-bound task's fastest trusted cell off the baseline: the claim holds for it
    when that cell's kind is one the claim names for the task's bound."""

    task: TaskInfo
    analysed: CellAnalysis
    judgement: Judgement


@dataclass(frozen=True)
class UseCasesClaim(ClassicClaim):
    """Judged per task by its fastest cell."""

    aspect: ClassVar[str] = "use cases"
    claim: ClassVar[str] = "threads for IO-bound work, processes for CPU-bound work"
    tasks: tuple[UseCase, ...]


@dataclass(frozen=True)
class ClassicClaims:
    """The six claims, judged."""

    parallelism: ParallelismClaim
    gil: GilClaim
    memory: MemoryClaim
    communication: CommunicationClaim
    synchronization: SynchronizationClaim
    use_cases: UseCasesClaim

    @property
    def claims(self) -> tuple[ClassicClaim, ...]:
        """The claims in the table's order."""
        return (
            self.parallelism,
            self.gil,
            self.memory,
            self.communication,
            self.synchronization,
            self.use_cases,
        )


def classic_claims(analysis: Analysis) -> ClassicClaims:
    """The run's judgement of each classic claim."""
    return ClassicClaims(
        parallelism(analysis),
        gil(analysis),
        memory(analysis),
        communication(analysis),
        synchronization(analysis),
        use_cases(analysis),
    )


def overall(judgements: Sequence[Judgement | None]) -> Judgement:
    """A claim's judgement from its judgements per interpreter or task (``None``: no say)."""
    if not judgements:
        return Judgement.NOT_MEASURED
    known = {j for j in judgements if j is not None}
    if {Judgement.HOLDS, Judgement.CONTRADICTED} <= known:
        return Judgement.MIXED
    if Judgement.CONTRADICTED in known:
        return Judgement.CONTRADICTED
    return Judgement.HOLDS if known else Judgement.MEASURED


def cpu_cells_by_interpreter(analysis: Analysis) -> dict[str, list[CellAnalysis]]:
    """The measured CPU-bound cells of each interpreter, in the order they appear."""
    found: dict[str, list[CellAnalysis]] = {}
    for analysed in analysis.cells:
        if analysed.cell.bound == "cpu" and analysed.figures is not None:
            found.setdefault(analysed.cell.interpreter, []).append(analysed)
    return found


def parallelism(analysis: Analysis) -> ParallelismClaim:
    """Whether threads interleave while processes (or subinterpreters) run in parallel."""
    found = []
    for label, cells in cpu_cells_by_interpreter(analysis).items():
        speedups = {
            a.cell.kind: a.figures.speedup
            for a in kind_speedups(analysis, cells)
            if a.cell.kind in KINDS and a.figures is not None and a.figures.speedup is not None
        }
        if THREADS not in speedups or len(speedups) < 2:
            continue
        parallel_others = any(speedups.get(k, 0) >= PARALLEL for k in (PROCESSES, INTERPRETERS))
        judgement = (
            Judgement.CONTRADICTED
            if speedups[THREADS] >= PARALLEL
            else Judgement.HOLDS
            if parallel_others
            else None
        )
        shown = tuple(KindSpeedup(k, s) for k, s in speedups.items())
        found.append(InterpreterSpeedups(label, shown, judgement))
    return ParallelismClaim(overall([f.judgement for f in found]), tuple(found))


def gil(analysis: Analysis) -> GilClaim:
    """Whether threads' speed-up stays near 1 with the GIL on (and passes it with it off)."""
    found = []
    for label, cells in cpu_cells_by_interpreter(analysis).items():
        threads = most_workers(cells, THREADS)
        if threads is None or threads.figures is None or threads.figures.speedup is None:
            continue
        on = gil_on(threads.cell, analysis.results.metadata.gil_enabled)
        speedup = threads.figures.speedup
        limited = speedup < SERIAL if on else speedup < PARALLEL
        judgement = Judgement.HOLDS if limited else Judgement.CONTRADICTED
        found.append(ThreadsUnderGil(label, threads, speedup, on, judgement))
    return GilClaim(overall([f.judgement for f in found]), tuple(found))


def memory(analysis: Analysis) -> MemoryClaim:
    """Whether one more process costs more memory than one more thread, beyond the threads'
    resolution."""
    found = {}
    cells = by_kind(analysis.cells)
    for kind in WORKER_KINDS:
        estimate = worker_memory(cells.get(kind, []), kind)
        if estimate is not None:
            found[kind] = estimate
    kinds = tuple(KindMemory(k, e) for k, e in found.items())
    if THREADS not in found or PROCESSES not in found:
        return MemoryClaim(Judgement.NOT_MEASURED, kinds)
    threads = found[THREADS]
    holds = found[PROCESSES].value > threads.value + threads.resolution
    return MemoryClaim(_holds(holds), kinds)


def communication(analysis: Analysis) -> CommunicationClaim:
    """Whether moving a MiB to a process costs more than to a thread, from the tasks that
    send bytes."""
    found = tuple(
        MibCost(task.name, cost.kind, cost.seconds / (task.size / 2**20))
        for task in analysis.results.tasks
        if task.bound == "transfer" and task.size_name == "bytes" and task.size
        for cost in job_costs(
            [a for a in analysis.task(task.name) if a.figures is not None], WORKER_KINDS
        )
    )
    first: dict[str, float] = {}
    for moved in found:
        first.setdefault(moved.kind, moved.seconds)
    if THREADS not in first or PROCESSES not in first:
        return CommunicationClaim(Judgement.NOT_MEASURED, found)
    return CommunicationClaim(_holds(first[PROCESSES] > first[THREADS]), found)


def synchronization(analysis: Analysis) -> SynchronizationClaim:
    """The cells of the tasks whose jobs share state: measured, never judged (every cell kept
    is one that lost no update)."""
    sharing = tuple(t for t in analysis.results.tasks if t.shares_state)
    names = tuple(t.name for t in sharing)
    shared = set(names)
    cells = [a for a in analysis.cells if a.cell.task in shared and a.cell.not_applicable is None]
    kept = tuple(a for a in cells if a.figures is not None)
    failed = tuple(a for a in cells if a.cell.failure is not None)
    kept_by_task = group_by(kept, lambda a: a.cell.task)
    costs = tuple(
        TaskCosts(t, job_costs(kept_by_task.get(t.name, []), WORKER_KINDS)) for t in sharing
    )
    judgement = Judgement.MEASURED if cells else Judgement.NOT_MEASURED
    return SynchronizationClaim(judgement, names, kept, costs, failed)


def use_cases(analysis: Analysis) -> UseCasesClaim:
    """Whether each CPU- or IO-bound task ran fastest on a kind the claim names for its bound
    (:data:`CLAIMED_KINDS`), over every interpreter."""
    found = []
    for task in analysis.results.tasks:
        if task.bound not in ("cpu", "io"):
            continue
        cells = [
            a for a in analysis.task(task.name) if a.figures is not None and a.cell.kind != INLINE
        ]
        if not cells:
            continue
        best = fastest(cells)
        found.append(UseCase(task, best, _holds(best.cell.kind in CLAIMED_KINDS[task.bound])))
    return UseCasesClaim(overall([f.judgement for f in found]), tuple(found))


def _holds(holds: bool) -> Judgement:
    return Judgement.HOLDS if holds else Judgement.CONTRADICTED
