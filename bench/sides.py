"""The two sides of a comparison: a lab cell and its hand-written equivalent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.core import BenchError, Timing, job_time
from bench.subprocesses import run_module
from lab.run import validate
from lab.run.supervisor import run_cell
from lab.runner import Workers

if TYPE_CHECKING:
    from bench.goals import Goal
    from lab.boundary.measurement import Measurement
    from lab.host.registry import Catalog
    from lab.run.rounds import Rounds


@dataclass(frozen=True)
class Case:
    """One cell to compare: ``jobs`` jobs of ``task`` at ``size`` on ``runner``, and the goal
    for its lab / hand-written job time."""

    runner: str
    task: str
    workers: int
    jobs: int
    size: int | float
    goal: Goal


def run_lab(case: Case, settings: Rounds, catalog: Catalog) -> Timing:
    """The lab's cell, measured and validated by the lab."""
    spec = settings.spec(case.task, case.runner, str(case.workers), case.jobs, case.size)
    outcome = run_cell(spec, settings.timeout)
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None:
        raise BenchError(f"lab: {outcome.failure or 'no measurement'}")
    if measurement.error is not None or measurement.wall is None:
        raise BenchError(f"lab: {measurement.error or 'no wall time'}")
    _validate(measurement, case, catalog)
    return Timing(job_time((r.start, r.end) for r in measurement.records), measurement.wall)


def _validate(measurement: Measurement, case: Case, catalog: Catalog) -> None:
    layout = catalog.runners.get(case.runner).layout(Workers(case.workers))
    task = catalog.tasks.get(case.task)
    found = validate.problems(measurement, case.jobs, layout, task, case.size)
    if found:
        raise BenchError(f"lab: {found[0]}")


def run_hand(case: Case, timeout: float) -> Timing:
    """The hand-written equivalent, in a fresh process."""
    args = [case.runner, case.task, str(case.workers), str(case.jobs), repr(case.size)]
    try:
        data = run_module("bench.hand", args, timeout)
        return Timing(float(data["job_time"]), float(data["wall"]))
    except BenchError as exc:
        raise BenchError(f"hand-written: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"hand-written: malformed output: {exc!r}") from None
