"""``lab matrix``: turn the options into a checked request, measure it, print the tables."""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import tabulate

from lab.errors import UsageError
from lab.plan import limits
from lab.plan.profiles import PRESETS, Profile, get_profile, in_table_order
from lab.report import outputs
from lab.report.table import BASELINE
from lab.report.text import render_body, sizes_line
from lab.results import metadata
from lab.results.model import Cell, Results, Sample, TaskInfo
from lab.run import rounds as matrix
from lab.run.calibrate import calibrate
from lab.run.lock import machine_lock
from lab.runner import Workers

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping

    from lab.host.manager import PluginOptions
    from lab.host.registry import Catalog
    from lab.results.journal import Journal
    from lab.runner import Runner
    from lab.task import Task

EXIT_FAILED_CELLS = 1
EXIT_INTERRUPTED = 130
DEFAULT_START_METHOD = "spawn"
DEFAULT_JOB_TIME = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lab matrix``."""
    parser.add_argument("--profile", default="quick", help="preset: quick or seed (default: quick)")
    parser.add_argument("--tasks", help="comma-separated task names (default: all)")
    parser.add_argument(
        "--runners", help="comma-separated runner names (default: all; single is always added)"
    )
    parser.add_argument(
        "--workers", help="comma-separated worker settings: N or PxT (default: usable CPUs)"
    )
    parser.add_argument("--jobs", help="jobs a cell (default: 2 x the largest workers)")
    rigour = parser.add_mutually_exclusive_group()
    for name, preset in PRESETS.items():
        rigour.add_argument(
            f"--{name}",
            dest="preset",
            action="store_const",
            const=name,
            help=f"{preset.warmups} warm-up and {preset.repeat} measured runs a cell",
        )
    parser.add_argument("--repeat", help="measured runs of each cell (default: 3)")
    parser.add_argument("--warmups", help="runs of each cell before measuring (default: 1)")
    parser.add_argument("--timeout", help="seconds one run of a cell may take before it is killed")
    parser.add_argument("--count", help="the cpu task's countdown size (default: calibrated)")
    parser.add_argument("--sleep", help="the io task's sleep in seconds")
    parser.add_argument(
        "--size", action="append", default=[], metavar="TASK=SIZE", help="any task's size"
    )
    parser.add_argument(
        "--job-time",
        default=str(DEFAULT_JOB_TIME),
        help="seconds one calibrated job should take (default: 0.2)",
    )
    parser.add_argument(
        "--start-method",
        default=DEFAULT_START_METHOD,
        help=f"multiprocessing start method: {', '.join(multiprocessing.get_all_start_methods())}"
        f" (default: {DEFAULT_START_METHOD})",
    )
    parser.add_argument(
        "--tablefmt", default="simple", help="any tabulate format (default: simple)"
    )
    parser.add_argument("--trace", action="store_true", help="print each job's start and finish")
    parser.add_argument("--allow-large", action="store_true", help="go past the soft size limits")
    add_output_arguments(parser)
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="also write the run as JSON, and its plots when matplotlib is installed, in DIR",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The files a run can be written to (``lab matrix`` and ``lab report``)."""
    parser.add_argument("--json", metavar="PATH", help="write the run as JSON")
    parser.add_argument("--csv", metavar="PATH", help="write one row per cell as CSV")
    parser.add_argument("--markdown", metavar="PATH", help="write the report as Markdown")
    parser.add_argument("--plot", metavar="DIR", help="write the plots as PNG files in DIR")


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
    tablefmt: str
    settings: matrix.Settings
    outputs: outputs.Outputs
    quiet: bool = False


def resolve(args: argparse.Namespace, catalog: Catalog, options: PluginOptions) -> Request:
    """Check every option before anything runs; a bad one raises :class:`UsageError`."""
    profile = get_profile(args.profile)
    cpus = metadata.usable_cpus()
    tasks = [catalog.tasks.get(n) for n in _names(args.tasks, profile.tasks, catalog.tasks.names())]
    runners = _runners(args.runners, profile.runners, catalog)
    workers = [Workers.parse(w) for w in _names(args.workers, profile.workers, [str(cpus)])]
    for runner in runners:
        for setting in workers if runner.uses_workers else []:
            limits.check_layout(
                runner.name, str(setting), runner.layout(setting), cpus, args.allow_large
            )
    jobs = positive_int(args.jobs, "jobs") if args.jobs else profile.jobs
    jobs = jobs or 2 * max(w.total for w in workers)
    limits.check_jobs(jobs, args.allow_large)
    warmups, repeat = _rounds(args, profile)
    check_tablefmt(args.tablefmt)
    check_start_method(args.start_method)
    return Request(
        tasks=tasks,
        runners=runners,
        workers=workers,
        jobs=jobs,
        given_sizes=_given_sizes(args, catalog),
        preset_sizes=profile.sizes,
        job_time=positive_float(args.job_time, "job time"),
        tablefmt=args.tablefmt,
        outputs=outputs.Outputs.from_args(args),
        quiet=args.quiet,
        settings=matrix.Settings(
            repeat=repeat,
            warmups=warmups,
            timeout=positive_float(args.timeout, "timeout") if args.timeout else profile.timeout,
            start_method=args.start_method,
            trace=args.trace,
            blocked=options.blocked,
            modules=options.modules,
            autoload=options.should_autoload(),
        ),
    )


