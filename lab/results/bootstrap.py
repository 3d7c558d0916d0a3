"""The percentile bootstrap of a ratio of medians, its resamples drawn once.

Which positions each resample draws depends only on the samples' sizes and the seed; the median
of a draw depends only on the ranks of the values it drew (its middle one or two). So for
samples of given sizes whose values lie in a given order, the resamples fall on a few pairs of
middle ranks, counted once: a ratio's interval then takes a few medians and ratios, not
thousands, and is the same as resampling would give.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Resamples for the bootstrap interval; the seed makes the same samples give the same interval.
RESAMPLES = 2000
SEED = 20261125

#: A draw: positions in a sample (or ranks of its values), sorted.
Draw = tuple[int, ...]


@dataclass(frozen=True)
class Draws:
    """Distinct draws of the numerator and of the denominator, and ``pairs`` of them by their
    places in those lists, each with how many resamples drew it."""

    numerators: tuple[Draw, ...]
    denominators: tuple[Draw, ...]
    pairs: tuple[tuple[int, int, int], ...]


def ratio_and_bounds(
    numerator: Sequence[float], denominator: Sequence[float], confidence: float, resamples: int
) -> tuple[float, float, float]:
    """median(numerator) / median(denominator) (each median as :func:`statistics.median`
    takes it), and its percentile bounds at ``confidence`` over ``resamples`` resamples of
    each (two values a side at least)."""
    tops, bottoms = sorted(numerator), sorted(denominator)
    point = median_of_sorted(tops) / median_of_sorted(bottoms)
    drawn = ranked_draws(_order(numerator), _order(denominator), resamples)
    top_medians = [_median(tops, m) for m in drawn.numerators]
    bottom_medians = [_median(bottoms, m) for m in drawn.denominators]
    ratios = sorted((top_medians[t] / bottom_medians[b], n) for t, b, n in drawn.pairs)
    ends = list(itertools.accumulate(n for _, n in ratios))
    tail = (1 - confidence) / 2
    low = ratios[bisect.bisect_right(ends, int(tail * (resamples - 1)))][0]
    high = ratios[bisect.bisect_right(ends, int((1 - tail) * (resamples - 1) + 0.5))][0]
    return point, low, high


@functools.lru_cache(maxsize=16)
def draws(numerator: int, denominator: int, resamples: int) -> Draws:
    """The positions each resample of samples of these sizes draws, numerator then denominator,
    from :data:`SEED`, each draw sorted (a median does not depend on order)."""
    rng = random.Random(SEED)
    return _counted(
        Counter(
            (
                tuple(sorted(rng.choices(range(numerator), k=numerator))),
                tuple(sorted(rng.choices(range(denominator), k=denominator))),
            )
            for _ in range(resamples)
        )
    )


@functools.lru_cache(maxsize=256)
def ranked_draws(
    top_order: tuple[int, ...], bottom_order: tuple[int, ...], resamples: int
) -> Draws:
    """:func:`draws` as the ranks each draw's median is taken from, for samples whose positions
    from the least value up are ``top_order`` and ``bottom_order``: the middle one or two of the
    draw's sorted ranks, equal pairs of them counted together."""
    drawn = draws(len(top_order), len(bottom_order), resamples)
    top_ranks = {p: rank for rank, p in enumerate(top_order)}
    bottom_ranks = {q: rank for rank, q in enumerate(bottom_order)}
    tops = [_middle(p, top_ranks) for p in drawn.numerators]
    bottoms = [_middle(q, bottom_ranks) for q in drawn.denominators]
    counted: Counter[tuple[Draw, Draw]] = Counter()
    for top, bottom, count in drawn.pairs:
        counted[tops[top], bottoms[bottom]] += count
    return _counted(counted)


def _median(ordered: list[float], middle: Draw) -> float:
    """The median of a draw from the ranks of its middle one or two values (``ordered``: the
    sample's values sorted), as :func:`statistics.median` computes it."""
    if len(middle) == 1:
        return ordered[middle[0]]
    return (ordered[middle[0]] + ordered[middle[1]]) / 2


def median_of_sorted(ordered: list[float]) -> float:
    """The median of values already sorted, as :func:`statistics.median` takes it."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _order(values: Sequence[float]) -> tuple[int, ...]:
    """The positions of ``values`` from the least up (the first of equals first)."""
    return tuple(sorted(range(len(values)), key=values.__getitem__))


def _middle(positions: Draw, ranks_of: dict[int, int]) -> Draw:
    """The ranks a median of the values at ``positions`` is taken from."""
    ranks = sorted(ranks_of[p] for p in positions)
    return tuple(ranks[(len(ranks) - 1) // 2 : len(ranks) // 2 + 1])


def _counted(counted: Counter[tuple[Draw, Draw]]) -> Draws:
    """Counted pairs of draws as :class:`Draws`."""
    tops = list(dict.fromkeys(top for top, _ in counted))
    bottoms = list(dict.fromkeys(bottom for _, bottom in counted))
    top_at = {top: number for number, top in enumerate(tops)}
    bottom_at = {bottom: number for number, bottom in enumerate(bottoms)}
    pairs = tuple((top_at[top], bottom_at[bottom], n) for (top, bottom), n in counted.items())
    return Draws(tuple(tops), tuple(bottoms), pairs)
