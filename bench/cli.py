"""``python -m bench``: the lab's cells against hand-written equivalents, side by side;
``python -m bench report``: what ``lab report`` and ``lab compare`` cost per cell."""

from __future__ import annotations

import argparse
import sys
from time import perf_counter
from typing import TYPE_CHECKING

from bench import free_threading, report_cost
from bench.jobs import asyncio_sleep, countdown, same_code, sleep, warm_up
from bench.overhead import bookkeeping
from bench.report import COST_LEGEND, LEGEND, cost_table, ratio_table
from bench.side_by_side import Comparison, run_rounds
from bench.sides import Case
from lab.host.registry import load_catalog
from lab.machine.metadata import python_description, usable_cpus
from lab.run.rounds import Rounds

if TYPE_CHECKING:
    from lab.host.registry import Catalog

JOB_SECONDS = 0.2
PROBE_COUNT = 1_000_000
ASYNCIO_JOBS = 10_000
#: Waiting threads in one pool. At 10,000, a 2-core machine spends 20 s and more in the kernel
#: waking them (hand-written or not: `lab sweep` shows it), which says nothing about the lab.
THREAD_WAITERS = 1_000
START_METHOD = "spawn"
#: Lab / hand-written job time, at most: the lab's bookkeeping must not show in what it measures.
GOAL = 1.02
#: Rounds by default. One round of a cell varies by a few % on a 2-core machine (two countdowns
#: sharing the cores, 1,000 threads waking at once): within a 2 % goal, the median needs more
#: rounds than 5 to vary less than the goal's margin from one bench to the next.
ROUNDS = 9


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--rounds", type=_positive, default=ROUNDS, help=f"rounds (default: {ROUNDS})"
    )
    parser.add_argument(
        "--count", type=_positive, help=f"countdown size (default: {JOB_SECONDS} s a job here)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a run may take (default: 120)"
    )
    parser.add_argument("--tablefmt", default="simple", help="tabulate format (default: simple)")
    parser.add_argument(
        "--check", action="store_true", help="exit with 1 when a ratio misses its goal"
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _rounds(rounds: int) -> str:
    return "1 round" if rounds == 1 else f"{rounds} rounds"


def calibrated_count() -> int:
    """The countdown size at which one warm job takes ``JOB_SECONDS`` in this process."""
    warm_up()
    best = float("inf")
    for _ in range(3):
        start = perf_counter()
        countdown(PROBE_COUNT)
        best = min(best, perf_counter() - start)
    return round(PROBE_COUNT * JOB_SECONDS / best)


def cases(count: int) -> list[Case]:
    return [
        Case("processes", "cpu", workers=2, jobs=4, size=count, goal=GOAL),
        Case("threads", "cpu", workers=2, jobs=4, size=count, goal=GOAL),
        Case("single", "cpu", workers=1, jobs=4, size=count, goal=GOAL),
        Case("asyncio", "io", ASYNCIO_JOBS, ASYNCIO_JOBS, size=JOB_SECONDS, goal=GOAL),
        Case("uvloop", "io", ASYNCIO_JOBS, ASYNCIO_JOBS, size=JOB_SECONDS, goal=GOAL),
        Case("threads", "io", THREAD_WAITERS, THREAD_WAITERS, size=JOB_SECONDS, goal=GOAL),
    ]


def check_same_code(catalog: Catalog) -> None:
    """Both sides must run the same job functions: the lab's cpu and io tasks' are
    ``bench.jobs``'s."""
    pairs = [("cpu", "sync", countdown), ("io", "sync", sleep), ("io", "asyncio", asyncio_sleep)]
    for task, form, hand in pairs:
        if not same_code(catalog.tasks.get(task).forms.get(form, _missing), hand):
            name = f"bench.jobs.{hand.__name__}"
            raise SystemExit(f"bench: the lab's {task} task's {form} form is no longer {name}")


def _missing(_: object) -> None:
    """What a task's missing form compares with: no job function of bench's."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return report_cost.main(argv[1:])
    args = build_parser().parse_args(argv)
    count = args.count or calibrated_count()
    how = "" if args.count else f" (calibrated to {JOB_SECONDS} s a job)"
    print(
        f"bench · {usable_cpus()} usable CPUs · {python_description()} · start method"
        f" {START_METHOD} · count {count:,}{how} · {_rounds(args.rounds)}, median shown",
        flush=True,
    )
    catalog = load_catalog()[0]
    check_same_code(catalog)
    cpu = catalog.tasks.get("cpu")
    settings = Rounds(repeat=1, timeout=args.timeout, start_method=START_METHOD)
    comparisons = [Comparison(case) for case in cases(count)]
    run_rounds(comparisons, args.rounds, settings, catalog)
    print("\n" + ratio_table(comparisons, args.tablefmt))
    print("\n" + LEGEND)
    costs = bookkeeping(cpu)
    print("\n" + cost_table(costs, args.tablefmt))
    print("\n" + COST_LEGEND)
    missed = not all(comparison.meets_goal() for comparison in comparisons)
    missed = missed or not all(cost.meets_goal() for cost in costs)
    why_not = free_threading.skipped()
    if why_not is None:
        scaling = free_threading.measure(count, args.rounds, settings)
        print("\n" + free_threading.table(scaling, args.tablefmt))
        print("\n" + free_threading.LEGEND)
        missed = missed or not all(s.meets_goal() for s in scaling)
    else:
        print(f"\nthreads with and without the GIL: skipped, {why_not}")
    return 1 if args.check and missed else 0
