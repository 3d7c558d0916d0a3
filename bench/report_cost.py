"""``python -m bench report``: what ``lab report`` and ``lab compare`` cost per cell, on results
files of 1,000, 10,000 and 100,000 cells (:mod:`bench.cells`), each command in a fresh process
(:mod:`bench.report_child`): its seconds, µs a cell and peak memory, against the goals. The
analysis indexes the cells once, so 10x the cells may cost at most 12x the time; 100,000 cells
are reported in 10 s and 1 GiB at most. The goals judge the command's CPU time: on a machine
shared with other work, the wall time stretches with the others' share of the CPUs."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tabulate

from bench.core import BenchError
from bench.subprocesses import run_module
from lab.machine.metadata import python_description, usable_cpus

SIZES = (1_000, 10_000, 100_000)
#: From one size to the next, the time may grow at most this much more than the cells.
STEP_GOAL = 1.2
#: ``lab report`` of this many cells takes at most these seconds and this peak memory.
GOAL_CELLS = 100_000
GOAL_SECONDS = 10.0
GOAL_BYTES = 2**30
#: ``lab compare`` compares a run with another of the same size, measured again (another seed).
OTHER_SEED = 2
COMMANDS = ("report", "compare")
#: Runs of each command on each size: the one of least CPU time is shown, the others having
#: shared the CPUs with more of the machine's other work.
RUNS = 3
#: Seconds a results file may take to be made (the lab writes 100,000 cells in a minute or two).
MAKING_TIMEOUT = 3600.0
MIB = 2**20


@dataclass(frozen=True)
class Cost:
    """One command on one size: its wall and CPU seconds and peak bytes, or why it has none."""

    command: str
    cells: int
    file_bytes: int
    wall: float = 0.0
    seconds: float = 0.0
    peak: int = 0
    failure: str | None = None

    @property
    def micros(self) -> float:
        """CPU µs a cell."""
        return self.seconds * 1e6 / self.cells


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench report", description=__doc__)
    parser.add_argument(
        "--cells",
        type=_sizes,
        default=SIZES,
        help=f"comma-separated sizes (default: {','.join(map(str, SIZES))})",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a command may take (default: 120)"
    )
    parser.add_argument(
        "--runs",
        type=_runs,
        default=RUNS,
        help=f"runs of each command, the least CPU time shown (default: {RUNS})",
    )
    parser.add_argument("--keep", type=Path, help="write the files to this folder and keep them")
    parser.add_argument("--tablefmt", default="simple", help="tabulate format (default: simple)")
    parser.add_argument(
        "--check", action="store_true", help="exit with 1 when a figure misses its goal"
    )
    return parser


def _runs(text: str) -> int:
    found = _sizes(text)
    if len(found) != 1:
        raise argparse.ArgumentTypeError(f"one whole number, not {text}")
    return found[0]


def _sizes(text: str) -> tuple[int, ...]:
    try:
        found = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not whole numbers: {text}") from None
    if not found or found[0] < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return found


def results_file(folder: Path, cells: int, seed: int = 1) -> Path:
    """A results file of ``cells`` cells in ``folder``, written by :mod:`bench.cells` in a
    process of its own, once (the same arguments make the same file)."""
    path = folder / f"cells-{cells}-{seed}.json"
    if not path.exists():
        run_module("bench.cells", [str(cells), str(seed), str(path)], MAKING_TIMEOUT)
    return path


def least(command: str, files: list[Path], cells: int, timeout: float, runs: int) -> Cost:
    """The run of least CPU time of ``runs`` runs of ``lab COMMAND FILES`` (the first that
    failed, if one did)."""
    found = []
    for _ in range(runs):
        cost = measure(command, files, cells, timeout)
        if cost.failure is not None:
            return cost
        found.append(cost)
    return min(found, key=lambda c: c.seconds)


def measure(command: str, files: list[Path], cells: int, timeout: float) -> Cost:
    """``lab COMMAND FILES`` in a fresh process."""
    size = sum(f.stat().st_size for f in files)
    try:
        found = run_module("bench.report_child", [command, *map(str, files)], timeout)
    except BenchError as exc:
        return Cost(command, cells, size, failure=str(exc))
    if command == "report" and found["exit"] != 0:
        return Cost(command, cells, size, failure=f"exit code {found['exit']}")
    wall, cpu, peak = float(found["seconds"]), float(found["cpu_seconds"]), int(found["peak_bytes"])
    return Cost(command, cells, size, wall, cpu, peak)


@dataclass(frozen=True)
class Judged:
    """A cost, the cost of the same command on the size before it, and the goals it misses."""

    cost: Cost
    before: Cost | None
    misses: tuple[str, ...]


def judge(costs: list[Cost]) -> list[Judged]:
    """Each cost against its goals: its step from the size before (``costs`` are in order of
    command, then size), and for ``lab report`` of :data:`GOAL_CELLS` cells, time and memory."""
    found = []
    for number, cost in enumerate(costs):
        before = costs[number - 1] if number and costs[number - 1].command == cost.command else None
        missed = [] if cost.failure is None else [cost.failure]
        if (
            before is not None
            and not (cost.failure or before.failure)
            and cost.seconds > before.seconds * step_goal(cost, before)
        ):
            missed.append("not linear")
        if cost.failure is None and cost.command == "report" and cost.cells == GOAL_CELLS:
            if cost.seconds > GOAL_SECONDS:
                missed.append(f"over {GOAL_SECONDS:g} s")
            if cost.peak > GOAL_BYTES:
                missed.append(f"over {GOAL_BYTES // MIB:,} MiB")
        found.append(Judged(cost, before, tuple(missed)))
    return found


def step_goal(cost: Cost, before: Cost) -> float:
    """The most ``cost``'s time may be, as a multiple of the time of the size ``before``."""
    return STEP_GOAL * cost.cells / before.cells


