"""``--python``: the interpreters a run measures on, found and set up before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.envs.environments import prepare
from lab.envs.interpreters import find_all

if TYPE_CHECKING:
    import argparse

    from lab.envs.interpreters import Interpreter


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python",
        metavar="SPEC[,SPEC...]",
        help="interpreters to measure on, the first the reference: a version (3.12, 3.13t),"
        " a path or a command; 3.13t+gil runs a free-threaded build with the GIL on"
        " (default: the lab's own)",
    )


def resolve(text: str | None, quiet: bool) -> tuple[Interpreter, ...]:
    """The interpreters ``--python`` names, each with the Python of its cells (its cached
    environment, made now if need be); none for the lab's own."""
    if text is None:
        return ()
    return tuple(prepare(interpreter, quiet) for interpreter in find_all(text))
