"""``lab matrix``: the options turned into a checked request, then measured and reported."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.cli import options, pythons, session
from lab.errors import UsageError
from lab.host.availability import unavailable_on
from lab.plan import limits, matrix
from lab.plan.profiles import (
    DEFAULT_PROFILE,
    PRESETS,
    PROFILES,
    Profile,
    get_profile,
    in_table_order,
)
from lab.report.outputs import Outputs
from lab.results import metadata
from lab.results.model import MATRIX, Results, TaskInfo
from lab.run.calibrate import calibrate
from lab.run.rounds import Settings
from lab.runner import INLINE, Workers

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from lab.envs.interpreters import Interpreter
    from lab.host.manager import PluginOptions
    from lab.host.registry import Catalog
    from lab.results.metadata import Metadata
    from lab.runner import Runner
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
        help=f"jobs a cell (default: {default.jobs or '2 x the largest workers'})",
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
    pythons.add_argument(parser)
    options.add_start_method_argument(parser)
    options.add_tablefmt_argument(parser)
    options.add_wide_argument(parser)
    options.add_runner_option_argument(parser)
    options.add_task_option_argument(parser)
    parser.add_argument("--trace", action="store_true", help="print each job's start and finish")
    parser.add_argument("--allow-large", action="store_true", help="go past the soft size limits")
    options.add_output_arguments(parser)
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="also write the run as JSON, and its plots when matplotlib is installed, in DIR",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


@dataclass(frozen=True)
class Request:
    """A matrix as asked for, every option checked."""

    tasks: list[Task]
    runners: list[Runner]
    workers: list[Workers]
    jobs: int
    given_sizes: dict[str, int | float]
    preset_sizes: dict[str, float]
    job_time: float
    measuring: session.Measuring
    interpreters: list[Interpreter]


def resolve(args: argparse.Namespace, catalog: Catalog, plugins: PluginOptions) -> Request:
    """Check every option before anything runs; a bad one raises :class:`UsageError`."""
    profile = get_profile(args.profile)
    cpus = metadata.usable_cpus()
    task_names = options.names(args.tasks, list(profile.tasks or catalog.tasks.names()), "--tasks")
    tasks = [catalog.tasks.get(n) for n in task_names]
    runners = _runners(args.runners, profile.runners, catalog)
    workers = [
        Workers.parse(w)
        for w in options.names(args.workers, list(profile.workers or [str(cpus)]), "--workers")
    ]
    for runner in runners:
        for setting in workers if runner.uses_workers else []:
            limits.check_layout(
                runner.name, str(setting), runner.layout(setting), cpus, args.allow_large
            )
    jobs = options.positive_int(args.jobs, "--jobs") if args.jobs is not None else profile.jobs
    jobs = jobs or 2 * max(w.total for w in workers)
    limits.check_jobs(jobs, args.allow_large)
    warmups, repeat = _rounds(args, profile)
    timeout = profile.timeout
    if args.timeout is not None:
        timeout = options.positive_float(args.timeout, "--timeout")
    tablefmt = options.check_tablefmt(args.tablefmt)
    start_method = options.check_start_method(args.start_method)
    job_time = options.positive_float(args.job_time, "--job-time")
    given_sizes = _given_sizes(args, catalog, tasks)
    runner_options = options.runner_options(args.runner_option, runners)
    task_options = options.task_options(args.task_option, tasks)
    tasks = [task.with_options(task_options.get(task.name, {})) for task in tasks]
    outputs = Outputs.from_args(args)
    interpreters, worker_pythons = pythons.resolve(args.python, args.quiet)
    return Request(
        tasks=tasks,
        runners=runners,
        workers=workers,
        jobs=jobs,
        given_sizes=given_sizes,
        preset_sizes=profile.sizes,
        job_time=job_time,
        interpreters=interpreters,
        measuring=session.Measuring(
            settings=Settings.of_command(
                (warmups, repeat, timeout),
                start_method,
                plugins,
                worker_pythons,
                args.trace,
                runner_options,
                task_options,
            ),
            outputs=outputs,
            tablefmt=tablefmt,
            quiet=args.quiet,
            wide=args.wide,
        ),
    )


def run(request: Request) -> int:
    """Measure the request and report it; the exit code."""

    def plan(facts: Metadata) -> tuple[Results, Mapping[str, Task]]:
        sizes, infos = _sizes(request)
        labels = [i.label for i in request.interpreters] or [""]
        settings = request.measuring.settings
        cells = matrix.plan(
            request.tasks,
            request.runners,
            request.workers,
            request.jobs,
            sizes,
            labels,
            availability(settings),
        )
        results = Results(
            metadata=facts,
            settings={
                "kind": MATRIX,
                "jobs": request.jobs,
                "warmups": settings.warmups,
                "repeat": settings.repeat,
                "timeout": settings.timeout,
                "start_method": settings.start_method,
            },
            tasks=infos,
            cells=cells,
            complete=False,
            interpreters=[i.to_data() for i in request.interpreters],
        )
        return results, {t.name: t for t in request.tasks}

    return session.measure(
        request.measuring,
        plan,
        lambda facts: _oversubscribed(request, facts.cpus, facts.gil_enabled),
    )


def availability(settings: Settings) -> dict[str, dict[str, str | None]]:
    """Each runner's ``unavailable()`` as each ``--python`` interpreter answers it."""
    return {
        label: unavailable_on(python, settings, label) for label, python in settings.pythons.items()
    }


