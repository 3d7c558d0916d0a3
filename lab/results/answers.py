"""Whether every runner gave the same answers: for a task whose jobs must (``same_answers``),
each cell's answers job by job against its interpreter's baseline, once the baseline's own runs
agree (a function whose answers differ from run to run cannot be checked so, and is said to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.own.answers import DIGEST_MARK, UNCOMPARABLE, digest_of

if TYPE_CHECKING:
    from lab.results.model import Cell


@dataclass(frozen=True)
class Reference:
    """A baseline's answers, job by job (``None`` where the job failed), and whether they
    can be checked against: ``unsteady`` says how the baseline's runs disagreed."""

    cell: Cell
    answers: tuple[str | None, ...]
    runs: int
    unsteady: str = ""


def reference(baseline: Cell) -> Reference | None:
    """The answers of ``baseline``'s first run, and whether its other runs gave the same;
    ``None`` for a baseline without a run."""
    runs = [[r.result if r.error is None else None for r in s.records] for s in baseline.samples]
    if not runs:
        return None
    first = runs[0]
    uncomparable = next((a for a in first if digest_of(a) == UNCOMPARABLE), None)
    if uncomparable is not None:
        why = (
            f"not compared across runners: {shown(uncomparable)} holds an object equal only"
            " to itself"
        )
        return Reference(baseline, tuple(first), len(runs), why)
    for run in runs[1:]:
        for index, (one, other) in enumerate(zip(first, run, strict=False)):
            if digest_of(one) != digest_of(other):
                why = (
                    f"not compared across runners: they differ from run to run on"
                    f" {baseline.runner} (job {index}: {shown(one)}, then {shown(other)})"
                )
                return Reference(baseline, tuple(first), len(runs), why)
    return Reference(baseline, tuple(first), len(runs))


def different(cell: Cell, found: Reference) -> str | None:
    """Why ``cell``'s answers are not its baseline's: the first job whose answer differs."""
    if found.unsteady or cell is found.cell:
        return None
    jobs = len(found.answers)
    for sample in cell.samples:
        records = sample.records
        columns = (records.column(name) for name in ("index", "result", "error"))
        for index, result, error in zip(*columns, strict=True):
            if error is not None or not 0 <= index < jobs:
                continue
            expected = found.answers[index]
            if expected is not None and digest_of(result) != digest_of(expected):
                return (
                    f"job {index} returned {shown(result)}, not"
                    f" {shown(expected)} as on {found.cell.runner}"
                )
    return None


def shown(answer: object) -> str:
    """An answer as people read it: the start of the value's ``repr``, without the digest."""
    if isinstance(answer, str) and digest_of(answer) is not None:
        return answer.rpartition(DIGEST_MARK)[0]
    return repr(answer)


def summary(references: list[Reference], compared: int, differed: int) -> str:
    """What the check found for a task: why it was not made, or how many cells it compared and
    how many differed."""
    unsteady = next((r.unsteady for r in references if r.unsteady), "")
    if unsteady:
        return f"answers: {unsteady}"
    if not references or not compared:
        return ""  # nothing was compared: nothing to say
    base = references[0].cell.runner
    runs = min(r.runs for r in references)
    steady = f"the same in {runs} runs of {base}" if runs > 1 else f"one run of {base}"
    if differed:
        return (
            f"answers: {differed} of {compared} cells gave different answers from {base}'s"
            f" ({steady}): they are errors"
        )
    return f"answers: the same job by job on all {compared} cells as on {base} ({steady})"
