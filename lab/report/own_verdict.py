"""The verdict on a user's own function in words: the figures
:mod:`lab.results.own_verdict` chose, as a two-column table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.report.fit import Column, fit_table, wrap_lines
from lab.report.table import workers_text
from lab.report.units import duration, memory
from lab.report.verdict import caveat
from lab.results.own_verdict import HOLDS, NO_GIL, RELEASES, UNCLEAR, own_verdicts

if TYPE_CHECKING:
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.own_verdict import BreakEven, OwnVerdict

BOUND = {"cpu": "CPU-bound", "io": "IO-bound"}
#: The questions the verdict answers, in its order (each where the run measured it).
WHAT, FASTEST, RUNNER_UP, START_UP = (
    "what it is",
    "fastest way to run it here",
    "the runner-up",
    "start-up against the gain",
)
GIL = {
    HOLDS: "holds the GIL: its threads computed one at a time",
    RELEASES: "releases the GIL: its threads computed in parallel",
    NO_GIL: "no GIL here: its threads may compute in parallel",
    UNCLEAR: "its threads' CPU shows them computing in parallel, but they were not faster",
}


def own_rows(analysis: Analysis, verdict: OwnVerdict) -> list[tuple[str, str]]:
    """(question, evidence) pairs for one user function."""
    several = len(analysis.results.interpreter_labels) > 1
    rows = [(WHAT, _kind(verdict))]
    best = verdict.fastest
    if best is not None and best.figures is not None:
        rows.append((FASTEST, _fastest(verdict, best, several)))
    if best is not None and verdict.runner_up is not None:
        rows.append((RUNNER_UP, _runner_up(best, verdict.runner_up, several)))
    if verdict.break_even is not None and best is not None:
        rows.append((START_UP, _break_even(best, verdict.break_even)))
    return rows


def _kind(verdict: OwnVerdict) -> str:
    kind = BOUND.get(verdict.task.bound, verdict.task.bound)
    parts = [kind]
    if verdict.cpu_share is not None and verdict.baseline is not None:
        parts.append(
            f"{verdict.cpu_share:.0%} of a job's time on a CPU (on {verdict.baseline.cell.runner})"
        )
    cpu_bound = verdict.task.bound == "cpu"  # waiting releases the GIL: nothing to say
    if cpu_bound and verdict.gil and verdict.threads and verdict.threads.figures is not None:
        threads = verdict.threads
        assert threads.figures is not None
        speedup = threads.figures.speedup
        seen = f"{threads.cell.layout.concurrency} threads"
        seen += f" {speedup:.2f}x" if speedup is not None else ""
        parts.append(f"{GIL[verdict.gil]} ({seen})")
    return ", ".join(parts)


def _where(analysed: CellAnalysis, several: bool) -> str:
    cell = analysed.cell
    where = f"{cell.runner} with workers {workers_text(cell)}"
    return where + (f" on {cell.interpreter}" if several and cell.interpreter else "")


def _took(seconds: float) -> str:
    return duration(seconds) if seconds < 1 else f"{seconds:.3f} s"


def _fastest(verdict: OwnVerdict, best: CellAnalysis, several: bool) -> str:
    figures = best.figures
    assert figures is not None
    text = f"{_where(best, several)}: {best.cell.jobs} jobs in {_took(figures.jobs.median)}"
    quicker = verdict.faster_unstable
    if quicker is not None and quicker.figures is not None:
        took = _took(quicker.figures.jobs.median)
        note = f"; {_where(quicker, several)} took {took}, but its runs were not stable"
    else:
        note = ""
    if best is verdict.baseline:
        return text + " (no pool beat running the jobs one after another)" + caveat(best) + note
    if figures.speedup is not None and verdict.baseline is not None:
        text += f", {figures.speedup:.2f}x {verdict.baseline.cell.runner}"
        if figures.interval is not None:
            low, high = figures.interval.low, figures.interval.high
            text += f" (95% interval {low:.2f}-{high:.2f})"
    return text + caveat(best) + note


def _runner_up(best: CellAnalysis, second: CellAnalysis, several: bool) -> str:
    """What choosing the runner-up instead costs: time, and peak memory either way."""
    assert best.figures is not None
    assert second.figures is not None
    slower = second.figures.jobs.median / best.figures.jobs.median
    more = second.figures.jobs.median - best.figures.jobs.median
    text = f"{_where(second, several)}: {slower:.2f}x the time (+{_took(more)})"
    peak, best_peak = second.figures.peak_memory, best.figures.peak_memory
    if peak and best_peak:
        less = best_peak - peak
        text += f", {memory(abs(less))} {'less' if less >= 0 else 'more'} peak memory"
    return text + caveat(second)


def _break_even(best: CellAnalysis, found: BreakEven) -> str:
    """Whether the fastest pool's start-up paid for itself with this run's jobs, and from how
    many jobs it does."""
    start = f"{best.cell.runner} starts in {_took(found.startup)}"
    per_job = f"a job {_took(found.per_job)} there, {_took(found.baseline_per_job)} one at a time"
    if found.jobs is None:
        return f"{start}; {per_job}: it never pays for itself"
    pays = f"it pays for itself from {_jobs(found.jobs)} on"
    if found.pays_here:
        return f"{start}; {per_job}: {pays}"
    return f"{start}; {per_job}: with {_jobs(found.run_jobs)} it eats the gain; {pays}"


def _jobs(count: int) -> str:
    return f"{count:,} job" + "s" * (count != 1)


def render_own_verdict(analysis: Analysis, tablefmt: str, width: int | None = None) -> str:
    """The verdict on each user function of the run, a table each."""
    parts = []
    for verdict in own_verdicts(analysis):
        rows = own_rows(analysis, verdict)
        columns = [
            Column("which way?", [q for q, _ in rows], wrap=True),
            Column("this run's evidence", [e for _, e in rows], wrap=True),
        ]
        title = wrap_lines(f"the verdict on {verdict.task.name}:", width)
        parts.append(f"{title}\n{fit_table(columns, width, tablefmt)}")
    return "\n\n".join(parts)
