"""``lab compare`` as text: each later run against the first, cell by cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from lab.results.comparison import SAME, Judgement, compare_runs

if TYPE_CHECKING:
    from lab.results.comparison import Comparison, Match
    from lab.results.model import Results

HEADERS = (
    "task",
    "runner",
    "workers",
    "before s",
    "after s",
    "after / before",
    "95% CI",
    "verdict",
)
DIFFERENT_HEADERS = ("task", "runner", "workers", "different work: before → after")
NOTHING_MATCHED = "no cell was measured on the same work in both runs"


def compare(runs: list[tuple[str, Results]], tablefmt: str) -> tuple[str, bool]:
    """The report, and whether every later run had at least one cell to compare."""
    (base_name, base), others = runs[0], runs[1:]
    parts: list[str] = []
    every = True
    for name, other in others:
        found = compare_runs(base, base_name, other, name)
        parts.append(f"{name} against {base_name}")
        if found.notes:
            parts.append("\n".join(f"note: {n}" for n in found.notes))
        if found.matches:
            rows = [_row(m) for m in found.matches]
            parts.append(tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True))
        else:
            every = False
            parts.append(NOTHING_MATCHED)
        if found.different:
            parts.append(_different(found, tablefmt))
        parts.append(_summary(found, name, base_name))
    return "\n\n".join(p for p in parts if p), every


def _row(match: Match) -> list[str]:
    before, interval = match.before, match.interval
    python = f" ({before.interpreter})" if before.interpreter else ""
    return [
        before.task,
        before.runner + python,
        before.workers,
        f"{match.before_median:.4f}",
        f"{match.after_median:.4f}",
        f"{match.ratio:.3f}",
        "" if interval is None else f"{interval.low:.3f}-{interval.high:.3f}",
        _words(match.judgement),
    ]


def _words(judgement: Judgement) -> str:
    if judgement is Judgement.SAME:
        return f"the same (within {SAME:.0%})"
    return str(judgement.value)


def _different(found: Comparison, tablefmt: str) -> str:
    rows = [
        [
            d.before.task,
            d.before.runner,
            d.before.workers,
            ", ".join(f"{what} {old} → {new}" for what, old, new in d.differences),
        ]
        for d in found.different
    ]
    table = tabulate(rows, headers=DIFFERENT_HEADERS, tablefmt=tablefmt, disable_numparse=True)
    return f"not compared, {len(rows)} cells measured on different work:\n{table}"


def _summary(found: Comparison, name: str, base_name: str) -> str:
    mean = found.geometric_mean
    if mean is None:
        return ""
    direction = "faster" if mean < 1 else "slower"
    return (
        f"geometric mean of after / before over {len(found.matches)} cells: {mean:.3f}"
        f" ({name} is {abs(1 - mean):.1%} {direction} than {base_name})"
    )
