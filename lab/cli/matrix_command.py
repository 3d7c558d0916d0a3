"""``lab matrix``: its options parsed and checked into a planned matrix, then measured and
reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.boundary.requests import WorkerOptions
from lab.cli import options, pythons, session
from lab.errors import UsageError
from lab.machine import metadata
from lab.plan import limits
from lab.plan.matrix import MatrixPlan, default_runners, with_baseline
from lab.plan.profiles import DEFAULT_PROFILE, PRESETS, PROFILES, Profile, get_profile
from lab.plan.sizes import Sizing
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

DEFAULT_JOB_TIME = 0.2
#: What ``--count`` and ``--sleep`` set: the size of every chosen task whose size has this name.
COUNT = "count"
SECONDS = "seconds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lab matrix``."""
    default = PROFILES[DEFAULT_PROFILE]
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="; ".join(f"{p.name}: {p.summary()}" for p in PROFILES.values())
        + f" (default: {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--tasks",
        help="comma-separated task names (default: "
        + (", ".join(default.tasks) if default.tasks else "every task")
        + ")",
    )
    parser.add_argument(
        "--runners",
        help="comma-separated runner names (default: "
        + (", ".join(default.runners) if default.runners else "every runner")
        + "; the baseline is always added)",
    )
    parser.add_argument(
        "--workers",
        help="comma-separated worker settings: N or PxT (default: "
        + (", ".join(default.workers) if default.workers else "the usable CPUs")
        + ")",
    )
    parser.add_argument(
        "--jobs",
        help=f"jobs a cell, or several counts (4,16,64: a cell for each; default:"
        f" {default.jobs or '2 x the largest workers'})",
    )
    rigour = parser.add_mutually_exclusive_group()
    for name, preset in PRESETS.items():
        rigour.add_argument(
            f"--{name}",
            dest="preset",
            action="store_const",
            const=name,
            help=f"{preset.warmups} warm-up and {preset.repeat} measured runs a cell",
        )
    parser.add_argument("--repeat", help=f"measured runs of each cell (default: {default.repeat})")
    parser.add_argument(
        "--warmups", help=f"runs of each cell before measuring (default: {default.warmups})"
    )
    parser.add_argument(
        "--timeout",
        help="seconds one run of a cell may take before it is killed"
        f" (default: {default.timeout:g})",
    )
    parser.add_argument(
        "--count", help=f"the size of every task sized by a {COUNT} (default: calibrated)"
    )
    parser.add_argument("--sleep", help=f"the size of every task sized in {SECONDS} (io)")
    parser.add_argument(
        "--size", action="append", default=[], metavar="TASK=SIZE", help="any task's size"
    )
    parser.add_argument(
        "--job-time",
        default=str(DEFAULT_JOB_TIME),
        help=f"seconds one calibrated job should take (default: {DEFAULT_JOB_TIME:g})",
    )
    options.add_measuring_arguments(parser)
    parser.add_argument("--trace", action="store_true", help="print each job's start and finish")
    parser.add_argument("--allow-large", action="store_true", help="go past the soft size limits")
    options.add_saving_arguments(
        parser, "also write the run as JSON, and its plots when matplotlib is installed, in DIR"
    )


def run(args: argparse.Namespace, catalog: Catalog, plugins: PluginSelection) -> int:
    """Check every option before anything runs (a bad one raises :class:`UsageError`), then
    measure the matrix and report it; the exit code."""
    profile = get_profile(args.profile)
    cpus = metadata.usable_cpus()
    task_names = options.names(args.tasks, list(profile.tasks or catalog.tasks.names()), "--tasks")
    tasks = [catalog.tasks.get(n) for n in task_names]
    preset_runners = list(profile.runners or default_runners(catalog))
    runners = with_baseline(options.names(args.runners, preset_runners, "--runners"), catalog)
    workers = options.worker_settings(args.workers, list(profile.workers or [str(cpus)]))
    default_jobs = profile.jobs or 2 * max(w.total for w in workers)
    jobs = options.job_counts(args.jobs, default_jobs)
    warmups, repeat = _rounds(args, profile)
    timeout = profile.timeout
    if args.timeout is not None:
        timeout = options.positive_float(args.timeout, "--timeout")
    tablefmt = options.check_tablefmt(args.tablefmt)
    start_method = options.check_start_method(args.start_method)
    job_time = options.positive_float(args.job_time, "--job-time")
    given_sizes = _given_sizes(args, catalog, tasks)
    runner_options = options.runner_options(args.runner_option, runners)
    task_options, tasks = options.task_options(args.task_option, tasks)
    sizing = Sizing(job_time, given_sizes, profile.sizes, allow_large=args.allow_large)
    matrix = MatrixPlan(tasks, runners, workers, jobs, sizing)
    matrix.check(cpus, args.allow_large)
    sizing.check(tasks, max(jobs), timeout)
    outputs = Outputs.from_args(args)
    rounds = Rounds(
        repeat=repeat,
        timeout=timeout,
        start_method=start_method,
        warmups=warmups,
        trace=args.trace,
        worker=WorkerOptions.of_lab(plugins, runner_options, task_options),
        interpreters=pythons.resolve(args.python, args.quiet),
    )
    command = session.MeasuringCommand(rounds, outputs, tablefmt, args.quiet, args.wide)

    def plan(facts: Metadata) -> tuple[Results, Mapping[str, Task]]:
        results = matrix.results(facts, rounds, args.quiet)
        return results, {t.name: t for t in tasks}

    return session.measure(
        command, plan, lambda facts: matrix.oversubscribed(facts.cpus, facts.gil_enabled)
    )


def _rounds(args: argparse.Namespace, profile: Profile) -> tuple[int, int]:
    preset = PRESETS.get(args.preset) if args.preset else None
    warmups = preset.warmups if preset else profile.warmups
    repeat = preset.repeat if preset else profile.repeat
    if args.warmups is not None:
        warmups = options.positive_int(args.warmups, "--warmups", minimum=0)
    if args.repeat is not None:
        repeat = options.positive_int(args.repeat, "--repeat")
    limits.check_rounds(warmups, repeat)
    return warmups, repeat


def _given_sizes(
    args: argparse.Namespace, catalog: Catalog, tasks: list[Task]
) -> dict[str, int | float]:
    """The sizes the options give: ``--size TASK=SIZE``, and ``--count`` and ``--sleep`` for
    every chosen task whose size is a count or in seconds."""
    for value, option, unit in ((args.count, "--count", COUNT), (args.sleep, "--sleep", SECONDS)):
        sizer = next((t for t in tasks if t.size.name == unit), None) or next(
            (t for t in catalog.tasks.items.values() if t.size.name == unit), None
        )
        if value is not None and sizer is not None:  # checked even when no chosen task uses it
            options.size(sizer, value, option, args.allow_large)
    written: dict[str, tuple[str, str]] = {}
    for task in tasks:
        if args.count is not None and task.size.name == COUNT:
            written[task.name] = (args.count, "--count")
        if args.sleep is not None and task.size.name == SECONDS:
            written[task.name] = (args.sleep, "--sleep")
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--size takes TASK=SIZE, not {item!r}")
        written[catalog.tasks.get(name.strip()).name] = (value, "--size")
    return {
        name: options.size(catalog.tasks.get(name), value, option, args.allow_large)
        for name, (value, option) in written.items()
    }
