"""The ``lab sweep`` command: options checked, the sweep measured and saved like a matrix."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from lab.cli import matrix as matrix_command
from lab.report import outputs
from lab.report import sweep_table as sweep
from lab.report.text import render_header
from lab.results import metadata
from lab.results.model import Results, TaskInfo
from lab.run import rounds as matrix
from lab.run.lock import machine_lock

if TYPE_CHECKING:
    import argparse

    from lab.host.manager import PluginOptions
    from lab.host.registry import Catalog

DEFAULT_REPEAT = 3
DEFAULT_TIMEOUT = 300.0
DEFAULT_SLEEP = "0.2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sweep.add_arguments(parser)
    parser.add_argument("--repeat", default=str(DEFAULT_REPEAT), help="measured runs a level")
    parser.add_argument("--warmups", default="0", help="runs of each cell before measuring")
    parser.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="seconds one run may take")
    parser.add_argument(
        "--start-method",
        default=matrix_command.DEFAULT_START_METHOD,
        help="multiprocessing start method",
    )
    parser.add_argument("--tablefmt", default="simple", help="any tabulate format")
    matrix_command.add_output_arguments(parser)
    parser.add_argument("--save", metavar="DIR", help="also write the run and its plots in DIR")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace, catalog: Catalog, options: PluginOptions) -> int:
    """Check everything, then measure the sweep under the machine lock; the exit code."""
    task = catalog.tasks.get(args.task)
    runners = sweep.resolve_runners(args.runners, catalog)
    levels = sweep.parse_levels(args.levels)
    size_text = args.size or (DEFAULT_SLEEP if task.bound == "io" else str(task.size.default))
    size = task.size.parse(size_text, task=task.name, allow_large=args.allow_large)
    facts_cpus = metadata.usable_cpus()
    cells = sweep.plan(task, runners, levels, size, facts_cpus)
    sweep.check(cells, args.allow_large)
    matrix_command.check_tablefmt(args.tablefmt)
    settings = matrix.Settings(
        repeat=matrix_command.positive_int(args.repeat, "repeat"),
        warmups=matrix_command.positive_int(args.warmups, "warmups", minimum=0),
        timeout=matrix_command.positive_float(args.timeout, "timeout"),
        start_method=matrix_command.check_start_method(args.start_method),
        blocked=options.blocked,
        modules=options.modules,
        autoload=options.should_autoload(),
    )
    files = outputs.Outputs.from_args(args)
    with machine_lock():
        journal = files.journal()
        facts = metadata.collect(settings.start_method)
        results = Results(
            metadata=facts,
            settings={
                "kind": "sweep",
                "jobs": max(levels),
                "levels": levels,
                "warmups": settings.warmups,
                "repeat": settings.repeat,
                "timeout": settings.timeout,
                "start_method": settings.start_method,
            },
            tasks=[
                TaskInfo(
                    name=task.name,
                    description=task.description,
                    bound=task.bound,
                    size_name=task.size.name,
                    size=size,
                    size_text=task.size.format(size),
                )
            ],
            cells=cells,
            complete=False,
        )
        print(render_header(results), flush=True)
        for warning in metadata.warnings(facts):
            print(f"lab: warning: {warning}", file=sys.stderr)
        try:
            interrupted = matrix_command.measure_rounds(
                results, settings, {task.name: task}, journal, args.quiet
            )
        finally:
            if journal is not None:
                journal.close()
        print("\n" + sweep.render_sweep(results, args.tablefmt))
        if journal is not None:
            journal.finish(results)
        for line in files.write(results):
            print(line, file=sys.stderr)
    if interrupted:
        print("lab: interrupted; the tables show what was measured", file=sys.stderr)
        return matrix_command.EXIT_INTERRUPTED
    return matrix_command.EXIT_FAILED_CELLS if any(c.failure for c in cells) else 0
