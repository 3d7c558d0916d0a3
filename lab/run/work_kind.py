"""What kind of work a user's function does, measured: a few calls in a worker process, one
after another in its main thread, and the share of their time the thread spent on a CPU or
waiting for one (on a busy machine CPU-bound work waits for a CPU; IO-bound work sleeps)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lab.jobs import error_line
from lab.own.task import PROBE
from lab.run.supervisor import run_cell

if TYPE_CHECKING:
    from lab.run.rounds import Rounds
    from lab.task import Bound, Task

#: Calls measured to tell the kind of work.
PROBE_CALLS = 3
#: Work that keeps its thread on a CPU this share of its time or more is CPU-bound.
CPU_BOUND_SHARE = 0.5


@dataclass(frozen=True)
class WorkKind:
    """The share of a call's time on a CPU, over ``calls`` calls; ``error`` when the calls
    could not be measured (the function raised): then the matrix shows it, cell by cell."""

    cpu_share: float | None
    calls: int = PROBE_CALLS
    error: str | None = None

    @property
    def bound(self) -> Bound:
        """``cpu`` or ``io``: how the matrix's ideal speed-up is computed for it."""
        if self.cpu_share is None or self.cpu_share >= CPU_BOUND_SHARE:
            return "cpu"
        return "io"

    def summary(self, name: str = "") -> str:
        """``mod:f is CPU-bound: a call keeps its thread busy 98% of its time (…)``, or without
        ``name``: ``CPU-bound: a call …``."""
        if self.cpu_share is None:
            return f"{name}: " * bool(name) + f"its kind of work unmeasured: {self.error}"
        kind = "CPU-bound" if self.bound == "cpu" else "IO-bound"
        return (
            f"{name} is "
            * bool(name)
            + f"{kind}: a call keeps its thread busy {self.cpu_share:.0%} of its time"
            f" (on a CPU or waiting for one; {self.calls} calls, one at a time)"
        )


def measure_work(task: Task, rounds: Rounds) -> WorkKind:
    """Call ``task``'s function :data:`PROBE_CALLS` times in a worker process, one at a time
    in its main thread, and measure the share of their time on a CPU."""
    probing = {**rounds.worker.task_options, task.name: {**task.options, PROBE: "yes"}}
    worker = replace(rounds.worker, task_options=probing)
    spec = replace(rounds, trace=False, worker=worker).spec(
        task.name, None, "1", PROBE_CALLS, 1, rounds.reference
    )
    outcome = run_cell(spec, rounds.timeout)
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None:
        return WorkKind(None, error=str(outcome.failure or "no measurement"))
    if measurement.error is not None:
        return WorkKind(None, error=measurement.error)
    failed = next((error_line(r.error) for r in measurement.records if r.error), None)
    if failed is not None:
        return WorkKind(None, error=failed)
    wall = sum(r.duration for r in measurement.records)
    busy = sum(_busy(r.result, r.cpu) for r in measurement.records)
    return WorkKind(min(busy / wall, 1.0) if wall > 0 else 1.0, len(measurement.records))


def _busy(waited: object, cpu: float | None) -> float:
    """A call's seconds on a CPU (its thread's clock) and waiting for one (what a busy machine
    adds to CPU-bound work, from the thread's scheduler counts, where the system has them)."""
    wait = int(waited) / 1e9 if isinstance(waited, str) and waited.isdigit() else 0.0
    return (cpu or 0.0) + wait
