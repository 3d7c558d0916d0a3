"""The ``lab`` command: ``matrix``, ``sweep``, ``report``, ``compare``, ``list``, ``plugins``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn

from lab.cli import matrix_command, run_command, saved, sweep_command
from lab.cli import options as cli_options
from lab.cli.listing import catalog_listing, plugin_listing
from lab.errors import LabError, Terminated, UsageError, exit_code_of
from lab.host.manager import PluginSelection, plugin_reference
from lab.host.registry import load_catalog
from lab.machine import metadata
from lab.plan.profiles import DEFAULT_PROFILE, PROFILES
from lab.report.fit import terminal_width, wrap_lines
from lab.results.journal import MOST_BYTES

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


#: The distribution whose version ``lab --version`` says.
PROJECT = "concurrency-lab"


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
        help="load plugin module NAME (or MODULE:OBJECT), or block plugin NAME with no:NAME"
        " (repeatable)",
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
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="show the lab's version and exit"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    matrix_parser = commands.add_parser(
        "matrix",
        parents=[plugin_options],
        help="run tasks x runners x workers and print the results",
        description="Run every task on every runner at every worker setting; one table a task.",
    )
    matrix_command.add_arguments(matrix_parser)
    run_parser = commands.add_parser(
        "run",
        parents=[plugin_options],
        help="measure your own function on every runner, with the lab's verdict on it",
        description="Call MODULE:FUNCTION with the given arguments on every runner that can"
        " run it, at 1 worker and the usable CPUs, and say which way runs it fastest here.",
    )
    run_command.add_arguments(run_parser)
    commands.add_parser(
        "list", parents=[plugin_options], help="list runners and tasks, and whether they run here"
    )
    sweep_parser = commands.add_parser(
        "sweep",
        parents=[plugin_options],
        help="an IO task at rising concurrency on event loops and threads",
        description="Run the IO task with 1, 10, 100, ... jobs waiting at once on each runner.",
    )
    sweep_command.add_arguments(sweep_parser)
    report = commands.add_parser(
        "report",
        help="print a saved run again, and write it to other files, without running it",
        description="Re-render a run saved with --json (or the .partial file of an interrupted"
        " one).",
    )
    report.add_argument("results", metavar="RESULTS.json")
    _add_allow_large_argument(report)
    cli_options.add_tablefmt_argument(report)
    cli_options.add_wide_argument(report)
    cli_options.add_output_arguments(report)
    comparison = commands.add_parser(
        "compare",
        help="compare saved runs cell by cell: ratios with intervals and a verdict",
        description="Compare each run with the first: after / before for every cell measured in"
        " both.",
        epilog="exit status: 0 compared; 1 a cell slower than --fail-slower allows (or a file"
        " not written); 2 bad input; 3 nothing measured on the same work to compare",
    )
    comparison.add_argument("runs", metavar="RESULTS.json", nargs="+")
    _add_allow_large_argument(comparison)
    cli_options.add_tablefmt_argument(comparison)
    comparison.add_argument("--json", metavar="PATH", help="write the comparison as JSON")
    comparison.add_argument("--csv", metavar="PATH", help="write one row per compared cell")
    comparison.add_argument("--markdown", metavar="PATH", help="write the comparison as Markdown")
    comparison.add_argument(
        "--html", metavar="PATH", help="write the comparison as one HTML page to open in a browser"
    )
    comparison.add_argument(
        "--fail-slower",
        metavar="PCT",
        help="exit 1 when a cell is slower than PCT (5%%) with its 95%% interval above 1",
    )
    plugins = commands.add_parser(
        "plugins",
        parents=[plugin_options],
        help="list the plugins with their distributions, hooks, runners and tasks",
    )
    plugins.add_argument("--all", action="store_true", help="the built-in plugins too")
    return parser


def _add_allow_large_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help=f"read results files past {MOST_BYTES // 2**20} MiB",
    )


class _Version(argparse.Action):
    """``--version``, read only when asked for (it may ask git for the commit)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """``concurrency-lab 0.1.0``, with the commit when the lab runs from a git checkout."""
    version = metadata.library_versions().get(PROJECT, "unknown")
    commit = metadata.git_commit()
    return f"{PROJECT} {version}" + (f" (commit {commit})" if commit else "")


def _parsed(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line parsed; ``lab run``'s function arguments may come after its options
    (``lab run f 1 --jobs 4 2``), which argparse alone refuses with subcommands."""
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "run" and not any(_is_option(text) for text in extra):
        args.args.extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _is_option(text: str) -> bool:
    """Whether ``text`` reads as an option (``-x``, ``--x``) rather than a negative number."""
    return text.startswith("-") and not text[1:2].isdigit() and not text.startswith("-.")


def main(argv: Sequence[str] | None = None, plugins: Iterable[object] = ()) -> int:
    """Run the ``lab`` command; returns the exit code.

    ``plugins`` are loaded as if named with ``-p``: modules, or module-level objects, which
    the lab and every cell's worker process import by name.
    """
    try:
        args = _parsed(build_parser(), argv)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except LabError as exc:
        return _fail(exc)
    if args.command is None:
        build_parser().print_help()
        return 2
    try:
        if args.command == "report":
            return saved.report_command(args)
        if args.command == "compare":
            return saved.compare_command(args)
        references = [plugin_reference(p) for p in plugins]
        selection = PluginSelection.from_args(
            [*args.plugins, *references], strict=args.strict_plugins
        )
        catalog, report, pm = load_catalog(selection)
        for warning in report.warnings:
            print(f"lab: warning: {warning}", file=sys.stderr)
        if args.command not in ("list", "plugins"):
            catalog.check_conflicts()
        for conflict in catalog.conflicts():
            print(f"lab: warning: {conflict}", file=sys.stderr)
        if args.command == "list":
            width = terminal_width()
            default = PROFILES[DEFAULT_PROFILE]
            print(catalog_listing(catalog, width))
            print("\n" + wrap_lines(f"lab matrix runs {default.summary()}", width))
            return 0
        if args.command == "sweep":
            return sweep_command.run(args, catalog, selection)
        if args.command == "run":
            return run_command.run(args, catalog, selection)
        if args.command == "plugins":
            print(plugin_listing(pm, report, catalog, args.all, terminal_width()))
            return 0
        return matrix_command.run(args, catalog, selection)
    except LabError as exc:
        return _fail(exc)
    except KeyboardInterrupt as stop:  # loading plugins, or setting up an interpreter
        if args.command in ("list", "plugins"):  # commands that measure nothing
            return saved.interrupted(args.command, stop)
        print("lab: interrupted before anything was measured", file=sys.stderr)
        return exit_code_of(stop)


def console_main() -> NoReturn:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``lab matrix | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: stop as Ctrl-C does, keeping what was measured."""
    raise Terminated


def _fail(exc: LabError) -> int:
    print(f"lab: error: {exc}", file=sys.stderr)
    return exc.exit_code
