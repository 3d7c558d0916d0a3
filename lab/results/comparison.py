"""Two runs cell by cell: ratios only between cells that did the same work.

Cells are compared when their keys are equal: the same work (task, size, jobs) run the same way
(runner, workers). A measured cell left over on each side at the same place (task, runner,
workers), once on each side, is the same cell on different work: it is listed with what
differs, never given a ratio.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.errors import UsageError
from lab.results.analysis import analyse, job_times
from lab.results.stats import ratio_of_medians
from lab.results.status import Kind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell, Results, TaskInfo
    from lab.results.stats import Interval

#: Ratios whose whole interval lies this close to 1 are the same for any practical purpose.
SAME = 0.01

#: Metadata that, when it differs, is worth saying (it is often the point of a comparison).
CONTEXT = (
    ("cpus", "usable CPUs"),
    ("python", "Python"),
    ("gil_enabled", "GIL on"),
    ("system", "system"),
    ("start_method", "start method"),
    ("memory_metric", "memory metric"),
)


class Judgement(enum.Enum):
    SAME = "the same"
    FASTER = "faster"
    SLOWER = "slower"
    NOT_SIGNIFICANT = "not significant"
    ONE_RUN = "too few runs for an interval"


@dataclass(frozen=True)
class Match:
    """A cell measured in both runs on the same work: after / before of the median job times."""

    before: Cell
    after: Cell
    before_median: float
    after_median: float
    ratio: float
    interval: Interval | None
    judgement: Judgement
    #: Measured runs on each side, and whether both cells' figures are free of caveats.
    before_runs: int = 0
    after_runs: int = 0
    stable: bool = True

    @property
    def in_headline(self) -> bool:
        """Whether the cell counts in the headline: stable, and judged with an interval."""
        return self.stable and self.judgement in (
            Judgement.SAME,
            Judgement.FASTER,
            Judgement.SLOWER,
        )

    def slower_than(self, threshold: float) -> bool:
        """Slower by more than ``threshold`` (0.05: 5 %), with the whole interval above 1."""
        return self.judgement is Judgement.SLOWER and self.ratio > 1 + threshold


@dataclass(frozen=True)
class DifferentWork:
    """A cell measured in both runs, but on different work: what differs, before → after."""

    before: Cell
    after: Cell
    differences: list[tuple[str, str, str]]


@dataclass
class Comparison:
    """One run against a reference run."""

    matches: list[Match] = field(default_factory=list)
    different: list[DifferentWork] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> list[Match]:
        """The matches the headline speaks for (:attr:`Match.in_headline`)."""
        return [m for m in self.matches if m.in_headline]

    @property
    def geometric_mean(self) -> float | None:
        """The geometric mean of the headline cells' ratios."""
        ratios = [m.ratio for m in self.headline]
        if not ratios:
            return None
        return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def compare_runs(
    base: Results,
    base_name: str,
    other: Results,
    name: str,
    base_analysis: Analysis | None = None,
) -> Comparison:
    """``other`` against ``base`` (``base_analysis``: its analysis, when it is made
    already); runs of different kinds (a matrix and a sweep) raise :class:`UsageError`."""
    if base.kind != other.kind:
        raise UsageError(
            f"cannot compare {base_name} (a {base.kind} run) with {name} (a {other.kind} run):"
            " they measure different things"
        )
    found = Comparison(notes=_context(base_name, base, name, other))
    # Two runs on one interpreter each compare across them: that is what they were made for.
    single = len(base.interpreter_labels) == 1 and len(other.interpreter_labels) == 1
    base_tasks, other_tasks = tasks_by_name(base), tasks_by_name(other)

    def key(cell: Cell, tasks: Mapping[str, TaskInfo]) -> tuple[object, ...]:
        options = tasks[cell.task].options_text
        return (*cell.key[:3], *cell.key[4:], options) if single else (*cell.key, options)

    def place(cell: Cell) -> tuple[object, ...]:
        return (cell.place[0], *cell.place[2:]) if single else cell.place

    base_analysed = analyse(base) if base_analysis is None else base_analysis
    other_analysed = base_analysed if other is base else analyse(other)
    mine = [a for a in base_analysed.cells if a.figures is not None]
    theirs = {key(a.cell, other_tasks): a for a in other_analysed.cells if a.figures is not None}
    left: list[CellAnalysis] = []
    for analysed in mine:
        counterpart = theirs.pop(key(analysed.cell, base_tasks), None)
        if counterpart is None:
            left.append(analysed)
            continue
        match = _match(analysed, counterpart)
        if match is not None:
            found.matches.append(match)
    places = Counter(place(a.cell) for a in left)
    their_places = Counter(place(a.cell) for a in theirs.values())
    by_place = {place(a.cell): a for a in theirs.values() if their_places[place(a.cell)] == 1}
    for analysed in left:
        counterpart = by_place.get(place(analysed.cell))
        if counterpart is not None and places[place(analysed.cell)] == 1:
            before, after = analysed.cell, counterpart.cell
            differences = _differences(
                base_tasks[before.task], other_tasks[after.task], before, after
            )
            found.different.append(DifferentWork(before, after, differences))
    return found


