"""Paired rounds of lab-versus-hand-written runs: both sides in every round, the order
alternating, until each case's goal can be judged (:mod:`bench.goals`)."""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench import goals
from bench.core import BenchError, Timing
from bench.goals import Judged
from bench.sides import Case, run_hand, run_lab

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.host.registry import Catalog
    from lab.run.rounds import Rounds


@dataclass
class Comparison:
    """What was measured of one case on both sides, round by round."""

    case: Case
    lab: list[Timing] = field(default_factory=list)
    hand: list[Timing] = field(default_factory=list)
    failure: str | None = None

    def round_ratios(self) -> list[float]:
        """Lab / hand-written job time, round by round."""
        return [lab.job_time / hand.job_time for lab, hand in zip(self.lab, self.hand, strict=True)]

    def judged(self) -> Judged:
        """The goal judged on the interval of the rounds' ratios."""
        return Judged(self.case.goal, tuple(self.round_ratios()))

    def wall_ratio(self) -> float:
        return median(self.lab, "wall") / median(self.hand, "wall")

    def missed(self) -> bool:
        """Whether the case failed, or its rounds say it misses its goal."""
        return self.failure is not None or self.judged().verdict is goals.Verdict.MISSES


def median(timings: list[Timing], name: str) -> float:
    """The median of one field (``job_time`` or ``wall``) of ``timings``."""
    values: list[float] = [getattr(t, name) for t in timings]
    return statistics.median(values)


def run_rounds(
    comparisons: list[Comparison], most: int, settings: Rounds, catalog: Catalog
) -> None:
    """Paired rounds of every case (lab first in even rounds, hand-written first in odd ones)
    until its goal is settled, ``most`` at most; a case that fails is not run again."""

    def one_round(comparison: Comparison, number: int) -> None:
        _one_round(comparison, number, settings, catalog)
        _progress(comparison, number, most)

    goals.run_rounds(comparisons, most, one_round)


def _one_round(comparison: Comparison, number: int, settings: Rounds, catalog: Catalog) -> None:
    case = comparison.case
    sides: list[tuple[list[Timing], Callable[[], Timing]]] = [
        (comparison.lab, lambda: run_lab(case, settings, catalog)),
        (comparison.hand, lambda: run_hand(case, settings.timeout)),
    ]
    done = len(comparison.lab)
    try:
        for timings, measure in sides if number % 2 == 0 else sides[::-1]:
            timings.append(measure())
    except BenchError as exc:
        comparison.failure = str(exc)
        del comparison.lab[done:], comparison.hand[done:]


def _progress(comparison: Comparison, number: int, most: int) -> None:
    case = comparison.case
    if comparison.failure is not None:
        line = f"failed: {comparison.failure}"
    else:
        lab, hand = comparison.lab[-1], comparison.hand[-1]
        line = f"job time lab {lab.job_time:.4f} s, hand-written {hand.job_time:.4f} s"
    name = f"{case.runner} {case.task}"
    print(f"round {number + 1} (at most {most}) · {name}: {line}", file=sys.stderr, flush=True)
