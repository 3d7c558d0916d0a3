"""Goals judged on the interval of a ratio from paired rounds.

Each round measures both sides of a comparison one after the other (the lab and its
hand-written equivalent, one thread and two), so a round's ratio shares that round's load on
the machine. A goal is judged on the 95 % interval of the median of those ratios (the lab's
percentile bootstrap, :func:`lab.results.stats.ratio_of_medians`), never on the median alone:
an interval on one side of the goal is a verdict; one that straddles it is not. Rounds go on
until the interval is narrower than the goal's margin (the distance from the ideal to the
goal), or until that is out of reach within the rounds the bench allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol, TypeVar

from lab.results.stats import Interval, ratio_of_medians

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CONFIDENCE = 0.95
#: Rounds before an interval is trusted to say whether more rounds could narrow it.
MIN_ROUNDS = 5
#: What each round's ratio is divided by for :func:`ratio_of_medians`: each is already a
#: ratio of its own round, so the bootstrap resamples the rounds' ratios alone.
PAIRED = (1.0, 1.0)


class Verdict(Enum):
    MEETS = "meets goal"
    MISSES = "misses goal"
    BUSY = "the machine was too busy for a verdict"
    EDGE = "too close to the goal for a verdict"
    NO_INTERVAL = "no verdict: fewer than 2 rounds"


@dataclass(frozen=True)
class Goal:
    """At most ``bound`` (when ``bound`` is above ``ideal``) or at least ``bound``: ``ideal``
    is what the ratio is when the claim holds exactly (1: the lab costs nothing; 2: two threads
    run twice as fast), and the distance between them is the goal's margin."""

    bound: float
    ideal: float

    @property
    def at_most(self) -> bool:
        return self.bound >= self.ideal

    @property
    def margin(self) -> float:
        return abs(self.bound - self.ideal)

    def __str__(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.bound:g}"


def paired_interval(ratios: Sequence[float]) -> Interval | None:
    """The median of the rounds' ratios and its interval; ``None`` under 2 rounds."""
    return ratio_of_medians(ratios, PAIRED, CONFIDENCE)


@dataclass(frozen=True)
class Judged:
    """A goal, the ratios of the rounds it was measured in, and what they say."""

    goal: Goal
    ratios: tuple[float, ...]

    @property
    def rounds(self) -> int:
        return len(self.ratios)

    @property
    def interval(self) -> Interval | None:
        return paired_interval(self.ratios)

    @property
    def narrow(self) -> bool:
        """Whether the interval is narrower than the goal's margin."""
        interval = self.interval
        return interval is not None and interval.high - interval.low < self.goal.margin

    @property
    def verdict(self) -> Verdict:
        interval, goal = self.interval, self.goal
        if interval is None:
            return Verdict.NO_INTERVAL
        # An at-least goal is an at-most one on the negated ratio.
        sign = 1.0 if goal.at_most else -1.0
        low, high = sorted((sign * interval.low, sign * interval.high))
        bound = sign * goal.bound
        if high <= bound:
            return Verdict.MEETS
        if low > bound:
            return Verdict.MISSES
        return Verdict.EDGE if self.narrow else Verdict.BUSY

    def needed(self) -> int | None:
        """About how many rounds would make the interval narrower than the margin, at the
        rounds' spread so far (an interval narrows as the square root of the rounds)."""
        interval = self.interval
        if interval is None:
            return None
        width = interval.high - interval.low
        if width < self.goal.margin:
            return self.rounds
        return math.ceil(self.rounds * (width / self.goal.margin) ** 2) + 1

    def settled(self, most: int) -> bool:
        """No more rounds: ``most`` were run, or the interval is narrow enough, or (after
        :data:`MIN_ROUNDS`) it would take more than ``most`` to make it so."""
        if self.rounds >= most:
            return True
        if self.rounds < min(MIN_ROUNDS, most):
            return False
        needed = self.needed()
        return self.narrow or (needed is not None and needed > most)

    def note(self, most: int) -> str | None:
        """Why the interval is not narrower than the goal's margin, if it is not."""
        interval, needed = self.interval, self.needed()
        if interval is None or needed is None or self.narrow:
            return None
        width = interval.high - interval.low
        rounds = "1 round" if self.rounds == 1 else f"{self.rounds} rounds"
        beyond = f"more than the {most} the bench runs" if needed > most else f"the cap is {most}"
        return (
            f"interval {width:.3f} wide after {rounds}, not narrower than the goal's margin"
            f" {self.goal.margin:g}: at this spread about {needed:,} rounds would make it so,"
            f" {beyond}"
        )

    def interval_text(self) -> str:
        interval = self.interval
        return "" if interval is None else f"{interval.low:.3f}-{interval.high:.3f}"


class Paired(Protocol):
    """Something measured in paired rounds: what they say so far, or why it stopped."""

    failure: str | None

    def judged(self) -> Judged: ...


P = TypeVar("P", bound=Paired)


def run_rounds(items: Sequence[P], most: int, one_round: Callable[[P, int], None]) -> None:
    """Round after round, one more round of each item that has not failed nor settled (see
    :meth:`Judged.settled`), at most ``most``."""
    for number in range(most):
        running = [i for i in items if i.failure is None and not i.judged().settled(most)]
        if not running:
            return
        for item in running:
            one_round(item, number)
