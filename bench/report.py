"""The tables ``python -m bench`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tabulate

from bench.overhead import REPEAT
from bench.side_by_side import median

if TYPE_CHECKING:
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
    "round ratios",
    "lab wall s",
    "hand wall s",
    "wall ratio",
    "goal",
    "verdict",
]


def ratio_table(comparisons: list[Comparison], tablefmt: str) -> str:
    rows = [_ratio_row(comparison) for comparison in comparisons]
    return tabulate.tabulate(rows, RATIO_HEADERS, tablefmt=tablefmt, disable_numparse=True)


def _ratio_row(comparison: Comparison) -> list[str]:
    case = comparison.case
    head = [case.runner, case.task, str(case.workers), str(case.jobs)]
    goal = f"<= {case.goal:.2f}"
    if comparison.failure is not None or not comparison.lab:
        return [*head, *[""] * 7, goal, f"error: {comparison.failure or 'not run'}"]
    ratios = comparison.round_ratios()
    return [
        *head,
        f"{median(comparison.lab, 'job_time'):.4f}",
        f"{median(comparison.hand, 'job_time'):.4f}",
        f"{comparison.job_ratio():.3f}",
        f"{min(ratios):.3f}-{max(ratios):.3f}",
        f"{median(comparison.lab, 'wall'):.4f}",
        f"{median(comparison.hand, 'wall'):.4f}",
        f"{comparison.wall_ratio():.3f}",
        goal,
        "meets goal" if comparison.meets_goal() else "misses goal",
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
    "job ratio, wall ratio: lab median / hand-written median · round ratios: lowest and highest"
    " lab / hand-written job time of one round"
)

COST_LEGEND = (
    f"µs per job: the fastest of {REPEAT} repeats, on a no-op job · the call (sync form) or the"
    " await (event loops, no CPU clock) falls inside a run's job time; the validation and the"
    " JSON round trip come after the run"
)
