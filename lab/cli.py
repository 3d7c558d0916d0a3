"""The ``lab`` command: ``lab matrix`` and ``lab list``."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import tabulate

from lab import limits, matrix
from lab.calibrate import calibrate
from lab.errors import LabError, UsageError
from lab.metadata import gil_enabled, python_description, usable_cpus
from lab.plugin_manager import PluginOptions
from lab.profiles import PROFILES, get_profile, in_table_order
from lab.registry import Catalog, load_catalog
from lab.runner import Workers
from lab.table import BASELINE, render_task

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from lab.matrix import Cell
    from lab.runner import Runner
    from lab.task import Task

EXIT_FAILED_CELLS = 1
EXIT_INTERRUPTED = 130
DEFAULT_START_METHOD = "spawn"
DEFAULT_JOB_TIME = 0.2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised as :class:`UsageError`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    plugin_options = _Parser(add_help=False)
    group = plugin_options.add_argument_group("plugins")
    group.add_argument(
        "-p",
        dest="plugins",
        action="append",
        default=[],
        metavar="NAME",
        help="load plugin module NAME, or block plugin NAME with no:NAME (repeatable)",
    )
    group.add_argument(
        "--strict-plugins",
        action="store_true",
        help="a plugin that fails to load is an error, not a warning",
    )
    parser = _Parser(
        prog="lab",
        description="Threads, processes, threads inside processes or an event loop: measured.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "matrix",
        parents=[plugin_options],
        help="run tasks x runners x workers and print the results",
        description="Run every task on every runner at every worker setting; one table a task.",
    )
    run.add_argument(
        "--profile", default="quick", help=f"preset: {', '.join(PROFILES)} (default: quick)"
    )
    run.add_argument("--tasks", help="comma-separated task names (default: all)")
    run.add_argument(
        "--runners", help="comma-separated runner names (default: all; single is always added)"
    )
    run.add_argument(
        "--workers", help="comma-separated worker settings: N or PxT (default: usable CPUs)"
    )
    run.add_argument("--jobs", help="jobs a cell (default: 2 x the largest workers)")
    run.add_argument("--repeat", help="measured runs of each cell")
    run.add_argument("--timeout", help="seconds one run of a cell may take before it is killed")
    run.add_argument("--count", help="the cpu task's countdown size (default: calibrated)")
    run.add_argument("--sleep", help="the io task's sleep in seconds")
    run.add_argument(
        "--size", action="append", default=[], metavar="TASK=SIZE", help="any task's size"
    )
    run.add_argument(
        "--job-time",
        default=str(DEFAULT_JOB_TIME),
        help="seconds one calibrated job should take (default: 0.2)",
    )
    run.add_argument(
        "--start-method",
        default=DEFAULT_START_METHOD,
        help=f"multiprocessing start method: {', '.join(multiprocessing.get_all_start_methods())}"
        f" (default: {DEFAULT_START_METHOD})",
    )
    run.add_argument("--tablefmt", default="simple", help="any tabulate format (default: simple)")
    run.add_argument("--trace", action="store_true", help="print each job's start and finish")
    run.add_argument("--allow-large", action="store_true", help="go past the soft size limits")
    commands.add_parser(
        "list", parents=[plugin_options], help="list runners and tasks, and whether they run here"
    )
    return parser


def main(argv: Sequence[str] | None = None, plugins: Iterable[object] = ()) -> int:
    """Run the ``lab`` command; returns the exit code. ``plugins`` are registered as objects."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except LabError as exc:
        return _fail(exc)
    if args.command is None:
        build_parser().print_help()
        return 2
    try:
        options = PluginOptions.from_args(args.plugins, strict=args.strict_plugins)
        catalog, report, _ = load_catalog(options, plugins)
        for warning in report.warnings:
            print(f"lab: warning: {warning}", file=sys.stderr)
        if args.command == "list":
            print(_listing(catalog))
            return 0
        return _matrix(args, catalog, options)
    except LabError as exc:
        return _fail(exc)


def console_main() -> NoReturn:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``lab matrix | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)


def _fail(exc: LabError) -> int:
    print(f"lab: error: {exc}", file=sys.stderr)
    return exc.exit_code


def _listing(catalog: Catalog) -> str:
    runners = [
        [r.name, r.description, catalog.runners.owners[r.name], r.unavailable() or "yes"]
        for r in catalog.runners.items.values()
    ]
    tasks = [
        [t.name, t.description, catalog.tasks.owners[t.name], ", ".join(t.forms)]
        for t in catalog.tasks.items.values()
    ]
    return "\n\n".join(
        [
            tabulate.tabulate(runners, headers=("runner", "description", "from", "available")),
            tabulate.tabulate(tasks, headers=("task", "description", "from", "forms")),
        ]
    )


