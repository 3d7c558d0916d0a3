"""``python -m bench waiters``: memory per waiting asyncio task, the lab's cell against a
hand-written ``asyncio.gather`` of the same sleeps, side by side.

Each round runs, each in a fresh process and one after the other, the lab's asyncio cell of the
``io`` task (``lab sweep``'s cell: its worker process, its jobs, its records) and a hand-written
``asyncio.gather`` of as many ``asyncio.sleep(SIZE)``, at the low and at the high count. The
peak memory of each process tree is sampled from outside the same way for both (PSS on Linux,
every 0.1 s: :func:`lab.machine.process_tree.memory_by_process`); memory per waiter is the
rise from the low count to the high one over the waiters added, so what a process holds before
its first waiter (the interpreter, the lab's plugins) cancels out. The lab's side also says the
bytes its worker held for the jobs' records (in its peak, so in its figure). The goal: the
lab's figure within :data:`GOAL` of the hand-written one, judged on the interval of the rounds'
ratios (:mod:`bench.goals`). The published reference is about 0.75 KB a sleeping asyncio task
on CPython 3.11-3.13 (729-753 MB for 1,000,000).

``python -m bench.waiters hand COUNT SIZE`` is the hand-written side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import psutil
import tabulate

from bench.core import BenchError
from bench.goals import MIN_ROUNDS, Goal, Judged, run_rounds
from bench.subprocesses import ROOT
from lab.boundary.requests import WorkerOptions
from lab.host.registry import load_catalog
from lab.machine.metadata import python_description, usable_cpus
from lab.machine.process_tree import memory_by_process, memory_metric, tree
from lab.run import validate
from lab.run.rounds import Rounds
from lab.run.supervisor import SAMPLE_INTERVAL, run_cell
from lab.runner import Workers

#: Waiters at the high count and at the low one (from which the rise is counted).
HIGH = 1_000_000
LOW = 1_000
SECONDS = 0.2
#: Lab / hand-written memory per waiter, at most.
GOAL = Goal(1.5, 1.0)
ROUNDS = 3
TIMEOUT = 1200.0
RUNNER = "asyncio"
TASK = "io"
KIB = 1024


@dataclass
class Side:
    """Peaks of one side at the low and the high count, a pair a round."""

    name: str
    low: list[int] = field(default_factory=list)
    high: list[int] = field(default_factory=list)
    #: The lab's side: the bytes its worker held for the records, at the high count.
    records: list[int] = field(default_factory=list)

    def per_waiter(self, round_number: int, waiters: int) -> float:
        return (self.high[round_number] - self.low[round_number]) / waiters


@dataclass
class Waiters:
    """The lab's cell and the hand-written gather, round after round: a
    :class:`bench.goals.Paired`."""

    high: int
    low: int
    size: float
    timeout: float
    lab: Side = field(default_factory=lambda: Side("lab asyncio cell"))
    hand: Side = field(default_factory=lambda: Side("hand-written gather"))
    failure: str | None = None

    @property
    def added(self) -> int:
        return self.high - self.low

    def ratios(self) -> tuple[float, ...]:
        rounds = min(len(self.lab.high), len(self.hand.high))
        return tuple(
            self.lab.per_waiter(n, self.added) / self.hand.per_waiter(n, self.added)
            for n in range(rounds)
        )

    def judged(self) -> Judged:
        return Judged(GOAL, self.ratios())

    def one_round(self, number: int) -> None:
        print(
            f"  round {number + 1}: lab and hand-written, {self.low:,} then {self.high:,}",
            flush=True,
        )
        try:
            for count, lab_peaks, hand_peaks in (
                (self.low, self.lab.low, self.hand.low),
                (self.high, self.lab.high, self.hand.high),
            ):
                peak, records = lab_cell(count, self.size, self.timeout)
                lab_peaks.append(peak)
                if count == self.high:
                    self.lab.records.append(records)
                hand_peaks.append(hand_gather(count, self.size, self.timeout))
        except BenchError as exc:
            self.failure = str(exc)


def lab_cell(count: int, size: float, timeout: float) -> tuple[int, int]:
    """The peak memory of the lab's asyncio cell of ``count`` sleeps, its records checked as
    the lab checks them, and the bytes its worker held for the records."""
    catalog = load_catalog()[0]
    task, runner = catalog.tasks.get(TASK), catalog.runners.get(RUNNER)
    rounds = Rounds(repeat=1, timeout=timeout, start_method="spawn", worker=WorkerOptions())
    outcome = run_cell(rounds.spec(TASK, RUNNER, str(count), count, size), timeout)
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None:
        raise BenchError(f"the lab's cell of {count:,} failed: {outcome.failure}")
    if measurement.error is not None:
        raise BenchError(f"the lab's cell of {count:,} failed: {measurement.error}")
    layout = runner.layout(Workers(count))
    found = validate.problems(measurement, count, layout, task, size, uses_layout=False)
    if found:
        raise BenchError(f"the lab's cell of {count:,}: {validate.summary(found)}")
    return outcome.peak_memory, measurement.records_memory or 0


def hand_gather(count: int, size: float, timeout: float) -> int:
    """The peak memory of a fresh process that gathers ``count`` ``asyncio.sleep(size)``,
    sampled as the lab samples a cell's."""
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", "bench.waiters", "hand", str(count), repr(size)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    peak = 0
    deadline = time.monotonic() + timeout
    try:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the hand-written gather of {count:,} timed out after {timeout:g} s"
                )
            with contextlib.suppress(psutil.Error):
                peak = max(peak, sum(memory_by_process(tree(root)).values()))
            time.sleep(SAMPLE_INTERVAL)
    except psutil.NoSuchProcess:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        why = lines[-1] if lines else f"exit code {process.returncode}"
        raise BenchError(f"the hand-written gather of {count:,} failed: {why}")
    if json.loads(out).get("waiters") != count:
        raise BenchError(f"the hand-written gather of {count:,} did not say it ran them all")
    return peak


