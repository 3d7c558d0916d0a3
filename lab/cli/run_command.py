"""``lab run MODULE:FUNCTION [ARG...]``: a user's own function measured on every runner that
can run it, with the lab's verdict on it. Its options are checked, the kind of work it is
measured (a few calls in a worker process), then the matrix runs as ``lab matrix`` does."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from lab.boundary.requests import WorkerOptions
from lab.cli import options, pythons, session
from lab.errors import UsageError
from lab.machine import metadata
from lab.own import reference
from lab.own.task import (
    check_arguments,
    is_coroutine_function,
    own_items,
    own_options,
    own_task,
)
from lab.plan.matrix import MatrixPlan, default_runners, with_baseline
from lab.plan.profiles import DEFAULT_PROFILE, PROFILES
from lab.plan.sizes import Sizing
from lab.report.fit import terminal_width, wrap_lines
from lab.report.output_files import Outputs
from lab.run.rounds import Rounds
from lab.run.work_kind import measure_work

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from lab.host.manager import PluginSelection
    from lab.host.registry import Catalog
    from lab.machine.metadata import Metadata
    from lab.results.model import Results
    from lab.task import Task

#: Measured runs of each cell, by default.
DEFAULT_REPEAT = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lab run``."""
    parser.add_argument(
        "function", metavar="MODULE:FUNCTION", help="PKG.MODULE:FUNC or path/to/script.py:FUNC"
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="ARG",
        help="the function's arguments, each a Python literal (3, 2.5, [1, 2], 'text') or a"
        " plain word taken as a string",
    )
    parser.add_argument(
        "--kw", action="append", default=[], metavar="NAME=VALUE", help="a keyword argument"
    )
    parser.add_argument(
        "--async",
        dest="async_twin",
        metavar="MODULE:AFUNC",
        help="the function's async twin (an async def taking the same arguments), for the"
        " event-loop runners",
    )
    items = parser.add_mutually_exclusive_group()
    items.add_argument(
        "--items",
        metavar="MODULE:NAME",
        help="one job per item of this iterable (or function making one): the item is the"
        " call's first argument, before ARGs",
    )
    items.add_argument(
        "--items-file",
        metavar="FILE.jsonl",
        help="one job per line of this JSON Lines file, each value the call's first argument",
    )
    parser.add_argument("--runners", help="comma-separated runner names (default: every runner)")
    parser.add_argument(
        "--workers", help="comma-separated worker settings: N or PxT (default: 1 and the CPUs)"
    )
    parser.add_argument(
        "--jobs", help="calls a cell (default: one per item, else 2 x the largest workers)"
    )
    parser.add_argument("--repeat", help=f"measured runs of each cell (default: {DEFAULT_REPEAT})")
    parser.add_argument(
        "--timeout",
        help="seconds one run of a cell may take before it is killed"
        f" (default: {PROFILES[DEFAULT_PROFILE].timeout:g})",
    )
    options.add_measuring_arguments(parser)
    parser.add_argument("--allow-large", action="store_true", help="go past the soft limits")
    options.add_saving_arguments(parser, "also write the run as JSON, and its plots, in DIR")


def run(args: argparse.Namespace, catalog: Catalog, plugins: PluginSelection) -> int:
    """Check every option, measure what kind of work the function does, then measure it on
    every runner and report it; the exit code."""
    if os.getcwd() not in sys.path:  # as ``python -m`` does: the user's modules are here
        sys.path.insert(0, os.getcwd())
    function = reference.parse(args.function, "lab run")
    found = reference.check(function, args.function, "lab run")
    if args.async_twin is not None:
        if is_coroutine_function(found):
            raise UsageError(
                f"lab run {args.function!r} is an async def: with --async, name its plain twin"
            )
        twin = reference.check(reference.parse(args.async_twin, "--async"), args.async_twin)
        if not is_coroutine_function(twin):
            raise UsageError(f"--async {args.async_twin!r} is not an async def function")
    profile = PROFILES[DEFAULT_PROFILE]
    cpus = metadata.usable_cpus()
    runners = with_baseline(
        options.names(args.runners, list(profile.runners or default_runners(catalog)), "--runners"),
        catalog,
    )
    settings = options.names(args.workers, ["1", str(cpus)], "--workers")
    workers = [options.workers(w) for w in settings]
    given = own_options(
        args.function, args.args, args.kw, args.async_twin, args.items, args.items_file
    )
    task = own_task(args.function, given)
    check_arguments(found, task, args.function)
    jobs = options.positive_int(args.jobs, "--jobs") if args.jobs is not None else None
    jobs = jobs or len(own_items(given)) or 2 * max(w.total for w in workers)
    repeat = options.positive_int(args.repeat, "--repeat") if args.repeat else DEFAULT_REPEAT
    timeout = profile.timeout
    if args.timeout is not None:
        timeout = options.positive_float(args.timeout, "--timeout")
    tablefmt = options.check_tablefmt(args.tablefmt)
    start_method = options.check_start_method(args.start_method)
    if args.task_option:
        raise UsageError("lab run takes the function's arguments, not --task-option")
    runner_options = options.runner_options(args.runner_option, runners)
    outputs = Outputs.from_args(args)
    rounds = Rounds(
        repeat=repeat,
        timeout=timeout,
        start_method=start_method,
        warmups=0,
        worker=WorkerOptions.of_lab(plugins, runner_options, {task.name: given}),
        interpreters=pythons.resolve(args.python, args.quiet),
    )
    MatrixPlan([task], runners, workers, jobs, Sizing(1.0)).check(cpus, args.allow_large)
    command = session.MeasuringCommand(rounds, outputs, tablefmt, args.quiet, args.wide)

    def plan(facts: Metadata) -> tuple[Results, Mapping[str, Task]]:
        kind = measure_work(task, rounds)
        if not args.quiet:
            print(wrap_lines(kind.summary(function.short), terminal_width()), flush=True)
        work = own_task(args.function, given, kind.bound, kind.summary())
        matrix = MatrixPlan([work], runners, workers, jobs, Sizing(1.0, {work.name: 1}))
        return matrix.results(facts, rounds, args.quiet), {work.name: work}

    return session.measure(command, plan)
