"""Summaries of repeated samples, and the interval of a ratio of medians."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.bootstrap import RESAMPLES, median_of_sorted, ratio_and_bounds

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Summary:
    """Median, quartiles, mean, standard deviation and range of a sample."""

    median: float
    q1: float
    q3: float
    mean: float
    stdev: float
    low: float
    high: float
    count: int

    @property
    def variation(self) -> float:
        """Standard deviation relative to the mean (0.05 = 5 %); 0 for a single sample."""
        return self.stdev / self.mean if self.mean else 0.0


def summarise(values: Sequence[float]) -> Summary:
    """The summary of ``values``, sorted once: the median as :func:`statistics.median` takes
    it and the quartiles as ``statistics.quantiles(values, n=4, method="inclusive")`` does."""
    if not values:
        raise ValueError("no values to summarise")
    ordered = sorted(values)
    count = len(ordered)
    median = median_of_sorted(ordered)
    q1, q3 = (ordered[0], ordered[0]) if count == 1 else _quartiles(ordered)
    mean = math.fsum(ordered) / count
    return Summary(median, q1, q3, mean, stdev(values, mean), ordered[0], ordered[-1], count)


def _quartiles(ordered: list[float]) -> tuple[float, float]:
    """The first and third quartiles of two sorted values or more, interpolated between ranks
    as :func:`statistics.quantiles` does with ``method="inclusive"``."""
    found = []
    for quarter in (1, 3):
        rank, delta = divmod(quarter * (len(ordered) - 1), 4)
        found.append((ordered[rank] * (4 - delta) + ordered[rank + 1] * delta) / 4)
    return found[0], found[1]


def stdev(values: Sequence[float], mean: float) -> float:
    """The sample standard deviation of ``values`` about their ``mean`` (0 for one value), in
    floats: two passes and a correctly rounded sum, where :func:`statistics.stdev` computes in
    exact fractions at a hundred times the cost."""
    if len(values) < 2:
        return 0.0
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval."""

    point: float
    low: float
    high: float
    confidence: float


def ratio_of_medians(
    numerator: Sequence[float],
    denominator: Sequence[float],
    confidence: float = 0.95,
    resamples: int = RESAMPLES,
) -> Interval | None:
    """median(numerator) / median(denominator) with a percentile-bootstrap interval, resampling
    both samples independently (:mod:`lab.results.bootstrap`); ``None`` unless both have at
    least two values."""
    if len(numerator) < 2 or len(denominator) < 2:
        return None
    point, low, high = ratio_and_bounds(numerator, denominator, confidence, resamples)
    # With few samples the percentile bounds can sit on one side of the point; widen to it.
    return Interval(point, min(low, point), max(high, point), confidence)