def kib(size: float) -> str:
    return f"{size / KIB:.2f} KiB"


def table(run: Waiters, most: int, tablefmt: str) -> str:
    """Memory per waiter on both sides, median of the rounds, and the ratio against the goal."""
    judged = run.judged()
    rounds = len(judged.ratios)
    lab = sorted(run.lab.per_waiter(n, run.added) for n in range(rounds))
    hand = sorted(run.hand.per_waiter(n, run.added) for n in range(rounds))
    records = sorted(r / run.high for r in run.lab.records[:rounds])
    interval = judged.interval
    ratio = (
        f"{interval.point:.2f} ({judged.interval_text()})"
        if interval
        else f"{judged.ratios[0]:.2f}"
    )
    rows = [
        [run.lab.name, kib(_median(lab)), f"{_median(records):.0f} B"],
        [run.hand.name, kib(_median(hand)), ""],
    ]
    shown = tabulate.tabulate(
        rows, ["side", "memory per waiter", "records per waiter"], tablefmt=tablefmt
    )
    note = judged.note(most)
    return f"{shown}\n\nlab / hand-written: {ratio}, goal {GOAL}: {judged.verdict.value}" + (
        f"\n{note}" if note else ""
    )


def _median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


LEGEND = """\
memory per waiter: the rise of the process tree's peak memory from {low:,} to {high:,} sleeping
tasks, over the {added:,} added, median of the rounds (each count in a fresh process, sampled
from outside every 0.1 s) · records per waiter: the bytes the lab's worker held for each job's
record and call count, inside its figure · lab / hand-written: the median of the rounds' ratios
and its 95 % interval · reference: about 0.75 KB a sleeping asyncio task on CPython 3.11-3.13"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench waiters", description=__doc__)
    parser.add_argument(
        "--jobs", type=int, default=HIGH, help=f"waiters at the high count (default: {HIGH:,})"
    )
    parser.add_argument(
        "--low", type=int, default=LOW, help=f"waiters at the low count (default: {LOW:,})"
    )
    parser.add_argument(
        "--size", type=float, default=SECONDS, help=f"seconds each sleeps (default: {SECONDS})"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"the most paired rounds (default: {ROUNDS})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        help=f"seconds a run may take (default: {TIMEOUT:g})",
    )
    parser.add_argument("--tablefmt", default="simple", help="tabulate format (default: simple)")
    parser.add_argument("--check", action="store_true", help="exit with 1 when the goal is missed")
    return parser


def main(argv: list[str]) -> int:
    """The bench's waiters section; a failure raises :class:`BenchError` (one line)."""
    args = build_parser().parse_args(argv)
    if not 1 <= args.low < args.jobs:
        raise BenchError(f"--low must be at least 1 and below --jobs, not {args.low:,}")
    if args.rounds < 1 or args.size <= 0:
        raise BenchError("--rounds must be at least 1 and --size above 0")
    print(
        f"bench waiters · {usable_cpus()} usable CPUs · {python_description()} · {memory_metric()}"
        f" · {args.jobs:,} asyncio.sleep({args.size:g}) against {args.low:,} · paired rounds,"
        f" {args.rounds} at most (at least {min(MIN_ROUNDS, args.rounds)} unless settled)",
        flush=True,
    )
    run = Waiters(args.jobs, args.low, args.size, args.timeout)
    run_rounds([run], args.rounds, Waiters.one_round)
    if run.failure is not None:
        raise BenchError(run.failure)
    print("\n" + table(run, args.rounds, args.tablefmt))
    print("\n" + LEGEND.format(low=run.low, high=run.high, added=run.added), flush=True)
    return 1 if args.check and run.judged().verdict.name == "MISSES" else 0


async def _gather(count: int, size: float) -> int:
    return len(await asyncio.gather(*(asyncio.sleep(size) for _ in range(count))))


def hand(count: int, size: float) -> None:
    """The hand-written side: ``count`` sleeps gathered on asyncio's loop, as one writes it;
    like a cell's worker, what the process holds before is frozen out of the collector's way."""
    gc.freeze()
    print(json.dumps({"waiters": asyncio.run(_gather(count, size))}))


if __name__ == "__main__":
    if sys.argv[1:2] != ["hand"]:
        sys.exit("usage: python -m bench.waiters hand COUNT SIZE")
    hand(int(sys.argv[2]), float(sys.argv[3]))