def tasks_by_name(run: Results) -> dict[str, TaskInfo]:
    """The run's tasks by name (the first of a name, as :meth:`Results.task` finds it)."""
    return {t.name: t for t in reversed(run.tasks)}


def _match(before: CellAnalysis, after: CellAnalysis) -> Match | None:
    if before.figures is None or after.figures is None:
        return None
    before_median, after_median = before.figures.jobs.median, after.figures.jobs.median
    if before_median <= 0 or after_median <= 0:
        return None
    interval = ratio_of_medians(job_times(after.cell), job_times(before.cell))
    ratio = after_median / before_median
    return Match(
        before.cell,
        after.cell,
        before_median,
        after_median,
        ratio,
        interval,
        judge(interval),
        before_runs=before.figures.samples,
        after_runs=after.figures.samples,
        stable=before.status.kind is Kind.OK and after.status.kind is Kind.OK,
    )


def judge(interval: Interval | None) -> Judgement:
    if interval is None:
        return Judgement.ONE_RUN
    if interval.low >= 1 - SAME and interval.high <= 1 + SAME:
        return Judgement.SAME
    if interval.high < 1:
        return Judgement.FASTER
    if interval.low > 1:
        return Judgement.SLOWER
    return Judgement.NOT_SIGNIFICANT


def _differences(
    base: TaskInfo, other: TaskInfo, before: Cell, after: Cell
) -> list[tuple[str, str, str]]:
    """What differs in the work of ``before`` (of the task ``base``) and ``after`` (``other``)."""
    size_name = base.size_name
    found = []
    options = base.options_text, other.options_text
    if options[0] != options[1]:
        found.append(("options", options[0] or "none", options[1] or "none"))
    if before.size != after.size:
        found.append((size_name, f"{before.size:,}", f"{after.size:,}"))
    if before.jobs != after.jobs:
        found.append(("jobs", f"{before.jobs:,}", f"{after.jobs:,}"))
    return found


def _interpreters(results: Results) -> str:
    return ", ".join(results.interpreter_labels) if results.interpreters else "the lab's own"


def _context(base_name: str, base: Results, name: str, other: Results) -> list[str]:
    notes = []
    described = {str(i["label"]): i.get("description") for i in base.interpreters}
    for found in other.interpreters:
        before = described.get(str(found["label"]))
        if before is not None and before != found.get("description"):
            notes.append(
                f"interpreter {found['label']} is {before} in {base_name},"
                f" {found.get('description')} in {name}"
            )
    if base.interpreter_labels != other.interpreter_labels:
        notes.append(
            f"the runs differ in interpreters: {_interpreters(base)} in {base_name},"
            f" {_interpreters(other)} in {name}"
        )
    for key, label in CONTEXT:
        before, after = getattr(base.metadata, key), getattr(other.metadata, key)
        if before != after:
            notes.append(f"the runs differ in {label}: {before} in {base_name}, {after} in {name}")
    for which, results in ((base_name, base), (name, other)):
        if not results.complete:
            notes.append(f"{which} was interrupted; only its measured cells are compared")
    calibrated = [t.name for t in base.tasks if t.how] + [t.name for t in other.tasks if t.how]
    for task in dict.fromkeys(calibrated):
        sizes = {r.task(task).size for r in (base, other) if task in {t.name for t in r.tasks}}
        if len(sizes) > 1:
            notes.append(
                f"{task} was calibrated to a different size in each run; give both runs the"
                f" same --size {task}=N to compare it"
            )
    return notes