def check_start_method(name: str) -> str:
    if name not in multiprocessing.get_all_start_methods():
        raise UsageError(
            f"unknown start method {name!r}; valid start methods: "
            + ", ".join(multiprocessing.get_all_start_methods())
        )
    return name


def check_tablefmt(name: str) -> None:
    if name not in tabulate.tabulate_formats:
        raise UsageError(
            f"unknown table format {name!r}; valid formats: "
            + ", ".join(sorted(tabulate.tabulate_formats))
        )


def run(request: Request) -> int:
    """Measure the request under the machine lock, print the report and write the files the
    options asked for; the exit code."""
    with machine_lock():
        journal = request.outputs.journal()  # a file that cannot be written fails before the run
        try:
            results, interrupted = _measure(request, journal)
        finally:
            if journal is not None:
                journal.close()
        print("\n" + render_body(results, request.tablefmt))
        if journal is not None:
            journal.finish(results)
        for line in request.outputs.write(results):
            print(line, file=sys.stderr)
    if interrupted:
        print("lab: interrupted; the tables show what was measured", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED_CELLS if any(c.failure is not None for c in results.cells) else 0


def _measure(request: Request, journal: Journal | None) -> tuple[Results, bool]:
    settings = request.settings
    facts = metadata.collect(settings.start_method)
    print("\n".join(metadata.header(facts)), flush=True)
    oversubscribed = _oversubscribed(request, facts.cpus, facts.gil_enabled)
    for warning in [*metadata.warnings(facts), *oversubscribed]:
        print(f"lab: warning: {warning}", file=sys.stderr)
    sizes, tasks = _sizes(request)
    cells = matrix.plan(request.tasks, request.runners, request.workers, request.jobs, sizes)
    results = Results(
        metadata=facts,
        settings={
            "jobs": request.jobs,
            "warmups": settings.warmups,
            "repeat": settings.repeat,
            "timeout": settings.timeout,
            "start_method": settings.start_method,
        },
        tasks=tasks,
        cells=cells,
        complete=False,
    )
    print(sizes_line(results), flush=True)
    by_name = {t.name: t for t in request.tasks}
    interrupted = measure_rounds(results, settings, by_name, journal, request.quiet)
    return results, interrupted


def measure_rounds(
    results: Results,
    settings: matrix.Settings,
    tasks: Mapping[str, Task],
    journal: Journal | None,
    quiet: bool,
) -> bool:
    """Run the results' cells, journalling every run and showing progress; whether Ctrl-C
    stopped it. ``results.complete`` says the same."""
    cells = results.cells
    if journal is not None:
        journal.begin(results)
    show = None if quiet else progress(cells, settings)

    def on_run(cell: Cell, sample: Sample | None) -> None:
        if journal is not None:
            journal.add(cells, cell, sample)
        if show is not None:
            show(cell)

    interrupted = False
    try:
        matrix.run(cells, settings, tasks, on_run=on_run)
    except KeyboardInterrupt:
        interrupted = True
    clear_progress()
    results.complete = not interrupted
    return interrupted


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


def _names(text: str | None, preset: tuple[str, ...] | None, default: list[str]) -> list[str]:
    names = [n.strip() for n in text.split(",")] if text else list(preset or default)
    names = [n for n in names if n]
    if not names:
        raise UsageError("an empty list was given")
    return list(dict.fromkeys(names))


def _runners(text: str | None, preset: tuple[str, ...] | None, catalog: Catalog) -> list[Runner]:
    names = _names(text, preset, in_table_order(catalog.runners.names()))
    runners = [catalog.runners.get(n) for n in names]
    if BASELINE not in names and BASELINE in catalog.runners.items:
        runners.insert(0, catalog.runners.get(BASELINE))
    return runners


def _rounds(args: argparse.Namespace, profile: Profile) -> tuple[int, int]:
    preset = PRESETS.get(args.preset) if args.preset else None
    warmups = preset.warmups if preset else profile.warmups
    repeat = preset.repeat if preset else profile.repeat
    if args.warmups is not None:
        warmups = positive_int(args.warmups, "warmups", minimum=0)
    if args.repeat is not None:
        repeat = positive_int(args.repeat, "repeat")
    if repeat > limits.MAX_REPEAT or warmups > limits.MAX_REPEAT:
        raise UsageError(f"repeat and warmups must be at most {limits.MAX_REPEAT}")
    return warmups, repeat


def positive_int(text: str, what: str, minimum: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise UsageError(f"{what} must be at least {minimum}, not {text!r}")
    return value


def positive_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what} must be a number of seconds, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise UsageError(f"{what} must be greater than 0, not {text!r}")
    return value


def _given_sizes(args: argparse.Namespace, catalog: Catalog) -> dict[str, int | float]:
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
            if not request.quiet:
                print(
                    f"calibrating {task.name} to {request.job_time:g} s a job...", file=sys.stderr
                )
            sizes[task.name] = calibrate(task, request.job_time, request.settings)
            how = f" (calibrated to {request.job_time:g} s a job)"
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
            )
        )
    return sizes, infos


def progress(cells: list[Cell], settings: matrix.Settings) -> Callable[[Cell], None] | None:
    if not sys.stderr.isatty():
        return None
    total = sum(c.runnable for c in cells) * (settings.warmups + settings.repeat)
    done = 0

    def show(cell: Cell) -> None:
        nonlocal done
        done += 1
        sys.stderr.write(f"\r\033[K{done}/{total} runs · {cell.task} {cell.runner} {cell.workers}")
        sys.stderr.flush()

    return show


def clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