def _matrix(args: argparse.Namespace, catalog: Catalog, options: PluginOptions) -> int:
    profile = get_profile(args.profile)
    cpus = usable_cpus()
    tasks = [catalog.tasks.get(n) for n in _names(args.tasks, profile.tasks, catalog.tasks.names())]
    runners = _runners(args.runners, profile.runners, catalog)
    workers = [
        Workers.parse(w) for w in _names(args.workers, profile.workers, [str(cpus)], "workers")
    ]
    for runner in runners:
        for setting in workers if runner.uses_workers else []:
            limits.check_layout(
                runner.name, str(setting), runner.layout(setting), cpus, args.allow_large
            )
    jobs = _positive_int(args.jobs, "jobs") if args.jobs else profile.jobs
    jobs = jobs or 2 * max(w.total for w in workers)
    limits.check_jobs(jobs, args.allow_large)
    repeat = _positive_int(args.repeat, "repeat") if args.repeat else profile.repeat
    if repeat > limits.MAX_REPEAT:
        raise UsageError(f"repeat must be at most {limits.MAX_REPEAT}, not {repeat}")
    timeout = _positive_float(args.timeout, "timeout") if args.timeout else profile.timeout
    job_time = _positive_float(args.job_time, "job time")
    if args.tablefmt not in tabulate.tabulate_formats:
        raise UsageError(
            f"unknown table format {args.tablefmt!r}; valid formats: "
            + ", ".join(sorted(tabulate.tabulate_formats))
        )
    if args.start_method not in multiprocessing.get_all_start_methods():
        raise UsageError(
            f"unknown start method {args.start_method!r}; valid start methods: "
            + ", ".join(multiprocessing.get_all_start_methods())
        )
    given = _given_sizes(args, tasks, catalog)
    settings = matrix.Settings(
        repeat=repeat,
        timeout=timeout,
        start_method=args.start_method,
        trace=args.trace,
        blocked=options.blocked,
        modules=options.modules,
        autoload=options.should_autoload(),
    )
    gil = "on" if gil_enabled() else "off"
    print(
        f"concurrency-lab · {cpus} usable CPUs · {python_description()} · GIL {gil}"
        f" · start method {args.start_method}",
        flush=True,
    )
    sizes, notes = _sizes(tasks, given, profile.sizes, job_time, settings)
    print(
        " · ".join(notes)
        + f" · {jobs} jobs a cell · {repeat} run{'s' * (repeat > 1)} a cell"
        + (", median shown" if repeat > 1 else ""),
        flush=True,
    )
    cells = matrix.plan(tasks, runners, workers, jobs, sizes)
    interrupted = False
    try:
        matrix.run(cells, settings, on_run=_progress(cells, repeat))
    except KeyboardInterrupt:
        interrupted = True
    _clear_progress()
    for task in tasks:
        print(f"\n{task.name}: {task.description}")
        print(render_task([c for c in cells if c.task is task], cpus, args.tablefmt))
    print(
        "\nwall: the jobs' run, pool or loop start-up apart · ±: half the range of the runs"
        " · cores used: CPU s / wall s\nspeed-up: single's wall / this wall · ideal: the best"
        " speed-up possible here · efficiency: how much of the ideal was reached"
    )
    if interrupted:
        print("lab: interrupted; the table shows what was measured", file=sys.stderr)
        return EXIT_INTERRUPTED
    failed = [c for c in cells if c.failure is not None]
    return EXIT_FAILED_CELLS if failed else 0


def _names(
    text: str | None, preset: tuple[str, ...] | None, default: list[str], what: str = ""
) -> list[str]:
    names = [n.strip() for n in text.split(",")] if text else list(preset or default)
    names = [n for n in names if n]
    if not names:
        raise UsageError(f"no {what or 'names'} given")
    return list(dict.fromkeys(names))


def _runners(text: str | None, preset: tuple[str, ...] | None, catalog: Catalog) -> list[Runner]:
    names = _names(text, preset, in_table_order(catalog.runners.names()), "runners")
    runners = [catalog.runners.get(n) for n in names]
    if BASELINE not in names and BASELINE in catalog.runners.items:
        runners.insert(0, catalog.runners.get(BASELINE))
    return runners


def _positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, not {text!r}") from None
    if value < 1:
        raise UsageError(f"{what} must be at least 1, not {text!r}")
    return value


def _positive_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what} must be a number of seconds, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise UsageError(f"{what} must be greater than 0, not {text!r}")
    return value


def _given_sizes(
    args: argparse.Namespace, tasks: list[Task], catalog: Catalog
) -> dict[str, int | float]:
    written: dict[str, str] = {}
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--size takes TASK=SIZE, not {item!r}")
        written[catalog.tasks.get(name.strip()).name] = value
    if args.count is not None:
        written["cpu"] = args.count
    if args.sleep is not None:
        written["io"] = args.sleep
    sizes: dict[str, int | float] = {}
    for name, value in written.items():
        task = catalog.tasks.get(name)
        sizes[name] = task.size.parse(value, task=name, allow_large=args.allow_large)
    return sizes


def _sizes(
    tasks: list[Task],
    given: dict[str, int | float],
    preset: dict[str, float],
    job_time: float,
    settings: matrix.Settings,
) -> tuple[dict[str, int | float], list[str]]:
    sizes: dict[str, int | float] = {}
    notes = []
    for task in tasks:
        if task.name in given:
            sizes[task.name] = given[task.name]
            how = ""
        elif task.name in preset:
            sizes[task.name] = task.size.kind(preset[task.name])
            how = ""
        elif task.calibrated:
            print(f"calibrating {task.name} to {job_time:g} s a job...", file=sys.stderr)
            sizes[task.name] = calibrate(task, job_time, settings)
            how = f" (calibrated to {job_time:g} s a job)"
        else:
            sizes[task.name] = task.size.default
            how = ""
        notes.append(f"{task.name}: {task.size.name} {task.size.format(sizes[task.name])}{how}")
    return sizes, notes


def _progress(cells: list[Cell], repeat: int) -> Callable[[Cell], None] | None:
    if not sys.stderr.isatty():
        return None
    total = sum(c.runnable for c in cells) * repeat
    done = 0

    def show(cell: Cell) -> None:
        nonlocal done
        done += 1
        sys.stderr.write(
            f"\r\033[K{done}/{total} runs · {cell.task.name} {cell.runner.name} {cell.workers}"
        )
        sys.stderr.flush()

    return show


def _clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
