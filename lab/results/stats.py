"""Summaries of repeated samples, and the interval of a ratio of medians."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.results.bootstrap import RESAMPLES, ratio_bounds

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
    if not values:
        raise ValueError("no values to summarise")
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Summary(
        median=statistics.median(values),
        q1=q1,
        q3=q3,
        mean=statistics.fmean(values),
        stdev=statistics.stdev(values) if len(values) > 1 else 0.0,
        low=min(values),
        high=max(values),
        count=len(values),
    )


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
    point = statistics.median(numerator) / statistics.median(denominator)
    low, high = ratio_bounds(numerator, denominator, confidence, resamples)
    # With few samples the percentile bounds can sit on one side of the point; widen to it.
    return Interval(point, min(low, point), max(high, point), confidence)
