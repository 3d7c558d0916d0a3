"""``lab sweep``: the options checked, the sweep measured and reported like a matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.boundary.requests import WorkerOptions
from lab.cli import options, pythons, session
from lab.errors import UsageError
from lab.machine import metadata
from lab.plan import limits, sweep
from lab.report.output_files import Outputs
from lab.run.rounds import Rounds

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from lab.host.manager import PluginSelection
    from lab.host.registry import Catalog
    from lab.machine.metadata import Metadata
    from lab.results.model import Results
    from lab.task import Task

DEFAULT_TASK = "io"
DEFAULT_REPEAT = 3
DEFAULT_WARMUPS = 0
DEFAULT_TIMEOUT = 300.0
#: Waiters the default timeout is for: a higher level's run may take as much longer (anyio on
#: trio took 16 s for the jobs of 100,000 here, and more than 10 times that for 1,000,000).
TIMEOUT_LEVEL = 100_000
#: The sweep's default size for a task sized in seconds: long enough to time, short enough
#: for 10,000 waiters.
DEFAULT_SECONDS = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    levels = ",".join(str(level) for level in sweep.DEFAULT_LEVELS)
    parser.add_argument(
        "--task", default=DEFAULT_TASK, help=f"the IO task to sweep (default: {DEFAULT_TASK})"
    )
    parser.add_argument(
        "--levels",
        help=f"concurrency levels (default: {levels}, up to the task's limit if it has one)",
    )
    parser.add_argument(
        "--runners",
        help="comma-separated runner names (default: every event-loop, threads and"
        " processes-threads runner)",
    )
    parser.add_argument(
        "--size", help=f"the task's size (default: {DEFAULT_SECONDS:g} s for one in seconds)"
    )
    parser.add_argument("--allow-large", action="store_true", help="go past the soft limits")
    parser.add_argument(
        "--repeat",
        default=str(DEFAULT_REPEAT),
        help=f"measured runs a level (default: {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--warmups",
        default=str(DEFAULT_WARMUPS),
        help=f"runs of each cell before measuring (default: {DEFAULT_WARMUPS})",
    )
    parser.add_argument(
        "--timeout",
        help=f"seconds one run may take (default: {DEFAULT_TIMEOUT:g}, and as much again for"
        f" each {TIMEOUT_LEVEL:,} jobs of a level above {TIMEOUT_LEVEL:,})",
    )
    options.add_measuring_arguments(parser)
    options.add_saving_arguments(parser, "also write the run and its plots in DIR")


def default_timeout(levels: list[int]) -> float:
    """Seconds one run may take unless ``--timeout`` says: :data:`DEFAULT_TIMEOUT`, in
    proportion above :data:`TIMEOUT_LEVEL` jobs at once (3,000 s for 1,000,000)."""
    return DEFAULT_TIMEOUT * max(1.0, max(levels) / TIMEOUT_LEVEL)


def run(args: argparse.Namespace, catalog: Catalog, plugins: PluginSelection) -> int:
    """Check everything, then measure the sweep; the exit code."""
    task = catalog.tasks.get(args.task)
    if task.bound != "io" and not task.sockets_per_job and not args.allow_large:
        raise UsageError(
            f"lab sweep measures IO: waits or sockets, up to {max(sweep.DEFAULT_LEVELS):,} jobs"
            f" at once; task {task.name!r} is {task.bound}-bound: pass --allow-large to run it"
            " anyway"
        )
    names = options.names(args.runners, sweep.default_runners(catalog), "--runners")
    runners = [catalog.runners.get(name) for name in names]
    cpus = metadata.usable_cpus()
    levels = sweep.levels_for(task, args.levels, cpus, args.allow_large)
    size_text = args.size
    if size_text is None:
        size_text = str(DEFAULT_SECONDS if task.size.name == "seconds" else task.size.default)
    size = options.size(task, size_text, "--size", args.allow_large)
    outputs = Outputs.from_args(args)
    tablefmt = options.check_tablefmt(args.tablefmt)
    start_method = options.check_start_method(args.start_method)
    repeat = options.positive_int(args.repeat, "--repeat")
    warmups = options.positive_int(args.warmups, "--warmups", minimum=0)
    limits.check_rounds(warmups, repeat)
    timeout = (
        default_timeout(levels)
        if args.timeout is None
        else options.positive_float(args.timeout, "--timeout")
    )
    runner_options = options.runner_options(args.runner_option, runners)
    task_options, (task,) = options.task_options(args.task_option, [task])
    planned = sweep.SweepPlan(task, runners, levels, size, cpus, args.allow_large)
    planned.check()
    rounds = Rounds(
        repeat=repeat,
        timeout=timeout,
        start_method=start_method,
        warmups=warmups,
        worker=WorkerOptions.of_lab(plugins, runner_options, task_options),
        interpreters=pythons.resolve(args.python, args.quiet),
        uses_layout=False,
    )
    command = session.MeasuringCommand(rounds, outputs, tablefmt, args.quiet, args.wide)

    def plan(facts: Metadata) -> tuple[Results, Mapping[str, Task]]:
        return planned.results(facts, rounds), {task.name: task}

    return session.measure(command, plan)
