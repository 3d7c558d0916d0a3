"""Summaries of repeated samples."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Summary:
    """Median and range of a sample."""

    median: float
    low: float
    high: float
    count: int

    @property
    def spread(self) -> float:
        """Half the range relative to the median (0.05 = ±5 %); 0 for a single sample."""
        return (self.high - self.low) / 2 / self.median if self.median else 0.0


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        raise ValueError("no values to summarise")
    return Summary(statistics.median(values), min(values), max(values), len(values))
