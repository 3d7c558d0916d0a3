"""``lab report`` and ``lab compare``: saved runs, no plugins, nothing measured."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.cli import options
from lab.errors import UsageError, exit_code_of
from lab.report import comparison_table
from lab.report.fit import terminal_width
from lab.report.output_files import Outputs, check_distinct, file_path, write_file
from lab.report.terminal import render
from lab.results.journal import MOST_BYTES, load
from lab.results.model import ResultsError

if TYPE_CHECKING:
    import argparse

#: ``lab compare --fail-slower`` found a cell slower than allowed (or a file was not written).
EXIT_SLOWER = 1
#: ``lab compare`` found nothing to compare in some pair of runs: no verdict either way, told
#: apart from a regression (1) and from bad input (2).
EXIT_NOTHING_COMPARED = 3


def _most_bytes(args: argparse.Namespace) -> int | None:
    """The largest results file to read: no limit with ``--allow-large``."""
    return None if args.allow_large else MOST_BYTES


def interrupted(command: str, stop: KeyboardInterrupt) -> int:
    """A command that measures nothing (``report``, ``compare``, ``list``) stopped by Ctrl-C
    or SIGTERM: one line naming the command, which has nothing measured to lose; the shell's
    code for the signal."""
    print(f"lab: {command} interrupted", file=sys.stderr)
    return exit_code_of(stop)


def report_command(args: argparse.Namespace) -> int:
    """``lab report``: the saved run as the terminal shows it, and the files asked for."""
    try:
        return _report(args)
    except KeyboardInterrupt as stop:  # reading, analysing, or writing a large run
        return interrupted("report", stop)


def compare_command(args: argparse.Namespace) -> int:
    """``lab compare``: the report, the files asked for, and exit 3 when a later run had
    nothing to compare, else 1 when, with ``--fail-slower``, a cell was slower than the
    threshold (or a file could not be written)."""
    try:
        return _compare(args)
    except KeyboardInterrupt as stop:
        return interrupted("compare", stop)


def _report(args: argparse.Namespace) -> int:
    options.check_tablefmt(args.tablefmt)
    results = load(Path(args.results), _most_bytes(args))
    outputs = Outputs.from_args(args)
    print(render(results, args.tablefmt, terminal_width(), args.wide))
    written = outputs.write(results, with_json=True)
    for line in written.lines:
        print(line, file=sys.stderr)
    for error in written.errors:
        print(f"lab: error: {error}", file=sys.stderr)
    return 1 if written.errors else 0


def _comparison_page(compared: comparison_table.Compared) -> str:
    from lab.report.html import comparison_page

    return comparison_page(compared)


def _compare(args: argparse.Namespace) -> int:
    options.check_tablefmt(args.tablefmt)
    if len(args.runs) < 2:
        raise UsageError("compare needs two results files or more")
    threshold = None
    if args.fail_slower is not None:
        threshold = options.percentage(args.fail_slower, "--fail-slower")
    exports = {
        option: (path, write)
        for option, path, write in (
            ("--json", args.json, comparison_table.to_json),
            ("--csv", args.csv, comparison_table.to_csv),
            ("--markdown", args.markdown, comparison_table.to_markdown),
            ("--html", args.html, _comparison_page),
        )
        if path is not None
    }
    check_distinct({option: file_path(path, option) for option, (path, _) in exports.items()})
    compared = comparison_table.compare_all(
        [(name, load(Path(name), _most_bytes(args))) for name in args.runs]
    )
    print(comparison_table.render(compared, args.tablefmt, terminal_width()))
    failed = False
    for path, write in exports.values():
        try:
            write_file(Path(path), write(compared))
            print(f"lab: wrote {path}", file=sys.stderr)
        except ResultsError as exc:
            print(f"lab: error: {exc}", file=sys.stderr)
            failed = True
    slower = [] if threshold is None else compared.slower_than(threshold)
    for name, match in slower:
        cell = match.before
        where = f"{cell.task} {cell.runner} {cell.workers}"
        where += f" on {cell.interpreter}" if cell.interpreter else ""
        print(
            f"lab: {name}: {where} is {match.ratio - 1:.1%} slower, past the"
            f" {threshold:.1%} allowed (95% interval above 1)",
            file=sys.stderr,
        )
    if failed or slower or not compared.every_run_matched:
        return EXIT_NOTHING_COMPARED if not compared.every_run_matched else EXIT_SLOWER
    return 0
