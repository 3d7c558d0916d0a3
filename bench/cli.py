"""``python -m bench``: the lab's cells against hand-written equivalents, side by side;
``python -m bench report``: what ``lab report`` and ``lab compare`` cost per cell;
``python -m bench waiters``: memory per waiter, the lab's asyncio cell of 1,000,000 sleeps
against a hand-written ``asyncio.gather`` of them; ``python -m bench html``: the HTML report's
size and the time a browser takes to draw it; ``python -m bench engines``: a distributed
engine's cost a job beyond a process pool, from its job records and from cells of different
job counts."""

from __future__ import annotations

import argparse
import sys
from time import perf_counter
from typing import TYPE_CHECKING

from bench import engines, free_threading, html, report_cost, waiters, warm
from bench.core import BenchError
from bench.goals import MIN_ROUNDS, Goal
from bench.jobs import asyncio_sleep, countdown, same_code, sleep, warm_up
from bench.overhead import bookkeeping
from bench.report import COST_LEGEND, LEGEND, cost_table, ratio_table
from bench.side_by_side import Comparison, run_rounds
from bench.sides import Case
from lab.errors import LabError
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
#: Lab / hand-written job time, at most: the lab's bookkeeping must not show in what it measures
#: (judged on the interval of the paired rounds' ratios: see bench.goals).
GOAL = Goal(1.02, 1.0)
#: The most rounds of each comparison. One round's ratio varies by several % on a 2-core
#: machine (two countdowns sharing the cores, 1,000 threads waking at once), more on a busy
#: one: rounds stop as soon as the interval is narrower than the goal's margin, or once it is
#: clear that this many would not make it so (bench.goals.Judged.settled).
ROUNDS = 15


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=ROUNDS,
        help=f"the most paired rounds of each comparison (default: {ROUNDS}; at least"
        f" {MIN_ROUNDS} are run when this allows)",
    )
    parser.add_argument(
        "--count", type=_positive, help=f"countdown size (default: {JOB_SECONDS} s a job here)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a run may take (default: 120)"
    )
    parser.add_argument("--tablefmt", default="simple", help="tabulate format (default: simple)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with 1 when a goal is missed (an interval on the wrong side of it), not when"
        " the machine was too busy for a verdict",
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
            raise BenchError(f"the lab's {task} task's {form} form is no longer {name}")


def _missing(_: object) -> None:
    """What a task's missing form compares with: no job function of bench's."""


def main(argv: list[str] | None = None) -> int:
    """Run the bench; a failure is one line on stderr and exit code 1, never a traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["report"]:
            return report_cost.main(argv[1:])
        if argv[:1] == ["waiters"]:
            return waiters.main(argv[1:])
        if argv[:1] == ["html"]:
            return html.main(argv[1:])
        if argv[:1] == ["engines"]:
            return engines.main(argv[1:])
        return run(build_parser().parse_args(argv))
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except (BenchError, LabError) as exc:
        print(f"bench: {_one_line(str(exc))}", file=sys.stderr)
    except Exception as exc:  # a bug of the bench's or the lab's: still one line
        print(f"bench: failed: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
    return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run(args: argparse.Namespace) -> int:
    count = args.count or calibrated_count()
    how = "" if args.count else f" (calibrated to {JOB_SECONDS} s a job)"
    print(
        f"bench · {usable_cpus()} usable CPUs · {python_description()} · start method"
        f" {START_METHOD} · count {count:,}{how} · paired rounds, {_rounds(args.rounds)} at most",
        flush=True,
    )
    catalog = load_catalog()[0]
    check_same_code(catalog)
    cpu = catalog.tasks.get("cpu")
    settings = Rounds(repeat=1, timeout=args.timeout, start_method=START_METHOD)
    comparisons = [Comparison(case) for case in cases(count)]
    run_rounds(comparisons, args.rounds, settings, catalog)
    print("\n" + ratio_table(comparisons, args.rounds, args.tablefmt))
    print("\n" + LEGEND)
    costs = bookkeeping(cpu)
    print("\n" + cost_table(costs, args.tablefmt))
    print("\n" + COST_LEGEND)
    warmth = warm.measure(args.rounds, settings, catalog)
    print("\n" + warm.table(warmth, args.rounds, args.tablefmt))
    print("\n" + warm.LEGEND, flush=True)
    missed = any(comparison.missed() for comparison in comparisons)
    missed = missed or not all(cost.meets_goal() for cost in costs)
    missed = missed or any(w.missed() for w in warmth)
    why_not = free_threading.skipped()
    if why_not is None:
        scaling = free_threading.measure(count, args.rounds, settings)
        print("\n" + free_threading.table(scaling, args.rounds, args.tablefmt))
        print("\n" + free_threading.LEGEND)
        missed = missed or any(s.missed() for s in scaling)
    else:
        print(f"\nthreads with and without the GIL: skipped, {why_not}")
    return 1 if args.check and missed else 0
