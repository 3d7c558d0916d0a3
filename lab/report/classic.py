"""The classic comparison of threads and processes, restated with this run's figures.

The table that started this lab makes six claims (:mod:`lab.results.classic` judges them). Each
row cites the figures of this run that bear on its claim, and says whether they agree with it,
contradict it (on a free-threaded build, say), or were not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table
from lab.report.units import duration, memory_estimate
from lab.results.classic import Judgement, classic_claims
from lab.runner import EVENT_LOOP, INTERPRETERS, PROCESSES, PROCESSES_THREADS, THREADS

if TYPE_CHECKING:
    from lab.results.analysis import Analysis
    from lab.results.classic import (
        ClassicClaim,
        CommunicationClaim,
        GilClaim,
        MemoryClaim,
        ParallelismClaim,
        SynchronizationClaim,
        UseCase,
        UseCasesClaim,
    )

#: What each kind is called in the table.
NOUNS = {
    THREADS: "threads",
    INTERPRETERS: "subinterpreters",
    PROCESSES: "processes",
    PROCESSES_THREADS: "threads in processes",
    EVENT_LOOP: "an event loop",
}
#: One worker of each kind, for the memory row.
ONE = {THREADS: "thread", INTERPRETERS: "subinterpreter", PROCESSES: "process"}
HOLDS = "holds here"
CONTRADICTED = "contradicted here"
MEASURED = "measured"
NOT_MEASURED = "not measured in this run"
#: Each judgement in the table's words.
VERDICTS = {
    Judgement.HOLDS: HOLDS,
    Judgement.CONTRADICTED: CONTRADICTED,
    Judgement.MIXED: "holds on some interpreters, not all",
    Judgement.MEASURED: MEASURED,
    Judgement.NOT_MEASURED: NOT_MEASURED,
}


@dataclass(frozen=True)
class Row:
    aspect: str
    claim: str
    evidence: str
    verdict: str


def classic_rows(analysis: Analysis) -> list[Row]:
    """The six rows, each with its evidence and verdict."""
    found = classic_claims(analysis)
    return [
        _row(found.parallelism, _parallelism(found.parallelism)),
        _row(found.gil, _gil(found.gil)),
        _row(found.memory, _memory(found.memory)),
        _row(found.communication, _communication(found.communication)),
        _row(found.synchronization, _synchronization(found.synchronization)),
        _row(found.use_cases, _use_cases(found.use_cases), _use_cases_verdict(found.use_cases)),
    ]


def render_classic(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The classic table as measured, or nothing when the run measured none of its claims."""
    rows = classic_rows(analysis)
    if all(r.verdict == NOT_MEASURED for r in rows):
        return ""
    columns = [
        Column("the classic claim", [f"{r.aspect}: {r.claim}" for r in rows], wrap=True),
        Column("this run's figures", [r.evidence for r in rows], wrap=True),
        Column("verdict", [r.verdict for r in rows], wrap=True),  # names tasks when mixed
    ]
    return fit_table(columns, width, tablefmt)


def _row(claim: ClassicClaim, evidence: str, verdict: str | None = None) -> Row:
    return Row(claim.aspect, claim.claim, evidence, verdict or VERDICTS[claim.judgement])


def _where(label: str) -> str:
    return f" on {label}" if label else ""


def _parallelism(claim: ParallelismClaim) -> str:
    return "; ".join(
        ", ".join(f"{NOUNS[s.kind]} {s.speedup:.2f}x" for s in found.speedups)
        + f" on CPU-bound work{_where(found.interpreter)}"
        for found in claim.interpreters
    )


def _gil(claim: GilClaim) -> str:
    return "; ".join(
        f"{found.analysed.cell.layout.concurrency} threads {found.speedup:.2f}x with the GIL"
        f" {'on' if found.gil else 'off'}"
        + (f", on {found.interpreter}" if found.interpreter else "")
        for found in claim.threads
    )


def _memory(claim: MemoryClaim) -> str:
    if claim.judgement is Judgement.NOT_MEASURED:
        return ""
    shown = ", ".join(f"{memory_estimate(k.memory)} a {ONE[k.kind]}" for k in claim.kinds)
    return shown + " (peak memory)"


def _communication(claim: CommunicationClaim) -> str:
    return ", ".join(f"{NOUNS[c.kind]} {duration(c.seconds)} a MiB ({c.task})" for c in claim.costs)


def _synchronization(claim: SynchronizationClaim) -> str:
    if claim.judgement is Judgement.NOT_MEASURED:
        return ""
    tasks = ", ".join(claim.tasks)
    parts = [f"{len(claim.kept)} cells of {tasks} kept every shared update (checked)"]
    for task in claim.costs:
        costs = [f"{NOUNS[c.kind]} {duration(c.seconds)}" for c in task.costs]
        if costs:
            parts.append(f"a {task.task.name} job: {', '.join(costs)}")
    if claim.failed:
        shown = "; ".join(str(a.status) for a in claim.failed[:2])
        parts.append(f"{len(claim.failed)} failed: {shown}")
    return ", ".join(parts)


def _use_cases(claim: UseCasesClaim) -> str:
    return "; ".join(
        found.task.name
        + ("" if found.task.name == found.task.bound else f", {found.task.bound}-bound")
        + f": fastest {found.analysed.cell.runner}"
        + ("" if found.judgement is Judgement.HOLDS else _kind(found))
        + _where(found.analysed.cell.interpreter)
        for found in claim.tasks
    )


def _use_cases_verdict(claim: UseCasesClaim) -> str:
    """The claim's verdict when its tasks agree; else which tasks it held for and which not."""
    if claim.judgement is not Judgement.MIXED:
        return VERDICTS[claim.judgement]
    held = [f.task.name for f in claim.tasks if f.judgement is Judgement.HOLDS]
    not_held = [f.task.name for f in claim.tasks if f.judgement is not Judgement.HOLDS]
    return (
        f"{_and(held)} {'hold' if len(held) > 1 else 'holds'},"
        f" {_and(not_held)} {'do' if len(not_held) > 1 else 'does'} not"
    )


def _kind(found: UseCase) -> str:
    """The fastest cell's kind, when its runner's name does not say it."""
    cell = found.analysed.cell
    noun = NOUNS.get(cell.kind)
    if cell.runner in (cell.kind, noun):
        return ""
    return f" ({noun})" if noun else f" (of kind {cell.kind})"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
