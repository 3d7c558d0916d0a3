"""Threads on CPU-bound work with and without the GIL, as the lab measures them: on a
free-threaded build two threads count down nearly twice as fast as one; with the GIL (the lab's
own build, or the free-threaded one with ``PYTHON_GIL=1``) they do not."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tabulate import tabulate

from bench.core import BenchError, job_time
from bench.goals import Goal, Judged, Verdict, run_rounds
from bench.report import notes
from lab.envs.environments import prepare
from lab.envs.interpreters import GIL_SUFFIX, find, own, running
from lab.errors import UsageError
from lab.machine.metadata import usable_cpus
from lab.run.supervisor import run_cell

if TYPE_CHECKING:
    from lab.boundary.requests import CellSpec
    from lab.run.rounds import Rounds

FREE_THREADED = "3.13t"
#: Two threads against one, on 2 jobs each: at least this without the GIL, at most with it
#: (judged on the interval of the rounds' speed-ups).
FREE_GOAL = 1.6
GIL_GOAL = 1.2
WORKERS = 2
JOBS = 4


@dataclass
class Scaling:
    """Two threads against one on an interpreter, round by round: job times and speed-ups."""

    label: str
    gil: bool
    single: list[float] = field(default_factory=list)
    threads: list[float] = field(default_factory=list)
    failure: str | None = None

    @property
    def goal(self) -> Goal:
        return Goal(GIL_GOAL, 1.0) if self.gil else Goal(FREE_GOAL, float(WORKERS))

    def judged(self) -> Judged:
        """The goal judged on the interval of the rounds' speed-ups (single / threads)."""
        speedups = (one / two for one, two in zip(self.single, self.threads, strict=True))
        return Judged(self.goal, tuple(speedups))

    def missed(self) -> bool:
        return self.failure is not None or self.judged().verdict is Verdict.MISSES


def skipped() -> str | None:
    """Why the check cannot run here, if it cannot."""
    if usable_cpus() < WORKERS:
        return f"fewer than {WORKERS} usable CPUs"
    try:
        find(FREE_THREADED)
    except UsageError:
        return f"no Python {FREE_THREADED} here (make pythons builds one)"
    return None


def measure(count: int, most: int, settings: Rounds) -> list[Scaling]:
    """The lab's own interpreter, the free-threaded build, and that build with the GIL on, in
    paired rounds (one thread, then two, or two, then one) until each goal is settled."""
    free = find(FREE_THREADED)
    forced = find(FREE_THREADED + GIL_SUFFIX)
    lab_own = running()
    variants = [
        (Scaling(lab_own.label, not lab_own.free_threaded), own()),
        (Scaling(free.label, False), prepare(free, quiet=True)),
        (Scaling(forced.label, True), prepare(forced, quiet=True)),
    ]
    found = [scaling for scaling, _ in variants]
    #: Each variant's settings, and its interpreter's label, by the variant's label.
    on = {s.label: (replace(settings, interpreters=(i,)), i.label) for s, i in variants}

    def one_round(scaling: Scaling, number: int) -> None:
        rounds, interpreter = on[scaling.label]
        sides = [("single", "1", scaling.single), ("threads", str(WORKERS), scaling.threads)]
        done = len(scaling.single)
        try:
            for runner, workers, times in sides if number % 2 == 0 else sides[::-1]:
                spec = rounds.spec("cpu", runner, workers, JOBS, count, interpreter)
                times.append(_job_time(spec, runner, scaling.label, settings.timeout))
        except BenchError as exc:
            scaling.failure = str(exc)
            del scaling.single[done:], scaling.threads[done:]

    run_rounds(found, most, one_round)
    return found


def _job_time(spec: CellSpec, runner: str, label: str, timeout: float) -> float:
    outcome = run_cell(spec, timeout)
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None or measurement.error:
        detail = outcome.failure or (measurement.error if measurement else "")
        raise BenchError(f"{runner} on {label}: {detail}")
    return job_time((r.start, r.end) for r in measurement.records)


LEGEND = f"""\
threads with and without the GIL: {JOBS} countdowns of the bench's count on 1 thread (single)
and on {WORKERS} threads, each in a fresh worker of the lab on that interpreter, both in every
round · speed-up: median of the rounds' single / threads job times, near {WORKERS} without the
GIL and near 1 with it; judged on its 95% interval as the side-by-side goals are"""


def table(found: list[Scaling], most: int, tablefmt: str) -> str:
    rows = [_row(s) for s in found]
    headers = (
        "python", "GIL", "single job s", f"{WORKERS} threads job s", "speed-up", "95% interval",
        "rounds", "goal", "verdict",
    )  # fmt: skip
    text = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    return text + notes(((s.label, s.judged()) for s in found if s.failure is None), most)


def _row(s: Scaling) -> list[str]:
    head = [s.label, "on" if s.gil else "off"]
    if s.failure is not None or not s.single:
        return [*head, *[""] * 5, str(s.goal), f"error: {s.failure or 'not run'}"]
    judged = s.judged()
    interval = judged.interval
    return [
        *head,
        f"{statistics.median(s.single):.3f}",
        f"{statistics.median(s.threads):.3f}",
        "" if interval is None else f"{interval.point:.2f}x",
        judged.interval_text(),
        str(judged.rounds),
        str(s.goal),
        judged.verdict.value,
    ]
