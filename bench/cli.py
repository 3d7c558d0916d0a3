"""``python -m bench``: the lab's cells against hand-written equivalents, side by side."""

from __future__ import annotations

import argparse
from time import perf_counter

from bench import free_threading
from bench.compare import Comparison, run_rounds
from bench.jobs import countdown, same_code, warm_up
from bench.overhead import bookkeeping
from bench.report import COST_LEGEND, LEGEND, cost_table, ratio_table
from bench.sides import Case
from lab.host.registry import load_catalog
from lab.results.metadata import python_description, usable_cpus
from lab.run.rounds import Settings

JOB_SECONDS = 0.2
PROBE_COUNT = 1_000_000
ASYNCIO_JOBS = 10_000
#: Waiting threads in one pool. At 10,000, a 2-core machine spends 20 s and more in the kernel
#: waking them (hand-written or not: `lab sweep` shows it), which says nothing about the lab.
THREAD_WAITERS = 1_000
START_METHOD = "spawn"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=_positive, default=5, help="rounds (default: 5)")
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
        Case("processes", "cpu", workers=2, jobs=4, size=count, goal=1.05),
        Case("threads", "cpu", workers=2, jobs=4, size=count, goal=1.05),
        Case("single", "cpu", workers=1, jobs=4, size=count, goal=1.05),
        Case("asyncio", "io", ASYNCIO_JOBS, ASYNCIO_JOBS, size=JOB_SECONDS, goal=1.10),
        Case("uvloop", "io", ASYNCIO_JOBS, ASYNCIO_JOBS, size=JOB_SECONDS, goal=1.10),
        Case("threads", "io", THREAD_WAITERS, THREAD_WAITERS, size=JOB_SECONDS, goal=1.10),
    ]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    count = args.count or calibrated_count()
    how = "" if args.count else f" (calibrated to {JOB_SECONDS} s a job)"
    print(
        f"bench · {usable_cpus()} usable CPUs · {python_description()} · start method"
        f" {START_METHOD} · count {count:,}{how} · {_rounds(args.rounds)}, median shown",
        flush=True,
    )
    catalog = load_catalog()[0]
    cpu = catalog.tasks.get("cpu")
    if not same_code(cpu.forms["sync"], countdown):
        raise SystemExit("bench: the lab's cpu task is no longer bench.jobs.countdown")
    settings = Settings(repeat=1, timeout=args.timeout, start_method=START_METHOD)
    comparisons = [Comparison(case) for case in cases(count)]
    run_rounds(comparisons, args.rounds, settings, catalog)
    print("\n" + ratio_table(comparisons, args.tablefmt))
    print("\n" + LEGEND)
    print("\n" + cost_table(bookkeeping(cpu), args.tablefmt))
    print("\n" + COST_LEGEND)
    missed = not all(comparison.meets_goal() for comparison in comparisons)
    why_not = free_threading.skipped()
    if why_not is None:
        scaling = free_threading.measure(count, args.rounds, settings)
        print("\n" + free_threading.table(scaling, args.tablefmt))
        print("\n" + free_threading.LEGEND)
        missed = missed or not all(s.meets_goal() for s in scaling)
    else:
        print(f"\nthreads with and without the GIL: skipped, {why_not}")
    return 1 if args.check and missed else 0
