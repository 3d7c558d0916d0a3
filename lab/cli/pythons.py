"""``--python``: the interpreters a run measures on, found and set up before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.envs.environments import prepare
from lab.envs.interpreters import find_all
from lab.run.supervisor import WorkerPython

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


def resolve(text: str | None, quiet: bool) -> tuple[list[Interpreter], dict[str, WorkerPython]]:
    """The interpreters ``--python`` names and the Python of each one's cells (its cached
    environment, made now if need be); none for the lab's own."""
    if text is None:
        return [], {}
    found = find_all(text)
    pythons = {i.label: WorkerPython(prepare(i, quiet), i.environ, i.unset) for i in found}
    return found, pythons