def row(judged: Judged) -> list[str]:
    cost, before = judged.cost, judged.before
    step = ""
    if before is not None and not (cost.failure or before.failure):
        step = f"{cost.seconds / before.seconds:.1f}x (<= {step_goal(cost, before):.0f}x)"
    measured = cost.failure is None
    return [
        f"lab {cost.command}",
        f"{cost.cells:,}",
        f"{cost.file_bytes / MIB:,.0f}",
        f"{cost.wall:.2f}" if measured else "",
        f"{cost.seconds:.2f}" if measured else "",
        f"{cost.micros:.0f}" if measured else "",
        f"{cost.peak / MIB:,.0f}" if measured else "",
        step,
        "misses goal: " + ", ".join(judged.misses) if judged.misses else "meets goal",
    ]


HEADERS = [
    "command",
    "cells",
    "file MiB",
    "wall s",
    "CPU s",
    "CPU µs a cell",
    "peak MiB",
    "CPU step",
    "verdict",
]


def legend(runs: int) -> str:
    return (
        "wall s, CPU s: the command in a fresh process, the interpreter's start and imports"
        f" apart; of {runs} run{'s' * (runs > 1)}, the one of least CPU time, which the goals"
        " judge · peak: the process's peak resident memory · CPU step: the CPU time against the"
        f" size before (goal: at most {STEP_GOAL:g}x the cells' step) · lab report of"
        f" {GOAL_CELLS:,} cells: at most {GOAL_SECONDS:g} s and {GOAL_BYTES // MIB:,} MiB · lab"
        " compare: two runs of the size"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(
        f"bench report · {usable_cpus()} usable CPUs · {python_description()} · cells"
        f" {', '.join(f'{n:,}' for n in args.cells)} · timeout {args.timeout:g} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        costs = []
        for command in COMMANDS:
            for cells in args.cells:
                files = [results_file(folder, cells)]
                if command == "compare":
                    files.append(results_file(folder, cells, OTHER_SEED))
                costs.append(least(command, files, cells, args.timeout, args.runs))
                print(f"  lab {command} {cells:,} cells: done", flush=True)
    judged = judge(costs)
    table = [row(j) for j in judged]
    print("\n" + tabulate.tabulate(table, HEADERS, args.tablefmt, disable_numparse=True))
    print("\n" + legend(args.runs))
    return 1 if args.check and any(j.misses for j in judged) else 0
