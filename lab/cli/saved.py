"""``lab report`` and ``lab compare``: saved runs, no plugins, nothing measured."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.cli import options
from lab.errors import UsageError
from lab.report.compare import compare
from lab.report.fit import terminal_width
from lab.report.outputs import Outputs
from lab.report.text import render
from lab.results.journal import load

if TYPE_CHECKING:
    import argparse

#: ``lab compare`` found nothing to compare in some pair of runs.
EXIT_NOTHING_COMPARED = 1


def report(args: argparse.Namespace) -> int:
    options.check_tablefmt(args.tablefmt)
    results = load(Path(args.results))
    outputs = Outputs.from_args(args)
    print(render(results, args.tablefmt, terminal_width(), args.wide))
    written = outputs.write(results, with_json=True)
    for line in written.lines:
        print(line, file=sys.stderr)
    for error in written.errors:
        print(f"lab: error: {error}", file=sys.stderr)
    return 1 if written.errors else 0


def compare_runs(args: argparse.Namespace) -> int:
    options.check_tablefmt(args.tablefmt)
    if len(args.runs) < 2:
        raise UsageError("compare needs two results files or more")
    runs = [(name, load(Path(name))) for name in args.runs]
    text, every = compare(runs, args.tablefmt)
    print(text)
    return 0 if every else EXIT_NOTHING_COMPARED
