"""Sizing a calibrated task (the countdown) so that one job takes a target time here."""

from __future__ import annotations

import statistics
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from lab.errors import LabError
from lab.jobs import error_line
from lab.run.supervisor import run_cell

if TYPE_CHECKING:
    from lab.run.rounds import Rounds
    from lab.task import Task

#: The first size tried, and how long a probe job must take before its time is trusted.
FIRST_PROBE = 100_000
TRUSTED_PROBE_SECONDS = 0.05
PROBE_JOBS = 3
MAX_PROBES = 6


class CalibrationError(LabError):
    exit_code = 1


def calibrate(task: Task, target: float, rounds: Rounds) -> int:
    """The size at which one job of ``task`` takes ``target`` seconds, measured in a worker
    process (jobs inline in its main thread), assuming time grows linearly with size."""
    size = FIRST_PROBE
    for _ in range(MAX_PROBES):
        seconds = _probe(task, size, rounds)
        if seconds >= TRUSTED_PROBE_SECONDS:
            return max(1, round(size * Fraction(target) / Fraction(seconds)))  # no overflow
        size = round(size * 2 * TRUSTED_PROBE_SECONDS / max(seconds, 1e-6))
    raise CalibrationError(f"could not calibrate task {task.name!r}: its jobs stay too short")


def _probe(task: Task, size: int, rounds: Rounds) -> float:
    untraced = replace(rounds, trace=False)
    spec = untraced.spec(task.name, None, "1", PROBE_JOBS, size, rounds.reference)
    outcome = run_cell(spec, rounds.timeout)
    measurement = outcome.measurement
    failure = str(outcome.failure) if outcome.failure is not None else None
    error = failure or (measurement.error if measurement else "no measurement")
    if measurement is None or measurement.error or not measurement.records:
        raise CalibrationError(f"could not calibrate task {task.name!r}: {error}")
    failed = [error_line(r.error) for r in measurement.records if r.error]
    if failed:
        raise CalibrationError(f"could not calibrate task {task.name!r}: {failed[0]}")
    return statistics.median(r.duration for r in measurement.records)
