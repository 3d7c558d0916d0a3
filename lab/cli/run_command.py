"""``lab run MODULE:FUNCTION [ARG...]``: a user's own function measured on every runner that
can run it, with the lab's verdict on it. Its options are checked, the kind of work it is
measured (a few calls in a worker process), then the matrix runs as ``lab matrix`` does."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from lab.cli import options
from lab.cli.own_run import DEFAULT_REPEAT, OwnRun
from lab.plan.profiles import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    import argparse

    from lab.host.manager import PluginSelection
    from lab.host.registry import Catalog


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
    return OwnRun.from_args(args).measure(catalog, plugins).code
