"""``lab compare`` as text, Markdown, CSV and JSON: each later run against the first, cell by
cell."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.table import workers_text
from lab.report.units import duration
from lab.results.analysis import analyse
from lab.results.comparison import SAME, Judgement, compare_runs

if TYPE_CHECKING:
    from lab.results.comparison import Comparison, Match
    from lab.results.model import Results

DIFFERENT_HEADERS = ("task", "runner", "workers", "different work: before → after")
NOTHING_MATCHED = "no cell was measured on the same work in both runs"
#: The columns of ``lab compare --csv``, one row a compared cell.
CSV_FIELDS = (
    "run",
    "against",
    "task",
    "runner",
    "interpreter",
    "workers",
    "before_s",
    "after_s",
    "ratio",
    "ratio_low",
    "ratio_high",
    "verdict",
    "before_runs",
    "after_runs",
    "stable",
)


@dataclass(frozen=True)
class Compared:
    """Each later run against the first: ``(name, comparison)`` in order."""

    base: str
    runs: list[tuple[str, Comparison]]

    @property
    def every_run_matched(self) -> bool:
        return all(found.matches for _, found in self.runs)

    def slower_than(self, threshold: float) -> list[tuple[str, Match]]:
        """The cells slower than ``threshold`` with significance, in any later run."""
        return [(n, m) for n, found in self.runs for m in found.matches if m.slower_than(threshold)]


def compare_all(runs: list[tuple[str, Results]]) -> Compared:
    """Compare each later run with the first."""
    (base_name, base), others = runs[0], runs[1:]
    analysed = analyse(base)  # once, whatever the number of runs set against it
    return Compared(
        base_name, [(n, compare_runs(base, base_name, r, n, analysed)) for n, r in others]
    )


def compare(runs: list[tuple[str, Results]], tablefmt: str) -> tuple[str, bool]:
    """The report as text, and whether every later run had a cell to compare."""
    compared = compare_all(runs)
    return render(compared, tablefmt), compared.every_run_matched


def render(compared: Compared, tablefmt: str, width: int | None = None) -> str:
    """The comparison as text (tables in ``tablefmt``, within ``width``)."""
    parts: list[str] = []
    for name, found in compared.runs:
        parts.append(f"{name} against {compared.base}")
        if found.notes:
            parts.append(wrap_lines("\n".join(f"note: {n}" for n in found.notes), width))
        parts.append(
            fit_table(match_columns(found.matches), width, tablefmt)
            if found.matches
            else NOTHING_MATCHED
        )
        if found.different:
            parts.append(_different(found, tablefmt, width))
        parts.append(wrap_lines(headline(found, name, compared.base), width))
    return "\n\n".join(p for p in parts if p)


def to_markdown(compared: Compared) -> str:
    """The comparison as Markdown: a GitHub table per later run."""
    body = render(compared, "github").replace("\nnote: ", "\n- note: ")
    return f"# concurrency-lab comparison\n\n{body}\n"


def to_csv(compared: Compared) -> str:
    """One row per compared cell of every later run."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for name, found in compared.runs:
        for match in found.matches:
            data = _match_data(match)
            writer.writerow([name, compared.base, *(data[f] for f in CSV_FIELDS[2:])])
    return out.getvalue()


def to_json(compared: Compared) -> str:
    """The comparison as data: per later run its notes, cells, different work and headline."""
    runs = []
    for name, found in compared.runs:
        mean = found.geometric_mean
        runs.append(
            {
                "run": name,
                "against": compared.base,
                "notes": found.notes,
                "cells": [_match_data(m) for m in found.matches],
                "different_work": [
                    {
                        "task": d.before.task,
                        "runner": d.before.runner,
                        "workers": d.before.workers,
                        "differences": [list(x) for x in d.differences],
                    }
                    for d in found.different
                ],
                "headline": {"cells": len(found.headline), "geometric_mean": mean},
            }
        )
    return json.dumps({"schema": "concurrency-lab/comparison", "runs": runs}, indent=1) + "\n"


def _match_data(match: Match) -> dict[str, Any]:
    interval = match.interval
    return {
        "task": match.before.task,
        "runner": match.before.runner,
        "interpreter": match.before.interpreter,
        "workers": workers_text(match.before),
        "before_s": match.before_median,
        "after_s": match.after_median,
        "ratio": match.ratio,
        "ratio_low": None if interval is None else interval.low,
        "ratio_high": None if interval is None else interval.high,
        "verdict": verdict_words(match),
        "before_runs": match.before_runs,
        "after_runs": match.after_runs,
        "stable": match.stable,
    }


def match_columns(matches: list[Match]) -> list[Column]:
    """The columns of the compared cells' table, a row a match in ``matches``' order."""
    python = any(m.before.interpreter for m in matches)
    columns = [Column("task", [m.before.task for m in matches])]
    if python:
        columns.append(Column("python", [m.before.interpreter for m in matches]))
    columns += [
        Column("runner", [m.before.runner for m in matches]),
        Column("workers", [workers_text(m.before) for m in matches]),
        Column("before", [duration(m.before_median) for m in matches], numeric=True),
        Column("after", [duration(m.after_median) for m in matches], numeric=True),
        Column("after / before", [f"{m.ratio:.3f}" for m in matches], numeric=True),
        Column("95% CI", [_interval(m) for m in matches], numeric=True, drop=1),
        Column("verdict", [verdict_words(m) for m in matches], wrap=True),
    ]
    return columns


def _interval(match: Match) -> str:
    interval = match.interval
    return "" if interval is None else f"{interval.low:.3f}-{interval.high:.3f}"


def verdict_words(match: Match) -> str:
    judgement = match.judgement
    words = str(judgement.value)
    if judgement is Judgement.SAME:
        words = f"the same (within {SAME:.0%})"
    elif judgement is Judgement.ONE_RUN:
        if match.before_runs < 2 and match.after_runs < 2:
            words = "one run each: no interval"
        else:
            side = "before" if match.before_runs < 2 else "after"
            words = f"one run {side}: no interval"
    return words if match.stable else f"{words} (unstable)"


def _different(found: Comparison, tablefmt: str, width: int | None) -> str:
    table = fit_table(different_columns(found), width, tablefmt)
    return f"not compared, {len(found.different)} cells measured on different work:\n{table}"


def different_columns(found: Comparison) -> list[Column]:
    """The columns of the table of cells measured on different work, and what differs."""
    different = found.different
    return [
        Column("task", [d.before.task for d in different]),
        Column("runner", [d.before.runner for d in different]),
        Column("workers", [workers_text(d.before) for d in different]),
        Column(
            DIFFERENT_HEADERS[3],
            [", ".join(f"{w} {old} → {new}" for w, old, new in d.differences) for d in different],
            wrap=True,
        ),
    ]


def headline(found: Comparison, name: str, base_name: str) -> str:
    mean = found.geometric_mean
    left_out = len(found.matches) - len(found.headline)
    if mean is None:
        return (
            f"no headline: all {len(found.matches)} cells are unstable or not significant"
            if found.matches
            else ""
        )
    direction = "faster" if mean < 1 else "slower"
    text = (
        f"geometric mean of after / before over {len(found.headline)} cells: {mean:.3f}"
        f" ({name} is {abs(1 - mean):.1%} {direction} than {base_name})"
    )
    if left_out:
        text += (
            f"; {left_out} cell{'s' * (left_out > 1)} left out: unstable, not significant or"
            " without an interval"
        )
    return text