def _oversubscribed(request: Request, cpus: int, gil: bool) -> list[str]:
    """Warnings for CPU-bound cells with more workers computing at once than usable CPUs
    (with the GIL on, a process's threads compute one at a time)."""
    if not any(task.bound == "cpu" for task in request.tasks):
        return []
    found = []
    for runner in request.runners:
        for setting in request.workers if runner.uses_workers else []:
            layout = runner.layout(setting)
            parallel = layout.processes * (1 if gil else layout.threads)
            if parallel > cpus and runner.job_form == "sync":
                found.append(
                    f"{runner.name} with workers {setting} computes on {parallel} workers at once"
                    f" with {cpus} usable CPUs: CPU-bound speed-up cannot exceed {cpus}"
                )
    return found


def _runners(text: str | None, preset: tuple[str, ...] | None, catalog: Catalog) -> list[Runner]:
    """The runners asked for in table order, with the baseline (the first inline runner) added
    when none of them is one."""
    every = in_table_order(list(catalog.runners.items.values()))
    names = options.names(text, list(preset) if preset else [r.name for r in every], "--runners")
    runners = [catalog.runners.get(n) for n in names]
    baseline = next((r for r in every if r.kind == INLINE), None)
    if baseline is not None and not any(r.kind == INLINE for r in runners):
        runners.insert(0, baseline)
    return runners


def _rounds(args: argparse.Namespace, profile: Profile) -> tuple[int, int]:
    preset = PRESETS.get(args.preset) if args.preset else None
    warmups = preset.warmups if preset else profile.warmups
    repeat = preset.repeat if preset else profile.repeat
    if args.warmups is not None:
        warmups = options.positive_int(args.warmups, "--warmups", minimum=0)
    if args.repeat is not None:
        repeat = options.positive_int(args.repeat, "--repeat")
    if repeat > limits.MAX_REPEAT or warmups > limits.MAX_REPEAT:
        raise UsageError(f"repeat and warmups must be at most {limits.MAX_REPEAT}")
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
            try:
                sizer.size.parse(value, task=sizer.name, allow_large=args.allow_large)
            except UsageError as exc:
                raise UsageError(f"{option}: {exc}") from None
    written: dict[str, str] = {}
    for task in tasks:
        if args.count is not None and task.size.name == COUNT:
            written[task.name] = args.count
        if args.sleep is not None and task.size.name == SECONDS:
            written[task.name] = args.sleep
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--size takes TASK=SIZE, not {item!r}")
        written[catalog.tasks.get(name.strip()).name] = value
    sizes: dict[str, int | float] = {}
    for name, value in written.items():
        task = catalog.tasks.get(name)
        sizes[name] = task.size.parse(value, task=name, allow_large=args.allow_large)
    return sizes


def _sizes(request: Request) -> tuple[dict[str, int | float], list[TaskInfo]]:
    """Each task's size: given, preset, calibrated or the task's default; and how it was set."""
    sizes: dict[str, int | float] = {}
    infos = []
    for task in request.tasks:
        how = ""
        if task.name in request.given_sizes:
            sizes[task.name] = request.given_sizes[task.name]
        elif task.name in request.preset_sizes:
            sizes[task.name] = task.size.kind(request.preset_sizes[task.name])
        elif task.calibrated:
            if not request.measuring.quiet:
                print(
                    f"calibrating {task.name} to {request.job_time:g} s a job...", file=sys.stderr
                )
            sizes[task.name] = calibrate(task, request.job_time, request.measuring.settings)
            on = f" on {request.interpreters[0].label}" if len(request.interpreters) > 1 else ""
            how = f" (calibrated to {request.job_time:g} s a job{on})"
        else:
            sizes[task.name] = task.size.default
        infos.append(
            TaskInfo(
                name=task.name,
                description=task.description,
                bound=task.bound,
                size_name=task.size.name,
                size=sizes[task.name],
                size_text=task.size.format(sizes[task.name]),
                how=how,
                shares_state=bool(task.shared),
                operation=task.operation,
                options=dict(task.options),
                session_name=task.session_name if task.session is not None else "",
            )
        )
    return sizes, infos
