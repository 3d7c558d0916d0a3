"""``lab compare``: two or more saved runs side by side, cell by cell."""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.results.analysis import job_time
from lab.results.stats import Interval, ratio_of_medians

if TYPE_CHECKING:
    from lab.results.model import Cell, Results

#: Ratios whose whole interval lies this close to 1 are the same for any practical purpose.
SAME = 0.01

#: Metadata that, when it differs, is worth saying (it is often the point of a comparison).
CONTEXT = (
    ("cpus", "usable CPUs"),
    ("python", "Python"),
    ("gil_enabled", "GIL on"),
    ("system", "system"),
    ("start_method", "start method"),
)


def compare(runs: list[tuple[str, Results]], tablefmt: str) -> str:
    """Each later run against the first: per cell the ratio of median job times with its 95 %
    interval and whether the difference is significant (and more than 1 %), then the geometric
    mean."""
    (base_name, base), others = runs[0], runs[1:]
    parts = []
    for name, other in others:
        parts.append(f"{name} against {base_name}")
        parts += _context(base_name, base, name, other)
        parts.append(_table(base, other, tablefmt))
        parts.append(_summary(base, other, name, base_name))
    return "\n\n".join(p for p in parts if p)


def _measured(results: Results) -> dict[tuple[str, str, str], Cell]:
    return {c.key: c for c in results.cells if c.failure is None and c.samples}


def _ratios(base: Results, other: Results) -> list[tuple[Cell, Cell, float]]:
    mine = _measured(base)
    theirs = _measured(other)
    rows = []
    for key, cell in mine.items():
        if key in theirs:
            before, after = _median(cell), _median(theirs[key])
            if before > 0 and after > 0:
                rows.append((cell, theirs[key], after / before))
    return rows


def _table(base: Results, other: Results, tablefmt: str) -> str:
    rows = []
    for before, after, _ in _ratios(base, other):
        interval = ratio_of_medians(
            [job_time(after, s) for s in after.samples],
            [job_time(before, s) for s in before.samples],
        )
        point = interval.point if interval else _median(after) / _median(before)
        rows.append(
            [
                before.task,
                before.runner,
                before.workers,
                f"{_median(before):.4f}",
                f"{_median(after):.4f}",
                f"{point:.3f}",
                "" if interval is None else f"{interval.low:.3f}-{interval.high:.3f}",
                _judge(interval),
            ]
        )
    if not rows:
        return "no cell was measured in both runs"
    headers = (
        "task",
        "runner",
        "workers",
        "before s",
        "after s",
        "after / before",
        "95% CI",
        "verdict",
    )
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _judge(interval: Interval | None) -> str:
    if interval is None:
        return "one run each: no interval"
    if interval.low >= 1 - SAME and interval.high <= 1 + SAME:
        return f"the same (within {SAME:.0%})"
    if interval.high < 1:
        return "faster"
    if interval.low > 1:
        return "slower"
    return "not significant"


def _summary(base: Results, other: Results, name: str, base_name: str) -> str:
    ratios = [ratio for _, _, ratio in _ratios(base, other)]
    if not ratios:
        return ""
    mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    direction = "faster" if mean < 1 else "slower"
    return (
        f"geometric mean of after / before over {len(ratios)} cells: {mean:.3f}"
        f" ({name} is {abs(1 - mean):.1%} {direction} than {base_name})"
    )


def _context(base_name: str, base: Results, name: str, other: Results) -> list[str]:
    notes = []
    for field, label in CONTEXT:
        before, after = getattr(base.metadata, field), getattr(other.metadata, field)
        if before != after:
            notes.append(
                f"note: the runs differ in {label}: {before} in {base_name}, {after} in {name}"
            )
    for which, results in ((base_name, base), (name, other)):
        if not results.complete:
            notes.append(f"note: {which} was interrupted; only its measured cells are compared")
    return ["\n".join(notes)] if notes else []


def _median(cell: Cell) -> float:
    return statistics.median(job_time(cell, s) for s in cell.samples)
