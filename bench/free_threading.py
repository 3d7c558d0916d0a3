"""Threads on CPU-bound work with and without the GIL, as the lab measures them: on a
free-threaded build two threads count down nearly twice as fast as one; with the GIL (the lab's
own build, or the free-threaded one with ``PYTHON_GIL=1``) they do not."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tabulate import tabulate

from bench.core import BenchError, job_time
from lab.envs.environments import prepare
from lab.envs.interpreters import GIL_SUFFIX, find, own, running
from lab.errors import UsageError
from lab.machine.metadata import usable_cpus
from lab.run.supervisor import run_cell

if TYPE_CHECKING:
    from lab.run.rounds import Rounds

FREE_THREADED = "3.13t"
#: Two threads against one, on 2 jobs each: at least this without the GIL, at most with it.
FREE_GOAL = 1.6
GIL_GOAL = 1.2
WORKERS = 2
JOBS = 4


@dataclass(frozen=True)
class Scaling:
    """Two threads against one on an interpreter: median job times and the speed-up."""

    label: str
    gil: bool
    single: float
    threads: float

    @property
    def speedup(self) -> float:
        return self.single / self.threads

    @property
    def goal(self) -> str:
        return f"<= {GIL_GOAL}" if self.gil else f">= {FREE_GOAL}"

    def meets_goal(self) -> bool:
        return self.speedup <= GIL_GOAL if self.gil else self.speedup >= FREE_GOAL


def skipped() -> str | None:
    """Why the check cannot run here, if it cannot."""
    if usable_cpus() < WORKERS:
        return f"fewer than {WORKERS} usable CPUs"
    try:
        find(FREE_THREADED)
    except UsageError:
        return f"no Python {FREE_THREADED} here (make pythons builds one)"
    return None


def measure(count: int, rounds: int, settings: Rounds) -> list[Scaling]:
    """The lab's own interpreter, the free-threaded build, and that build with the GIL on."""
    free = find(FREE_THREADED)
    forced = find(FREE_THREADED + GIL_SUFFIX)
    lab_own = running()
    variants = [
        (lab_own.label, own(), not lab_own.free_threaded),
        (free.label, prepare(free, quiet=True), False),
        (forced.label, prepare(forced, quiet=True), True),
    ]
    found = []
    for label, interpreter, gil in variants:
        on = replace(settings, interpreters=(interpreter,))
        times: dict[str, list[float]] = {"single": [], "threads": []}
        for _ in range(rounds):
            for runner, workers in (("single", "1"), ("threads", str(WORKERS))):
                spec = on.spec("cpu", runner, workers, JOBS, count, interpreter.label)
                outcome = run_cell(spec, settings.timeout)
                measurement = outcome.measurement
                if outcome.failure is not None or measurement is None or measurement.error:
                    detail = outcome.failure or (measurement.error if measurement else "")
                    raise BenchError(f"{runner} on {label}: {detail}")
                times[runner].append(job_time((r.start, r.end) for r in measurement.records))
        single, threads = (statistics.median(times[r]) for r in ("single", "threads"))
        found.append(Scaling(label, gil, single, threads))
    return found


LEGEND = f"""\
threads with and without the GIL: {JOBS} countdowns of the bench's count on 1 thread (single)
and on {WORKERS} threads, each in a fresh worker of the lab on that interpreter, median of the
rounds · speed-up: single / threads: near {WORKERS} without the GIL, near 1 with it"""


def table(found: list[Scaling], tablefmt: str) -> str:
    rows = [
        [
            s.label,
            "on" if s.gil else "off",
            f"{s.single:.3f}",
            f"{s.threads:.3f}",
            f"{s.speedup:.2f}x",
            s.goal,
            "meets goal" if s.meets_goal() else "MISSES GOAL",
        ]
        for s in found
    ]
    headers = (
        "python", "GIL", "single job s", f"{WORKERS} threads job s", "speed-up", "goal", "verdict"
    )  # fmt: skip
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
