"""The tables ``python -m bench`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tabulate

from bench.overhead import REPEAT
from bench.side_by_side import median

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bench.goals import Judged
    from bench.overhead import Cost
    from bench.side_by_side import Comparison

RATIO_HEADERS = [
    "lab cell",
    "task",
    "workers",
    "jobs",
    "lab job s",
    "hand job s",
    "job ratio",
    "95% interval",
    "rounds",
    "wall ratio",
    "goal",
    "verdict",
]


def ratio_table(comparisons: list[Comparison], most: int, tablefmt: str) -> str:
    """The side-by-side table, then a line for each case whose interval stayed wider than its
    goal's margin."""
    rows = [_ratio_row(comparison) for comparison in comparisons]
    table = tabulate.tabulate(rows, RATIO_HEADERS, tablefmt=tablefmt, disable_numparse=True)
    named = [(f"{c.case.runner} {c.case.task}", c.judged()) for c in comparisons if not c.failure]
    return table + notes(named, most)


def notes(named: Iterable[tuple[str, Judged]], most: int) -> str:
    """A line for each named judgement whose interval is not narrower than its goal's margin,
    saying so; each line begins with a line break."""
    said = [f"{name}: {note}" for name, judged in named if (note := judged.note(most)) is not None]
    return "".join(f"\n{line}" for line in said)


def _ratio_row(comparison: Comparison) -> list[str]:
    case = comparison.case
    head = [case.runner, case.task, str(case.workers), str(case.jobs)]
    goal = str(case.goal)
    if comparison.failure is not None or not comparison.lab:
        return [*head, *[""] * 6, goal, f"error: {comparison.failure or 'not run'}"]
    judged = comparison.judged()
    interval = judged.interval
    return [
        *head,
        f"{median(comparison.lab, 'job_time'):.4f}",
        f"{median(comparison.hand, 'job_time'):.4f}",
        "" if interval is None else f"{interval.point:.3f}",
        judged.interval_text(),
        str(judged.rounds),
        f"{comparison.wall_ratio():.3f}",
        goal,
        judged.verdict.value,
    ]


def cost_table(costs: list[Cost], tablefmt: str) -> str:
    rows = [[cost.name, f"{cost.micros:.2f}", *_cost_verdict(cost), cost.how] for cost in costs]
    headers = ["bookkeeping", "µs per job", "goal", "verdict", "how"]
    return tabulate.tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True)


def _cost_verdict(cost: Cost) -> list[str]:
    if cost.goal is None:
        return ["", ""]
    return [f"<= {cost.goal:.2f}", "meets goal" if cost.meets_goal() else "misses goal"]


LEGEND = (
    "job s: median of the first job's start to the last job's end · wall s: median of handing"
    " the jobs over until all are back (pool start-up apart)\n"
    "each round runs the lab's cell and the hand-written one, one after the other (the order"
    " alternating) · job ratio: median of the rounds' lab / hand-written job times · 95%"
    " interval: its percentile bootstrap over the rounds · wall ratio: lab median / hand-written"
    " median\n"
    "rounds go on until the interval is narrower than the goal's margin (its distance from 1),"
    " or until that would take more rounds than the bench runs · verdict: the interval below"
    " the goal meets it, above it misses it; one that straddles it is no verdict"
)

COST_LEGEND = (
    f"µs per job: the fastest of {REPEAT} repeats, on a no-op job · the call (sync form) or the"
    " await (event loops, no CPU clock) falls inside a run's job time; the validation and the"
    " JSON round trip come after the run"
)
