"""What both sides of a comparison produce: a timing, or a failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


class BenchError(Exception):
    """A side of a comparison could not be measured."""


@dataclass(frozen=True)
class Timing:
    """One run of one side, in seconds.

    :param job_time: from the first job's start to the last job's end.
    :param wall: from handing the jobs over until every result is back.
    """

    job_time: float
    wall: float


def job_time(spans: Iterable[tuple[float, float]]) -> float:
    """The first start to the last end of ``(start, end)`` spans."""
    pairs = list(spans)
    return max(end for _, end in pairs) - min(start for start, _ in pairs)
